/**
 * Bytes per read of embeddings when the selection does not say. A `Blob.slice` read has a
 * fixed cost, so bigger reads stream faster (measured in headless Chromium on a 645 MB file:
 * 4 MiB reads 190 MB/s, 64 MiB reads 320 MB/s; environment.md: 64 MiB ≈ 870 MB/s on an
 * idle machine). Each read is a transient buffer of this size, so the page derives it from the
 * memory cap (see `readChunkBytes`).
 */
export const READ_CHUNK_BYTES = 64 << 20;

/** The read size for a memory cap: a sixteenth of it, between 1 and 64 MiB. */
export function readChunkBytes(memoryCapBytes: number): number {
  return Math.max(1 << 20, Math.min(READ_CHUNK_BYTES, Math.floor(memoryCapBytes / 16)));
}
