import * as tf from '@tensorflow/tfjs';
import { activeFastOps, matMulPacksOperands, type FastMlpOps } from './fastOps.ts';
import type { Rng } from './rng.ts';
import type { ModelSpec } from './spec.ts';

/**
 * The reward MLP (D → hidden… → 1, ReLU), as plain variables and a functional forward pass.
 *
 * Dense layers use a custom gradient with explicit transposes: on the wasm backend, matMul with
 * transposeA/transposeB (what autodiff emits) falls off XNNPACK's fast path and trains ~19×
 * slower (environment.md, "the transpose trap"). Where the matMul packs its operands (the wasm
 * relaxed-SIMD GEMM; fastOps.ts, matMulPacksOperands) the transposes go to matMul. Where a host installed fast ops for the active
 * backend (fastOps.ts: fused WebGPU kernels), each layer is one fused dense+bias+ReLU kernel
 * instead, whose gradient also runs on those kernels.
 */

export interface MlpParams {
  weights: tf.Variable<tf.Rank.R2>[];
  biases: tf.Variable<tf.Rank.R1>[];
}

export function layerSizes(inputDim: number, hidden: readonly number[]): number[] {
  return [inputDim, ...hidden, 1];
}

/**
 * Initial weights from the run's Rng, so they are identical on every backend.
 * 'pytorch': nn.Linear's default — Kaiming-uniform with a = √5, which is U(±1/√fan_in), and
 * biases U(±1/√fan_in). 'glorot': tfjs's default — U(±√(6/(fan_in+fan_out))), zero biases.
 */
export function initMlp(inputDim: number, hidden: readonly number[], init: ModelSpec['init'], rng: Rng): MlpParams {
  const sizes = layerSizes(inputDim, hidden);
  const weights: tf.Variable<tf.Rank.R2>[] = [];
  const biases: tf.Variable<tf.Rank.R1>[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l];
    const fanOut = sizes[l + 1];
    const wBound = init === 'pytorch' ? 1 / Math.sqrt(fanIn) : Math.sqrt(6 / (fanIn + fanOut));
    const bBound = init === 'pytorch' ? 1 / Math.sqrt(fanIn) : 0;
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * wBound;
    const b = new Float32Array(fanOut);
    for (let i = 0; i < b.length; i++) b[i] = (2 * rng.next() - 1) * bBound;
    weights.push(tf.tidy(() => tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true)));
    biases.push(tf.tidy(() => tf.variable(tf.tensor1d(b), true)));
  }
  return { weights, biases };
}

export function disposeMlp(params: MlpParams): void {
  for (const v of [...params.weights, ...params.biases]) v.dispose();
}

export function mlpVariables(params: MlpParams): tf.Variable[] {
  return [...params.weights, ...params.biases];
}

/** Rewards (logits) for a batch of embeddings: [B, D] → [B]. Call inside tf.tidy. */
export function mlpForward(params: MlpParams, x: tf.Tensor2D, options: { outputBias?: boolean } = {}): tf.Tensor1D {
  const fast = activeFastOps();
  let h: tf.Tensor2D = x;
  const last = params.weights.length - 1;
  // Without the output bias (BT margins, where it cancels) it is a constant, outside the gradient.
  const outputBias = options.outputBias === false ? tf.zerosLike(params.biases[last]) : params.biases[last];
  for (let l = 0; l <= last; l++) {
    const b = l === last ? outputBias : params.biases[l];
    // The input layer's gradient w.r.t. the data is never used: skip its (largest) matMul.
    if (fast) {
      h = fastDense(fast, h, params.weights[l], b, l < last, l > 0);
      continue;
    }
    const y = dense(h, params.weights[l], b, l > 0);
    h = l < last ? tf.relu(y) : y;
  }
  return tf.reshape(h, [-1]);
}

/**
 * act(x·w + b) as one fast kernel, differentiable through tfjs autodiff (for callers that take
 * gradients through mlpForward; the fused training step in train.ts does its own backward pass).
 */
function fastDense(
  fast: FastMlpOps,
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  relu: boolean,
  needInputGrad: boolean,
): tf.Tensor2D {
  return denseWithGrad(x, w, b, needInputGrad, (x2, w2, b2, save) => {
    const y = fast.dense(x2, w2, b2, relu);
    save([x2, w2, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sw, sy] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        // The gradient w.r.t. the pre-activation: ReLU passes it where its output is positive.
        const g = (relu ? tf.mul(dy, tf.step(sy)) : dy) as tf.Tensor2D;
        return {
          dx: () => fast.denseInputGrad(g, sw, null),
          // The bias gradient as the plain path computes it (one reduction either way).
          dw: tf.sum(fast.denseWeightGrad(sx, g), 0),
          db: tf.sum(g, 0),
        };
      },
    };
  });
}

function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, needInputGrad: boolean): tf.Tensor2D {
  return denseWithGrad(x, w, b, needInputGrad, (x2, w2, b2, save) => {
    save([x2, w2]);
    return {
      value: tf.add(tf.matMul(x2, w2), b2),
      gradFunc: (dy, saved) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const packed = matMulPacksOperands();
        return {
          dx: () => (packed ? tf.matMul(dy, sw, false, true) : tf.matMul(dy, tf.transpose(sw))),
          dw: packed ? tf.matMul(sx, dy, true, false) : weightGrad(sx, dy),
          db: tf.sum(dy, 0),
        };
      },
    };
  });
}

type DenseGrads = { dx: () => tf.Tensor; dw: tf.Tensor; db: tf.Tensor };
type DenseForward = (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  save: tf.GradSaveFunc,
) => { value: tf.Tensor2D; gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => DenseGrads };

/**
 * A dense layer as a tf.customGrad op. The input layer's x is data, which needs no gradient: it is
 * then closed over rather than passed as an input, so tfjs asks no dx of it and none is made
 * (custom gradients must return one per input: a zero-filled copy of the batch's embeddings).
 */
function denseWithGrad(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, needInputGrad: boolean, forward: DenseForward): tf.Tensor2D {
  // customGrad passes the inputs and then the save function as one variadic list.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [x2, w2, b2] = (needInputGrad ? args : [x, ...args]) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const { value, gradFunc } = forward(x2, w2, b2, save);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const g = gradFunc(dy as tf.Tensor2D, saved);
        return needInputGrad ? [g.dx(), g.dw, g.db] : [g.dw, g.db];
      },
    };
  });
  return (needInputGrad ? op(x, w, b) : op(w, b)) as tf.Tensor2D;
}

/**
 * Rows per piece of the weight gradient's sum over the batch. XNNPACK's GEMM (wasm) does not
 * block its inner dimension: with K = 10,240 batch rows it runs at half the speed it has with
 * K = 2,048 (30 vs 59 GFLOP/s here), so the batch is cut into pieces of at most this many rows.
 */
const WEIGHT_GRAD_ROWS = 2048;

/** dW = xᵀ·dy with explicit transposes, summed over the batch in pieces of ≤ WEIGHT_GRAD_ROWS rows. */
function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const rows = x.shape[0];
  const pieces = Math.ceil(rows / WEIGHT_GRAD_ROWS);
  if (pieces <= 1) return tf.matMul(tf.transpose(x), dy);
  const size = Math.ceil(rows / pieces);
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < rows; start += size) {
    const n = Math.min(size, rows - start);
    parts.push(tf.matMul(tf.transpose(tf.slice(x, [start, 0], [n, -1])), tf.slice(dy, [start, 0], [n, -1])));
  }
  return tf.addN(parts);
}

/** A detached copy of the parameters (for rollback to the best epoch). */
export function snapshotMlp(params: MlpParams): tf.Tensor[] {
  return mlpVariables(params).map((v) => tf.clone(v));
}

export function restoreMlp(params: MlpParams, snapshot: tf.Tensor[]): void {
  mlpVariables(params).forEach((v, i) => v.assign(snapshot[i]));
}
