import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateWasmBackend, withXnnpackGemm } from '../../testing/tf.ts';
import { attachWasmGemm } from './gemmKernel.ts';

/**
 * tfjs's matMul on the wasm backend with our GEMM attached (as the engine tests run it), against
 * the stock XNNPACK kernel: close where ours takes the product, the very same bits where it
 * hands the product on.
 */

const backend = () => tf.backend() as BackendWasm;

/** The product on the stock kernel: the GEMM detached for the call, then attached again. */
function stockResult(compute: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  return withXnnpackGemm(() => ours(compute));
}

function ours(compute: () => tf.Tensor) {
  const t = compute();
  const out = { shape: t.shape, values: t.dataSync() as Float32Array };
  t.dispose();
  return out;
}

function random(shape: number[], seed: number) {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

describe('BatchMatMul on wasm with the relaxed-SIMD GEMM', () => {
  const held: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T) => (held.push(t), t);
  beforeAll(async () => {
    await activateWasmBackend();
    expect((await attachWasmGemm(backend(), { threads: 1 })).gemm).toBe('relaxed-simd');
  });
  afterAll(() => held.forEach((t) => t.dispose()));

  for (const [transposeA, transposeB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`agrees with XNNPACK within float32 rounding (transposeA ${transposeA}, transposeB ${transposeB})`, async () => {
      const [m, k, n] = [70, 300, 24];
      const a = keep(random(transposeA ? [k, m] : [m, k], 1));
      const b = keep(random(transposeB ? [n, k] : [k, n], 2));
      const stock = await stockResult(() => tf.matMul(a, b, transposeA, transposeB));
      const got = ours(() => tf.matMul(a, b, transposeA, transposeB));
      expect(got.shape).toEqual([m, n]);
      let maxDiff = 0;
      for (let i = 0; i < got.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.values[i] - stock.values[i]));
      // Sums of 300 products of U(−1, 1) values (|c| up to ~30): float32 rounding differences of ~1e-5.
      expect(maxDiff).toBeGreaterThan(0); // FMA rounds differently: proof that ours ran
      expect(maxDiff).toBeLessThan(1e-4);
    });
  }

  it('keeps tfjs’s output shape for leading dimensions of 1', async () => {
    const a = keep(random([1, 9, 16], 3));
    const b = keep(random([1, 16, 8], 4));
    const got = ours(() => tf.matMul(a, b));
    const stock = await stockResult(() => tf.matMul(a, b));
    expect(got.shape).toEqual([1, 9, 8]);
    expect(stock.shape).toEqual(got.shape);
  });

  const handedOn: [string, () => tf.Tensor][] = [
    ['N not a multiple of 8', () => tf.matMul(keep(random([9, 16], 5)), keep(random([16, 12], 6)))],
    ['a single output column (N = 1)', () => tf.matMul(keep(random([64, 32], 7)), keep(random([32, 1], 8)))],
    ['a batch of two matrices', () => tf.matMul(keep(random([2, 9, 16], 9)), keep(random([2, 16, 8], 10)))],
  ];
  for (const [what, compute] of handedOn) {
    it(`hands ${what} to XNNPACK: the same bits as the stock kernel`, async () => {
      const got = ours(compute);
      const stock = await stockResult(compute);
      expect(got.shape).toEqual(stock.shape);
      expect(Array.from(got.values)).toEqual(Array.from(stock.values));
    });
  }
});
