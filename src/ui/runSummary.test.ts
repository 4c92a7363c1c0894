import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetFromSpec, runExperiment } from '../core/experiment.ts';
import { parseSpec } from '../core/spec.ts';
import { runLabel, summarizeRun } from './runSummary.ts';

// The summary is what the UI keeps of a real engine result: check it against one.
const spec = parseSpec({
  dataset: { kind: 'demo', trainPrompts: 300, testPrompts: 30, responsesPerTestPrompt: 20, dim: 16 },
  annotation: { beta: 1, budget: 300 },
  model: { objective: 'clf-mlp', hidden: [16], training: { epochs: 2, batchSize: 128 }, ensemble: { size: 2, aggregation: 'mean' } },
  evaluation: { bonN: [1, 5, 20], repeats: 3, heldOutPairs: 50 },
  seeds: [0, 1],
});

describe('run summaries of a real engine result', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('keeps the headline numbers, curves and a Spearman histogram of every valid prompt', async () => {
    const result = await runExperiment(spec, datasetFromSpec(spec)!);
    const s = summarizeRun(result, 'id-1');
    expect(s.metrics.improvement).toEqual(result.summary.improvement);
    expect(s.metrics.spearman).toEqual(result.summary.spearman);
    const { n, mean, std: seedStd, oracle, random } = result.summary.bon;
    expect(s.bon).toMatchObject({ n, mean, seedStd, oracle, random });
    // The band is the spread over repeats (root mean square over the seeds), not over seeds.
    const repeatStd = (i: number) => Math.sqrt((result.seeds[0].metrics.bon.std[i] ** 2 + result.seeds[1].metrics.bon.std[i] ** 2) / 2);
    expect(s.bon.std).toEqual(n.map((_, i) => repeatStd(i)));
    expect(s.bon.std[0]).toBeGreaterThan(0);
    const valid = result.seeds.reduce((n, seed) => n + seed.metrics.spearman.valid, 0);
    expect(s.spearmanHistogram.counts.reduce((a, b) => a + b, 0)).toBe(valid);
    expect(s.spearmanHistogram.edges[0]).toBe(-1);
    expect(s.training).toHaveLength(4);
    expect(s.training.map((m) => [m.seed, m.member])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(s.dataset).toMatchObject({ trainPrompts: 300, testPrompts: 30, testResponses: 20, dim: 16, synthetic: true });
    expect(s.label).toBe('CLF-MLP · β 1 · 300 pairs · ×2 mean');
    // Two members: the same ensemble read as first / mean / min, each averaged over the seeds.
    expect(s.aggregations).not.toBeNull();
    for (const agg of ['first', 'mean', 'min'] as const) {
      const own = result.seeds.map((seed) => seed.aggregations![agg]);
      expect(s.aggregations![agg].n).toEqual(n);
      expect(s.aggregations![agg].mean[0]).toBeCloseTo((own[0].bon.mean[0] + own[1].bon.mean[0]) / 2, 12);
      expect(s.aggregations![agg].improvement.mean).toBeCloseTo((own[0].improvement + own[1].improvement) / 2, 12);
    }
    // The spec's aggregation (mean) is the headline.
    expect(s.aggregations!.mean.improvement.mean).toBeCloseTo(s.metrics.improvement.mean, 12);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('names perfect annotators and plain models plainly', () => {
    expect(runLabel(parseSpec({ annotation: { beta: -1, budget: 5000 } }))).toBe('BT-MLP · perfect labels · 5,000 pairs');
  });
});
