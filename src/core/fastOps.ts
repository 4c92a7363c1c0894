import type * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from './spec.ts';

/** The objectives an MLP trains with. */
export type MlpObjective = Exclude<ModelSpec['objective'], 'clf-gbdt'>;

/**
 * Optional fast implementations of the reward MLP's hot operations, installed by a host for a
 * backend that has them (src/kernels/webgpu: fused WebGPU kernels). Core stays backend-agnostic:
 * it asks `activeFastOps()` at each call and falls back to plain tfjs ops when it gets null, which
 * is always the case on cpu and wasm (nothing is installed there), so their results are unchanged.
 *
 * Gradients of a weight or bias come as *partial sums*: a tensor [parts, ...shape] whose sum over
 * axis 0 is the gradient. Splitting the reduction over the batch keeps a GPU busy when the output
 * is small (dW of a 1024×512 layer), and the fused Adam update adds the parts as it reads them,
 * so the gradient itself is never written out.
 */

export interface AdamStepScalars {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − β1^t and 1 − β2^t for this step, in float32 exactly as tfjs's Adam computes them. */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
}

export interface FastMlpOps {
  /** A short name for logs and results ('webgpu-fused'). */
  readonly name: string;
  /** Whether these implementations serve the active backend now (checked at every use). */
  isActive(): boolean;
  /** Whether trainingStep should run its hand-written fused step rather than autodiff. */
  useFusedStep(): boolean;
  /** act(x·w + b), act = ReLU or identity: [M, K]·[K, N] + [N] → [M, N]. */
  dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, relu: boolean): tf.Tensor2D;
  /**
   * g·wᵀ: g [M, N], w [K, N] → [M, K]. With `mask` (the layer's input [M, K], itself a ReLU
   * output) the result is multiplied by [mask > 0]: the gradient w.r.t. the previous layer's
   * pre-activation.
   */
  denseInputGrad(g: tf.Tensor2D, w: tf.Tensor2D, mask: tf.Tensor2D | null): tf.Tensor2D;
  /** Partial sums of dW = xᵀ·g: x [M, K], g [M, N] → [parts, K, N]. */
  denseWeightGrad(x: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor3D;
  /**
   * Partial sums of db = Σ_rows g: g [M, N] → [parts, N]. With `pairedHalves` (BT: row i is the
   * winner and row i + M/2 the loser of one pair) each pair's rows are added first, so
   * contributions that cancel in the margin f(w) − f(l) cancel exactly.
   */
  biasGrad(g: tf.Tensor2D, pairedHalves: boolean): tf.Tensor2D;
  /**
   * Mean loss over the batch and its gradient w.r.t. the logits, for a batch whose duplicates are
   * forwarded once and weighed by `weights`. BT: f = [f(winners); f(losers)] of the batch's
   * distinct pairs, loss = Σ count·softplus(−(f_w − f_l)) / rows. CLF: f of its distinct
   * responses, loss = Σ (count·softplus(f) − wins·f) / rows.
   */
  lossAndGrad(objective: MlpObjective, f: tf.Tensor1D, weights: LossWeights): { loss: tf.Scalar; df: tf.Tensor1D };
  /**
   * out[r] = Σ values[members[e]] for e from offsets[r] to offsets[r + 1] − 1, added in that order
   * (the same bits every time): gradient shares of a row several pairs use, added back to it.
   * offsets and members are int32; the result has offsets.size − 1 entries.
   */
  segmentSum(values: tf.Tensor1D, offsets: tf.Tensor1D, members: tf.Tensor1D): tf.Tensor1D;
  /**
   * One Adam step (tfjs's formula, in the same order) on `variable` and its moments `m`, `v`, in
   * place. `grad` holds partial sums [parts, ...variable.shape].
   */
  adamUpdate(variable: tf.Variable, m: tf.Variable, v: tf.Variable, grad: tf.Tensor, s: AdamStepScalars): void;
  /**
   * Upload memory for scoring chunks of at most `floats` values (see ChunkUploads), where the
   * backend has a faster way in than tf.tensor2d on a host array.
   */
  chunkUploads?(floats: number): ChunkUploads;
  /**
   * Gives back device memory that the backend keeps for reuse but no tensor holds, where more
   * than `keepBytes` of it has piled up. Trainers call it after each epoch: batches whose distinct
   * rows differ in number make buffers of new sizes every step, and a pool that reuses only
   * exact sizes would otherwise keep them all.
   */
  releaseIdleMemory?(keepBytes: number): void;
}

/**
 * How a batch's loss weighs the items it forwards once (train.ts planBatch): BT, per distinct pair,
 * how often it occurs (in either orientation); CLF, per distinct response, how many of the batch's
 * rows it fills (`count`) and how many of those label it the winner (`wins`). The loss is a mean
 * over the batch's `rows`.
 */
export interface LossWeights {
  count: tf.Tensor1D;
  wins: tf.Tensor1D | null;
  rows: number;
}

/**
 * How scoring turns the chunks it reads from a store into tensors (score.ts). At most two chunks
 * are in flight: memory for chunk i + 2 is asked for only after chunk i's tensor is disposed, so
 * two buffers used in turn suffice. The host version reads into Float32Arrays and uploads with
 * tf.tensor2d; a GPU version hands out mapped upload memory, so the read itself is the upload.
 */
export interface ChunkUploads {
  /** Memory for chunk `index` to be read into (`length` floats); valid until `toTensor(index, …)`. */
  memory(index: number, length: number): Promise<Float32Array>;
  /**
   * Chunk `index` as a [rows, dim] tensor. `data` is what the read returned: usually `memory(index)`
   * itself, but a store may return an array of its own, which is then copied.
   */
  toTensor(index: number, data: Float32Array, rows: number, dim: number): tf.Tensor2D;
  /** Frees the memory; called once, after every tensor is disposed and every read has settled. */
  dispose(): void;
}

let installed: FastMlpOps | null = null;

/** Installs (or with null removes) the fast implementations. */
export function installFastOps(ops: FastMlpOps | null): void {
  installed = ops;
}

/** The installed fast implementations when they serve the active backend, else null. */
export function activeFastOps(): FastMlpOps | null {
  return installed !== null && installed.isActive() ? installed : null;
}

let packedMatMul: () => boolean = () => false;

/**
 * Installs the check for whether the active backend's matMul packs its operands (the wasm
 * relaxed-SIMD GEMM, src/kernels/wasm/gemmKernel.ts): then a transposed operand costs nothing
 * extra and a long inner dimension runs at full speed, so dense gradients hand transposes to
 * matMul and sum the batch in one product. Otherwise (XNNPACK, tfjs's other backends) they
 * transpose explicitly and sum in pieces (mlp.ts says why).
 */
export function installPackedMatMulCheck(check: () => boolean): void {
  packedMatMul = check;
}

export function matMulPacksOperands(): boolean {
  return packedMatMul();
}
