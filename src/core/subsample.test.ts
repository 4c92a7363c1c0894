import { beforeAll, describe, expect, it } from 'vitest';
import { activateWasmBackend } from '../testing/tf.ts';
import type { EmbeddingStore } from './dataset.ts';
import { makeDemoDataset } from './demo.ts';
import { runExperiment } from './experiment.ts';
import { Rng } from './rng.ts';
import { demoDatasetSchema, parseSpec } from './spec.ts';
import { applySubsample, choosePrompts, subsampleSplit } from './subsample.ts';

beforeAll(activateWasmBackend);

const demo = () => makeDemoDataset(demoDatasetSchema.parse({ kind: 'demo', trainPrompts: 600, testPrompts: 40, responsesPerTestPrompt: 20, dim: 8 }));

describe('prompt subsampling', () => {
  it('draws distinct prompts in ascending order, deterministically per seed', () => {
    const a = choosePrompts(100, 30, new Rng('s'));
    expect(a).toEqual(choosePrompts(100, 30, new Rng('s')));
    expect(new Set(a).size).toBe(30);
    expect([...a]).toEqual([...a].sort((x, y) => x - y));
    expect(choosePrompts(100, 30, new Rng('t'))).not.toEqual(a);
    expect(() => choosePrompts(10, 11, new Rng('s'))).toThrow(/cannot subsample 11 prompts from a split of 10/);
  });

  it('gives a view whose rows and rewards are the chosen prompts\' rows', async () => {
    const { train } = demo();
    const prompts = Int32Array.from([3, 17, 200]);
    const sub = subsampleSplit(train, prompts);
    expect(sub.prompts).toBe(3);
    expect(sub.rankSorted).toBe(true);
    expect(sub.rewards.subarray(10, 20)).toEqual(train.rewards.subarray(170, 180));
    expect(await sub.embeddings.readRange(10, 12)).toEqual(await train.embeddings.readRange(170, 172));
    expect(await sub.embeddings.gather(Int32Array.from([29, 0]))).toEqual(await train.embeddings.gather(Int32Array.from([2009, 30])));
  });

  it('is recorded in the result as a deviation from the full data', async () => {
    const spec = parseSpec({
      dataset: { kind: 'files', id: 'in-memory', subsample: { trainPrompts: 300, testPrompts: 25, seed: 4 } },
      annotation: { budget: 300 },
      model: { hidden: [8], training: { epochs: 2, batchSize: 256 } },
      evaluation: { repeats: 3, heldOutPairs: 50 },
      seeds: [0],
    });
    const r = await runExperiment(spec, demo());
    expect(r.dataset.train.prompts).toBe(300);
    expect(r.dataset.test.prompts).toBe(25);
    expect(r.dataset.subsample).toEqual([
      { split: 'train', prompts: 300, of: 600, seed: 4 },
      { split: 'test', prompts: 25, of: 40, seed: 4 },
    ]);
    expect(r.deviations).toEqual(['subsample: 300 of 600 train prompts (seed 4)', 'subsample: 25 of 40 test prompts (seed 4)']);
    expect(applySubsample(demo(), { seed: 0 }).records).toEqual([]);
  });
});

describe('memory cap', () => {
  it('refuses training rows over the cap and scores in chunks within it', async () => {
    const ds = demo();
    let largestRead = 0;
    const spy: EmbeddingStore = {
      rows: ds.test.embeddings.rows,
      dim: ds.test.embeddings.dim,
      readRange: (s, e) => {
        largestRead = Math.max(largestRead, e - s);
        return ds.test.embeddings.readRange(s, e);
      },
      gather: (rows) => ds.test.embeddings.gather(rows),
    };
    const dataset = { ...ds, test: { ...ds.test, embeddings: spy } };
    const spec = parseSpec({
      dataset: { kind: 'files', id: 'capped' },
      annotation: { budget: 200 },
      model: { hidden: [8], training: { epochs: 1, batchSize: 256 } },
      evaluation: { repeats: 2, heldOutPairs: 10 },
      seeds: [0],
    });
    // 200 pairs touch ≤ 400 rows of 8 floats: 12.8 kB.
    await expect(runExperiment(spec, dataset, { memoryCapBytes: 4096 })).rejects.toThrow(/of embeddings, over the memory cap of 4\.0 KiB; lower the budget or raise the cap/);
    await runExperiment(spec, dataset, { memoryCapBytes: 16_000 });
    // Two chunks are held while scoring (one scored, the next read), so each takes half the cap.
    expect(largestRead).toBe(Math.floor(16_000 / 32 / 2));
  });
});
