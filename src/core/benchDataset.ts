import { resultArray, TASK_SCALES, type Dataset, type EmbeddingStore, type Split } from './dataset.ts';
import { Rng } from './rng.ts';

/**
 * A synthetic dataset of the published size for the end-to-end benchmark (`bench --e2e`):
 * 10,000 train prompts × 10 responses and 2,000 test prompts × 500 responses, D = 2048, so a run
 * reads, uploads and scores 1,000,000 test rows like the paper's default experiment. Holding
 * 8 GB of random floats is pointless for timing, so each row's embedding is one of `POOL_ROWS`
 * random vectors (picked by a hash of the row), copied out on every read as a file read would be.
 * Rewards are a fixed linear function of the embedding plus per-row noise, so the labels carry a
 * learnable signal and training behaves like training, early stopping included.
 */

const POOL_ROWS = 4096;

export interface PaperSizeOptions {
  dim?: number;
  trainPrompts?: number;
  testPrompts?: number;
}

export function paperSizeDataset(options: PaperSizeOptions = {}): Dataset {
  const dim = options.dim ?? 2048;
  const rng = new Rng('bench-e2e');
  const pool = new Float32Array(POOL_ROWS * dim);
  for (let i = 0; i < pool.length; i++) pool[i] = rng.normal();
  const direction = Float32Array.from({ length: dim }, () => rng.normal() / Math.sqrt(dim));
  const poolReward = new Float32Array(POOL_ROWS);
  for (let p = 0; p < POOL_ROWS; p++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += pool[p * dim + d] * direction[d];
    poolReward[p] = s;
  }
  const split = (label: string, prompts: number, perPrompt: number): Split => {
    const store = new PooledEmbeddings(pool, dim, prompts * perPrompt);
    const noise = rng.fork(label);
    const rewards = new Float32Array(prompts * perPrompt);
    for (let r = 0; r < rewards.length; r++) rewards[r] = poolReward[store.poolRow(r)] + 0.3 * noise.normal();
    return { prompts, responsesPerPrompt: perPrompt, rewards, embeddings: store, rankSorted: false };
  };
  return {
    info: {
      id: 'paper-size-synthetic',
      description: 'synthetic data of the published size (benchmark only)',
      // Scale 1, like the demo: the rewards are unit-scale by construction.
      task: 'demo',
      synthetic: true,
      taskScale: TASK_SCALES.demo,
    },
    train: split('train', options.trainPrompts ?? 10_000, 10),
    test: split('test', options.testPrompts ?? 2_000, 500),
  };
}

class PooledEmbeddings implements EmbeddingStore {
  constructor(
    private readonly pool: Float32Array,
    readonly dim: number,
    readonly rows: number,
  ) {}

  /** Knuth's multiplicative hash: neighbouring rows get unrelated pool rows. */
  poolRow(row: number): number {
    return (Math.imul(row, 2654435761) >>> 20) & (POOL_ROWS - 1);
  }

  async readRange(start: number, end: number, _signal?: AbortSignal, into?: Float32Array): Promise<Float32Array> {
    if (start < 0 || end > this.rows || start > end) throw new RangeError(`rows [${start}, ${end}) outside 0…${this.rows}`);
    const out = resultArray((end - start) * this.dim, into);
    for (let r = start; r < end; r++) out.set(this.pool.subarray(this.poolRow(r) * this.dim, (this.poolRow(r) + 1) * this.dim), (r - start) * this.dim);
    return out;
  }

  async gather(rows: Int32Array): Promise<Float32Array> {
    const out = new Float32Array(rows.length * this.dim);
    rows.forEach((r, i) => out.set(this.pool.subarray(this.poolRow(r) * this.dim, (this.poolRow(r) + 1) * this.dim), i * this.dim));
    return out;
  }
}
