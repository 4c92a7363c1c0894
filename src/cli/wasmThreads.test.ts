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
});
