import type { EmbeddingStore, StorageOrder } from './dataset.ts';

/**
 * A train split's store that remembers its last gather: asked for rows it holds (in any order),
 * it copies them from memory instead of reading the split again. The experiments of a batch that
 * annotate the same pairs (the same seed, budget and pairing; another β, objective or model)
 * gather the same rows, and on picked files a gather costs seconds.
 *
 * It keeps a reference to what it returned: gathered rows are read, never written, by their
 * users (training uploads them). It keeps nothing over `maxBytes`.
 */
export class RepeatGatherStore implements EmbeddingStore {
  readonly rows: number;
  readonly dim: number;
  readonly storageOrder?: StorageOrder;
  private last: { data: Float32Array; position: Map<number, number> } | null = null;

  constructor(
    private readonly inner: EmbeddingStore,
    private readonly maxBytes: number,
  ) {
    this.rows = inner.rows;
    this.dim = inner.dim;
    if (inner.storageOrder) this.storageOrder = inner.storageOrder;
  }

  readRange(start: number, end: number, signal?: AbortSignal, into?: Float32Array): Promise<Float32Array> {
    return this.inner.readRange(start, end, signal, into);
  }

  async gather(rows: Int32Array, signal?: AbortSignal): Promise<Float32Array> {
    const held = this.last;
    if (held && rows.every((r) => held.position.has(r))) {
      const d = this.dim;
      const out = new Float32Array(rows.length * d);
      rows.forEach((r, i) => {
        const at = held.position.get(r)! * d;
        out.set(held.data.subarray(at, at + d), i * d);
      });
      return out;
    }
    const data = await this.inner.gather(rows, signal);
    this.last = null;
    if (data.byteLength <= this.maxBytes) {
      const position = new Map<number, number>();
      rows.forEach((r, i) => position.has(r) || position.set(r, i));
      this.last = { data, position };
    }
    return data;
  }

  /** Lets the held rows go (before a scoring pass needs the memory). */
  forget(): void {
    this.last = null;
  }
}
