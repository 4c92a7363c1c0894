import { describe, expect, it } from 'vitest';
import { makeDemoDataset } from '../core/demo.ts';
import { demoDatasetSchema } from '../core/spec.ts';
import { analyticTarget } from './paperHost.ts';

const demo = makeDemoDataset(demoDatasetSchema.parse({ kind: 'demo', trainPrompts: 600, testPrompts: 20, dim: 16 }));

describe('analytic paper targets in the worker', () => {
  it('T7 matches the published Q table: 4/4', () => {
    const r = analyticTarget('T7', null, { budget: 0, seed: 0 });
    expect(r.id).toBe('T7');
    expect(r.verdicts).toHaveLength(1);
    expect(r.verdicts[0].reproduced).toBe(true);
    expect(r.verdicts[0].detail).toMatch(/^4\/4 values agree/);
  });

  it('T1 gives the label-error table per β on the dataset, with two verdicts', () => {
    const r = analyticTarget('T1', demo, { budget: 0, seed: 0 });
    if (r.id !== 'T1') throw new Error('wrong target');
    expect(r.datasetId).toBe(demo.info.id);
    expect(r.rows.map((x) => x.beta).slice(0, 6)).toEqual([0.5, 0.7, 1, 3, 5, 10]);
    expect(r.rows.every((x) => x.expectedError > 0 && x.expectedError < 0.5)).toBe(true);
    expect(r.verdicts.map((v) => v.claim)).toEqual(['β = 10 → ≈5% label errors', 'β = 0.5 → ≈38% label errors']);
  });

  it('T6 measures the six pairing modes with the budget clamped to the train prompts', () => {
    const r = analyticTarget('T6', demo, { budget: 10_000, seed: 3 });
    if (r.id !== 'T6') throw new Error('wrong target');
    expect(r.budget).toBe(600);
    expect(r.seed).toBe(3);
    expect(r.rows).toHaveLength(6);
    expect(r.verdicts).toHaveLength(2);
  });

  it('needs a dataset for T1 and T6', () => {
    expect(() => analyticTarget('T1', null, { budget: 1, seed: 0 })).toThrow(/open one first/);
  });
});
