/**
 * Plain rows for the charts. Every chart is a function of these, so what a chart shows can be
 * tested without rendering it.
 */
import type { EpochRecord } from '../../core/train.ts';
import type { Histogram, LabelNoisePoint } from '../../worker/protocol.ts';

/** Okabe–Ito based: distinguishable with the common colour-vision deficiencies. */
const PALETTE = ['#0b6bcb', '#d55e00', '#009e73', '#cc79a7', '#b58900', '#56b4e9', '#4d4d4d', '#8c564b'] as const;
export const colorAt = (i: number): string => PALETTE[i % PALETTE.length];
export const ORACLE_COLOR = '#2e7d32';
export const RANDOM_COLOR = '#7a8599';

export interface BonData {
  n: number[];
  mean: number[];
  /** Half-width of the band drawn around the mean. */
  std: number[];
  oracle: number[];
  random: number[];
}

export interface BonSeries {
  label: string;
  color: string;
  bon: BonData;
}

export type BonRow = { n: number } & { [key: string]: number | [number, number] | undefined };

export const bonMeanKey = (i: number) => `mean${i}`;
export const bonBandKey = (i: number) => `band${i}`;

/**
 * One row per N across all series: each series' mean and its ± std band, plus the oracle and
 * random-pick references when given. A series without a value at some N leaves a gap.
 */
export function bonRows(series: readonly BonSeries[], references: BonData | null): BonRow[] {
  const ns = new Set<number>();
  for (const s of series) s.bon.n.forEach((n) => ns.add(n));
  references?.n.forEach((n) => ns.add(n));
  return [...ns]
    .sort((a, b) => a - b)
    .map((n) => {
      const row: BonRow = { n };
      series.forEach((s, i) => {
        const j = s.bon.n.indexOf(n);
        if (j < 0) return;
        row[bonMeanKey(i)] = s.bon.mean[j];
        row[bonBandKey(i)] = [s.bon.mean[j] - s.bon.std[j], s.bon.mean[j] + s.bon.std[j]];
      });
      if (references) {
        const j = references.n.indexOf(n);
        if (j >= 0) {
          row.oracle = references.oracle[j];
          row.random = references.random[j];
        }
      }
      return row;
    });
}

export interface HistogramRow {
  /** Bin centre. */
  x: number;
  lo: number;
  hi: number;
  count: number;
  /** Fraction of all counted values. */
  share: number;
}

export function histogramRows(h: Histogram): HistogramRow[] {
  const total = h.counts.reduce((a, b) => a + b, 0) || 1;
  return h.counts.map((count, i) => ({ x: (h.edges[i] + h.edges[i + 1]) / 2, lo: h.edges[i], hi: h.edges[i + 1], count, share: count / total }));
}

export interface RewardRow {
  x: number;
  train: number;
  test: number;
}

/** Train and test reward histograms on their shared bins, as shares so splits of different size overlay. */
export function rewardRows(train: Histogram, test: Histogram): RewardRow[] {
  const a = histogramRows(train);
  const b = histogramRows(test);
  return a.map((row, i) => ({ x: row.x, train: row.share, test: b[i]?.share ?? 0 }));
}

export interface CurveSeries {
  label: string;
  color: string;
  points: readonly EpochRecord[];
}

export type CurveRow = { epoch: number } & { [key: string]: number | undefined };

export const trainLossKey = (i: number) => `trainLoss${i}`;
export const valLossKey = (i: number) => `valLoss${i}`;
export const valAccKey = (i: number) => `valAcc${i}`;

export function curveRows(series: readonly CurveSeries[]): CurveRow[] {
  const epochs = new Set<number>();
  for (const s of series) s.points.forEach((p) => epochs.add(p.epoch));
  return [...epochs]
    .sort((a, b) => a - b)
    .map((epoch) => {
      const row: CurveRow = { epoch };
      series.forEach((s, i) => {
        const p = s.points.find((q) => q.epoch === epoch);
        if (!p) return;
        row[trainLossKey(i)] = p.trainLoss;
        row[valLossKey(i)] = p.valLoss;
        row[valAccKey(i)] = p.valAccuracy;
      });
      return row;
    });
}

export interface NoiseRow {
  beta: number;
  error: number;
}

export function noiseRows(points: readonly LabelNoisePoint[]): NoiseRow[] {
  const byBeta = new Map<number, number>();
  for (const p of points) if (p.beta > 0) byBeta.set(p.beta, p.errorRate);
  return [...byBeta].sort((a, b) => a[0] - b[0]).map(([beta, error]) => ({ beta, error }));
}

/** Powers of ten and their 2×, 5× inside [lo, hi]: readable ticks for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

/**
 * A "nice" axis covering [lo, hi]: ticks at steps of 1, 2, 2.5 or 5 × 10^k, at most `maxTicks`
 * of them, choosing the step that wastes the least room around the data (ties: fewer ticks).
 */
export function niceAxis(lo: number, hi: number, maxTicks = 9): { domain: [number, number]; ticks: number[] } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { domain: [0, 1], ticks: [0, 0.5, 1] };
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 1e-12 ? Math.abs(lo) * 0.05 : 0.5;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const magnitude = 10 ** Math.floor(Math.log10(hi - lo));
  let best: { start: number; step: number; count: number; coverage: number } | null = null;
  for (const scale of [magnitude / 100, magnitude / 10, magnitude]) {
    for (const m of [1, 2, 2.5, 5]) {
      const step = m * scale;
      const start = Math.floor(lo / step + 1e-9) * step;
      const end = Math.ceil(hi / step - 1e-9) * step;
      const count = Math.round((end - start) / step) + 1;
      if (count > maxTicks || count < 4) continue;
      const coverage = (hi - lo) / (end - start);
      if (!best || coverage > best.coverage + 1e-9 || (Math.abs(coverage - best.coverage) <= 1e-9 && count < best.count)) {
        best = { start, step, count, coverage };
      }
    }
  }
  const { start, step, count } = best ?? { start: lo, step: hi - lo, count: 2 };
  const ticks = Array.from({ length: count }, (_, i) => Number((start + i * step).toPrecision(12)));
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks };
}

/** Smallest and largest finite number among the given values (ranges count by both ends). */
export function extent(values: Iterable<number | [number, number] | undefined>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x === undefined || !Number.isFinite(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  return [lo, hi];
}
