import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateWasmBackend } from '../testing/tf.ts';
import { BytesSource } from './bytes.ts';
import { InMemoryEmbeddings, resultArray, type EmbeddingStore, type StorageOrder } from './dataset.ts';
import { LIGHTGBM_DEFAULTS, trainGbdt } from './gbdt.ts';
import type { TrainedModel } from './members.ts';
import { initMlp, mlpForward } from './mlp.ts';
import { NpyEmbeddings } from './npyDataset.ts';
import { Rng } from './rng.ts';
import { scoreRows } from './score.ts';
import { encodeNpy } from '../testing/writeNpy.ts';

/** A store whose reads take a while, and which logs when each read starts and ends. */
class SlowStore implements EmbeddingStore {
  readonly log: string[] = [];
  constructor(
    private readonly inner: InMemoryEmbeddings,
    private readonly failAt: number | null = null,
  ) {}
  get rows() {
    return this.inner.rows;
  }
  get dim() {
    return this.inner.dim;
  }
  async readRange(start: number, end: number): Promise<Float32Array> {
    this.log.push(`read ${start}`);
    await new Promise((r) => setTimeout(r, 5));
    if (start === this.failAt) throw new Error(`disk error at row ${start}`);
    this.log.push(`got ${start}`);
    return this.inner.readRange(start, end);
  }
  gather(rows: Int32Array): Promise<Float32Array> {
    return this.inner.gather(rows);
  }
}

/** A store that fills the caller's buffer, as the file stores do, and remembers which it got. */
class FillingStore implements EmbeddingStore {
  readonly buffers: (Float32Array | undefined)[] = [];
  constructor(private readonly inner: InMemoryEmbeddings) {}
  get rows() {
    return this.inner.rows;
  }
  get dim() {
    return this.inner.dim;
  }
  async readRange(start: number, end: number, _signal?: AbortSignal, into?: Float32Array): Promise<Float32Array> {
    this.buffers.push(into);
    const rows = await this.inner.readRange(start, end);
    const out = resultArray(rows.length, into);
    out.set(rows);
    return out;
  }
  gather(rows: Int32Array): Promise<Float32Array> {
    return this.inner.gather(rows);
  }
}

/**
 * A store that holds its rows in reverse and can be read only in that order: prompt-major reads
 * fail, so scoring must go through storageOrder.
 */
class ReversedStore implements EmbeddingStore {
  readonly storageReads: number[] = [];
  readonly storageOrder: StorageOrder;
  constructor(private readonly inner: InMemoryEmbeddings) {
    const last = inner.rows - 1;
    this.storageOrder = {
      rowAt: (position) => last - position,
      readRange: async (start, end, _signal, into) => {
        this.storageReads.push(start);
        const out = resultArray((end - start) * this.dim, into);
        for (let p = start; p < end; p++) out.set(await inner.readRange(last - p, last - p + 1), (p - start) * this.dim);
        return out;
      },
    };
  }
  get rows() {
    return this.inner.rows;
  }
  get dim() {
    return this.inner.dim;
  }
  readRange(): Promise<Float32Array> {
    return Promise.reject(new Error('prompt-major read'));
  }
  gather(rows: Int32Array): Promise<Float32Array> {
    return this.inner.gather(rows);
  }
}

describe('scoreRows', () => {
  beforeAll(activateWasmBackend);
  const rng = new Rng('score-test');
  const dim = 6;
  const rows = 23;
  const data = Float32Array.from({ length: rows * dim }, () => rng.normal());
  let params: ReturnType<typeof initMlp>;
  beforeAll(() => {
    params = initMlp(dim, [5], 'pytorch', rng.fork('init'));
  });

  it('gives every row the score of one whole-split forward pass, reading the next chunk while scoring', async () => {
    const store = new SlowStore(new InMemoryEmbeddings(data, dim));
    const done: number[] = [];
    const [scores] = await scoreRows(store, [{ kind: 'mlp', params }], {
      chunkRows: 10,
      onChunk: (n) => {
        done.push(n);
        store.log.push(`scored ${n}`);
      },
    });
    const whole = tf.tidy(() => mlpForward(params, tf.tensor2d(data, [rows, dim])));
    expect(Array.from(scores)).toEqual(Array.from(await whole.data()));
    whole.dispose();
    expect(done).toEqual([10, 20, 23]);
    // Chunk 10's read is under way before chunk 0's scores are in.
    expect(store.log.indexOf('read 10')).toBeLessThan(store.log.indexOf('scored 10'));
    expect(store.log.indexOf('read 20')).toBeLessThan(store.log.indexOf('scored 20'));
  });

  it('reads chunks into two buffers in turn, each refilled only after its chunk is scored', async () => {
    const store = new FillingStore(new InMemoryEmbeddings(data, dim));
    const [scores] = await scoreRows(store, [{ kind: 'mlp', params }], { chunkRows: 6 });
    const whole = tf.tidy(() => mlpForward(params, tf.tensor2d(data, [rows, dim])));
    expect(Array.from(scores)).toEqual(Array.from(await whole.data()));
    whole.dispose();
    const [a, b, ...rest] = store.buffers;
    expect(a).toBeDefined();
    expect(b!.buffer).not.toBe(a!.buffer);
    expect(rest.length).toBe(2);
    expect(rest[0]!.buffer).toBe(a!.buffer);
    expect(rest[1]!.buffer).toBe(b!.buffer);
  });

  it('reads in storage order when the store has one, and puts every score back on its prompt-major row', async () => {
    const rng2 = new Rng('score-storage-order');
    const x = Float32Array.from({ length: rows * dim }, () => rng2.normal());
    const gbdt = await trainGbdt(x, rows, dim, Uint8Array.from({ length: rows }, (_, i) => (x[i * dim] > 0 ? 1 : 0)), { ...LIGHTGBM_DEFAULTS, trees: 3, leaves: 4, minDataInLeaf: 2 }, rng2.fork('gbdt'));
    const members: TrainedModel[] = [{ kind: 'mlp', params }, { kind: 'gbdt', model: gbdt }];
    const expected = await scoreRows(new InMemoryEmbeddings(x, dim), members, { chunkRows: 10 });
    const store = new ReversedStore(new InMemoryEmbeddings(x, dim));
    const got = await scoreRows(store, members, { chunkRows: 10 });
    expect(store.storageReads).toEqual([0, 10, 20]);
    expect(Array.from(got[0])).toEqual(Array.from(expected[0]));
    expect(Array.from(got[1])).toEqual(Array.from(expected[1]));
    // The scores differ from row to row, so a misplaced one would show.
    expect(new Set(expected[0]).size).toBe(rows);
  });

  it('scores a (K, N, D) .npy file through its storage order exactly as the same rows held prompt-major', async () => {
    // 7 prompts × 3 responses, stored response-major; chunks of 4 cut across prompts and slabs.
    const [n, k] = [7, 3];
    const prompts = Float32Array.from({ length: n * k * dim }, () => rng.normal());
    const responseMajor = new Float64Array(prompts.length);
    for (let p = 0; p < n; p++) {
      for (let j = 0; j < k; j++) responseMajor.set(prompts.subarray((p * k + j) * dim, (p * k + j + 1) * dim), (j * n + p) * dim);
    }
    const file = await NpyEmbeddings.open(new BytesSource('knd.npy', encodeNpy({ shape: [k, n, dim], values: responseMajor })), 'KND');
    const inMemory = new InMemoryEmbeddings(prompts, dim);
    const members: TrainedModel[] = [{ kind: 'mlp', params }];
    const [fromFile] = await scoreRows(file, members, { chunkRows: 4 });
    const [expected] = await scoreRows(inMemory, members, { chunkRows: 4 });
    expect(Array.from(fromFile)).toEqual(Array.from(expected));
  });

  it('passes a read error on, leaving no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const store = new SlowStore(new InMemoryEmbeddings(data, dim), 10);
    await expect(scoreRows(store, [{ kind: 'mlp', params }], { chunkRows: 10 })).rejects.toThrow('disk error at row 10');
    expect(tf.memory().numTensors).toBe(before);
  });
});
