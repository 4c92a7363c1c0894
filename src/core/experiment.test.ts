import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateWasmBackend } from '../testing/tf.ts';
import type { EmbeddingStore } from './dataset.ts';
import { bytesPerSeed, datasetFromSpec, ExperimentFailedError, firstPassSize, passGroups, runExperiment, runExperiments } from './experiment.ts';
import type { Progress } from './progress.ts';
import type { ExperimentResult } from './result.ts';
import { parseSpec, type ExperimentSpecInput } from './spec.ts';

beforeAll(activateWasmBackend);

/** Small enough for the suite, large enough to learn: 4k demo prompts, 64-d, a 128-64 MLP. */
function smallSpec(overrides: { beta: number; objective: 'bt-mlp' | 'clf-mlp'; seeds?: number[]; extra?: ExperimentSpecInput['model'] }) {
  return parseSpec({
    dataset: { kind: 'demo', trainPrompts: 4000, testPrompts: 150, dim: 64 },
    annotation: { beta: overrides.beta, budget: 4000 },
    model: { objective: overrides.objective, hidden: [128, 64], training: { batchSize: 1024 }, ...overrides.extra },
    evaluation: { repeats: 20, heldOutPairs: 1000 },
    seeds: overrides.seeds ?? [0],
  });
}

async function run(spec: ReturnType<typeof smallSpec>): Promise<ExperimentResult> {
  return runExperiment(spec, datasetFromSpec(spec)!);
}

const withoutTimings = (r: ExperimentResult) => ({ ...r, timings: null });

/** The spec's demo dataset with stores that count the test rows read and the train gathers. */
function countingTestReads(spec: ReturnType<typeof smallSpec>) {
  const dataset = datasetFromSpec(spec)!;
  let rows = 0;
  let gathers = 0;
  const counted = (inner: EmbeddingStore): EmbeddingStore => ({
    rows: inner.rows,
    dim: inner.dim,
    readRange: (start, end, signal, into) => {
      rows += end - start;
      return inner.readRange(start, end, signal, into);
    },
    gather: (picked, signal) => {
      gathers++;
      return inner.gather(picked, signal);
    },
  });
  const counting = counted(dataset.test.embeddings);
  return {
    dataset: { ...dataset, train: { ...dataset.train, embeddings: counted(dataset.train.embeddings) }, test: { ...dataset.test, embeddings: counting } },
    counting,
    rowsRead: () => rows,
    trainGathers: () => gathers,
  };
}

describe('experiment on the demo dataset', () => {
  it('learns the reward with accurate labels (β = 10): both objectives', async () => {
    for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
      const r = await run(smallSpec({ beta: 10, objective }));
      expect(r.summary.spearman.mean, objective).toBeGreaterThan(0.6);
      expect(r.summary.improvement.mean, objective).toBeGreaterThan(1);
      expect(r.summary.labelErrorRate.mean).toBeLessThan(0.07);
      expect(r.summary.heldOutGoldenAccuracy.mean).toBeGreaterThan(0.75);
      // BoN rises with N and stays between random pick and oracle.
      const bon = r.summary.bon;
      expect(bon.mean.at(-1)!).toBeGreaterThan(bon.mean[0]);
      bon.n.forEach((_, i) => expect(bon.mean[i]).toBeLessThanOrEqual(bon.oracle[i] + 1e-9));
    }
  });

  it('shows the paper\'s central effect: under noisy labels (β = 0.5) classification beats BT', async () => {
    const bt = await run(smallSpec({ beta: 0.5, objective: 'bt-mlp', seeds: [0, 1] }));
    const clf = await run(smallSpec({ beta: 0.5, objective: 'clf-mlp', seeds: [0, 1] }));
    expect(bt.summary.labelErrorRate.mean).toBeGreaterThan(0.33);
    expect(clf.summary.spearman.mean).toBeGreaterThan(bt.summary.spearman.mean + 0.05);
    expect(clf.summary.improvement.mean).toBeGreaterThan(bt.summary.improvement.mean);
    // Same seeds, same annotations: the comparison is paired.
    expect(clf.seeds.map((s) => s.annotation)).toEqual(bt.seeds.map((s) => s.annotation));
    // Paper-faithful BT: the mirrored rows leak into validation, so early stopping barely fires.
    expect(bt.seeds.every((s) => s.members[0].epochsRun === 30)).toBe(true);
  });

  it('gives identical results for the same spec and leaks no tensors', async () => {
    const spec = smallSpec({ beta: 1, objective: 'clf-mlp', extra: { ensemble: { size: 2, aggregation: 'min' } } });
    const before = tf.memory().numTensors;
    const one = await run(spec);
    const two = await run(spec);
    expect(tf.memory().numTensors).toBe(before);
    expect(withoutTimings(two)).toEqual(withoutTimings(one));
    // Ensemble: members seeded seed·42 + i; every aggregation evaluated; the spec's one is the headline.
    expect(one.seeds[0].members.map((m) => m.seed)).toEqual([0, 1]);
    expect(one.seeds[0].aggregations!.min.improvement).toBe(one.seeds[0].metrics.improvement);
    expect(one.seeds[0].aggregations!.first.improvement).not.toBe(one.seeds[0].aggregations!.mean.improvement);
    expect(one.deviations.map((d) => d.split(':')[0])).toEqual(['real-ensemble']);
    const differentSeed = await run({ ...spec, seeds: [7] });
    expect(differentSeed.summary.improvement.mean).not.toBe(one.summary.improvement.mean);
  });

  it('records the spec, engine version, backend, dataset and timings', async () => {
    const spec = smallSpec({ beta: 3, objective: 'bt-mlp', extra: { training: { epochs: 2, batchSize: 1024 } } });
    const r = await run(spec);
    expect(r.format).toBe('reward-lab.result/1');
    expect(r.spec).toEqual(spec);
    expect(r.engineVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.backend.name).toBe('wasm');
    expect(r.dataset.info.synthetic).toBe(true);
    expect(r.dataset.test.responsesPerPrompt).toBe(100);
    expect(Object.keys(r.timings.stagesMs).sort()).toEqual(['annotate', 'evaluate', 'load', 'score', 'train']);
    expect(r.seeds[0].members[0].curve).toHaveLength(2);
    // One seed: no spread over seeds; the spread over repeats is that seed's.
    expect(r.summary.bon.std.every((s) => s === 0)).toBe(true);
    r.summary.bon.repeatStd.forEach((s, i) => expect(s).toBeCloseTo(r.seeds[0].metrics.bon.std[i], 12));
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('reports progress through every stage and cancels cleanly at any point', async () => {
    const spec = smallSpec({ beta: 1, objective: 'bt-mlp', extra: { training: { epochs: 3, batchSize: 1024 } } });
    const stages: string[] = [];
    const fractions: number[] = [];
    await runExperiment(spec, datasetFromSpec(spec)!, {
      onProgress: (p) => {
        if (stages.at(-1) !== p.stage) stages.push(p.stage);
        fractions.push(p.fraction);
      },
    });
    expect(stages).toEqual(['annotate', 'load', 'train', 'score', 'evaluate', 'done']);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1] - 1e-12)).toBe(true);
    expect(fractions.at(-1)).toBe(1);

    for (const cancelAt of ['train', 'score'] as const) {
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      const cancelled = runExperiment(spec, datasetFromSpec(spec)!, {
        signal: controller.signal,
        onProgress: (p) => p.stage === cancelAt && controller.abort(),
      });
      await expect(cancelled).rejects.toMatchObject({ name: 'CancelledError' });
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('scores all seeds in one pass over the test split, with the results each seed gets alone', async () => {
    const spec = smallSpec({ beta: 1, objective: 'bt-mlp', seeds: [3, 5, 8], extra: { training: { epochs: 2, batchSize: 1024 } } });
    const { dataset, counting, rowsRead } = countingTestReads(spec);
    const progress: Progress[] = [];
    const before = tf.memory().numTensors;
    const together = await runExperiment(spec, dataset, { onProgress: (p) => progress.push(p) });
    expect(rowsRead()).toBe(counting.rows);
    expect(tf.memory().numTensors).toBe(before);
    for (const [i, seed] of spec.seeds.entries()) {
      const alone = await run({ ...spec, seeds: [seed] });
      expect(together.seeds[i]).toEqual(alone.seeds[0]);
    }
    // Each seed trained in turn, then one scoring stage for the three, then each evaluated.
    const stages = progress.map((p) => `${p.stage} ${p.seedIndex}${p.seedCount ? `+${p.seedCount}` : ''}`).filter((s, i, all) => s !== all[i - 1]);
    expect(stages).toEqual(['annotate 0', 'load 0', 'train 0', 'annotate 1', 'load 1', 'train 1', 'annotate 2', 'load 2', 'train 2', 'score 0+3', 'evaluate 0', 'evaluate 1', 'evaluate 2', 'done 2']);
    expect(progress.every((p, i) => i === 0 || p.fraction >= progress[i - 1].fraction - 1e-12)).toBe(true);
    // Cancelled while the second seed trains: the first seed's models, held for the shared pass, are freed.
    const controller = new AbortController();
    const cancelled = runExperiment(spec, dataset, { signal: controller.signal, onProgress: (p) => p.stage === 'train' && p.seedIndex === 1 && controller.abort() });
    await expect(cancelled).rejects.toMatchObject({ name: 'CancelledError' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('groups seeds so that the models and scores held at once fit the budget', () => {
    expect(passGroups([10, 10, 10, 10, 10], 25)).toEqual([
      { first: 0, size: 2 },
      { first: 2, size: 2 },
      { first: 4, size: 1 },
    ]);
    // A seed over the budget is a group of its own; smaller ones fill the groups around it.
    expect(passGroups([100, 20, 20, 30], 50)).toEqual([
      { first: 0, size: 1 },
      { first: 1, size: 2 },
      { first: 3, size: 1 },
    ]);
    expect(passGroups([1, 1, 1, 1, 1], 1e9)).toEqual([{ first: 0, size: 5 }]);
    expect(passGroups([1, 1, 1, 1, 1], 1e9, 2)).toEqual([
      { first: 0, size: 2 },
      { first: 2, size: 2 },
      { first: 4, size: 1 },
    ]);
    expect(passGroups(new Array(20).fill(1), 1e9).map((g) => g.size)).toEqual([8, 8, 4]);
    expect(passGroups([], 10)).toEqual([]);
  });

  it('runs a batch of experiments with one pass over the test split, each result as it would be alone', async () => {
    const base = { extra: { training: { epochs: 2, batchSize: 1024 } } };
    const specs = [
      smallSpec({ ...base, beta: 1, objective: 'bt-mlp' }),
      smallSpec({ ...base, beta: 10, objective: 'clf-mlp', seeds: [4, 0] }),
      smallSpec({ beta: 3, objective: 'bt-mlp', extra: { ...base.extra, ensemble: { size: 2, aggregation: 'mean' } } }),
    ];
    const { dataset, counting, rowsRead, trainGathers } = countingTestReads(specs[0]);
    const finished: number[] = [];
    const progress: Progress[] = [];
    const before = tf.memory().numTensors;
    const together = await runExperiments(specs, dataset, { onResult: (i) => void finished.push(i), onProgress: (p) => progress.push(p) });
    expect(rowsRead()).toBe(counting.rows);
    // Seed 0 of each experiment annotates the same pairs (the same budget and pairing): those
    // seeds train one after another, and only the first one's rows are read.
    expect(trainGathers()).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    expect(finished).toEqual([0, 2, 1]);
    for (const [i, spec] of specs.entries()) {
      const alone = await run(spec);
      expect(withoutTimings(together[i])).toEqual(withoutTimings(alone));
      const { totalMs, stagesMs, batchOf } = together[i].timings;
      expect(batchOf).toBe(3);
      expect(totalMs).toBeCloseTo(Object.values(stagesMs).reduce((a, b) => a + b, 0), 6);
    }
    // Four seeds trained in turn (those with the same pairs together), one scoring pass for the
    // three experiments, then four evaluations.
    const stages = progress
      .map((p) => `${p.stage} ${p.experimentIndex}.${p.seedIndex}${p.experimentCount ? `+${p.experimentCount}` : ''}`)
      .filter((x, i, all) => x !== all[i - 1]);
    const order = ['0.0', '1.1', '2.0', '1.0'];
    expect(stages).toEqual([
      ...order.flatMap((u) => [`annotate ${u}`, `load ${u}`, `train ${u}`]),
      'score 0.0+3',
      ...order.map((u) => `evaluate ${u}`),
      'done 2.0',
    ]);
    expect(progress.every((p, i) => i === 0 || p.fraction >= progress[i - 1].fraction - 1e-12)).toBe(true);
    expect(progress.every((p) => p.experiments === 3)).toBe(true);

    // A memory cap that holds the models of two seeds at a time: two passes, results unchanged.
    const cap = 4 * 2.5 * bytesPerSeed(specs[0], dataset);
    expect(firstPassSize(specs, dataset, cap)).toBe(1);
    expect(firstPassSize(specs.slice(1), dataset, cap)).toBe(1);
    expect(firstPassSize([specs[0], specs[0], specs[0]], dataset, cap)).toBe(2);
    expect(firstPassSize(specs, dataset)).toBe(3);
    // (Fewer pairs, so that their training rows fit that cap too.)
    const fewer = specs.slice(0, 2).map((spec) => ({ ...spec, annotation: { ...spec.annotation, budget: 1000 } }));
    const onePass = await runExperiments(fewer, dataset);
    const reads = rowsRead();
    const twoPasses = await runExperiments(fewer, dataset, { memoryCapBytes: cap });
    expect(rowsRead() - reads).toBe(2 * counting.rows);
    twoPasses.forEach((r, i) => expect(r.seeds).toEqual(onePass[i].seeds));
  });

  it('names the experiment of a batch that failed, and refuses a batch over two datasets', async () => {
    const good = smallSpec({ beta: 1, objective: 'bt-mlp', extra: { training: { epochs: 1, batchSize: 1024 } } });
    const tooBig = { ...good, annotation: { ...good.annotation, budget: 5000 } };
    const before = tf.memory().numTensors;
    const finished: ExperimentResult[] = [];
    const failure = await runExperiments([good, tooBig, good], datasetFromSpec(good)!, { onResult: (_, r) => void finished.push(r) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExperimentFailedError);
    // The experiments trained before the failing one (both good ones: they annotate the same
    // pairs, so they train first) are still scored, evaluated and reported.
    const alone = (await run(good)).seeds;
    expect(finished.map((r) => r.seeds)).toEqual([alone, alone]);
    expect(failure).toMatchObject({ experimentIndex: 1, message: expect.stringMatching(/budget 5,?000 needs 5,?000 prompts .* only 4,?000/) });
    expect(tf.memory().numTensors).toBe(before);
    const other = { ...good, dataset: { ...good.dataset, dim: 32 } };
    await expect(runExperiments([good, other], datasetFromSpec(good)!)).rejects.toThrow(/experiment 2 differs from the first in "dataset"/);
  });

  it('trains CLF-GBDT (LightGBM defaults) on the classification rows: learns, deterministic, per-tree curve', async () => {
    const spec = parseSpec({
      dataset: { kind: 'demo', trainPrompts: 2000, testPrompts: 100, dim: 16 },
      annotation: { beta: 10, budget: 2000 },
      model: { objective: 'clf-gbdt', gbdt: { trees: 40 } },
      evaluation: { repeats: 10, heldOutPairs: 500 },
      seeds: [0],
    });
    const one = await run(spec);
    const two = await run(spec);
    expect(withoutTimings(two)).toEqual(withoutTimings(one));
    // Axis-aligned trees on a rotated 16-d embedding learn more slowly than the MLP; still far above chance (0).
    expect(one.summary.spearman.mean).toBeGreaterThan(0.3);
    expect(one.summary.improvement.mean).toBeGreaterThan(0.5);
    const curve = one.seeds[0].members[0].curve;
    expect(curve).toHaveLength(40);
    expect(curve.at(-1)!.trainLoss).toBeLessThan(curve[0].trainLoss);
    expect(curve.at(-1)!.valAccuracy).toBeGreaterThan(0.55); // single responses, not pairs: chance is 0.5
  });

  it('refuses a budget the dataset cannot meet with a clear message', async () => {
    const spec = parseSpec({ dataset: { kind: 'demo', trainPrompts: 100, testPrompts: 10, dim: 8 }, annotation: { budget: 500 }, seeds: [0] });
    await expect(runExperiment(spec, datasetFromSpec(spec)!)).rejects.toThrow(/budget 500 needs 500 prompts .* only 100/);
  });
});
