/**
 * The comparison table: one definition of each metric, shared by the on-page table (runs side
 * by side) and the CSV export (one tidy row per run).
 */
import type { MeanStd } from '../core/metrics.ts';
import type { Cell } from './export/csv.ts';
import { duration, num, pct, signed, time } from './format.ts';
import type { RunSummary } from './runSummary.ts';
import { flattenSpec, type Leaf } from './specUrl.ts';

export interface MetricRow {
  key: string;
  label: string;
  /** What the number means, for the table's row header tooltip. */
  help: string;
  value: (run: RunSummary) => MeanStd | number | string;
  render: (x: number) => string;
  /** Which way is better, to mark the best run; null when neither is. */
  better: 'higher' | 'lower' | null;
}

export const METRIC_ROWS: readonly MetricRow[] = [
  { key: 'improvement', label: 'BoN-L improvement', help: 'golden reward of the pick among all L test responses minus the mean of all L', value: (r) => r.metrics.improvement, render: (x) => signed(x), better: 'higher' },
  { key: 'spearman', label: 'Spearman (mean)', help: 'per-prompt rank correlation of scores with golden rewards, mean over prompts', value: (r) => r.metrics.spearman, render: (x) => num(x), better: 'higher' },
  { key: 'heldOutGoldenAccuracy', label: 'Held-out accuracy (golden)', help: 'agreement with the golden order on held-out test pairs', value: (r) => r.metrics.heldOutGoldenAccuracy, render: (x) => pct(x), better: 'higher' },
  { key: 'heldOutAccuracy', label: 'Held-out accuracy (labels)', help: "agreement with the simulated annotator's labels on the same pairs", value: (r) => r.metrics.heldOutAccuracy, render: (x) => pct(x), better: 'higher' },
  { key: 'topHalfRate', label: 'Pick in top half', help: 'share of prompts whose pick is above the median response', value: (r) => r.metrics.topHalfRate, render: (x) => pct(x), better: 'higher' },
  { key: 'pickQuantile', label: 'Pick quantile', help: "mean share of a prompt's responses at or below the pick", value: (r) => r.metrics.pickQuantile, render: (x) => num(x), better: 'higher' },
  { key: 'labelErrorRate', label: 'Label-error rate', help: 'share of training labels that contradict the golden order', value: (r) => r.metrics.labelErrorRate, render: (x) => pct(x), better: null },
  { key: 'baseReward', label: 'Base reward', help: 'mean golden reward of all test responses', value: (r) => r.metrics.baseReward, render: (x) => num(x), better: null },
  { key: 'totalMs', label: 'Wall time', help: 'the whole run, all seeds', value: (r) => r.timings.totalMs, render: duration, better: null },
];

export function asMeanStd(v: MeanStd | number | string): MeanStd | null {
  if (typeof v === 'string') return null;
  return typeof v === 'number' ? { mean: v, std: 0 } : v;
}

/** Spec fields (dotted paths) whose values are not the same in every run. */
export function differingFields(runs: readonly RunSummary[]): string[] {
  if (runs.length < 2) return [];
  const flat = runs.map((r) => flattenSpec(r.spec));
  const paths = new Set(flat.flatMap((f) => [...f.keys()]));
  return [...paths].filter((p) => flat.some((f) => leafText(f.get(p)) !== leafText(flat[0].get(p)))).sort();
}

function leafText(value: Leaf | undefined): string {
  if (value === undefined) return '—';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

export function specValue(run: RunSummary, path: string): string {
  return leafText(flattenSpec(run.spec).get(path));
}

/** One row per run: identity, the fields that differ, then every metric as mean and std. */
export function comparisonCsvRows(runs: readonly RunSummary[]): Cell[][] {
  const fields = differingFields(runs);
  const header: Cell[] = ['run_id', 'label', 'started_at', 'backend', 'seeds', ...fields];
  for (const m of METRIC_ROWS) header.push(`${m.key}_mean`, `${m.key}_std`);
  header.push('deviations');
  const rows = runs.map((r) => {
    const row: Cell[] = [r.id, r.label, r.createdAt, [r.backend.name, r.backend.adapter].filter(Boolean).join(' '), r.spec.seeds.join(' '), ...fields.map((f) => specValue(r, f))];
    for (const m of METRIC_ROWS) {
      const v = asMeanStd(m.value(r));
      row.push(v?.mean ?? null, v?.std ?? null);
    }
    row.push(r.deviations.join('; '));
    return row;
  });
  return [header, ...rows];
}

/** Index of the best run for a metric, or -1 when there is no order or no clear winner. */
export function bestIndex(runs: readonly RunSummary[], metric: MetricRow): number {
  if (metric.better === null || runs.length < 2) return -1;
  const values = runs.map((r) => asMeanStd(metric.value(r))?.mean ?? NaN);
  let best = -1;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    if (best < 0 || (metric.better === 'higher' ? v > values[best] : v < values[best])) best = i;
  });
  return values.filter((v) => v === values[best]).length === 1 ? best : -1;
}

/** Names that tell runs apart in a legend even when their labels coincide. */
export function distinctLabels(runs: readonly RunSummary[]): string[] {
  return runs.map((r) => (runs.filter((o) => o.label === r.label).length > 1 ? `${r.label} (${time(r.createdAt)})` : r.label));
}

/** Oracle and random-pick curves are shared only when the runs evaluated the same test picks. */
export function sameTestSet(runs: readonly RunSummary[]): boolean {
  const key = (r: RunSummary) => JSON.stringify([r.spec.dataset, r.spec.evaluation, r.spec.seeds]);
  return runs.every((r) => key(r) === key(runs[0]));
}
