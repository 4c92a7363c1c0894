/**
 * Plain functions behind the sweep views: the editor's grid as a SweepSpec (with every problem
 * its cells would have), the progress counts and ETA, and the rows of the results table and chart.
 */
import { meanStd } from '../../core/metrics.ts';
import type { Progress } from '../../core/progress.ts';
import type { ExperimentSpec, SpecIssue } from '../../core/spec.ts';
import { SpecError } from '../../core/spec.ts';
import {
  canonicalJson,
  expandSweep,
  shortHash,
  sweepSeries,
  sweepTable,
  type AxisValue,
  type CellResult,
  type SweepCell,
  type SweepMetric,
  type SweepRow,
  type SweepSpec,
} from '../../core/sweep.ts';
import type { Cell } from '../export/csv.ts';
import { crossFieldIssues, type LoadedFilesShape } from '../specEdit.ts';
import { axisDef, axisLabel, comboLabel, valueLabel } from './axes.ts';

export interface AxisDraft {
  path: string;
  values: AxisValue[];
}

export interface SweepDraft {
  name: string;
  axes: AxisDraft[];
  seeds: number[];
}

export type GridCheck =
  | { ok: true; spec: SweepSpec; id: string; cells: SweepCell[]; issues: SpecIssue[] }
  | { ok: false; spec: SweepSpec | null; cellCount: number; issues: SpecIssue[] };

/** The id a sweep is stored under: equal grids share it, so starting one again resumes it. */
export const sweepId = (spec: SweepSpec): string => shortHash(canonicalJson(spec));

/** The base a sweep varies: the spec in the form, its seeds replaced by the sweep's. */
export function sweepFromDraft(draft: SweepDraft, base: ExperimentSpec): SweepSpec {
  const rest: Partial<ExperimentSpec> = { ...base };
  delete rest.seeds;
  return { name: draft.name.trim() || 'sweep', base: rest, axes: Object.fromEntries(draft.axes.map((a) => [a.path, a.values])), seeds: draft.seeds };
}

/** Expands a grid and checks every cell as the Run button checks one spec; issues say which cell. */
export function checkGrid(spec: SweepSpec, files: LoadedFilesShape | null = null, maxCells = 2000): GridCheck {
  const count = Object.values(spec.axes).reduce((n, values) => n * values.length, 1) * spec.seeds.length;
  const issues: SpecIssue[] = [];
  const paths = Object.keys(spec.axes);
  if (new Set(paths).size !== paths.length) issues.push({ path: 'axes', message: 'an axis is listed twice' });
  for (const [path, values] of Object.entries(spec.axes)) if (values.length === 0) issues.push({ path, message: `${axisLabel(path)}: pick at least one value` });
  if (spec.seeds.length === 0) issues.push({ path: 'seeds', message: 'give at least one seed' });
  if (count > maxCells) issues.push({ path: 'axes', message: `${count.toLocaleString('en-US')} cells: the app runs at most ${maxCells.toLocaleString('en-US')} (use the CLI's sharded sweep for more)` });
  if (issues.length) return { ok: false, spec, cellCount: count, issues };
  let cells: SweepCell[];
  try {
    cells = expandSweep(spec);
  } catch (error) {
    if (error instanceof SpecError) return { ok: false, spec, cellCount: count, issues: error.issues };
    throw error;
  }
  const seen = new Set<string>();
  for (const cell of cells) {
    for (const issue of crossFieldIssues(cell.spec, files)) {
      const where = Object.entries(cell.axes).map(([k, v]) => `${axisLabel(k)} ${valueLabel(k, v)}`).join(', ');
      const message = `${issue.message}${where ? ` (cell ${where})` : ''}`;
      if (!seen.has(message)) issues.push({ path: issue.path, message });
      seen.add(message);
    }
  }
  return issues.length ? { ok: false, spec, cellCount: count, issues } : { ok: true, spec, id: sweepId(spec), cells, issues };
}

export interface SweepCounts {
  total: number;
  done: number;
  running: number;
  queued: number;
}

export function sweepCounts(cells: readonly SweepCell[], done: ReadonlySet<string>, runningKeys: readonly string[]): SweepCounts {
  const finished = cells.filter((c) => done.has(c.key)).length;
  const running = runningKeys.filter((k) => !done.has(k)).length;
  return { total: cells.length, done: finished, running, queued: cells.length - finished - running };
}

/**
 * Seconds left, from the mean time of the finished cells: the queued cells at that mean plus
 * what the running ones (one batch, started `runningElapsedMs` ago) have left of it. Before a
 * cell has finished, from the running batch's own estimate (`runningEtaSeconds`, the engine's):
 * its time shared by its cells, for the queued ones. null while there is neither.
 */
export function sweepEta(finishedMs: readonly number[], counts: SweepCounts, runningElapsedMs: number | null, runningEtaSeconds: number | null = null): number | null {
  if (finishedMs.length === 0) {
    if (runningElapsedMs === null || runningEtaSeconds === null || counts.running === 0) return null;
    const perCellMs = (runningElapsedMs + runningEtaSeconds * 1000) / counts.running;
    return runningEtaSeconds + (counts.queued * perCellMs) / 1000;
  }
  const mean = finishedMs.reduce((a, b) => a + b, 0) / finishedMs.length;
  const running = runningElapsedMs !== null ? Math.max(0, counts.running * mean - runningElapsedMs) : counts.running * mean;
  return (counts.queued * mean + running) / 1000;
}

const STAGE_WORDS: Record<Progress['stage'], string> = { annotate: 'annotating', load: 'loading', train: 'training', score: 'scoring', evaluate: 'evaluating', done: 'done' };

/**
 * What the engine works on, for the progress line: the cell being annotated, trained or
 * evaluated, or the cells a shared scoring pass covers. `keys` are the running batch's cells in
 * the order the engine got them, which is what the progress's experimentIndex counts.
 */
export function runningDescription(cells: readonly SweepCell[], keys: readonly string[], progress: Progress | null): string {
  const byKey = new Map(cells.map((c) => [c.key, c]));
  const batch = keys.map((k) => byKey.get(k)!);
  const cellsNamed = (from: number, count: number) => {
    const picked = batch.slice(from, from + count);
    if (picked.length === 1) return `Cell ${picked[0].index + 1}: ${comboLabel(picked[0].axes)} · seed ${picked[0].seed}`;
    const contiguous = picked.every((c, i) => c.index === picked[0].index + i);
    return contiguous ? `Cells ${picked[0].index + 1}–${picked.at(-1)!.index + 1}` : `${picked.length} cells from cell ${picked[0].index + 1}`;
  };
  if (!progress) return `${cellsNamed(0, batch.length)} · starting`;
  const percent = `${Math.round(progress.fraction * 100)}%`;
  const at = progress.experimentIndex ?? 0;
  const what = `${STAGE_WORDS[progress.stage]}${progress.stage === 'score' && (progress.experimentCount ?? 1) > 1 ? ' in one pass' : ''}`;
  const named = cellsNamed(at, progress.stage === 'score' ? (progress.experimentCount ?? 1) : 1);
  return batch.length > 1 ? `${named} · ${what} · batch of ${batch.length}: ${percent}` : `${named} · ${what} ${percent}`;
}

export const METRICS: readonly { id: SweepMetric; label: string; percent: boolean }[] = [
  { id: 'improvement', label: 'BoN improvement', percent: false },
  { id: 'spearman', label: 'Spearman ρ', percent: false },
  { id: 'heldOutAccuracy', label: 'held-out accuracy', percent: true },
  { id: 'heldOutGoldenAccuracy', label: 'golden accuracy', percent: true },
  { id: 'labelErrorRate', label: 'label error', percent: true },
  { id: 'meanAbsRewardGap', label: 'mean |Δr|', percent: false },
  { id: 'topHalfRate', label: 'top-half rate', percent: true },
];

export const metricLabel = (id: SweepMetric) => METRICS.find((m) => m.id === id)?.label ?? id;

/** The table's rows in grid order (sweepTable keeps the order cells finished in). */
export function orderedTable(spec: SweepSpec, cells: readonly CellResult[]): SweepRow[] {
  const rows = sweepTable({ cells: [...cells] });
  const rank = (axes: Record<string, AxisValue>) =>
    Object.entries(spec.axes).reduce((r, [path, values]) => r * (values.length + 1) + Math.max(0, values.findIndex((v) => canonicalJson(v) === canonicalJson(axes[path]))), 0);
  return rows.sort((a, b) => rank(a.axes) - rank(b.axes));
}

/** The results table as CSV: the axes, the seeds counted, then mean and std of each metric. */
export function tableCsvRows(spec: SweepSpec, rows: readonly SweepRow[]): Cell[][] {
  const axes = Object.keys(spec.axes);
  const header: Cell[] = [...axes, 'seeds', ...METRICS.flatMap((m) => [`${m.id}_mean`, `${m.id}_std`])];
  return [header, ...rows.map((r): Cell[] => [...axes.map((a) => csvValue(r.axes[a])), r.seeds.length, ...METRICS.flatMap((m) => [r.metrics[m.id].mean, r.metrics[m.id].std])])];
}

const csvValue = (v: AxisValue): Cell => (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v));

export interface ChartPoint {
  x: AxisValue;
  mean: number;
  std: number;
  seeds: number;
}

export interface ChartLine {
  label: string;
  points: ChartPoint[];
}

/** Lines of "metric vs the x axis", one per combination of the other axes, points in the axis' order. */
export function chartLines(spec: SweepSpec, rows: readonly SweepRow[], xAxis: string, metric: SweepMetric): ChartLine[] {
  const order = spec.axes[xAxis] ?? [];
  const pos = (x: AxisValue) => order.findIndex((v) => canonicalJson(v) === canonicalJson(x));
  return sweepSeries(rows, xAxis, metric).map((s) => ({
    label: Object.keys(s.label).length ? comboLabel(s.label) : `${metricLabel(metric)}, mean over seeds`,
    points: [...s.points].sort((a, b) => pos(a.x) - pos(b.x)),
  }));
}

/**
 * T8's figure: per x value, the improvement of the ensemble read three ways (first member, mean,
 * min), mean ± std over seeds. Cells without per-aggregation results (one member) are left out.
 */
export function aggregationLines(spec: SweepSpec, cells: readonly CellResult[], xAxis: string): ChartLine[] {
  const order = spec.axes[xAxis] ?? [];
  return (['first', 'mean', 'min'] as const).map((agg) => {
    const points = order.flatMap((x) => {
      const values = cells.flatMap((c) =>
        canonicalJson(c.axes[xAxis]) === canonicalJson(x) ? c.result.seeds.flatMap((s) => (s.aggregations ? [s.aggregations[agg].improvement] : [])) : [],
      );
      return values.length ? [{ x, ...meanStd(values), seeds: values.length }] : [];
    });
    return { label: agg === 'first' ? 'first member (single model)' : `${agg} of members`, points };
  });
}

/** Whether an axis' values can sit on a numeric x axis, and whether a log scale suits them. */
export function xScale(values: readonly AxisValue[]): 'log' | 'linear' | 'category' {
  if (values.length === 0 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) return 'category';
  const nums = values as number[];
  const lo = Math.min(...nums);
  const hi = Math.max(...nums);
  return lo > 0 && hi / lo >= 8 ? 'log' : 'linear';
}

/** The axis a chart of this sweep puts on x by default: the first numeric axis with 2+ values, else the first axis. */
export function defaultXAxis(spec: SweepSpec): string | null {
  const axes = Object.entries(spec.axes);
  const numeric = axes.find(([path, values]) => values.length > 1 && axisDef(path)?.kind !== 'choice' && xScale(values) !== 'category');
  return numeric?.[0] ?? axes.find(([, values]) => values.length > 1)?.[0] ?? axes[0]?.[0] ?? null;
}
