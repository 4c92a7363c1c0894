import * as tf from '@tensorflow/tfjs';
import type { Annotations } from './annotate.ts';
import { throwIfCancelled, yieldToHost } from './cancel.ts';
import type { EmbeddingStore } from './dataset.ts';
import {
  disposeMlp,
  initMlp,
  mlpForward,
  mlpVariables,
  restoreMlp,
  snapshotMlp,
  type MlpParams,
} from './mlp.ts';
import type { Rng } from './rng.ts';
import type { ModelSpec, TrainingSpec } from './spec.ts';

/**
 * Training of one BT-MLP or CLF-MLP (method.md §4).
 *
 * Both objectives see 2 rows per annotated pair: BT the pair in both orders (the original's
 * symmetrisation), CLF the winner (label 1) and the loser (label 0). For BT the two orders have
 * identical loss, −log σ(f(w) − f(l)), so each row is computed once in the canonical
 * (winner, loser) orientation: the same numbers as the original with no mirrored work.
 */

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
}

export interface TrainedMember {
  params: MlpParams;
  curve: EpochRecord[];
  epochsRun: number;
  stoppedEarly: boolean;
  /** 1-based epoch whose weights the model ends with. */
  finalEpoch: number;
  bestEpoch: number;
}

export interface TrainingRows {
  /** Embeddings of every row the pairs use, [U, D], owned by the caller. */
  embeddings: tf.Tensor2D;
  /** Per pair: local row index (into `embeddings`) of the preferred and the other response. */
  winners: Int32Array;
  losers: Int32Array;
}

export interface TrainCallbacks {
  signal?: AbortSignal;
  onStep?: (step: number, stepsPerEpoch: number, epoch: number) => void;
  onEpoch?: (record: EpochRecord) => void;
}

/** The embeddings of the rows annotated pairs use, on the CPU: `data` holds `rows` × `dim` floats. */
export interface GatheredRows {
  data: Float32Array;
  rows: number;
  dim: number;
  /** Per pair: local row index (into `data`) of the preferred and the other response. */
  winners: Int32Array;
  losers: Int32Array;
}

/** Gathers the embeddings of the rows the annotations use (only those: the split may be streamed). */
export async function gatherTrainingRows(
  store: EmbeddingStore,
  annotations: Annotations,
  options: { signal?: AbortSignal; maxBytes?: number } = {},
): Promise<GatheredRows> {
  const local = new Map<number, number>();
  const unique: number[] = [];
  const localOf = (row: number) => {
    let i = local.get(row);
    if (i === undefined) {
      i = unique.length;
      local.set(row, i);
      unique.push(row);
    }
    return i;
  };
  const pairs = annotations.a.length;
  const winners = new Int32Array(pairs);
  const losers = new Int32Array(pairs);
  for (let i = 0; i < pairs; i++) {
    const aWins = annotations.aPreferred[i] === 1;
    winners[i] = localOf(aWins ? annotations.a[i] : annotations.b[i]);
    losers[i] = localOf(aWins ? annotations.b[i] : annotations.a[i]);
  }
  const bytes = unique.length * store.dim * 4;
  if (options.maxBytes !== undefined && bytes > options.maxBytes) {
    throw new RangeError(
      `the annotated pairs use ${unique.length.toLocaleString('en-US')} distinct responses × ${store.dim} floats = ` +
        `${formatBytes(bytes)} of embeddings, over the memory cap of ${formatBytes(options.maxBytes)}; lower the budget or raise the cap`,
    );
  }
  const data = await store.gather(Int32Array.from(unique), options.signal);
  return { data, rows: unique.length, dim: store.dim, winners, losers };
}

/** Uploads gathered rows as one tensor for MLP training (the caller disposes `embeddings`). */
export function toTrainingRows(g: GatheredRows): TrainingRows {
  return { embeddings: tf.tensor2d(g.data, [g.rows, g.dim]), winners: g.winners, losers: g.losers };
}

/** Row r of the 2P training rows belongs to pair r >> 1; for CLF, even rows are winners (label 1). */
export function splitRows(pairs: number, t: TrainingSpec, rng: Rng): { train: Int32Array; val: Int32Array } {
  const rows = 2 * pairs;
  if (t.split === 'rows') {
    const perm = rng.permutation(rows);
    const nVal = Math.ceil(t.validationFraction * rows);
    return { val: perm.slice(0, nVal).sort(), train: perm.slice(nVal) };
  }
  const perm = rng.permutation(pairs);
  const nVal = Math.ceil(t.validationFraction * pairs);
  const expand = (ps: Int32Array) => {
    const out = new Int32Array(ps.length * 2);
    ps.forEach((p, i) => {
      out[2 * i] = 2 * p;
      out[2 * i + 1] = 2 * p + 1;
    });
    return out;
  };
  return { val: expand(perm.slice(0, nVal).sort()), train: expand(perm.slice(nVal)) };
}

export type Objective = ModelSpec['objective'];

/** Mean loss of a batch of row ids, and the number of correctly ordered/classified rows (a tie counts as wrong). */
function batchLoss(
  objective: Objective,
  params: MlpParams,
  data: TrainingRows,
  rowIds: Int32Array,
): { loss: tf.Scalar; correct: () => tf.Scalar } {
  const n = rowIds.length;
  if (objective === 'bt-mlp') {
    const idx = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const p = rowIds[i] >> 1;
      idx[i] = data.winners[p];
      idx[n + i] = data.losers[p];
    }
    const f = mlpForward(params, tf.gather(data.embeddings, tf.tensor1d(idx, 'int32')));
    const margin = tf.sub(tf.slice(f, 0, n), tf.slice(f, n, n));
    return {
      loss: tf.mean(tf.softplus(tf.neg(margin))),
      correct: () => tf.sum(tf.cast(tf.greater(margin, 0), 'float32')),
    };
  }
  const idx = new Int32Array(n);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = rowIds[i] >> 1;
    const isWinner = (rowIds[i] & 1) === 0;
    idx[i] = isWinner ? data.winners[p] : data.losers[p];
    labels[i] = isWinner ? 1 : 0;
  }
  const logits = mlpForward(params, tf.gather(data.embeddings, tf.tensor1d(idx, 'int32')));
  const y = tf.tensor1d(labels);
  // Numerically stable BCE with logits: softplus(f) − f·y.
  return {
    loss: tf.mean(tf.sub(tf.softplus(logits), tf.mul(logits, y))),
    correct: () => tf.sum(tf.cast(tf.equal(tf.greater(logits, 0), tf.cast(y, 'bool')), 'float32')),
  };
}

/** One optimiser step on the given rows; returns the batch loss (caller disposes). */
export function trainingStep(
  objective: Objective,
  params: MlpParams,
  data: TrainingRows,
  optimizer: tf.Optimizer,
  rowIds: Int32Array,
): tf.Scalar {
  const loss = optimizer.minimize(() => batchLoss(objective, params, data, rowIds).loss, true, mlpVariables(params));
  if (!loss) throw new Error('optimizer returned no loss');
  return loss;
}

export function makeOptimizer(t: TrainingSpec): tf.Optimizer {
  // PyTorch's Adam defaults (tfjs would use its backend epsilon instead of 1e-8).
  return tf.train.adam(t.lr, 0.9, 0.999, 1e-8);
}

const EVAL_CHUNK = 8192;

async function evaluateRows(
  objective: Objective,
  params: MlpParams,
  data: TrainingRows,
  rows: Int32Array,
): Promise<{ loss: number; accuracy: number }> {
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < rows.length; s += EVAL_CHUNK) {
    const ids = rows.subarray(s, Math.min(rows.length, s + EVAL_CHUNK));
    const [l, c] = tf.tidy(() => {
      const r = batchLoss(objective, params, data, ids);
      return [tf.mul(r.loss, ids.length), r.correct()];
    });
    const [lv, cv] = await Promise.all([l.data(), c.data()]);
    l.dispose();
    c.dispose();
    lossSum += lv[0];
    correct += cv[0];
  }
  return { loss: lossSum / rows.length, accuracy: correct / rows.length };
}

/** True when the latest validation loss exceeds each of the previous `patience` ones. */
export function shouldStopEarly(valLosses: readonly number[], patience: number): boolean {
  const n = valLosses.length;
  if (n <= patience) return false;
  const last = valLosses[n - 1];
  for (let i = n - 1 - patience; i < n - 1; i++) if (!(last > valLosses[i])) return false;
  return true;
}

export async function trainMember(
  model: ModelSpec,
  data: TrainingRows,
  rng: Rng,
  callbacks: TrainCallbacks = {},
): Promise<TrainedMember> {
  const t = model.training;
  const pairs = data.winners.length;
  if (pairs < 2) throw new RangeError(`training needs at least 2 annotated pairs, got ${pairs}`);
  const { train, val } = splitRows(pairs, t, rng.fork('split'));
  const params = initMlp(data.embeddings.shape[1], model.hidden, model.init, rng.fork('init'));
  const optimizer = makeOptimizer(t);
  const batchRng = rng.fork('batches');
  const curve: EpochRecord[] = [];
  let best: { epoch: number; loss: number; weights: tf.Tensor[] | null } = { epoch: 0, loss: Infinity, weights: null };
  let stoppedEarly = false;
  try {
    for (let epoch = 1; epoch <= t.epochs; epoch++) {
      const trainLoss = await runEpoch(model, params, data, optimizer, epochRows(t, train, batchRng), callbacks, epoch);
      const v = await evaluateRows(model.objective, params, data, val);
      const record: EpochRecord = { epoch, trainLoss, valLoss: v.loss, valAccuracy: v.accuracy };
      curve.push(record);
      callbacks.onEpoch?.(record);
      if (v.loss < best.loss) {
        best.weights?.forEach((w) => w.dispose());
        best = { epoch, loss: v.loss, weights: t.rollback ? snapshotMlp(params) : null };
      }
      if (shouldStopEarly(curve.map((c) => c.valLoss), t.patience)) {
        stoppedEarly = true;
        break;
      }
    }
    if (t.rollback && best.weights) restoreMlp(params, best.weights);
  } catch (error) {
    disposeMlp(params);
    throw error;
  } finally {
    best.weights?.forEach((w) => w.dispose());
    optimizer.dispose();
  }
  return {
    params,
    curve,
    epochsRun: curve.length,
    stoppedEarly,
    finalEpoch: t.rollback ? best.epoch : curve.length,
    bestEpoch: best.epoch,
  };
}

/**
 * The row batches of one epoch. Paper-faithful: ⌈rows/batch⌉ steps, each on a fresh random
 * subset of `batch` rows. Corrected ('passes'): one shuffled pass over the rows.
 */
function epochRows(t: TrainingSpec, train: Int32Array, rng: Rng): Int32Array[] {
  const steps = Math.ceil(train.length / t.batchSize);
  if (t.epochMode === 'passes') {
    const order = rng.shuffle(train.slice());
    return Array.from({ length: steps }, (_, s) => order.subarray(s * t.batchSize, (s + 1) * t.batchSize));
  }
  const batch = Math.min(t.batchSize, train.length);
  return Array.from({ length: steps }, () => pick(train, rng.sample(train.length, batch)));
}

/** Runs one epoch's optimiser steps; returns the mean training loss. */
async function runEpoch(
  model: ModelSpec,
  params: MlpParams,
  data: TrainingRows,
  optimizer: tf.Optimizer,
  batches: Int32Array[],
  callbacks: TrainCallbacks,
  epoch: number,
): Promise<number> {
  // Summed on the device: no per-step readback.
  let lossSum = tf.scalar(0);
  try {
    for (let step = 0; step < batches.length; step++) {
      throwIfCancelled(callbacks.signal);
      const stepLoss = trainingStep(model.objective, params, data, optimizer, batches[step]);
      const next = tf.add(lossSum, stepLoss) as tf.Scalar;
      tf.dispose([lossSum, stepLoss]);
      lossSum = next;
      callbacks.onStep?.(step + 1, batches.length, epoch);
      await yieldToHost();
    }
    return (await lossSum.data())[0] / batches.length;
  } finally {
    lossSum.dispose();
  }
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

function pick(rows: Int32Array, positions: Int32Array): Int32Array {
  const out = new Int32Array(positions.length);
  for (let i = 0; i < positions.length; i++) out[i] = rows[positions[i]];
  return out;
}
