import type { SubsampleRecord } from './subsample.ts';

/**
 * The dataset model. Rewards are small (one float per response) and always in memory;
 * embeddings are reached through `EmbeddingStore`, which an in-memory array, a lazily
 * generated demo or a streamed file can back. Nothing above this interface assumes a
 * split fits in memory: callers ask for row ranges or gathered rows.
 *
 * Rows are numbered prompt-major: row = prompt * responsesPerPrompt + response.
 */
export interface EmbeddingStore {
  readonly rows: number;
  readonly dim: number;
  /**
   * Rows [start, end) as one row-major Float32Array of (end - start) * dim values. With `into`
   * (at least that long) a store that would allocate the result may fill `into` instead and
   * return a view of it, sparing a fresh allocation (and its page faults) per read; callers use
   * the returned array either way, and must not reuse `into` while they still need those rows.
   */
  readRange(start: number, end: number, signal?: AbortSignal, into?: Float32Array): Promise<Float32Array>;
  /** The given rows, in the given order, row-major. */
  gather(rows: Int32Array, signal?: AbortSignal): Promise<Float32Array>;
  /**
   * Present when the store holds its rows in another order than prompt-major ((K, N, D) files).
   * A prompt-major range then takes K scattered reads; readers that visit every row in whatever
   * order (scoring) read contiguous stretches of storage through this instead.
   */
  readonly storageOrder?: StorageOrder;
}

export interface StorageOrder {
  /** The prompt-major row held at storage position `position`. */
  rowAt(position: number): number;
  /** The rows at storage positions [start, end), as readRange gives rows [start, end). */
  readRange(start: number, end: number, signal?: AbortSignal, into?: Float32Array): Promise<Float32Array>;
}

export interface Split {
  readonly prompts: number;
  readonly responsesPerPrompt: number;
  /** Golden rewards, prompts × responsesPerPrompt, prompt-major. */
  readonly rewards: Float32Array;
  readonly embeddings: EmbeddingStore;
  /** True when each prompt's responses are sorted by golden reward, ascending. */
  readonly rankSorted: boolean;
}

export type Task = 'helpful' | 'harmless' | 'demo' | 'unknown';

export interface DatasetInfo {
  /** Short identifier recorded in results, e.g. "demo(seed=0)" or a file stem. */
  readonly id: string;
  readonly description: string;
  readonly task: Task;
  readonly synthetic: boolean;
  /** The per-task constant reward scale s (method.md §2), when the task defines one. */
  readonly taskScale: number | null;
  readonly generator?: string;
  readonly embedder?: string;
  readonly goldenRewardModel?: string;
  /** Prompts were subsampled before the data reached Reward Lab (e.g. by `reward-lab pack`). */
  subsample?: SubsampleRecord[];
}

export interface Dataset {
  readonly info: DatasetInfo;
  readonly train: Split;
  readonly test: Split;
}

/** Per-task constant reward scales from the paper: helpful 6, harmless 1. */
export const TASK_SCALES: Readonly<Record<Task, number | null>> = {
  helpful: 6,
  harmless: 1,
  demo: 1,
  unknown: null,
};

/** The array a read of `length` values fills: the front of `into` when it is long enough, else a new one. */
export function resultArray(length: number, into: Float32Array | undefined): Float32Array {
  return into !== undefined && into.length >= length ? into.subarray(0, length) : new Float32Array(length);
}

/** An EmbeddingStore over one row-major Float32Array. */
export class InMemoryEmbeddings implements EmbeddingStore {
  readonly rows: number;

  constructor(
    private readonly data: Float32Array,
    readonly dim: number,
  ) {
    if (dim <= 0 || data.length % dim !== 0) {
      throw new RangeError(`embedding array of length ${data.length} is not a whole number of ${dim}-d rows`);
    }
    this.rows = data.length / dim;
  }

  async readRange(start: number, end: number): Promise<Float32Array> {
    checkRange(start, end, this.rows);
    return this.data.subarray(start * this.dim, end * this.dim);
  }

  async gather(rows: Int32Array): Promise<Float32Array> {
    const d = this.dim;
    const out = new Float32Array(rows.length * d);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      checkRange(r, r + 1, this.rows);
      out.set(this.data.subarray(r * d, r * d + d), i * d);
    }
    return out;
  }
}

export function checkRange(start: number, end: number, rows: number): void {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= start && end <= rows)) {
    throw new RangeError(`row range [${start}, ${end}) is outside 0..${rows}`);
  }
}

export function makeSplit(
  rewards: Float32Array,
  prompts: number,
  responsesPerPrompt: number,
  embeddings: EmbeddingStore,
  rankSorted?: boolean,
): Split {
  if (rewards.length !== prompts * responsesPerPrompt) {
    throw new RangeError(
      `rewards hold ${rewards.length} values, expected ${prompts} prompts × ${responsesPerPrompt} responses`,
    );
  }
  if (embeddings.rows !== rewards.length) {
    throw new RangeError(`embeddings hold ${embeddings.rows} rows but rewards ${rewards.length}`);
  }
  return {
    prompts,
    responsesPerPrompt,
    rewards,
    embeddings,
    rankSorted: rankSorted ?? isRankSorted(rewards, prompts, responsesPerPrompt),
  };
}

/** True when every prompt's rewards are non-decreasing in response index. */
export function isRankSorted(rewards: Float32Array, prompts: number, k: number): boolean {
  for (let p = 0; p < prompts; p++) {
    for (let j = 1; j < k; j++) {
      if (rewards[p * k + j] < rewards[p * k + j - 1]) return false;
    }
  }
  return true;
}

/** Summary statistics shown beside a dataset and recorded in results. */
export interface SplitSummary {
  prompts: number;
  responsesPerPrompt: number;
  dim: number;
  rankSorted: boolean;
  rewardMean: number;
  rewardStd: number;
  rewardMin: number;
  rewardMax: number;
  /** Mean over prompts of the within-prompt reward variance. */
  withinPromptVariance: number;
  /** Variance of the prompt means. */
  betweenPromptVariance: number;
}

export function summarizeSplit(split: Split): SplitSummary {
  const { rewards, prompts, responsesPerPrompt: k } = split;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const r of rewards) {
    sum += r;
    if (r < min) min = r;
    if (r > max) max = r;
  }
  const mean = sum / rewards.length;
  let total = 0;
  let within = 0;
  let between = 0;
  for (let p = 0; p < prompts; p++) {
    let pm = 0;
    for (let j = 0; j < k; j++) pm += rewards[p * k + j];
    pm /= k;
    let v = 0;
    for (let j = 0; j < k; j++) {
      const x = rewards[p * k + j];
      v += (x - pm) ** 2;
      total += (x - mean) ** 2;
    }
    within += v / k;
    between += (pm - mean) ** 2;
  }
  return {
    prompts,
    responsesPerPrompt: k,
    dim: split.embeddings.dim,
    rankSorted: split.rankSorted,
    rewardMean: mean,
    rewardStd: Math.sqrt(total / rewards.length),
    rewardMin: min,
    rewardMax: max,
    withinPromptVariance: within / prompts,
    betweenPromptVariance: between / prompts,
  };
}
