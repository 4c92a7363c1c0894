import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateWasmBackend } from '../../testing/tf.ts';

/** What a gather along axis 0 must give, computed in plain JS. */
function expectedRows(x: ArrayLike<number>, rowSize: number, ids: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) for (let j = 0; j < rowSize; j++) out.push(x[ids[i] * rowSize + j]);
  return out;
}

function heapBuffer(): ArrayBufferLike {
  return ((tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer;
}

describe('wasm heap kernels (installWasmKernels)', () => {
  beforeAll(activateWasmBackend);

  describe('GatherV2', () => {

  it('copies rows of a float32 matrix, repeats and any order included', () => {
    const values = Float32Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i) * 1e3);
    const ids = [6, 0, 3, 3, 6, 1];
    const got = tf.tidy(() => tf.gather(tf.tensor2d(values, [7, 5]), tf.tensor1d(ids, 'int32')));
    expect(got.shape).toEqual([6, 5]);
    expect(Array.from(got.dataSync())).toEqual(expectedRows(values, 5, ids));
    got.dispose();
  });

  it('keeps the index shape and the trailing dimensions, for int32 data too', () => {
    const values = Int32Array.from({ length: 4 * 2 * 3 }, (_, i) => i * 31 - 200);
    const ids = [[3, 1], [0, 3], [2, 2]];
    const got = tf.tidy(() => tf.gather(tf.tensor3d(values, [4, 2, 3], 'int32'), tf.tensor2d(ids, [3, 2], 'int32')));
    expect(got.shape).toEqual([3, 2, 2, 3]);
    expect(got.dtype).toBe('int32');
    expect(Array.from(got.dataSync())).toEqual(expectedRows(values, 6, ids.flat()));
    got.dispose();
  });

  it('leaves other axes to the stock kernel', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const got = tf.gather(x, tf.tensor1d([2, 0], 'int32'), 1);
    expect(Array.from(got.dataSync())).toEqual([3, 1, 6, 4]);
    tf.dispose([x, got]);
  });

  it('rejects an index outside the rows with the stock message', () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const ids = tf.tensor1d([0, 2], 'int32');
    expect(() => tf.gather(x, ids)).toThrow('GatherV2: the index value 2 is not in [0, 1]');
    tf.dispose([x, ids]);
  });

  it('gathers nothing from an empty index list', () => {
    const got = tf.tidy(() => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([], 'int32')));
    expect(got.shape).toEqual([0, 2]);
    got.dispose();
  });

  it('reads the heap as it is after the output grew the wasm memory', () => {
    const before = heapBuffer();
    const rowSize = 1024;
    const values = Float32Array.from({ length: 16 * rowSize }, (_, i) => i);
    // Enough output rows to need more memory than the heap has now.
    const count = Math.ceil(before.byteLength / (rowSize * 4)) + 1;
    const ids = Int32Array.from({ length: count }, (_, i) => (i * 7) % 16);
    const got = tf.tidy(() => tf.gather(tf.tensor2d(values, [16, rowSize]), tf.tensor1d(ids, 'int32')));
    expect(heapBuffer()).not.toBe(before);
    const data = got.dataSync();
    for (const i of [0, 1, count >> 1, count - 1]) {
      expect(data[i * rowSize + 5]).toBe(ids[i] * rowSize + 5);
    }
    got.dispose();
  });
  });

  describe('Slice', () => {
    it('copies a contiguous block of rows, also of int32 and 3-D data', () => {
      const values = Float32Array.from({ length: 6 * 4 }, (_, i) => i + 0.5);
      const got = tf.tidy(() => tf.slice(tf.tensor2d(values, [6, 4]), [2, 0], [3, -1]));
      expect(got.shape).toEqual([3, 4]);
      expect(Array.from(got.dataSync())).toEqual(Array.from(values.subarray(8, 20)));
      const ints = tf.tidy(() => tf.slice(tf.tensor3d(Int32Array.from({ length: 24 }, (_, i) => -i), [4, 3, 2], 'int32'), [1, 1, 0], [1, 2, 2]));
      expect(ints.dtype).toBe('int32');
      expect(Array.from(ints.dataSync())).toEqual([-8, -9, -10, -11]);
      tf.dispose([got, ints]);
    });

    it('leaves a strided slice to the stock kernel', () => {
      const got = tf.tidy(() => tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), [0, 1], [2, 2]));
      expect(Array.from(got.dataSync())).toEqual([2, 3, 5, 6]);
      got.dispose();
    });

    it('reads the heap as it is after the output grew the wasm memory', () => {
      const elements = heapBuffer().byteLength / 4;
      const x = tf.tidy(() => tf.range(0, elements, 1, 'int32').reshape([elements / 16, 16]));
      const before = heapBuffer();
      const got = tf.slice(x, [1, 0], [elements / 16 - 1, 16]);
      expect(heapBuffer()).not.toBe(before);
      const data = got.dataSync();
      expect([data[0], data[data.length - 1]]).toEqual([16, elements - 1]);
      tf.dispose([x, got]);
    });
  });

  describe('Transpose', () => {
    it('transposes matrices whose sides are not multiples of the tile', () => {
      for (const [rows, cols] of [[1, 1], [70, 130], [129, 64], [3, 200]]) {
        const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.cos(i) * 100);
        const got = tf.tidy(() => tf.transpose(tf.tensor2d(values, [rows, cols])));
        expect(got.shape).toEqual([cols, rows]);
        const data = got.dataSync();
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) expect(data[j * rows + i]).toBe(values[i * cols + j]);
        got.dispose();
      }
    });

    it('keeps int32 values and NaN bit patterns exactly', () => {
      const words = Int32Array.from([1, -2, 0x7fc00001, 0x7f800001, 5, 6]);
      const ints = tf.tidy(() => tf.transpose(tf.tensor2d(words, [2, 3], 'int32')));
      expect(Array.from(ints.dataSync())).toEqual([1, 0x7f800001, -2, 5, 0x7fc00001, 6]);
      const floats = tf.tidy(() => tf.transpose(tf.tensor2d(new Float32Array(words.buffer), [2, 3])));
      expect(Array.from(new Int32Array(floats.dataSync().buffer))).toEqual([1, 0x7f800001, -2, 5, 0x7fc00001, 6]);
      tf.dispose([ints, floats]);
    });

    it('leaves higher ranks to the stock kernel', () => {
      const got = tf.tidy(() => tf.transpose(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), [2, 0, 1]));
      expect(Array.from(got.dataSync())).toEqual([1, 3, 5, 7, 2, 4, 6, 8]);
      got.dispose();
    });

    it('reads the heap as it is after the output grew the wasm memory', () => {
      const elements = heapBuffer().byteLength / 4;
      const x = tf.tidy(() => tf.range(0, elements, 1, 'int32').reshape([elements / 256, 256]));
      const before = heapBuffer();
      const got = tf.transpose(x);
      expect(heapBuffer()).not.toBe(before);
      const data = got.dataSync();
      expect([data[1], data[elements / 256]]).toEqual([256, 1]);
      tf.dispose([x, got]);
    });
  });
});

describe('wasm heap kernels: Sum over rows', () => {
  beforeAll(activateWasmBackend);

  it('adds the rows in order with float32 rounding, as the stock kernel does', () => {
    const [rows, cols] = [1000, 37];
    const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7) * 10 ** ((i % 7) - 3));
    const acc = new Float32Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) acc[j] += values[i * cols + j];
    const got = tf.tidy(() => tf.sum(tf.tensor2d(values, [rows, cols]), 0));
    expect(got.shape).toEqual([cols]);
    expect(Array.from(got.dataSync())).toEqual(Array.from(acc));
    const kept = tf.tidy(() => tf.sum(tf.tensor2d(values, [rows, cols]), -2, true));
    expect(kept.shape).toEqual([1, cols]);
    expect(Array.from(kept.dataSync())).toEqual(Array.from(acc));
    tf.dispose([got, kept]);
  });

  it('leaves other axes and ranks to the stock kernel', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const inner = tf.sum(x, 1);
    const all = tf.sum(x);
    expect(Array.from(inner.dataSync())).toEqual([6, 15]);
    expect(all.dataSync()[0]).toBe(21);
    tf.dispose([x, inner, all]);
  });
});
