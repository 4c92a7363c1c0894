import * as tf from '@tensorflow/tfjs';
import type { Annotations } from './annotate.ts';
import { throwIfCancelled, yieldToHost } from './cancel.ts';
import type { EmbeddingStore } from './dataset.ts';
import { activeFastOps, type AdamStepScalars, type FastMlpOps, type LossWeights, type MlpObjective } from './fastOps.ts';
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

/**
 * Which embedding rows a batch forwards and how its loss weighs them: plain arrays, worked out
 * before any tensor is made.
 */
type BatchPlan =
  // BT: `pairs` distinct pairs, winners' rows then losers' rows, each pair counted `count` times;
  // `slots` maps those 2·pairs positions to `rows` when a response is shared (null: `rows` is them,
  // in order).
  | { kind: 'bt'; rows: Int32Array; slots: Int32Array | null; pairs: number; count: Float32Array; n: number }
  // CLF: each distinct response, how many of the batch's rows it fills and how many say "winner".
  | { kind: 'clf'; rows: Int32Array; count: Float32Array; wins: Float32Array; n: number };

/**
 * `shareResponses`: whether a BT response in several of the batch's pairs is forwarded once too,
 * which needs its gradient shares added back in a fixed order: `spread` below where the backend's
 * scatter has one, the fused step's segment sum on WebGPU.
 */
function planBatch(
  objective: Objective,
  data: TrainingRows,
  rowIds: Int32Array,
  shareResponses = ORDERED_SCATTER_BACKENDS.has(tf.getBackend()),
): BatchPlan {
  const n = rowIds.length;
  if (objective === 'bt-mlp') {
    // Rows 2p and 2p + 1 are pair p in its two orientations, with the same loss: forward each
    // distinct pair once and count it as often as it occurs. The paper's random subsets hold both
    // orientations of many pairs (about 40% at batch 10,240 of 16,000 rows), so this skips up to
    // a third of the forward and backward work for the same loss and gradient.
    const { pairs, counts } = distinctPairs(rowIds);
    const u = pairs.length;
    const idx = new Int32Array(2 * u);
    for (let i = 0; i < u; i++) {
      idx[i] = data.winners[pairs[i]];
      idx[u + i] = data.losers[pairs[i]];
    }
    if (!shareResponses) return { kind: 'bt', rows: idx, slots: null, pairs: u, count: counts, n };
    const { rows, slots } = distinctRows(idx);
    return { kind: 'bt', rows, slots: rows.length === idx.length ? null : slots, pairs: u, count: counts, n };
  }
  // Σ_rows softplus(f) − f·y = Σ_responses count·softplus(f) − f·winners. Row 2p is pair p's
  // winner (label 1), row 2p + 1 its loser (label 0).
  const responses = new Int32Array(n);
  for (let i = 0; i < n; i++) responses[i] = (rowIds[i] & 1) === 0 ? data.winners[rowIds[i] >> 1] : data.losers[rowIds[i] >> 1];
  const { rows, slots } = distinctRows(responses);
  const count = new Float32Array(rows.length);
  const wins = new Float32Array(rows.length);
  for (let i = 0; i < n; i++) {
    count[slots[i]]++;
    if ((rowIds[i] & 1) === 0) wins[slots[i]]++;
  }
  return { kind: 'clf', rows, count, wins, n };
}

/**
 * Mean loss of a planned batch whose rows `x` holds, and the number of correctly
 * ordered/classified rows (a tie counts as wrong).
 */
function planLoss(plan: BatchPlan, params: MlpParams, x: tf.Tensor2D): { loss: tf.Scalar; correct: () => tf.Scalar } {
  if (plan.kind === 'bt') {
    // The output bias cancels in f(w) − f(l): left out, its gradient is exactly zero rather than
    // rounding noise that Adam's normalised step would turn into a drift of ±lr (the fused step
    // skips it too).
    const fRows = mlpForward(params, x, { outputBias: false });
    const f = plan.slots === null ? fRows : spread(fRows, plan.slots);
    const margin = tf.sub(tf.slice(f, 0, plan.pairs), tf.slice(f, plan.pairs, plan.pairs));
    const weight = tf.tensor1d(plan.count);
    return {
      loss: tf.div(tf.sum(tf.mul(weight, tf.softplus(tf.neg(margin)))), plan.n) as tf.Scalar,
      correct: () => tf.sum(tf.mul(weight, tf.cast(tf.greater(margin, 0), 'float32'))),
    };
  }
  const f = mlpForward(params, x);
  const c = tf.tensor1d(plan.count);
  const w = tf.tensor1d(plan.wins);
  // Numerically stable BCE with logits, row by row: softplus(f) − f·y.
  return {
    loss: tf.div(tf.sum(tf.sub(tf.mul(c, tf.softplus(f)), tf.mul(f, w))), plan.n) as tf.Scalar,
    // A row is right when f > 0 and y = 1, or f ≤ 0 and y = 0.
    correct: () => {
      const positive = tf.cast(tf.greater(f, 0), 'float32');
      return tf.sum(tf.add(tf.mul(positive, w), tf.mul(tf.sub(1, positive), tf.sub(c, w))));
    },
  };
}

/** Mean loss of a batch of row ids, and the number of correctly ordered/classified rows. Call inside tf.tidy. */
export function batchLoss(
  objective: Objective,
  params: MlpParams,
  data: TrainingRows,
  rowIds: Int32Array,
): { loss: tf.Scalar; correct: () => tf.Scalar } {
  const plan = planBatch(objective, data, rowIds);
  return planLoss(plan, params, gatherEmbeddings(data, plan.rows));
}

/** The distinct pairs of a batch of BT row ids (first occurrence order) and how often each occurs. */
export function distinctPairs(rowIds: Int32Array): { pairs: Int32Array; counts: Float32Array } {
  const pairIds = new Int32Array(rowIds.length);
  for (let i = 0; i < rowIds.length; i++) pairIds[i] = rowIds[i] >> 1;
  const { rows: pairs, slots } = distinctRows(pairIds);
  const counts = new Float32Array(pairs.length);
  for (let i = 0; i < slots.length; i++) counts[slots[i]]++;
  return { pairs, counts };
}

function gatherEmbeddings(data: TrainingRows, rows: Int32Array): tf.Tensor2D {
  return tf.gather(data.embeddings, tf.tensor1d(rows, 'int32'));
}

/** The distinct values of `ids` (first-occurrence order) and, per id, its index among them. */
export function distinctRows(ids: Int32Array): { rows: Int32Array; slots: Int32Array } {
  // Ids are row numbers of a table: a direct slot table (one pass, no hashing) is ~30× faster
  // than a Map at a batch of 20,480, which matters on a GPU whose step takes a few ms.
  let max = -1;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0) throw new RangeError(`distinctRows: negative id ${ids[i]}`);
    if (ids[i] > max) max = ids[i];
  }
  const slotOf = new Int32Array(max + 1).fill(-1);
  const rows = new Int32Array(ids.length);
  const slots = new Int32Array(ids.length);
  let count = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let slot = slotOf[id];
    if (slot < 0) {
      slot = count++;
      slotOf[id] = slot;
      rows[slot] = id;
    }
    slots[i] = slot;
  }
  return { rows: rows.slice(0, count), slots };
}

/**
 * Backends whose ScatterNd adds duplicates in a fixed order; tfjs-webgpu's adds floats atomically,
 * in whatever order the GPU runs, which would make BT's numbers vary from run to run.
 */
const ORDERED_SCATTER_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/**
 * values[slots], whose gradient adds each slot's share back into `values`. (tf.gather's own
 * gradient needs UnsortedSegmentSum, which tfjs-wasm does not have; scatterND sums duplicates.)
 */
function spread(values: tf.Tensor1D, slots: Int32Array): tf.Tensor1D {
  const at = tf.tensor2d(slots, [slots.length, 1], 'int32');
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const v = args[0] as tf.Tensor1D;
    const save = args[1] as tf.GradSaveFunc;
    save([at]); // kept alive for the backward pass
    return {
      value: tf.gather(v, tf.reshape(at, [-1])),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0], dy, v.shape),
    };
  });
  return op(values) as tf.Tensor1D;
}

/**
 * One optimiser step on the given rows; returns the batch loss (caller disposes). With fast ops
 * active (fastOps.ts) and the optimizer from makeOptimizer, it is the fused step below; otherwise
 * tfjs autodiff and the optimizer's own update.
 */
export function trainingStep(
  objective: Objective,
  params: MlpParams,
  data: TrainingRows,
  optimizer: tf.Optimizer,
  rowIds: Int32Array,
): tf.Scalar {
  const fast = activeFastOps();
  if (fast !== null && fast.useFusedStep() && optimizer instanceof RewardAdam && objective !== 'clf-gbdt') {
    return fusedTrainingStep(fast, objective, params, data, optimizer, rowIds);
  }
  const plan = planBatch(objective, data, rowIds);
  // Gathered before the gradient tape starts: recording the gather would make tfjs keep a copy
  // of the whole embedding table for its backward pass, a full copy per step.
  const x = tf.tidy(() => gatherEmbeddings(data, plan.rows));
  try {
    const loss = optimizer.minimize(() => planLoss(plan, params, x).loss, true, mlpVariables(params));
    if (!loss) throw new Error('optimizer returned no loss');
    return loss;
  } finally {
    x.dispose();
  }
}

/**
 * The same step with a hand-written backward pass on the fast ops: one fused kernel per layer
 * forward; one loss-head kernel (and a gather and a segment sum when pairs share responses); per
 * layer dW and db as partial sums, and dx with the previous layer's ReLU mask fused in; one
 * in-place Adam kernel per variable. No autodiff tape, no readback.
 */
function fusedTrainingStep(
  fast: FastMlpOps,
  objective: MlpObjective,
  params: MlpParams,
  data: TrainingRows,
  optimizer: RewardAdam,
  rowIds: Int32Array,
): tf.Scalar {
  const plan = planBatch(objective, data, rowIds, true);
  return tf.tidy(() => {
    const last = params.weights.length - 1;
    // Forward, keeping each layer's input (the previous layer's ReLU output) for the backward pass.
    const inputs: tf.Tensor2D[] = [gatherEmbeddings(data, plan.rows)];
    for (let l = 0; l < last; l++) inputs.push(fast.dense(inputs[l], params.weights[l], params.biases[l], true));
    const f = tf.reshape(fast.dense(inputs[last], params.weights[last], params.biases[last], false), [-1]) as tf.Tensor1D;
    const count = tf.tensor1d(plan.count);
    const wins = plan.kind === 'clf' ? tf.tensor1d(plan.wins) : null;
    // A BT response several pairs share was forwarded once: each pair's logits are gathered from
    // its rows, and each row's gradient is its shares added up in a fixed order.
    const shared = plan.kind === 'bt' ? plan.slots : null;
    const { loss, df } = shared === null
      ? fast.lossAndGrad(objective, f, { count, wins, rows: plan.n })
      : sharedRowsLossAndGrad(fast, f, shared, plan.rows.length, { count, wins, rows: plan.n });
    // Backward: g is the gradient w.r.t. layer l's pre-activation.
    const vars: tf.Variable[] = [];
    const grads: tf.Tensor[] = [];
    let g = tf.reshape(df, [-1, 1]) as tf.Tensor2D;
    for (let l = last; l >= 0; l--) {
      vars.push(params.weights[l]);
      grads.push(fast.denseWeightGrad(inputs[l], g));
      // BT's loss depends on f(w) − f(l) only, where the output bias cancels: its gradient is
      // identically zero, and Adam leaves a parameter with zero gradient and zero moments where
      // it is, so its update is skipped (two dispatches fewer).
      if (!(objective === 'bt-mlp' && l === last)) {
        vars.push(params.biases[l]);
        // BT rows come as winner/loser halves unless responses are shared.
        grads.push(fast.biasGrad(g, objective === 'bt-mlp' && shared === null));
      }
      if (l > 0) g = fast.denseInputGrad(g, params.weights[l], inputs[l]);
    }
    optimizer.applyFusedGradients(fast, vars, grads);
    return loss;
  });
}

/**
 * The BT loss head when `rows` distinct rows were forwarded for pairs that share some: `slots`
 * maps the pairs' 2·pairs positions (winners, then losers) to those rows.
 */
function sharedRowsLossAndGrad(
  fast: FastMlpOps,
  f: tf.Tensor1D,
  slots: Int32Array,
  rows: number,
  weights: LossWeights,
): { loss: tf.Scalar; df: tf.Tensor1D } {
  const perPosition = fast.lossAndGrad('bt-mlp', tf.gather(f, tf.tensor1d(slots, 'int32')), weights);
  const { offsets, members } = positionsBySlot(slots, rows);
  const df = fast.segmentSum(perPosition.df, tf.tensor1d(offsets, 'int32'), tf.tensor1d(members, 'int32'));
  return { loss: perPosition.loss, df };
}

/**
 * The positions of `slots` grouped by slot, in increasing order within each: slot r's positions
 * are members[offsets[r]] … members[offsets[r + 1] − 1].
 */
export function positionsBySlot(slots: Int32Array, count: number): { offsets: Int32Array; members: Int32Array } {
  const offsets = new Int32Array(count + 1);
  for (const slot of slots) offsets[slot + 1]++;
  for (let r = 0; r < count; r++) offsets[r + 1] += offsets[r];
  const next = offsets.slice(0, count);
  const members = new Int32Array(slots.length);
  slots.forEach((slot, position) => {
    members[next[slot]++] = position;
  });
  return { offsets, members };
}

/**
 * tfjs's Adam with PyTorch's defaults. While fast ops are active it updates each variable and its
 * moments in one fused in-place kernel; otherwise (always on cpu and wasm) it is tfjs's
 * AdamOptimizer unchanged. An instance should stay on one of the two paths: they keep separate
 * moments (and getWeights/setWeights see only tfjs's).
 */
export class RewardAdam extends tf.AdamOptimizer {
  private readonly fusedMoments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();
  /** β1^t and β2^t for the next fused step, kept as tfjs keeps them: float32 running products. */
  private fusedAccBeta1: number;
  private fusedAccBeta2: number;

  constructor(learningRate: number, beta1: number, beta2: number, epsilon: number) {
    super(learningRate, beta1, beta2, epsilon);
    this.fusedAccBeta1 = Math.fround(beta1);
    this.fusedAccBeta2 = Math.fround(beta2);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const fast = activeFastOps();
    if (fast === null) {
      super.applyGradients(variableGradients);
      return;
    }
    const named = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const registered = tf.engine().registeredVariables;
    tf.tidy(() =>
      this.applyFusedGradients(
        fast,
        named.map((g) => registered[g.name]),
        // A whole gradient is a single partial sum.
        named.map((g) => tf.reshape(g.tensor, [1, ...g.tensor.shape])),
      ),
    );
  }

  /** One fused step: `grads[i]` holds partial sums [parts, ...vars[i].shape] of vars[i]'s gradient. */
  applyFusedGradients(fast: FastMlpOps, vars: readonly tf.Variable[], grads: readonly tf.Tensor[]): void {
    const scalars: AdamStepScalars = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      oneMinusAccBeta1: Math.fround(1 - this.fusedAccBeta1),
      oneMinusAccBeta2: Math.fround(1 - this.fusedAccBeta2),
    };
    vars.forEach((variable, i) => {
      let moments = this.fusedMoments.get(variable);
      if (!moments) {
        moments = {
          m: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
          v: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
        };
        this.fusedMoments.set(variable, moments);
      }
      fast.adamUpdate(variable, moments.m, moments.v, grads[i], scalars);
    });
    this.fusedAccBeta1 = Math.fround(this.fusedAccBeta1 * Math.fround(this.beta1));
    this.fusedAccBeta2 = Math.fround(this.fusedAccBeta2 * Math.fround(this.beta2));
    this.incrementIterations();
  }

  override dispose(): void {
    super.dispose();
    for (const { m, v } of this.fusedMoments.values()) {
      m.dispose();
      v.dispose();
    }
    this.fusedMoments.clear();
  }
}

export function makeOptimizer(t: TrainingSpec): tf.Optimizer {
  // PyTorch's Adam defaults (tfjs would use its backend epsilon instead of 1e-8).
  return new RewardAdam(t.lr, 0.9, 0.999, 1e-8);
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
    const mean = (await lossSum.data())[0] / batches.length;
    activeFastOps()?.releaseIdleMemory?.(IDLE_DEVICE_MEMORY_BYTES);
    return mean;
  } finally {
    lossSum.dispose();
  }
}

/** Device memory a backend may keep for reuse between epochs (FastMlpOps.releaseIdleMemory). */
const IDLE_DEVICE_MEMORY_BYTES = 256 * 2 ** 20;

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

function pick(rows: Int32Array, positions: Int32Array): Int32Array {
  const out = new Int32Array(positions.length);
  for (let i = 0; i < positions.length; i++) out[i] = rows[positions[i]];
  return out;
}
