import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../core/result.ts';
import { cli } from '../testing/cli.ts';
import { writeDemoAsNpy } from '../testing/demoNpy.ts';

/**
 * A run on a test split of a few hundred MB streams it: the process grows by far less than the
 * file, and the numbers equal those of the same data generated in memory.
 */

const data = { seed: 1, trainPrompts: 2000, responsesPerTrainPrompt: 10, testPrompts: 700, responsesPerTestPrompt: 300, dim: 256 };
const spec = {
  dataset: { kind: 'demo', ...data },
  annotation: { budget: 2000, scale: { kind: 'std' } },
  model: { objective: 'clf-mlp', hidden: [32], training: { epochs: 3, batchSize: 512 } },
  evaluation: { repeats: 5, heldOutPairs: 200 },
  seeds: [0],
};
const tiny = { ...spec, dataset: { ...spec.dataset, testPrompts: 5 } };

const peakRssMiB = (stderr: string) => Number(/peak RSS (\d+) MiB/.exec(stderr)?.[1]);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reward-lab-memory-'));
  await writeDemoAsNpy(dir, data);
  await writeFile(join(dir, 'spec.json'), JSON.stringify(spec));
  await writeFile(join(dir, 'tiny.json'), JSON.stringify(tiny));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('streaming a large split', () => {
  it('stays far below the file size in memory and matches the in-memory numbers', async () => {
    const testFile = (await stat(join(dir, 'embd_demo_randproj_helpful_test.npy'))).size;
    expect(testFile).toBeGreaterThan(200e6);
    const out = (name: string) => join(dir, name);
    const fromFile = await cli(['run', '--spec', out('spec.json'), '--data', dir, '--memory-cap', '16MiB', '--out', out('file.json')]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const baseline = await cli(['run', '--spec', out('tiny.json'), '--out', out('tiny-result.json')]);
    const inMemory = await cli(['run', '--spec', out('spec.json'), '--out', out('memory.json')]);
    expect(inMemory.code, inMemory.stderr).toBe(0);

    const grownMiB = peakRssMiB(fromFile.stderr) - peakRssMiB(baseline.stderr);
    expect(grownMiB).toBeLessThan(testFile / 2 / (1 << 20));

    const read = async (name: string) => JSON.parse(await readFile(out(name), 'utf8')) as ExperimentResult;
    const [a, b] = await Promise.all([read('file.json'), read('memory.json')]);
    expect(a.dataset.test.prompts).toBe(700);
    expect(a.seeds).toEqual(b.seeds);
  });
});
