import { beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEmbeddings, type EmbeddingStore } from '../core/dataset.ts';
import { initMlp } from '../core/mlp.ts';
import { Rng } from '../core/rng.ts';
import { scoreRows } from '../core/score.ts';
import { activateWasmBackend } from '../testing/tf.ts';

/**
 * Scoring reads the next chunk while it scores one. In Node an unhandled rejection ends the
 * process (tfjs-wasm's Node build rethrows them), so a read that fails before the loop awaits it
 * must still reach the caller as an error, and only so.
 */
class FailingStore implements EmbeddingStore {
  constructor(
    private readonly inner: InMemoryEmbeddings,
    private readonly failAt: number,
  ) {}
  get rows() {
    return this.inner.rows;
  }
  get dim() {
    return this.inner.dim;
  }
  async readRange(start: number, end: number): Promise<Float32Array> {
    // At once: the chunk before is still being scored.
    if (start === this.failAt) throw new Error(`disk error at row ${start}`);
    return this.inner.readRange(start, end);
  }
  gather(rows: Int32Array): Promise<Float32Array> {
    return this.inner.gather(rows);
  }
}

describe('scoreRows in Node', () => {
  beforeAll(activateWasmBackend);

  it('passes on a read that fails while the chunk before is scored, with no unhandled rejection', async () => {
    const rng = new Rng('score-read-ahead');
    const dim = 6;
    const data = Float32Array.from({ length: 23 * dim }, () => rng.normal());
    const params = initMlp(dim, [5], 'pytorch', rng.fork('init'));
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const store = new FailingStore(new InMemoryEmbeddings(data, dim), 10);
      await expect(scoreRows(store, [{ kind: 'mlp', params }], { chunkRows: 10 })).rejects.toThrow('disk error at row 10');
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('unhandledRejection', listener);
    }
    expect(unhandled).toEqual([]);
  });
});
