import type { NpyLayoutChoice } from '../core/npyDataset.ts';
import { UsageError } from './backend.ts';
import { LAYOUT_OPTION_FORMS, parseLayoutOption } from './npyDataset.ts';

/** Command-line flags several commands take, checked with a message that names the flag. */

/** `--layout`, or a UsageError listing the forms it may take; undefined when not given. */
export function layoutFlag(text: string | undefined): NpyLayoutChoice | undefined {
  if (text === undefined) return undefined;
  const layout = parseLayoutOption(text);
  if (layout === null) throw new UsageError(`--layout must be ${LAYOUT_OPTION_FORMS}, got "${text}"`);
  return layout;
}

/** "1GiB", "512MiB", "64MB", "1e9" → bytes; undefined when not given. */
export function byteSizeFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*([\d.]+(?:e\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(text);
  const units: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1 << 20, gb: 1e9, gib: 1 << 30 };
  const bytes = m ? Number(m[1]) * units[(m[2] ?? 'b').toLowerCase()] : NaN;
  if (!Number.isFinite(bytes) || bytes < 1) throw new UsageError(`${flag} must be a size like 1GiB, 512MiB or 100000000, got "${text}"`);
  return Math.floor(bytes);
}
