import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeMlp, initMlp, mlpVariables } from '../core/mlp.ts';
import { Rng } from '../core/rng.ts';
import { parseSpec } from '../core/spec.ts';
import { makeOptimizer, trainingStep } from '../core/train.ts';
import { activateBackend } from './backend.ts';

/** Weights after three BT steps on the wasm backend with the given XNNPACK thread count. */
async function weightsAfterTraining(threads: number): Promise<Float32Array[]> {
  const info = await activateBackend('wasm', { threads });
  expect(info.threads).toBe(threads);
  const rng = new Rng('threads');
  const rows = 512;
  const dim = 256;
  const embeddings = tf.tensor2d(Float32Array.from({ length: rows * dim }, () => rng.normal()), [rows, dim]);
  const winners = Int32Array.from({ length: rows }, () => rng.int(rows));
  const losers = Int32Array.from({ length: rows }, () => rng.int(rows));
  const params = initMlp(dim, [128, 64], 'pytorch', rng.fork('init'));
  const optimizer = makeOptimizer(parseSpec({}).model.training);
  try {
    for (let s = 0; s < 3; s++) trainingStep('bt-mlp', params, { embeddings, winners, losers }, optimizer, rng.sample(2 * rows, 384)).dispose();
    return (await Promise.all(mlpVariables(params).map((v) => v.data()))) as Float32Array[];
  } finally {
    optimizer.dispose();
    disposeMlp(params);
    embeddings.dispose();
  }
}

describe('wasm threads in Node', () => {
  afterAll(() => activateBackend('wasm', { threads: 1 }));

  it('train bit-identically with 1 and 2 threads: XNNPACK splits output tiles, never a sum', async () => {
    const one = await weightsAfterTraining(1);
    const two = await weightsAfterTraining(2);
    expect(two.map((w) => Array.from(w))).toEqual(one.map((w) => Array.from(w)));
  });

  it("runs the heap kernels (src/kernels/wasm) on the threaded build's shared memory, after it grew too", async () => {
    await activateBackend('wasm', { threads: 2 });
    const memory = (tf.backend() as unknown as { wasm: { wasmMemory: WebAssembly.Memory } }).wasm.wasmMemory;
    const before = memory.buffer.byteLength;
    const cols = 256;
    const rows = Math.ceil(before / (cols * 4)) + 1; // more than the heap holds now
    const x = tf.tidy(() => tf.range(0, rows * cols, 1, 'int32').reshape([rows, cols]));
    const ids = Int32Array.from([rows - 1, 0, 7]);
    const [gathered, sliced, transposed] = tf.tidy(() => [
      tf.gather(x, tf.tensor1d(ids, 'int32')),
      tf.slice(x, [rows - 2, 0], [2, cols]),
      tf.transpose(tf.slice(x, [0, 0], [3, cols])),
    ]);
    expect(memory.buffer.byteLength).toBeGreaterThan(before);
    const g = gathered.dataSync();
    expect([g[0], g[cols], g[2 * cols + 5]]).toEqual([(rows - 1) * cols, 0, 7 * cols + 5]);
    expect(sliced.dataSync()[cols + 3]).toBe((rows - 1) * cols + 3);
    expect(Array.from(transposed.dataSync().subarray(3, 6))).toEqual([1, cols + 1, 2 * cols + 1]);
    const sums = tf.tidy(() => tf.sum(tf.cast(tf.slice(x, [0, 0], [3, cols]), 'float32'), 0));
    expect(sums.dataSync()[1]).toBe(1 + (cols + 1) + (2 * cols + 1));
    tf.dispose([x, gathered, sliced, transposed, sums]);
  });
});
