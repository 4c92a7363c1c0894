import { z } from 'zod';
import { meanStd, type MeanStd } from './metrics.ts';
import type { ExperimentResult } from './result.ts';
import { parseSpec, SpecError, type ExperimentSpec } from './spec.ts';

/**
 * Sweeps: a base spec, named axes (dotted spec paths, each with a list of values) and seeds.
 * The grid is every combination of axis values × every seed; each cell is a complete
 * ExperimentSpec with one seed, so cells can run anywhere, in any order, and resume.
 */

export const sweepSpecSchema = z.strictObject({
  name: z.string().default('sweep'),
  base: z.unknown().default({}),
  /** e.g. { "annotation.beta": [0.5, 1, 10], "model.objective": ["bt-mlp", "clf-mlp"] } */
  axes: z.record(z.string(), z.array(z.unknown()).min(1, 'an axis needs at least one value')).default({}),
  seeds: z.array(z.number().int()).min(1, 'give at least one seed').default([0, 1, 2, 3, 4]),
});

export type SweepSpec = z.infer<typeof sweepSpecSchema>;
export type AxisValue = unknown;

export interface SweepCell {
  /** Position in the grid: stable for a given sweep spec. */
  index: number;
  /** Stable identity of the cell's content (its canonical spec), used for resume and merge. */
  key: string;
  /** Short file-name-safe id derived from the key. */
  id: string;
  axes: Record<string, AxisValue>;
  seed: number;
  spec: ExperimentSpec;
}

export function parseSweep(input: unknown): SweepSpec {
  const r = sweepSpecSchema.safeParse(input);
  if (!r.success) throw new SpecError(r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
  return r.data;
}

/** Expands a sweep to its cells: axes vary slowest-first in the order given, seeds fastest. */
export function expandSweep(sweep: SweepSpec): SweepCell[] {
  const axisNames = Object.keys(sweep.axes);
  const combos: Record<string, AxisValue>[] = [{}];
  for (const name of axisNames) {
    const next: Record<string, AxisValue>[] = [];
    for (const combo of combos) for (const value of sweep.axes[name]) next.push({ ...combo, [name]: value });
    combos.splice(0, combos.length, ...next);
  }
  const cells: SweepCell[] = [];
  for (const axes of combos) {
    for (const seed of sweep.seeds) {
      const input = structuredClone(sweep.base) as Record<string, unknown>;
      for (const [path, value] of Object.entries(axes)) setPath(input, path, value);
      input.seeds = [seed];
      let spec: ExperimentSpec;
      try {
        spec = parseSpec(input);
      } catch (e) {
        if (e instanceof SpecError) {
          const where = Object.entries(axes).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
          throw new SpecError(e.issues.map((i) => ({ ...i, message: `${i.message} (in the cell ${where || 'base'})` })));
        }
        throw e;
      }
      const key = canonicalJson(spec);
      cells.push({ index: cells.length, key, id: shortHash(key), axes, seed, spec });
    }
  }
  return cells;
}

/** Cells of shard i of n (0-based): every cell lands in exactly one shard. */
export function shardCells(cells: readonly SweepCell[], shard: number, shards: number): SweepCell[] {
  if (!Number.isInteger(shards) || shards < 1 || !Number.isInteger(shard) || shard < 0 || shard >= shards) {
    throw new RangeError(`shard must be i/n with 0 ≤ i < n, got ${shard}/${shards}`);
  }
  return cells.filter((c) => c.index % shards === shard);
}

export function parseShard(text: string): { shard: number; shards: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new RangeError(`--shard must look like i/n (e.g. 0/4), got "${text}"`);
  const r = { shard: Number(m[1]), shards: Number(m[2]) };
  shardCells([], r.shard, r.shards);
  return r;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (child === undefined) node[part] = {};
    else if (typeof child !== 'object' || child === null || Array.isArray(child)) {
      throw new SpecError([{ path, message: `cannot set "${path}": "${part}" is not an object in the base spec` }]);
    }
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/** JSON with object keys sorted, so equal specs give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** FNV-1a (64-bit) as 16 hex digits: a file-name-safe id, not a security hash. */
export function shortHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  const bytes = new TextEncoder().encode(text);
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

/** A finished cell as stored by the CLI and the app (a whole result: small enough, and self-describing). */
export interface CellResult {
  cellKey: string;
  axes: Record<string, AxisValue>;
  seed: number;
  result: ExperimentResult;
}

export interface SweepResultSet {
  format: 'reward-lab.sweep/1';
  sweep: SweepSpec;
  cells: CellResult[];
}

/** Combines cell results (e.g. from shards) into one set; refuses foreign and conflicting cells. */
export function mergeCellResults(sweep: SweepSpec, parts: readonly CellResult[]): { set: SweepResultSet; missing: SweepCell[] } {
  const cells = expandSweep(sweep);
  const byKey = new Map(cells.map((c) => [c.key, c]));
  const found = new Map<string, CellResult>();
  for (const part of parts) {
    if (!byKey.has(part.cellKey)) throw new RangeError(`a result (seed ${part.seed}, ${canonicalJson(part.axes)}) is not a cell of this sweep`);
    const prior = found.get(part.cellKey);
    if (prior && canonicalJson(prior.result.seeds) !== canonicalJson(part.result.seeds)) {
      throw new RangeError(`two different results for the same cell (seed ${part.seed}, ${canonicalJson(part.axes)})`);
    }
    found.set(part.cellKey, part);
  }
  const ordered = cells.flatMap((c) => (found.has(c.key) ? [found.get(c.key)!] : []));
  return { set: { format: 'reward-lab.sweep/1', sweep, cells: ordered }, missing: cells.filter((c) => !found.has(c.key)) };
}

export type SweepMetric = 'improvement' | 'spearman' | 'heldOutAccuracy' | 'heldOutGoldenAccuracy' | 'labelErrorRate' | 'meanAbsRewardGap' | 'topHalfRate';

export interface SweepRow {
  axes: Record<string, AxisValue>;
  seeds: number[];
  metrics: Record<SweepMetric, MeanStd>;
}

const METRICS: SweepMetric[] = ['improvement', 'spearman', 'heldOutAccuracy', 'heldOutGoldenAccuracy', 'labelErrorRate', 'meanAbsRewardGap', 'topHalfRate'];

/** One row per axis combination, each metric as mean ± std over the seeds finished so far. */
export function sweepTable(set: Pick<SweepResultSet, 'cells'>): SweepRow[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of set.cells) {
    const k = canonicalJson(c.axes);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  return [...groups.values()].map((group) => ({
    axes: group[0].axes,
    seeds: group.map((c) => c.seed),
    metrics: Object.fromEntries(
      METRICS.map((m) => [m, meanStd(group.map((c) => c.result.summary[m].mean))]),
    ) as Record<SweepMetric, MeanStd>,
  }));
}

export interface SweepSeries {
  /** The values of the other axes that define this line, e.g. { "model.objective": "clf-mlp" }. */
  label: Record<string, AxisValue>;
  points: { x: AxisValue; mean: number; std: number; seeds: number }[];
}

/** Lines for "metric vs one swept axis": one line per combination of the other axes. */
export function sweepSeries(rows: readonly SweepRow[], xAxis: string, metric: SweepMetric): SweepSeries[] {
  const lines = new Map<string, SweepSeries>();
  for (const row of rows) {
    const label = Object.fromEntries(Object.entries(row.axes).filter(([k]) => k !== xAxis));
    const k = canonicalJson(label);
    const line = lines.get(k) ?? { label, points: [] };
    line.points.push({ x: row.axes[xAxis], ...row.metrics[metric], seeds: row.seeds.length });
    lines.set(k, line);
  }
  return [...lines.values()];
}

