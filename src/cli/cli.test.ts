import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../core/result.ts';
import { cli } from '../testing/cli.ts';
import { SMALL_DEMO, SMALL_SPEC } from '../testing/fixtures.ts';
import { writeDemoAsNpy } from '../testing/demoNpy.ts';

const demo = SMALL_DEMO;
const smallSpec = SMALL_SPEC;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reward-lab-cli-'));
  await writeFile(join(dir, 'spec.json'), JSON.stringify(smallSpec));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('reward-lab CLI', () => {
  it('runs a small spec end to end and writes a valid result', async () => {
    const out = join(dir, 'result.json');
    const { code, stderr } = await cli(['run', '--spec', join(dir, 'spec.json'), '--out', out]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/\[train\]/);
    expect(stderr).toMatch(/wrote .*result\.json: BoN-50 improvement/);
    const result = JSON.parse(await readFile(out, 'utf8')) as ExperimentResult;
    expect(result.format).toBe('reward-lab.result/1');
    expect(result.backend.name).toBe('wasm');
    expect(result.spec.model.objective).toBe('clf-mlp');
    expect(result.summary.spearman.mean).toBeGreaterThan(0.3);
    expect(result.summary.bon.n).toEqual([1, 2, 5, 10, 30, 50]);
  });

  it('gives the same numbers from .npy files as from the same data in memory', async () => {
    const data = join(dir, 'npy');
    await import('node:fs/promises').then((fs) => fs.mkdir(data));
    await writeDemoAsNpy(data, demo);
    const [fromFiles, inMemory] = await Promise.all([
      cli(['run', '--spec', join(dir, 'spec.json'), '--data', data, '--quiet']),
      cli(['run', '--spec', join(dir, 'spec.json'), '--quiet']),
    ]);
    expect(fromFiles.code, fromFiles.stderr).toBe(0);
    const a = JSON.parse(fromFiles.stdout) as ExperimentResult;
    const b = JSON.parse(inMemory.stdout) as ExperimentResult;
    expect(a.spec.dataset).toEqual({ kind: 'files', id: 'demo_randproj_helpful' });
    expect(a.dataset.info.task).toBe('helpful');
    expect(a.seeds).toEqual(b.seeds);
  });

  it('names the bad field of an invalid spec and exits with 2', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ annotation: { beta: 'high' }, model: { hiden: [3] } }));
    const { code, stderr } = await cli(['run', '--spec', bad]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/annotation\.beta: Invalid input: expected number/);
    expect(stderr).toMatch(/model: Unrecognized key: "hiden"/);
  });

  it('explains unreadable input: missing spec file, broken JSON, missing data folder, unknown backend', async () => {
    const missing = await cli(['run', '--spec', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read spec file .*nope\.json/);
    await writeFile(join(dir, 'broken.json'), '{ "seeds": [1, }');
    const broken = await cli(['run', '--spec', join(dir, 'broken.json')]);
    expect(broken.stderr).toMatch(/broken\.json is not valid JSON/);
    const noData = await cli(['run', '--spec', join(dir, 'spec.json'), '--data', join(dir, 'absent')]);
    expect(noData.code).toBe(1);
    expect(noData.stderr).toMatch(/cannot read the dataset directory .*absent/);
    const backend = await cli(['run', '--backend', 'cuda']);
    expect(backend.code).toBe(2);
    expect(backend.stderr).toMatch(/--backend must be one of wasm, cpu, webgpu, got "cuda"/);
  });

  it('prints the usage for --help after any command, and exits with 0', async () => {
    for (const command of ['run', 'bench', 'sweep', 'pack']) {
      const help = await cli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stderr, command).toBe('');
      expect(help.stdout, command).toMatch(/^Reward Lab — reward-model experiments on precomputed embeddings/);
      expect(help.stdout, command).toContain(`reward-lab ${command}`);
    }
    expect((await cli(['run', '-h'])).code).toBe(0);
  });

  it('prints a complete spec with the paper defaults', async () => {
    const { code, stdout } = await cli(['spec']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).model.hidden).toEqual([1024, 512]);
  });
});
