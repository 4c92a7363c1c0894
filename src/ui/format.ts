import type { MeanStd } from '../core/metrics.ts';

const DASH = '—';

export function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : x.toFixed(digits);
}

export function signed(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : `${(x * 100).toFixed(digits)}%`;
}

export function int(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : DASH;
}

/** "mean ± std" over seeds; a single seed has no spread to show, so only its value. */
export function meanStd(ms: MeanStd, seeds: number, render: (x: number) => string = (x) => num(x)): string {
  return seeds > 1 ? `${render(ms.mean)} ± ${render(ms.std)}` : render(ms.mean);
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
}

/** Compact number for axis ticks. */
export function tick(x: number): string {
  if (!Number.isFinite(x)) return '';
  const a = Math.abs(x);
  if (a >= 1000) return `${(x / 1000).toFixed(a >= 10_000 ? 0 : 1)}k`;
  if (a >= 10 || Number.isInteger(x)) return String(Math.round(x * 10) / 10);
  return String(Number(x.toPrecision(2)));
}

/** When a run started: the time alone for today's runs, date and time otherwise. */
export function time(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  return d.toDateString() === now.toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}
