import { mkdir, mkdtemp, readFile, readdir, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openArrowDataset, type ArrowDataset } from '../core/arrowFormat.ts';
import type { Dataset } from '../core/dataset.ts';
import { halfToFloat } from '../core/npy.ts';
import type { ExperimentResult } from '../core/result.ts';
import { applySubsample } from '../core/subsample.ts';
import { cli } from '../testing/cli.ts';
import { SMALL_DEMO, SMALL_SPEC } from '../testing/fixtures.ts';
import { writeDemoAsNpy } from '../testing/demoNpy.ts';
import { floatToHalf } from '../testing/writeNpy.ts';
import { openDataDirectory } from './dataDirectory.ts';
import { FileSource } from './fileSource.ts';
import { openNpyDirectory } from './npyDataset.ts';

const demo = SMALL_DEMO;
const smallSpec = SMALL_SPEC;

let dir: string;
let npyDir: string;

async function openPacked(packed: string): Promise<ArrowDataset & { close(): Promise<void> }> {
  const train = await FileSource.open(join(packed, 'train.arrow'));
  const test = await FileSource.open(join(packed, 'test.arrow'));
  const ds = await openArrowDataset(train, test);
  return { ...ds, close: async () => void (await Promise.all([train.close(), test.close()])) };
}

async function allRows(ds: Dataset, split: 'train' | 'test'): Promise<Float32Array> {
  return ds[split].embeddings.readRange(0, ds[split].embeddings.rows);
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reward-lab-pack-'));
  npyDir = join(dir, 'npy');
  await mkdir(npyDir);
  await writeDemoAsNpy(npyDir, demo);
  await writeFile(join(dir, 'spec.json'), JSON.stringify(smallSpec));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('reward-lab pack', () => {
  it('packs a .npy folder into Arrow files that hold the same data, with progress and a manifest', async () => {
    const out = join(dir, 'packed');
    const { code, stderr } = await cli(['pack', '--data', npyDir, '--out', out, '--batch-rows', '2000']);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/train\.arrow: .*rows\/s/);
    expect(stderr).toMatch(/wrote train\.arrow: 15,000 rows/);
    expect(stderr).toMatch(/wrote test\.arrow: 3,000 rows/);
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'test.arrow', 'train.arrow']);

    const packed = await openPacked(out);
    const source = await openNpyDirectory(npyDir);
    try {
      expect(packed.info.id).toBe('demo_randproj_helpful');
      expect(packed.info.task).toBe('helpful');
      expect(packed.train.embeddings.batchCount).toBe(8);
      for (const split of ['train', 'test'] as const) {
        expect(bits(packed[split].rewards)).toEqual(bits(source[split].rewards));
        expect(bits(await allRows(packed, split))).toEqual(bits(await allRows(source, split)));
        expect(packed[split].rankSorted).toBe(source[split].rankSorted);
      }
    } finally {
      await packed.close();
      await source.close();
    }

    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'reward-lab.pack-manifest/1',
      producer: expect.stringMatching(/^reward-lab /),
      float16: false,
      subsample: { train: null, test: null },
      source: { dataset: 'demo_randproj_helpful', task: 'helpful' },
      splits: {
        train: { file: 'train.arrow', prompts: 1500, responsesPerPrompt: 10, dim: 16, rows: 15000, recordBatches: 8, embeddingDtype: 'float32', rankSorted: true },
        test: { file: 'test.arrow', prompts: 60, responsesPerPrompt: 50, rows: 3000, rankSorted: false },
      },
    });
    const arrow = await openDataDirectory(out);
    const npy = await openDataDirectory(npyDir);
    try {
      expect([arrow.format, npy.format]).toEqual(['arrow', 'npy']);
      expect(bits(await arrow.test.embeddings.gather(Int32Array.of(2999, 0, 1234)))).toEqual(bits(await npy.test.embeddings.gather(Int32Array.of(2999, 0, 1234))));
    } finally {
      await Promise.all([arrow.close(), npy.close()]);
    }
    expect(manifest.source.files.map((f: { name: string; shape: number[]; bytes: number }) => [f.name, f.shape, f.bytes > 0])).toContainEqual([
      'embd_demo_randproj_helpful_train.npy',
      [1500, 10, 16],
      true,
    ]);
  });

  it('gives the same run results from the packed folder as from the .npy folder', async () => {
    const out = join(dir, 'packed-run');
    expect((await cli(['pack', '--data', npyDir, '--out', out, '--quiet'])).code).toBe(0);
    const [fromArrow, fromNpy] = await Promise.all([
      cli(['run', '--spec', join(dir, 'spec.json'), '--data', out, '--quiet']),
      cli(['run', '--spec', join(dir, 'spec.json'), '--data', npyDir, '--quiet']),
    ]);
    expect(fromArrow.code, fromArrow.stderr).toBe(0);
    expect(fromNpy.code, fromNpy.stderr).toBe(0);
    const a = JSON.parse(fromArrow.stdout) as ExperimentResult;
    const b = JSON.parse(fromNpy.stdout) as ExperimentResult;
    expect(a.spec.dataset).toEqual({ kind: 'files', id: 'demo_randproj_helpful' });
    expect(a.dataset.info.description).toMatch(/^Arrow dataset demo_randproj_helpful: train\.arrow 1500×10×16 float32/);
    expect(a.dataset.train).toEqual(b.dataset.train);
    expect(a.seeds).toEqual(b.seeds);
  });

  it('writes a seeded prompt subsample, records it, and draws the same prompts as the engine', async () => {
    const args = (out: string, seed: string) => ['pack', '--data', npyDir, '--out', out, '--train-prompts', '200', '--test-prompts', '20', '--seed', seed, '--quiet'];
    const [a, b, c] = [join(dir, 'sub-a'), join(dir, 'sub-b'), join(dir, 'sub-c')];
    const results = await Promise.all([cli(args(a, '7')), cli(args(b, '7')), cli(args(c, '8'))]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(await readFile(join(a, 'train.arrow')), await readFile(join(b, 'train.arrow')))).toBe(0);
    expect(Buffer.compare(await readFile(join(a, 'test.arrow')), await readFile(join(b, 'test.arrow')))).toBe(0);

    const packed = await openPacked(a);
    const other = await openPacked(c);
    const source = await openNpyDirectory(npyDir);
    try {
      const ids = Array.from(packed.train.embeddings.promptIds);
      expect(ids).toHaveLength(200);
      expect(ids.every((p, i) => i === 0 || p > ids[i - 1])).toBe(true);
      expect(Array.from(other.train.embeddings.promptIds)).not.toEqual(ids);
      expect(packed.train.meta.subsample).toMatchObject({ prompts: 200, of: 1500, seed: 7 });
      expect(packed.test.meta.subsample).toMatchObject({ prompts: 20, of: 60, seed: 7 });
      expect(packed.info.description).toMatch(/a subsample of 200 of 1500 prompts, seed 7/);
      // The engine's own subsample of the source, with the same seed, is exactly this data.
      const engine = applySubsample(source, { trainPrompts: 200, testPrompts: 20, seed: 7 }).dataset;
      for (const split of ['train', 'test'] as const) {
        expect(bits(packed[split].rewards)).toEqual(bits(engine[split].rewards));
        expect(bits(await allRows(packed, split))).toEqual(bits(await allRows(engine, split)));
      }
      const k = 10;
      const row = ids[3] * k + 4;
      expect(bits(await packed.train.embeddings.gather(Int32Array.of(3 * k + 4)))).toEqual(bits(await source.train.embeddings.gather(Int32Array.of(row))));
    } finally {
      await Promise.all([packed.close(), other.close(), source.close()]);
    }
    const manifest = JSON.parse(await readFile(join(a, 'manifest.json'), 'utf8'));
    expect(manifest.subsample.train).toMatchObject({ prompts: 200, of: 1500, seed: 7 });
    // A run on the packed subsample says so among its deviations from the full data.
    await writeFile(join(dir, 'sub-spec.json'), JSON.stringify({ ...JSON.parse(await readFile(join(dir, 'spec.json'), 'utf8')), annotation: { budget: 200, scale: { kind: 'std' } } }));
    const onSubsample = await cli(['run', '--spec', join(dir, 'sub-spec.json'), '--data', a, '--quiet']);
    expect(onSubsample.code, onSubsample.stderr).toBe(0);
    expect((JSON.parse(onSubsample.stdout) as ExperimentResult).deviations).toEqual([
      'subsample: 200 of 1,500 train prompts (seed 7)',
      'subsample: 20 of 60 test prompts (seed 7)',
    ]);
    expect(manifest.splits.train.prompts).toBe(200);
  });

  it('stores float16 embeddings when asked', async () => {
    const out = join(dir, 'half');
    const { code, stderr } = await cli(['pack', '--data', npyDir, '--out', out, '--float16', '--quiet']);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    const packed = await openPacked(out);
    const source = await openNpyDirectory(npyDir);
    try {
      expect(packed.train.meta.embeddingDtype).toBe('float16');
      const want = Float32Array.from(await allRows(source, 'test'), (v) => halfToFloat(floatToHalf(v)));
      expect(bits(await allRows(packed, 'test'))).toEqual(bits(want));
      expect(bits(packed.test.rewards)).toEqual(bits(source.test.rewards));
    } finally {
      await Promise.all([packed.close(), source.close()]);
    }
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.float16).toBe(true);
    expect(manifest.splits.train.bytes).toBeLessThan(15000 * 16 * 2 + 15000 * 12 + 4096);
  });

  it('explains bad calls and bad folders', async () => {
    const [noOut, layout, tooMany, same, missing] = await Promise.all([
      cli(['pack', '--data', npyDir]),
      cli(['pack', '--data', npyDir, '--out', join(dir, 'x'), '--layout', 'NDK']),
      cli(['pack', '--data', npyDir, '--out', join(dir, 'x'), '--train-prompts', '1501']),
      cli(['pack', '--data', npyDir, '--out', npyDir]),
      cli(['pack', '--data', join(dir, 'absent'), '--out', join(dir, 'x')]),
    ]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/pack needs --data DIR .* and --out DIR/);
    expect(noOut.stderr).toMatch(/reward-lab pack {2}--data DIR --out DIR/);
    expect(layout.code).toBe(2);
    expect(layout.stderr).toMatch(/--layout must be NKD, KND, or one per split/);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/--train-prompts is 1501, but the train split has only 1500 prompts/);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--out must be a different folder from --data/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read the dataset directory .*absent/);
    expect((await readdir(dir)).includes('x')).toBe(false);

    // A packed folder missing its test file, and one that also holds .npy files.
    const half = join(dir, 'half-pack');
    await mkdir(half);
    await writeFile(join(half, 'train.arrow'), '');
    const partner = await cli(['run', '--spec', join(dir, 'spec.json'), '--data', half]);
    expect(partner.code).toBe(1);
    expect(partner.stderr).toMatch(/half-pack holds train\.arrow but no test\.arrow/);
    const mixed = join(dir, 'mixed');
    await mkdir(mixed);
    for (const f of await readdir(npyDir)) await copyFile(join(npyDir, f), join(mixed, f));
    await writeFile(join(mixed, 'train.arrow'), '');
    await writeFile(join(mixed, 'test.arrow'), '');
    await expect(openDataDirectory(mixed)).rejects.toThrow(/holds both a packed dataset .* and \.npy files/);
  });
});
