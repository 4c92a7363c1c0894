import { describe, expect, it } from 'vitest';
import { isCancelled } from './cancel.ts';
import {
  LIGHTGBM_DEFAULTS,
  binOf,
  featureBinBounds,
  gbdtFromJSON,
  gbdtToJSON,
  predictGbdt,
  trainGbdt,
  type GbdtModel,
  type GbdtParams,
} from './gbdt.ts';
import { Rng } from './rng.ts';

/** Parameters that let tiny hand-checkable datasets split anywhere. */
const TINY: GbdtParams = { ...LIGHTGBM_DEFAULTS, trees: 1, leaves: 2, minDataInLeaf: 1 };

/** Row-major rows × dim features from per-feature columns. */
function fromColumns(columns: number[][]): { x: Float32Array; rows: number; dim: number } {
  const rows = columns[0].length;
  const dim = columns.length;
  const x = new Float32Array(rows * dim);
  for (let f = 0; f < dim; f++) for (let r = 0; r < rows; r++) x[r * dim + f] = columns[f][r];
  return { x, rows, dim };
}

const sigmoid = (s: number) => 1 / (1 + Math.exp(-s));

/**
 * Synthetic classification rows: label ~ Bernoulli(σ(f(x))) with an f no single split or
 * linear model captures (a sine, an interaction, a step and a square).
 */
function synthetic(rows: number, dim: number, seed: number) {
  const rng = Rng.fromSeed(seed);
  const x = new Float32Array(rows * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Uint8Array(rows);
  const logit = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const b = r * dim;
    const f = 2 * Math.sin(2 * x[b]) + 1.5 * x[b + 1] * x[b + 2] + (x[b + 3] > 0 ? 1 : -1) + x[b + 4] * x[b + 4] - 1;
    logit[r] = f;
    labels[r] = rng.bernoulli(sigmoid(f)) ? 1 : 0;
  }
  return { x, labels, logit };
}

function logLoss(scores: ArrayLike<number>, labels: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, sigmoid(scores[i])));
    sum -= labels[i] ? Math.log(p) : Math.log(1 - p);
  }
  return sum / labels.length;
}

/** Probability that a random positive outscores a random negative (ties count half). */
function auc(scores: ArrayLike<number>, labels: Uint8Array): number {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && scores[order[j]] === scores[order[i]]) j++;
    const midRank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) {
      if (labels[order[k]]) {
        rankSum += midRank;
        positives++;
      }
    }
    i = j;
  }
  const negatives = labels.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

describe('bin construction', () => {
  it('gives each distinct value its own bin when there are few, cut at midpoints', () => {
    const bounds = featureBinBounds([1, 1, 2, 3, 3, 3], 255);
    expect(Array.from(bounds)).toEqual([1.5, 2.5, Infinity]);
    expect([1, 2, 3].map((v) => binOf(bounds, v))).toEqual([0, 1, 2]);
    // Unseen values fall in the bin whose interval holds them; NaN goes to bin 0.
    expect([-5, 1.5, 1.6, 2.5, 99, NaN].map((v) => binOf(bounds, v))).toEqual([0, 0, 1, 1, 2, 0]);
  });

  it('cuts into equal-count bins when there are more distinct values than bins', () => {
    // 6 values into 2 bins: 3 and 3, the cut between the distinct values 2 and 3.
    expect(Array.from(featureBinBounds([1, 1, 2, 3, 3, 3], 2))).toEqual([2.5, Infinity]);
    // 10 values into 3 bins: the target is 10/3, so 4 values close the first bin; then 6/2 = 3.
    expect(Array.from(featureBinBounds([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 3))).toEqual([4.5, 7.5, Infinity]);
  });

  it('gives a heavy value a bin of its own', () => {
    // 3 holds 6 of 10 values (≥ a bin's share of 10/3): the bin before it closes early.
    expect(Array.from(featureBinBounds([1, 2, 3, 3, 3, 3, 3, 3, 4, 5], 3))).toEqual([2.5, 3.5, Infinity]);
  });

  it('handles constant, NaN-only and empty inputs, and rejects maxBin outside 2…255', () => {
    expect(Array.from(featureBinBounds([7, 7, 7], 255))).toEqual([Infinity]);
    expect(Array.from(featureBinBounds([NaN, 1, 2], 255))).toEqual([1.5, Infinity]);
    expect(Array.from(featureBinBounds([NaN], 255))).toEqual([Infinity]);
    expect(Array.from(featureBinBounds([], 255))).toEqual([Infinity]);
    expect(() => featureBinBounds([1, 2], 1)).toThrow(RangeError);
    expect(() => featureBinBounds([1, 2], 256)).toThrow(RangeError);
  });
});

// 8 rows, labels with mean 1/2: the initial score is 0, p = 1/2, so every gradient is ±1/2 and
// every hessian 1/4, exactly.
const Y8 = Uint8Array.from([0, 0, 0, 1, 0, 1, 1, 1]);
const X0 = [1, 2, 3, 4, 5, 6, 7, 8];

/** Gain of the split after the k-th row in sorted order, straight from the formula. */
function handGain(sortedLabels: number[], k: number, p: number): number {
  const g = sortedLabels.map((y) => p - y);
  const h = p * (1 - p);
  const gl = g.slice(0, k).reduce((a, b) => a + b, 0);
  const gr = g.slice(k).reduce((a, b) => a + b, 0);
  const n = sortedLabels.length;
  return (gl * gl) / (k * h) + (gr * gr) / ((n - k) * h) - ((gl + gr) * (gl + gr)) / (n * h);
}

describe('split finding', () => {
  it('finds the best threshold of one feature and breaks the tie by the lowest bin', async () => {
    const { x, rows, dim } = fromColumns([X0]);
    const model = await trainGbdt(x, rows, dim, Y8, TINY, Rng.fromSeed(1));
    const gains = [1, 2, 3, 4, 5, 6, 7].map((k) => handGain(Array.from(Y8), k, 0.5));
    // After 3 rows: G_L = 1.5, H_L = 0.75; G_R = −1.5, H_R = 1.25 → 3 + 1.8 = 4.8. After 5
    // rows the mirror image gives 4.8 as well; the lower bin (threshold 3.5) must win.
    expect(gains[2]).toBeCloseTo(4.8, 12);
    expect(gains[4]).toBeCloseTo(4.8, 12);
    expect(Math.max(...gains)).toBeCloseTo(4.8, 12);
    const tree = model.trees[0];
    expect(model.initScore).toBe(0);
    expect(Array.from(tree.feature)).toEqual([0]);
    expect(tree.threshold[0]).toBe(3.5);
    expect(tree.gain[0]).toBeCloseTo(4.8, 12);
    expect(Array.from(tree.leafCount)).toEqual([3, 5]);
  });

  it('picks the feature with the best gain and breaks a tie by the lowest feature', async () => {
    // Feature 1 separates the classes perfectly (G_L = 2, H_L = 1 on each side → gain 8);
    // feature 2 is feature 1 doubled, so it ties; feature 0 reaches 4.8 at best.
    const x1 = Array.from(Y8, (y, r) => 10 * y + r);
    const { x, rows, dim } = fromColumns([X0, x1, x1.map((v) => 2 * v)]);
    const model = await trainGbdt(x, rows, dim, Y8, TINY, Rng.fromSeed(1));
    const tree = model.trees[0];
    expect(Array.from(tree.feature)).toEqual([1]);
    // Class 0 holds x1 ∈ {0, 1, 2, 4}, class 1 holds {13, 15, 16, 17}.
    expect(tree.threshold[0]).toBe(8.5);
    expect(tree.gain[0]).toBe(8);
    expect(Array.from(tree.leafCount)).toEqual([4, 4]);
  });

  it('grows leaf-wise: the second split goes to the leaf with the larger gain', async () => {
    const { x, rows, dim } = fromColumns([X0]);
    const model = await trainGbdt(x, rows, dim, Y8, { ...TINY, leaves: 3 }, Rng.fromSeed(1));
    const tree = model.trees[0];
    // Root: ≤ 3.5 (rows 1–3, all class 0: no gain left) vs rows 4–8 (labels 1,0,1,1,1).
    // The right leaf splits next, at its best threshold (≤ 5.5: the three positives 6–8 alone).
    const rightLabels = [1, 0, 1, 1, 1];
    const rightGains = [1, 2, 3, 4].map((k) => handGain(rightLabels, k, 0.5));
    const best = rightGains.indexOf(Math.max(...rightGains));
    expect(Array.from(tree.feature)).toEqual([0, 0]);
    expect(Array.from(tree.threshold)).toEqual([3.5, 3.5 + best + 1]);
    expect(tree.gain[1]).toBeCloseTo(Math.max(...rightGains), 12);
    // Node 1 replaced leaf 1 (the root's right child); the new leaf is leaf 2.
    expect(Array.from(tree.left)).toEqual([~0, ~1]);
    expect(Array.from(tree.right)).toEqual([1, ~2]);
  });
});

describe('leaf values', () => {
  it('are −G/(H+λ)·learning rate on top of the label-mean initial score', async () => {
    const labels = Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 1]);
    const { x, rows, dim } = fromColumns([X0]);
    const model = await trainGbdt(x, rows, dim, labels, TINY, Rng.fromSeed(1));
    const init = Math.log(0.25 / 0.75);
    expect(model.initScore).toBe(init);
    const p = sigmoid(init);
    const h = p * (1 - p);
    // Perfect split after row 6: left holds six negatives, right two positives.
    const tree = model.trees[0];
    expect(tree.threshold[0]).toBe(6.5);
    expect(tree.leafValue[0]).toBeCloseTo((-(6 * p) / (6 * h)) * 0.1, 12);
    expect(tree.leafValue[1]).toBeCloseTo((-(2 * (p - 1)) / (2 * h)) * 0.1, 12);
    const scores = predictGbdt(model, x, rows, dim);
    expect(scores[0]).toBeCloseTo(init + tree.leafValue[0], 6);
    expect(scores[7]).toBeCloseTo(init + tree.leafValue[1], 6);

    // λ enters every denominator.
    const l2 = await trainGbdt(x, rows, dim, labels, { ...TINY, lambdaL2: 2 }, Rng.fromSeed(1));
    expect(l2.trees[0].leafValue[1]).toBeCloseTo((-(2 * (p - 1)) / (2 * h + 2)) * 0.1, 12);
  });
});

describe('min_data_in_leaf and min_sum_hessian_in_leaf', () => {
  it('only allow splits leaving enough rows on both sides', async () => {
    const { x, rows, dim } = fromColumns([X0]);
    // With 4 rows required per side only the middle split remains: G_L = 1, H_L = 1 → gain 2.
    const four = await trainGbdt(x, rows, dim, Y8, { ...TINY, minDataInLeaf: 4 }, Rng.fromSeed(1));
    expect(four.trees[0].threshold[0]).toBe(4.5);
    expect(four.trees[0].gain[0]).toBe(handGain(Array.from(Y8), 4, 0.5));
    expect(four.trees[0].gain[0]).toBe(2);
    // With 5 no split is possible; like LightGBM, boosting stops and the model is its init score.
    const five = await trainGbdt(x, rows, dim, Y8, { ...TINY, trees: 3, minDataInLeaf: 5 }, Rng.fromSeed(1));
    expect(five.trees).toHaveLength(0);
    expect(Array.from(predictGbdt(five, x, rows, dim))).toEqual(new Array(8).fill(0));
    // Hessians are 1/4 per row: a minimum hessian of 1.1 needs 5 rows per side.
    const hess = await trainGbdt(x, rows, dim, Y8, { ...TINY, trees: 3, minSumHessianInLeaf: 1.1 }, Rng.fromSeed(1));
    expect(hess.trees).toHaveLength(0);
  });

  it('holds for every leaf of every tree on real-sized data', async () => {
    const rows = 2000;
    const dim = 8;
    const { x, labels } = synthetic(rows, dim, 3);
    const model = await trainGbdt(x, rows, dim, labels, { ...LIGHTGBM_DEFAULTS, trees: 20, minDataInLeaf: 50 }, Rng.fromSeed(1));
    expect(model.trees).toHaveLength(20);
    for (const tree of model.trees) {
      expect(tree.leafCount.length).toBe(tree.feature.length + 1);
      expect(tree.leafCount.length).toBeLessThanOrEqual(31);
      expect(Math.min(...tree.leafCount)).toBeGreaterThanOrEqual(50);
      expect(tree.leafCount.reduce((a, b) => a + b, 0)).toBe(rows);
    }
  });
});

describe('determinism', () => {
  it('gives identical models for the same seed, and the seed only matters through the bin sample', async () => {
    const rows = 1500;
    const dim = 6;
    const { x, labels } = synthetic(rows, dim, 5);
    const sampled: GbdtParams = { ...LIGHTGBM_DEFAULTS, trees: 10, binSampleCount: 400 };
    const json = async (params: GbdtParams, seed: number) => JSON.stringify(gbdtToJSON(await trainGbdt(x, rows, dim, labels, params, Rng.fromSeed(seed))));
    expect(await json(sampled, 7)).toBe(await json(sampled, 7));
    // Different samples give different bin boundaries, hence different thresholds.
    expect(await json(sampled, 7)).not.toBe(await json(sampled, 8));
    // All rows fit the sample (the LightGBM default of 200,000): the seed changes nothing.
    const full: GbdtParams = { ...LIGHTGBM_DEFAULTS, trees: 10 };
    expect(await json(full, 7)).toBe(await json(full, 8));
  });
});

describe('learning', () => {
  it('beats the constant model by a wide margin on held-out rows', async () => {
    const rows = 4000;
    const dim = 32;
    const { x, labels, logit } = synthetic(rows, dim, 11);
    const train = 3000;
    const test = rows - train;
    const losses: number[] = [];
    const model = await trainGbdt(x.subarray(0, train * dim), train, dim, labels.subarray(0, train), LIGHTGBM_DEFAULTS, Rng.fromSeed(1), {
      onTree: (_tree, _trees, loss) => losses.push(loss),
    });
    expect(model.trees).toHaveLength(100);
    expect(losses).toHaveLength(100);
    expect(losses[99]).toBeLessThan(losses[0]);

    const testX = x.subarray(train * dim);
    const testY = labels.subarray(train);
    const scores = predictGbdt(model, testX, test, dim);
    let positives = 0;
    for (let i = 0; i < train; i++) positives += labels[i];
    const constant = new Float32Array(test).fill(Math.log(positives / (train - positives)));
    const constantLoss = logLoss(constant, testY);
    const modelLoss = logLoss(scores, testY);
    const bayesLoss = logLoss(logit.subarray(train), testY);
    let correct = 0;
    for (let i = 0; i < test; i++) correct += (scores[i] > 0 ? 1 : 0) === testY[i] ? 1 : 0;
    // Measured: log-loss 0.692 for the constant, 0.497 for the model, 0.423 for the true logits;
    // accuracy 0.76 (0.80 with the true logits).
    expect(modelLoss).toBeLessThan(constantLoss - 0.15);
    expect(modelLoss).toBeGreaterThan(bayesLoss - 0.02);
    expect(auc(scores, testY)).toBeGreaterThan(0.8);
    expect(correct / test).toBeGreaterThan(0.7);
  });
});

describe('prediction on raw features', () => {
  async function expectSameAsTraining(x: Float32Array, rows: number, dim: number, labels: Uint8Array, params: GbdtParams): Promise<GbdtModel> {
    const trainScores = new Float64Array(rows);
    const model = await trainGbdt(x, rows, dim, labels, params, Rng.fromSeed(2), { trainScores });
    const predicted = predictGbdt(model, x, rows, dim);
    const mismatches = Array.from(predicted).filter((v, i) => v !== Math.fround(trainScores[i])).length;
    expect(mismatches).toBe(0);
    return model;
  }

  it('equals the binned scores training accumulated, for every training row', async () => {
    const rows = 3000;
    const dim = 32;
    const { x, labels } = synthetic(rows, dim, 13);
    await expectSameAsTraining(x, rows, dim, labels, LIGHTGBM_DEFAULTS);
  });

  it('also with sampled bin boundaries and coarse bins (values outside the sample range)', async () => {
    const rows = 3000;
    const dim = 8;
    const { x, labels } = synthetic(rows, dim, 17);
    await expectSameAsTraining(x, rows, dim, labels, { ...LIGHTGBM_DEFAULTS, trees: 30, binSampleCount: 300, maxBin: 16 });
  });

  it('also with NaN features: NaN is binned as the lowest bin and goes left', async () => {
    const rows = 2000;
    const dim = 6;
    const { x, labels } = synthetic(rows, dim, 19);
    for (let r = 0; r < rows; r += 3) x[r * dim] = NaN;
    const model = await expectSameAsTraining(x, rows, dim, labels, { ...LIGHTGBM_DEFAULTS, trees: 30 });
    // A row of NaNs takes the left branch everywhere, like the lowest value would.
    const nanRow = new Float32Array(dim).fill(NaN);
    const lowRow = new Float32Array(dim).fill(-1e30);
    expect(predictGbdt(model, nanRow, 1, dim)[0]).toBe(predictGbdt(model, lowRow, 1, dim)[0]);
  });

  it('also above 65,536 rows, where the root histogram is built without the per-feature row order', async () => {
    const rows = 70_000;
    const dim = 3;
    const { x, labels } = synthetic(rows, dim, 23);
    await expectSameAsTraining(x, rows, dim, labels, { ...LIGHTGBM_DEFAULTS, trees: 5 });
  });
});

describe('histogram pool', () => {
  it('grows the same trees when too small to keep every leaf histogram', async () => {
    const rows = 3000;
    const dim = 16;
    const { x, labels } = synthetic(rows, dim, 37);
    const params = { ...LIGHTGBM_DEFAULTS, trees: 10 };
    const full = await trainGbdt(x, rows, dim, labels, params, Rng.fromSeed(1));
    // One byte: the pool falls back to its minimum of two histograms, so most leaves are evicted.
    const tight = await trainGbdt(x, rows, dim, labels, params, Rng.fromSeed(1), { histogramPoolBytes: 1 });
    for (let t = 0; t < 10; t++) {
      expect(Array.from(tight.trees[t].feature)).toEqual(Array.from(full.trees[t].feature));
      expect(Array.from(tight.trees[t].threshold)).toEqual(Array.from(full.trees[t].threshold));
      expect(Array.from(tight.trees[t].leafCount)).toEqual(Array.from(full.trees[t].leafCount));
    }
    const a = predictGbdt(full, x, rows, dim);
    const b = predictGbdt(tight, x, rows, dim);
    let worst = 0;
    for (let i = 0; i < rows; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('JSON', () => {
  it('round-trips to identical predictions and rejects malformed trees', async () => {
    const rows = 1000;
    const dim = 5;
    const { x, labels } = synthetic(rows, dim, 29);
    const model = await trainGbdt(x, rows, dim, labels, { ...LIGHTGBM_DEFAULTS, trees: 15 }, Rng.fromSeed(3));
    const json = JSON.parse(JSON.stringify(gbdtToJSON(model)));
    const back = gbdtFromJSON(json);
    expect(back.initScore).toBe(model.initScore);
    expect(Array.from(predictGbdt(back, x, rows, dim))).toEqual(Array.from(predictGbdt(model, x, rows, dim)));

    const cyclic = structuredClone(json);
    cyclic.trees[0].left[0] = 0;
    expect(() => gbdtFromJSON(cyclic)).toThrow(/child/);
    const wrongFeature = structuredClone(json);
    wrongFeature.trees[0].feature[0] = dim;
    expect(() => gbdtFromJSON(wrongFeature)).toThrow(/feature/);
    expect(() => gbdtFromJSON({ ...json, format: 'other' })).toThrow(/format/);
    expect(() => predictGbdt(back, x, rows / 2, dim * 2)).toThrow(/features/);
  });
});

describe('host integration', () => {
  it('stops with a cancellation error when the signal fires', async () => {
    const { x, labels } = synthetic(500, 4, 31);
    const controller = new AbortController();
    const run = trainGbdt(x, 500, 4, labels, LIGHTGBM_DEFAULTS, Rng.fromSeed(1), {
      signal: controller.signal,
      onTree: (tree) => {
        if (tree === 3) controller.abort();
      },
    });
    const error = await run.catch((e: unknown) => e);
    expect(isCancelled(error)).toBe(true);
  });

  it('rejects inconsistent inputs', async () => {
    const x = new Float32Array(12);
    const labels = new Uint8Array(4);
    await expect(trainGbdt(x, 4, 2, labels, LIGHTGBM_DEFAULTS, Rng.fromSeed(1))).rejects.toThrow(RangeError);
    await expect(trainGbdt(x, 4, 3, Uint8Array.from([0, 1, 2, 0]), LIGHTGBM_DEFAULTS, Rng.fromSeed(1))).rejects.toThrow(/labels/);
    await expect(trainGbdt(x, 4, 3, labels, { ...LIGHTGBM_DEFAULTS, leaves: 1 }, Rng.fromSeed(1))).rejects.toThrow(/leaves/);
  });
});
