import { describe, expect, it } from 'vitest';
import { InMemoryEmbeddings, type EmbeddingStore } from './dataset.ts';
import { RepeatGatherStore } from './repeatGather.ts';

/** 10 rows of 3 floats: row r holds r·10 + column. */
const reference = new InMemoryEmbeddings(Float32Array.from({ length: 30 }, (_, i) => Math.floor(i / 3) * 10 + (i % 3)), 3);

/** The reference rows, counting the gathers that reach them. */
function countedStore(): EmbeddingStore & { gathers: number } {
  const inner = reference;
  const store = {
    rows: inner.rows,
    dim: inner.dim,
    gathers: 0,
    readRange: (start: number, end: number) => inner.readRange(start, end),
    gather: (rows: Int32Array) => {
      store.gathers++;
      return inner.gather(rows);
    },
  };
  return store;
}

describe('RepeatGatherStore', () => {
  it('serves rows it holds, in any order, from memory; other rows from its store', async () => {
    const inner = countedStore();
    const store = new RepeatGatherStore(inner, 1 << 20);
    const first = Int32Array.from([7, 2, 5, 9]);
    expect(await store.gather(first)).toEqual(await reference.gather(first));
    expect(inner.gathers).toBe(1);
    for (const again of [Int32Array.from([9, 5, 2, 7]), Int32Array.from([2, 2]), Int32Array.from([])]) {
      expect(await store.gather(again)).toEqual(await reference.gather(again));
    }
    expect(inner.gathers).toBe(1);
    // A row it does not hold: a read, which it then holds instead.
    expect(Array.from(await store.gather(Int32Array.from([2, 3])))).toEqual([20, 21, 22, 30, 31, 32]);
    expect(inner.gathers).toBe(2);
    await store.gather(Int32Array.from([3]));
    expect(inner.gathers).toBe(2);
    await store.gather(Int32Array.from([7]));
    expect(inner.gathers).toBe(3);
    expect(Array.from(await store.readRange(1, 2))).toEqual([10, 11, 12]);
  });

  it('holds nothing over its bytes, and nothing after forget()', async () => {
    const inner = countedStore();
    const small = new RepeatGatherStore(inner, 2 * 3 * 4);
    await small.gather(Int32Array.from([1, 2, 3]));
    await small.gather(Int32Array.from([1, 2, 3]));
    expect(inner.gathers).toBe(2);
    const store = new RepeatGatherStore(inner, 1 << 20);
    await store.gather(Int32Array.from([1, 2]));
    store.forget();
    await store.gather(Int32Array.from([1, 2]));
    expect(inner.gathers).toBe(4);
  });
});
