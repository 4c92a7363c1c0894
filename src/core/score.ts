import * as tf from '@tensorflow/tfjs';
import { throwIfCancelled, yieldToHost } from './cancel.ts';
import type { EmbeddingStore } from './dataset.ts';
import { activeFastOps, type ChunkUploads } from './fastOps.ts';
import { predictGbdt } from './gbdt.ts';
import type { TrainedModel } from './members.ts';
import { mlpForward } from './mlp.ts';
import type { ModelSpec } from './spec.ts';

/**
 * Scores every row of a split with every ensemble member, chunk by chunk: each chunk of
 * embeddings is read once and fed to all members, and only the scores are kept. The next chunk
 * is read while the current one is scored, so two chunks are in memory at a time: on the host,
 * or on a GPU whose fast ops offer upload memory (src/kernels/webgpu/upload.ts), in that memory.
 */

export const DEFAULT_SCORE_CHUNK_ROWS = 8192;

export async function scoreRows(
  store: EmbeddingStore,
  members: readonly TrainedModel[],
  options: { chunkRows?: number; signal?: AbortSignal; onChunk?: (rowsDone: number, rows: number) => void } = {},
): Promise<Float32Array[]> {
  const chunk = options.chunkRows ?? DEFAULT_SCORE_CHUNK_ROWS;
  const scores = members.map(() => new Float32Array(store.rows));
  if (store.rows === 0) return scores;
  const dim = store.dim;
  const hasMlp = members.some((m) => m.kind === 'mlp');
  const floats = Math.min(chunk, store.rows) * dim;
  // Trees read the floats on the host after the upload, so only all-MLP ensembles may read into
  // a GPU's upload memory, which the upload takes away.
  const uploads = (!members.some((m) => m.kind === 'gbdt') && activeFastOps()?.chunkUploads?.(floats)) || hostChunkUploads(floats);
  // Every row is scored on its own, so chunks may follow the order the store holds them in:
  // contiguous reads of a (K, N, D) file instead of K pieces per chunk. Scores go back to
  // prompt-major order as they come.
  const order = store.storageOrder;
  const source = order ?? store;
  const place = order
    ? (target: Float32Array, values: Float32Array, start: number) => {
        for (let i = 0; i < values.length; i++) target[order.rowAt(start + i)] = values[i];
      }
    : (target: Float32Array, values: Float32Array, start: number) => target.set(values, start);
  const read = (index: number) => {
    const start = index * chunk;
    const end = Math.min(store.rows, start + chunk);
    const rows = uploads.memory(index, (end - start) * dim).then((into) => source.readRange(start, end, options.signal, into));
    // A read may fail while the chunk before it is still being scored, before anyone awaits it:
    // mark it handled so that is not an unhandled rejection (which ends a Node process); the
    // loop still gets the error when it awaits the read.
    rows.catch(() => {});
    return rows;
  };
  let next: Promise<Float32Array> | null = read(0);
  try {
    for (let index = 0, start = 0; start < store.rows; index++, start += chunk) {
      throwIfCancelled(options.signal);
      const end = Math.min(store.rows, start + chunk);
      const data = await next!;
      next = null;
      const rows = end - start;
      // One upload per chunk, shared by every MLP member.
      const x = hasMlp ? uploads.toTensor(index, data, rows, dim) : null;
      try {
        const pending: Promise<void>[] = [];
        for (let m = 0; m < members.length; m++) {
          const member = members[m];
          if (member.kind === 'gbdt') {
            place(scores[m], predictGbdt(member.model, data, rows, dim), start);
            continue;
          }
          const y = tf.tidy(() => mlpForward(member.params, x!));
          pending.push(y.data().then((v) => place(scores[m], v as Float32Array, start)).finally(() => y.dispose()));
        }
        // Read the next chunk while this one is scored: a file read overlaps the computation, and
        // on a GPU the copy into the next upload overlaps the forward pass.
        if (end < store.rows) next = read(index + 1);
        await Promise.all(pending);
      } finally {
        x?.dispose();
      }
      options.onChunk?.(end, store.rows);
      await yieldToHost();
    }
  } finally {
    // Abandoned by an error or a cancel: its memory is freed only once it has settled.
    await next?.catch(() => {});
    uploads.dispose();
  }
  return scores;
}

/**
 * Two host buffers in turn. Refilling them spares a fresh 64 MB allocation per chunk, whose page
 * faults cost more than the copy into it (~35 of ~50 ms per 8,192-row chunk here).
 */
function hostChunkUploads(floats: number): ChunkUploads {
  const buffers: Float32Array[] = [];
  return {
    memory: async (index, length) => (buffers[index % 2] ??= new Float32Array(floats)).subarray(0, length),
    toTensor: (_index, data, rows, dim) => tf.tensor2d(data, [rows, dim]),
    dispose: () => {},
  };
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
