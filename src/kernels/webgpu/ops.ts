import * as tf from '@tensorflow/tfjs';
import type { FastMlpOps } from '../../core/fastOps.ts';
import { adamUpdate } from './adam.ts';
import { FLAG_ENABLED, FLAG_FUSED_STEP } from './config.ts';
import { releaseIdleBuffers, toTensor, webGpuBackend } from './device.ts';
import { gemm } from './gemm.ts';
import { colSum, lossAndGrad, rowDot, segmentSum } from './reductions.ts';
import { mappedChunkUploads } from './upload.ts';

/**
 * The reward MLP's operations on the fused WebGPU kernels (see src/core/fastOps.ts for the
 * contract). Each call records its dispatches on tfjs's WebGPU backend and returns ordinary
 * tracked tensors, so tf.tidy and tf.memory work as with any op.
 */
export const webGpuFastOps: FastMlpOps = {
  name: 'webgpu-fused',

  isActive: () => tf.getBackend() === 'webgpu' && tf.env().getBool(FLAG_ENABLED),

  useFusedStep: () => tf.env().getBool(FLAG_FUSED_STEP),

  dense(x, w, bias, relu) {
    const [M, K] = x.shape;
    const N = w.shape[1];
    checkShapes('dense', w.shape[0] === K && bias.size === N, x, w, bias);
    const b = webGpuBackend();
    const out = N === 1 ? rowDot(b, x, w, bias, M, K, relu) : gemm(b, x, w, M, N, K, { layout: 'nn', bias, relu });
    return toTensor<tf.Rank.R2>(b, out);
  },

  denseInputGrad(g, w, mask) {
    const [M, N] = g.shape;
    const K = w.shape[0];
    const masks = mask === null ? [] : [mask];
    checkShapes('denseInputGrad', w.shape[1] === N && masks.every((h) => h.shape[0] === M && h.shape[1] === K), g, w, ...masks);
    const b = webGpuBackend();
    return toTensor<tf.Rank.R2>(b, gemm(b, g, w, M, K, N, { layout: 'nt', mask }));
  },

  denseWeightGrad(x, g) {
    const [M, K] = x.shape;
    const N = g.shape[1];
    checkShapes('denseWeightGrad', g.shape[0] === M, x, g);
    const b = webGpuBackend();
    // A 1-wide layer's dW is a weighted column sum of x: no GEMM tile to waste.
    const dw = N === 1 ? colSum(b, x, g, M, K, { shape: (parts) => [parts, K, 1] }) : gemm(b, x, g, K, N, M, { layout: 'tn' });
    return toTensor<tf.Rank.R3>(b, dw);
  },

  biasGrad(g, pairedHalves) {
    const [M, N] = g.shape;
    checkShapes('biasGrad', !pairedHalves || M % 2 === 0, g);
    const b = webGpuBackend();
    return toTensor<tf.Rank.R2>(b, colSum(b, g, null, M, N, { pairedHalves }));
  },

  lossAndGrad(objective, f, { count, wins, rows }) {
    const items = objective === 'bt-mlp' ? f.size / 2 : f.size;
    const given = wins === null ? [count] : [count, wins];
    checkShapes('lossAndGrad', given.every((t) => t.size === items) && Number.isInteger(rows) && rows > 0, f, ...given);
    const b = webGpuBackend();
    const [loss, df] = lossAndGrad(b, objective, f, f.size, { count, wins, rows });
    return { loss: toTensor<tf.Rank.R0>(b, loss), df: toTensor<tf.Rank.R1>(b, df) };
  },

  segmentSum(values, offsets, members) {
    const segments = offsets.size - 1;
    const ints = offsets.dtype === 'int32' && members.dtype === 'int32';
    if (!ints || values.dtype !== 'float32' || segments < 0) {
      throw new Error(`segmentSum: incompatible inputs [${values.shape}] ${values.dtype}, offsets ${offsets.dtype}, members ${members.dtype}`);
    }
    const b = webGpuBackend();
    return toTensor<tf.Rank.R1>(b, segmentSum(b, values, offsets, members, segments));
  },

  adamUpdate(variable, m, v, grad, s) {
    adamUpdate(webGpuBackend(), variable, m, v, grad, s);
  },

  chunkUploads: (floats) => mappedChunkUploads(webGpuBackend(), floats),

  releaseIdleMemory: (keepBytes) => releaseIdleBuffers(webGpuBackend(), keepBytes),
};

function checkShapes(op: string, ok: boolean, ...ts: tf.Tensor[]): void {
  if (!ok || ts.some((t) => t.dtype !== 'float32')) {
    throw new Error(`${op}: incompatible inputs ${ts.map((t) => `[${t.shape}] ${t.dtype}`).join(', ')}`);
  }
}
