import { checkRange, makeSplit, type Dataset, type EmbeddingStore, type Split } from './dataset.ts';
import { Rng } from './rng.ts';

/**
 * Prompt subsampling: a seeded uniform draw of prompts (without replacement, kept in ascending
 * order) and a view of the split restricted to them. The view reads through to the full
 * split's store, so subsampling a streamed file reads only the chosen prompts' rows.
 */

export interface SubsampleSpec {
  trainPrompts?: number;
  testPrompts?: number;
  seed: number;
}

export interface SubsampleRecord {
  split: 'train' | 'test';
  prompts: number;
  of: number;
  seed: number;
}

export function choosePrompts(total: number, count: number, rng: Rng): Int32Array {
  if (!Number.isInteger(count) || count < 1 || count > total) {
    throw new RangeError(`cannot subsample ${count} prompts from a split of ${total}`);
  }
  return rng.sample(total, count).sort();
}

export function subsampleSplit(split: Split, prompts: Int32Array): Split {
  const k = split.responsesPerPrompt;
  const rewards = new Float32Array(prompts.length * k);
  prompts.forEach((p, i) => rewards.set(split.rewards.subarray(p * k, p * k + k), i * k));
  return makeSplit(rewards, prompts.length, k, new PromptSubsetEmbeddings(split.embeddings, prompts, k), split.rankSorted);
}

/** Applies a spec's subsample to a dataset; returns it unchanged (and no records) when none is asked. */
export function applySubsample(dataset: Dataset, spec: SubsampleSpec): { dataset: Dataset; records: SubsampleRecord[] } {
  const records: SubsampleRecord[] = [];
  const rng = new Rng(`subsample:${spec.seed}`);
  const pick = (split: Split, name: 'train' | 'test', count: number | undefined): Split => {
    if (count === undefined || count === split.prompts) return split;
    if (count > split.prompts) {
      throw new RangeError(`dataset.${name}Prompts is ${count}, but the ${name} split has only ${split.prompts} prompts`);
    }
    records.push({ split: name, prompts: count, of: split.prompts, seed: spec.seed });
    return subsampleSplit(split, choosePrompts(split.prompts, count, rng.fork(name)));
  };
  const train = pick(dataset.train, 'train', spec.trainPrompts);
  const test = pick(dataset.test, 'test', spec.testPrompts);
  return { dataset: records.length ? { info: dataset.info, train, test } : dataset, records };
}

class PromptSubsetEmbeddings implements EmbeddingStore {
  readonly rows: number;
  readonly dim: number;

  constructor(
    private readonly source: EmbeddingStore,
    private readonly prompts: Int32Array,
    private readonly k: number,
  ) {
    this.rows = prompts.length * k;
    this.dim = source.dim;
  }

  private sourceRow(row: number): number {
    return this.prompts[Math.floor(row / this.k)] * this.k + (row % this.k);
  }

  readRange(start: number, end: number, signal?: AbortSignal): Promise<Float32Array> {
    checkRange(start, end, this.rows);
    const rows = new Int32Array(end - start);
    for (let r = start; r < end; r++) rows[r - start] = this.sourceRow(r);
    return this.source.gather(rows, signal);
  }

  gather(rows: Int32Array, signal?: AbortSignal): Promise<Float32Array> {
    const mapped = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      checkRange(rows[i], rows[i] + 1, this.rows);
      mapped[i] = this.sourceRow(rows[i]);
    }
    return this.source.gather(mapped, signal);
  }
}
