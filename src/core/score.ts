import * as tf from '@tensorflow/tfjs';
import { throwIfCancelled, yieldToHost } from './cancel.ts';
import type { EmbeddingStore } from './dataset.ts';
import { predictGbdt } from './gbdt.ts';
import type { TrainedModel } from './members.ts';
import { mlpForward } from './mlp.ts';
import type { ModelSpec } from './spec.ts';

/**
 * Scores every row of a split with every ensemble member, chunk by chunk: each chunk of
 * embeddings is read once and fed to all members, and only the scores are kept. The next chunk
 * is read while the current one is scored, so two chunks are in memory at a time.
 */

export const DEFAULT_SCORE_CHUNK_ROWS = 8192;

export async function scoreRows(
  store: EmbeddingStore,
  members: readonly TrainedModel[],
  options: { chunkRows?: number; signal?: AbortSignal; onChunk?: (rowsDone: number, rows: number) => void } = {},
): Promise<Float32Array[]> {
  const chunk = options.chunkRows ?? DEFAULT_SCORE_CHUNK_ROWS;
  const scores = members.map(() => new Float32Array(store.rows));
  // Two buffers in turn: the chunk being scored and the one being read. Refilling them spares a
  // fresh 64 MB allocation per chunk, whose page faults cost more than the copy into it (~35 of
  // ~50 ms per 8,192-row chunk here). Chunk c's buffer is refilled by the read of chunk c + 2,
  // which starts after chunk c's tensor is disposed.
  const buffers: Float32Array[] = [];
  const bufferFor = (c: number) => (buffers[c % 2] ??= new Float32Array(Math.min(chunk, store.rows) * store.dim));
  const read = (start: number) =>
    store.readRange(start, Math.min(store.rows, start + chunk), options.signal, bufferFor(start / chunk));
  let next: Promise<Float32Array> | null = store.rows > 0 ? read(0) : null;
  try {
    for (let start = 0; start < store.rows; start += chunk) {
      throwIfCancelled(options.signal);
      const end = Math.min(store.rows, start + chunk);
      const data = await next!;
      next = null;
      const rows = end - start;
      // One upload per chunk, shared by every MLP member; trees read the floats directly.
      const x = members.some((m) => m.kind === 'mlp') ? tf.tensor2d(data, [rows, store.dim]) : null;
      try {
        const pending: Promise<void>[] = [];
        for (let m = 0; m < members.length; m++) {
          const member = members[m];
          if (member.kind === 'gbdt') {
            predictGbdt(member.model, data, rows, store.dim, scores[m].subarray(start, end));
            continue;
          }
          const y = tf.tidy(() => mlpForward(member.params, x!));
          pending.push(y.data().then((v) => scores[m].set(v as Float32Array, start)).finally(() => y.dispose()));
        }
        // Read the next chunk while this one is scored: a file read overlaps the computation, and
        // on a GPU the copy into the next upload overlaps the forward pass.
        if (end < store.rows) next = read(end);
        await Promise.all(pending);
      } finally {
        x?.dispose();
      }
      options.onChunk?.(end, store.rows);
      await yieldToHost();
    }
  } finally {
    // Abandoned by an error or a cancel: its rejection is not news.
    next?.catch(() => {});
  }
  return scores;
}

/** Combines member scores into the ensemble's reward (method.md §4: mean, min, or first member). */
export function aggregateScores(
  memberScores: readonly Float32Array[],
  aggregation: ModelSpec['ensemble']['aggregation'],
): Float32Array {
  if (memberScores.length === 0) throw new RangeError('no member scores to aggregate');
  if (aggregation === 'first' || memberScores.length === 1) return memberScores[0];
  const n = memberScores[0].length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = aggregation === 'min' ? Infinity : 0;
    for (const s of memberScores) acc = aggregation === 'min' ? Math.min(acc, s[i]) : acc + s[i];
    out[i] = aggregation === 'min' ? acc : acc / memberScores.length;
  }
  return out;
}
