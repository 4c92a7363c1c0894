import { describe, expect, it } from 'vitest';
import { summarizeSplit } from './dataset.ts';
import { makeDemoDataset } from './demo.ts';
import { expectedSamePromptError } from './labeler.ts';
import { demoDatasetSchema } from './spec.ts';

const small = demoDatasetSchema.parse({ kind: 'demo', trainPrompts: 3000, testPrompts: 50, responsesPerTestPrompt: 40, dim: 32 });

describe('demo dataset', () => {
  it('has the requested shapes and a rank-sorted train split', () => {
    const ds = makeDemoDataset(small);
    expect(ds.train.prompts).toBe(3000);
    expect(ds.train.responsesPerPrompt).toBe(10);
    expect(ds.train.embeddings.rows).toBe(30_000);
    expect(ds.train.embeddings.dim).toBe(32);
    expect(ds.train.rankSorted).toBe(true);
    expect(ds.test.rankSorted).toBe(false);
    expect(ds.test.embeddings.rows).toBe(2000);
    expect(ds.info.synthetic).toBe(true);
  });

  it('is a function of its seed', async () => {
    const one = makeDemoDataset(small);
    const two = makeDemoDataset(small);
    const other = makeDemoDataset({ ...small, seed: 1 });
    expect(two.train.rewards).toEqual(one.train.rewards);
    expect(await two.test.embeddings.readRange(10, 20)).toEqual(await one.test.embeddings.readRange(10, 20));
    expect(other.train.rewards).not.toEqual(one.train.rewards);
  });

  it('gives the same row whether read in a range or gathered', async () => {
    const ds = makeDemoDataset(small);
    const range = await ds.train.embeddings.readRange(100, 110);
    const gathered = await ds.train.embeddings.gather(Int32Array.from([107, 100]));
    expect(gathered.subarray(0, 32)).toEqual(range.subarray(7 * 32, 8 * 32));
    expect(gathered.subarray(32, 64)).toEqual(range.subarray(0, 32));
    const into = new Float32Array(20 * 32).fill(NaN);
    const filled = await ds.train.embeddings.readRange(100, 110, undefined, into);
    expect(filled.buffer).toBe(into.buffer);
    expect(filled).toEqual(range);
  });

  it('matches the published label-error calibration with its constant scale (T1)', () => {
    const ds = makeDemoDataset({ ...small, trainPrompts: 10_000 });
    const err = (beta: number) => expectedSamePromptError(ds.train.rewards, ds.train.prompts, 10, beta, ds.info.taskScale ?? NaN, 10_000);
    expect(err(0.5)).toBeGreaterThan(0.36);
    expect(err(0.5)).toBeLessThan(0.4);
    expect(err(10)).toBeGreaterThan(0.035);
    expect(err(10)).toBeLessThan(0.06);
  });

  it('has rewards that vary both within and between prompts', () => {
    const s = summarizeSplit(makeDemoDataset(small).train);
    expect(s.withinPromptVariance).toBeGreaterThan(0.5);
    expect(s.betweenPromptVariance).toBeGreaterThan(0.5);
  });
});
