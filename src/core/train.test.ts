import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateWasmBackend, withXnnpackGemm } from '../testing/tf.ts';
import { matMulPacksOperands } from './fastOps.ts';
import { disposeMlp, initMlp, mlpForward, mlpVariables } from './mlp.ts';
import { Rng } from './rng.ts';
import { modelSchema } from './spec.ts';
import {
  batchLoss,
  distinctPairs,
  distinctRows,
  makeOptimizer,
  positionsBySlot,
  shouldStopEarly,
  trainingStep,
  trainMember,
  type TrainingRows,
} from './train.ts';

beforeAll(activateWasmBackend);

/** The same MLP through tfjs's stock autodiff (matMul + add + relu). */
function plainForward(weights: tf.Tensor2D[], biases: tf.Tensor1D[], x: tf.Tensor2D): tf.Tensor1D {
  let h = x;
  weights.forEach((w, l) => {
    const y = tf.add(tf.matMul(h, w), biases[l]) as tf.Tensor2D;
    h = l < weights.length - 1 ? tf.relu(y) : y;
  });
  return tf.reshape(h, [-1]);
}

describe('MLP', () => {
  // With XNNPACK and 5,000 rows the weight gradients sum over the batch in three pieces (mlp.ts,
  // WEIGHT_GRAD_ROWS); with the relaxed-SIMD GEMM they are one transposed product.
  it.each([
    [32, 'relaxed-simd'],
    [5000, 'relaxed-simd'],
    [32, 'xnnpack'],
    [5000, 'xnnpack'],
  ] as const)('fast-path dense gradients equal stock autodiff gradients (%i rows, %s GEMM)', async (rows, gemm) => {
    expect(matMulPacksOperands()).toBe(true);
    if (gemm === 'xnnpack') {
      await withXnnpackGemm(() => {
        expect(matMulPacksOperands()).toBe(false);
        denseGradientsMatchAutodiff(rows);
      });
    } else denseGradientsMatchAutodiff(rows);
  });

  function denseGradientsMatchAutodiff(rows: number): void {
    const rng = new Rng('grad');
    const params = initMlp(24, [16, 8], 'pytorch', rng);
    const x = tf.tensor2d(Float32Array.from({ length: rows * 24 }, () => rng.normal()), [rows, 24]);
    const target = tf.tensor1d(Float32Array.from({ length: rows }, () => rng.normal()));
    const vars = mlpVariables(params);
    const loss = (f: () => tf.Tensor1D) => () => tf.mean(tf.square(tf.sub(f(), target))) as tf.Scalar;
    const fast = tf.variableGrads(loss(() => mlpForward(params, x)), vars);
    const plain = tf.variableGrads(loss(() => plainForward(params.weights, params.biases, x)), vars);
    expect(fast.value.dataSync()[0]).toBeCloseTo(plain.value.dataSync()[0], 6);
    for (const v of vars) {
      const diff = tf.max(tf.abs(tf.sub(fast.grads[v.name], plain.grads[v.name]))).dataSync()[0];
      expect(diff).toBeLessThan(1e-6);
    }
    tf.dispose([x, target, fast.value, plain.value, ...Object.values(fast.grads), ...Object.values(plain.grads)]);
    disposeMlp(params);
  }

  it('computes no gradient for the embeddings the input layer reads (they are data)', async () => {
    const rng = new Rng('no-dx');
    const params = initMlp(24, [16, 8], 'pytorch', rng);
    const x = tf.tensor2d(Float32Array.from({ length: 40 * 24 }, () => rng.normal()), [40, 24]);
    const vars = mlpVariables(params);
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(mlpForward(params, x)) as tf.Scalar, vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
    // Any other kernel making a [40, 24] tensor would be an embeddings gradient (Identity: tfjs's
    // copy of a tensor saved for the backward pass).
    const shapes = info.kernels.filter((k) => k.name !== 'Identity').flatMap((k) => k.outputShapes.map((shape) => `${k.name} [${shape}]`));
    expect(shapes.filter((s) => s.endsWith('[40,24]'))).toEqual([]);
    expect(shapes.length).toBeGreaterThan(5);
    x.dispose();
    disposeMlp(params);
  });

  it('BT forwards each distinct pair and each distinct response once, with the loss and update of forwarding every row', async () => {
    const rng = new Rng('dedupe');
    const dim = 12;
    const embeddings = tf.tensor2d(Float32Array.from({ length: 10 * dim }, () => rng.normal()), [10, dim]);
    // Pairs 2 and 3 share a response with pairs 0 and 1 (several pairs per prompt): 6 distinct rows.
    const data: TrainingRows = { embeddings, winners: Int32Array.from([0, 2, 4, 6, 8]), losers: Int32Array.from([1, 3, 0, 2, 9]) };
    // Pairs 0, 0, 1, 2, 2, 0, 3, 3, 1: both orientations of pairs 0, 2 and 3, pair 0 three times.
    const rowIds = Int32Array.from([0, 1, 2, 5, 4, 0, 7, 6, 3]);
    expect(distinctPairs(rowIds)).toEqual({ pairs: Int32Array.from([0, 1, 2, 3]), counts: Float32Array.from([3, 2, 2, 2]) });

    const t = modelSchema.parse({ hidden: [6] }).training;
    const ours = initMlp(dim, [6], 'pytorch', rng.fork('init'));
    const every = initMlp(dim, [6], 'pytorch', rng.fork('init'));
    const [oursOpt, everyOpt] = [makeOptimizer(t), makeOptimizer(t)];
    const oursLoss = trainingStep('bt-mlp', ours, data, oursOpt, rowIds);
    // The reference: every row forwarded in winner-first orientation, as the engine did before.
    const p = Array.from(rowIds, (r) => r >> 1);
    const w = tf.tensor1d(Int32Array.from(p, (i) => data.winners[i]), 'int32');
    const l = tf.tensor1d(Int32Array.from(p, (i) => data.losers[i]), 'int32');
    const everyLoss = everyOpt.minimize(
      () => tf.mean(tf.softplus(tf.neg(tf.sub(plainForward(every.weights, every.biases, tf.gather(embeddings, w)), plainForward(every.weights, every.biases, tf.gather(embeddings, l)))))) as tf.Scalar,
      true,
      mlpVariables(every),
    )!;
    expect((await oursLoss.data())[0]).toBeCloseTo((await everyLoss.data())[0], 6);
    // Every parameter BT can see moves the same. The output bias cancels in f(w) − f(l): its
    // gradient is zero up to rounding, and Adam's first step turns any rounding into ±lr.
    const visible = (m: typeof ours) => [...m.weights, ...m.biases.slice(0, -1)];
    visible(ours).forEach((v, i) => {
      expect(tf.max(tf.abs(tf.sub(v, visible(every)[i]))).dataSync()[0]).toBeLessThan(1e-6);
    });
    // BT leaves its output bias exactly where it was.
    const fresh = initMlp(dim, [6], 'pytorch', rng.fork('init'));
    expect(ours.biases[1].dataSync()).toEqual(fresh.biases[1].dataSync());
    disposeMlp(fresh);
    tf.dispose([embeddings, w, l, oursLoss, everyLoss]);
    [oursOpt, everyOpt].forEach((o) => o.dispose());
    [ours, every].forEach(disposeMlp);
  });

  it('CLF forwards each distinct response once, with the loss, accuracy and update of forwarding every row', async () => {
    const rng = new Rng('clf-dedupe');
    const dim = 12;
    const embeddings = tf.tensor2d(Float32Array.from({ length: 6 * dim }, () => rng.normal()), [6, dim]);
    // Response 0 wins one pair and loses another; response 2 wins twice.
    const data: TrainingRows = { embeddings, winners: Int32Array.from([0, 2, 2, 4]), losers: Int32Array.from([1, 0, 3, 5]) };
    const rowIds = Int32Array.from([0, 3, 1, 2, 4, 6, 7, 5]);
    expect(distinctRows(Int32Array.from([5, 2, 5, 9, 2]))).toEqual({ rows: Int32Array.from([5, 2, 9]), slots: Int32Array.from([0, 1, 0, 2, 1]) });
    expect(distinctRows(Int32Array.from([70_000, 0, 70_000]))).toEqual({ rows: Int32Array.from([70_000, 0]), slots: Int32Array.from([0, 1, 0]) });
    expect(distinctRows(new Int32Array(0))).toEqual({ rows: new Int32Array(0), slots: new Int32Array(0) });
    expect(() => distinctRows(Int32Array.from([1, -1]))).toThrow(/negative id -1/);
    // Slot 3 has no position: an empty group.
    expect(positionsBySlot(Int32Array.from([0, 1, 0, 2, 1, 4]), 5)).toEqual({
      offsets: Int32Array.from([0, 2, 4, 5, 5, 6]),
      members: Int32Array.from([0, 2, 1, 4, 3, 5]),
    });

    const t = modelSchema.parse({ objective: 'clf-mlp', hidden: [6] }).training;
    const ours = initMlp(dim, [6], 'pytorch', rng.fork('init'));
    const every = initMlp(dim, [6], 'pytorch', rng.fork('init'));
    // The reference: every row forwarded, BCE with logits row by row.
    const idx = Int32Array.from(rowIds, (r) => ((r & 1) === 0 ? data.winners[r >> 1] : data.losers[r >> 1]));
    const y = tf.tensor1d(Float32Array.from(rowIds, (r) => ((r & 1) === 0 ? 1 : 0)));
    const x = tf.gather(embeddings, tf.tensor1d(idx, 'int32'));
    const everyFx = () => plainForward(every.weights, every.biases, x);
    const expectedCorrect = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.greater(everyFx(), 0), tf.cast(y, 'bool')), 'float32')).dataSync()[0]);
    const { loss: lossBefore, correct } = batchLoss('clf-mlp', ours, data, rowIds);
    expect(correct().dataSync()[0]).toBe(expectedCorrect);
    lossBefore.dispose();

    const [oursOpt, everyOpt] = [makeOptimizer(t), makeOptimizer(t)];
    const oursLoss = trainingStep('clf-mlp', ours, data, oursOpt, rowIds);
    const everyLoss = everyOpt.minimize(() => tf.mean(tf.sub(tf.softplus(everyFx()), tf.mul(everyFx(), y))) as tf.Scalar, true, mlpVariables(every))!;
    expect((await oursLoss.data())[0]).toBeCloseTo((await everyLoss.data())[0], 6);
    mlpVariables(ours).forEach((v, i) => {
      expect(tf.max(tf.abs(tf.sub(v, mlpVariables(every)[i]))).dataSync()[0]).toBeLessThan(1e-6);
    });
    tf.dispose([embeddings, x, y, oursLoss, everyLoss]);
    [oursOpt, everyOpt].forEach((o) => o.dispose());
    [ours, every].forEach(disposeMlp);
  });

  it.each(['bt-mlp', 'clf-mlp'] as const)('%s: a training step touches only its batch of the embedding table, never copies it', async (objective) => {
    const rng = new Rng('no-table-copy');
    const embeddings = tf.tensor2d(Float32Array.from({ length: 64 * 8 }, () => rng.normal()), [64, 8]);
    const data: TrainingRows = { embeddings, winners: Int32Array.from({ length: 32 }, (_, p) => 2 * p), losers: Int32Array.from({ length: 32 }, (_, p) => 2 * p + 1) };
    const params = initMlp(8, [4], 'pytorch', rng.fork('init'));
    const optimizer = makeOptimizer(modelSchema.parse({ objective, hidden: [4] }).training);
    const info = await tf.profile(() => trainingStep(objective, params, data, optimizer, Int32Array.from([0, 5, 9, 12])));
    // Recording a gather on the gradient tape would clone its input, the whole table.
    const wholeTable = info.kernels.filter((k) => k.inputShapes.some((shape) => shape?.[0] === 64 && shape[1] === 8));
    expect(wholeTable.map((k) => k.name)).toEqual(['GatherV2']);
    optimizer.dispose();
    disposeMlp(params);
    embeddings.dispose();
  });

  it('initialises like PyTorch nn.Linear: weights and biases within ±1/√fan_in', () => {
    const params = initMlp(100, [50], 'pytorch', new Rng('init'));
    const w0 = params.weights[0].dataSync();
    const b0 = params.biases[0].dataSync();
    const bound = 1 / Math.sqrt(100);
    expect(Math.max(...w0.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w0.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(Math.max(...b0.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    const glorot = initMlp(100, [50], 'glorot', new Rng('init'));
    expect(glorot.biases[0].dataSync().every((b) => b === 0)).toBe(true);
    disposeMlp(params);
    disposeMlp(glorot);
  });
});

describe('early stopping', () => {
  it('stops when the validation loss exceeds each of the previous `patience` values', () => {
    expect(shouldStopEarly([1, 0.9, 0.8], 3)).toBe(false);
    expect(shouldStopEarly([1, 0.9, 0.8, 1.1], 3)).toBe(true);
    expect(shouldStopEarly([1, 0.9, 0.8, 1.1], 4)).toBe(false); // needs 4 predecessors
    expect(shouldStopEarly([0.5, 0.9, 0.8, 0.85], 3)).toBe(false); // not above 0.9
    expect(shouldStopEarly([0.5, 0.6, 0.7, 0.8, 0.95], 3)).toBe(true);
    expect(shouldStopEarly([0.5, 0.9, 0.8, 0.7, 0.95], 3)).toBe(true);
  });
});

/** Rows where the reward is the first embedding coordinate, and pairs labelled by it. */
function linearProblem(pairs: number, dim: number, noise: number, seed: string): TrainingRows {
  const rng = new Rng(seed);
  const rows = 2 * pairs;
  const x = Float32Array.from({ length: rows * dim }, () => rng.normal());
  const winners = new Int32Array(pairs);
  const losers = new Int32Array(pairs);
  for (let p = 0; p < pairs; p++) {
    const [i, j] = [2 * p, 2 * p + 1];
    const aWins = x[i * dim] - x[j * dim] + noise * rng.normal() > 0;
    winners[p] = aWins ? i : j;
    losers[p] = aWins ? j : i;
  }
  return { embeddings: tf.tensor2d(x, [rows, dim]), winners, losers };
}

describe('trainMember', () => {
  for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
    it(`${objective} learns a linear reward, deterministically and without leaking tensors`, async () => {
      const data = linearProblem(1000, 8, 0.1, objective);
      const model = modelSchema.parse({ objective, hidden: [16], training: { batchSize: 256, epochs: 15, lr: 0.01 } });
      const before = tf.memory().numTensors;
      const first = await trainMember(model, data, new Rng('m'));
      const second = await trainMember(model, data, new Rng('m'));
      expect(second.curve).toEqual(first.curve);
      const last = first.curve.at(-1)!;
      expect(last.valAccuracy).toBeGreaterThan(objective === 'bt-mlp' ? 0.9 : 0.7);
      expect(last.valLoss).toBeLessThan(first.curve[0].valLoss);
      disposeMlp(first.params);
      disposeMlp(second.params);
      expect(tf.memory().numTensors).toBe(before);
      data.embeddings.dispose();
    });
  }

  it('rolls back to the best epoch when asked and records it', async () => {
    const data = linearProblem(300, 8, 3, 'noisy');
    const model = modelSchema.parse({ hidden: [64], training: { batchSize: 64, epochs: 12, lr: 0.03, rollback: true, split: 'pairs', epochMode: 'passes' } });
    const m = await trainMember(model, data, new Rng('r'));
    const best = m.curve.reduce((b, c) => (c.valLoss < b.valLoss ? c : b));
    expect(m.bestEpoch).toBe(best.epoch);
    expect(m.finalEpoch).toBe(best.epoch);
    disposeMlp(m.params);
    data.embeddings.dispose();
  });

  it('stops cleanly when cancelled, leaving no tensors behind', async () => {
    const data = linearProblem(500, 8, 0.1, 'cancel');
    const model = modelSchema.parse({ hidden: [16], training: { batchSize: 64, epochs: 30 } });
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const run = trainMember(model, data, new Rng('c'), { signal: controller.signal, onEpoch: (r) => r.epoch === 2 && controller.abort() });
    await expect(run).rejects.toThrow('run cancelled');
    expect(tf.memory().numTensors).toBe(before);
    data.embeddings.dispose();
  });
});
