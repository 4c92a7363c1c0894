import type { IoStats } from '../worker/protocol.ts';
import { duration, int } from './format.ts';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Bytes in binary units: "512 B", "4.0 KiB", "1.25 GiB". */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  let u = 0;
  let v = n;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${UNITS[u]}`;
}

/** The parts of one line about reads: amount, rate, rows/s and time left, each when known. */
export function ioParts(io: IoStats): string[] {
  const parts = [io.bytesTotal === null ? `${bytes(io.bytesRead)} read` : `${bytes(io.bytesRead)} of ${bytes(io.bytesTotal)} read`];
  if (io.bytesPerSecond !== null) parts.push(`${bytes(io.bytesPerSecond)}/s`);
  if (io.rowsPerSecond !== null) parts.push(`${int(io.rowsPerSecond)} rows/s`);
  if (io.etaSeconds !== null) parts.push(`about ${duration(io.etaSeconds * 1000)} left`);
  return parts;
}
