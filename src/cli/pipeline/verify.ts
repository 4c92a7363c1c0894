/**
 * `reward-lab pipeline verify`: checks a run's outputs shard by shard — every shard done under
 * the current settings, counts against the plan, ids in order, shapes, NaN/Inf, responses cut,
 * train rewards ascending, embeddings that differ within a prompt — and the packed folder when
 * there is one. Each problem names the file and the row.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { formatShape } from '../../core/npy.ts';
import { responsesPerPrompt, type PipelineSplit } from '../../core/pipelineConfig.ts';
import { PIPELINE_STEPS, shardKey, type PipelineStep, type Shard } from '../../core/pipelinePlan.ts';
import { openDataDirectory } from '../dataDirectory.ts';
import { paths, readRunConfig, stepStates, type RunConfig } from './layout.ts';
import { npyRows, openNpy } from './npyFiles.ts';

export interface VerifyReport {
  errors: string[];
  warnings: string[];
  /** Per split: prompts kept after sampling, responses per prompt, embedding width. */
  splits: Partial<Record<PipelineSplit, { prompts: number; skipped: number; responsesPerPrompt: number; dim: number | null }>>;
  packed: boolean;
}

interface JsonRow {
  id: number;
  prompt: string;
  responses?: string[];
  skipped?: string;
  order?: number[];
}

const MAX_PER_KIND = 20;

class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  private counts = new Map<string, number>();

  error(kind: string, message: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= MAX_PER_KIND) this.errors.push(message);
    else if (n === MAX_PER_KIND + 1) this.errors.push(`… more problems of this kind (${kind}) not listed`);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }
}

async function readJsonl(path: string): Promise<JsonRow[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l, i) => {
      try {
        return JSON.parse(l) as JsonRow;
      } catch (e) {
        throw new Error(`${path} line ${i + 1} is not valid JSON: ${(e as Error).message}`, { cause: e });
      }
    });
}

function rel(run: RunConfig, path: string): string {
  return path.startsWith(run.outputDir) ? path.slice(run.outputDir.length + 1) : path;
}

function listKeys(keys: string[]): string {
  return keys.length <= 8 ? keys.join(', ') : `${keys.slice(0, 8).join(', ')}, … (${keys.length} in all)`;
}

/** Ensures a .npy has `shape`, float32-compatible, all values finite; calls `row` per leading-axis row. */
async function checkNpy(
  p: Problems,
  path: string,
  name: string,
  shape: number[],
  onRow?: (index: number, values: Float32Array) => void,
): Promise<boolean> {
  let npy;
  try {
    npy = await openNpy(path);
  } catch (e) {
    p.error('npy', `${name}: ${(e as Error).message}`);
    return false;
  }
  try {
    const got = npy.header.shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      p.error('shape', `${name}: shape ${formatShape(got)}, expected ${formatShape(shape)}`);
      return false;
    }
    const rowValues = shape.slice(1).reduce((a, b) => a * b, 1);
    let bad = 0;
    let firstBad = '';
    for await (const { first, values } of npyRows(npy, rowValues)) {
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) {
          if (bad++ === 0) firstBad = `row ${first + Math.floor(i / rowValues)}, value ${values[i]}`;
        }
      }
      if (onRow) for (let r = 0; r * rowValues < values.length; r++) onRow(first + r, values.subarray(r * rowValues, (r + 1) * rowValues));
    }
    if (bad > 0) {
      p.error('nan', `${name}: ${bad} NaN or infinite values (first at ${firstBad})`);
      return false;
    }
    return true;
  } finally {
    await npy.source.close();
  }
}

export async function verifyRun(out: string, options: { packed?: boolean } = {}): Promise<VerifyReport> {
  const p = new Problems();
  const report: VerifyReport = { errors: p.errors, warnings: p.warnings, splits: {}, packed: false };
  const run = await readRunConfig(out);
  if (!run) {
    p.error('run', `${paths.runConfig(out)} is missing: nothing was run in ${out} yet (reward-lab pipeline run CONFIG)`);
    return report;
  }
  const config = run.config;
  const steps = PIPELINE_STEPS.filter((s) => s !== 'sft' || config.sft.enabled);
  const complete = new Map<PipelineStep, boolean>();
  for (const step of steps) {
    const states = await stepStates(run, step);
    const notDone = states.filter((s) => s.state.state !== 'done');
    complete.set(step, notDone.length === 0);
    for (const kind of ['stale', 'partial', 'pending'] as const) {
      const keys = notDone.filter((s) => s.state.state === kind).map((s) => shardKey(s.shard));
      if (keys.length === 0) continue;
      const why =
        kind === 'stale' ? 'made under other settings (see `pipeline status`)' : kind === 'partial' ? 'interrupted midway' : 'not run yet';
      p.error(`${step}-${kind}`, `${step}: ${keys.length} of ${states.length} shards ${why}: ${listKeys(keys)}`);
    }
  }

  const prepared: Record<PipelineSplit, JsonRow[]> = {
    train: await readJsonl(paths.prepared(out, 'train')).catch(() => []),
    test: await readJsonl(paths.prepared(out, 'test')).catch(() => []),
  };
  for (const split of ['train', 'test'] as const) {
    const k = responsesPerPrompt(config, split);
    const shards: Shard[] = run.shards[split].map(([start, end], index) => ({ split, index, start, end }));
    if (prepared[split].length !== run.counts[split]) {
      p.error('prepared', `prepare/${split}.jsonl has ${prepared[split].length} prompts, the run's plan ${run.counts[split]}`);
    }
    let kept = 0;
    let skipped = 0;
    const dims = new Map<number, number[]>();
    for (const shard of shards) {
      const where = (step: string, file: string) => rel(run, join(paths.shardDir(out, step as PipelineStep, split, shard.index), file));
      const dir = (step: PipelineStep) => paths.shardDir(out, step, split, shard.index);
      // sample
      if (!(await exists(join(dir('sample'), 'done.json')))) continue;
      const name = where('sample', 'responses.jsonl');
      let sampled: JsonRow[];
      try {
        sampled = await readJsonl(join(dir('sample'), 'responses.jsonl'));
      } catch (e) {
        p.error('read', `${name}: ${(e as Error).message}`);
        continue;
      }
      const expectIds = prepared[split].slice(shard.start, shard.end).map((r) => r.id);
      if (sampled.length !== shard.end - shard.start) {
        p.error('count', `${name}: ${sampled.length} prompts, expected ${shard.end - shard.start} (rows ${shard.start}–${shard.end - 1} of prepare/${split}.jsonl)`);
        continue;
      }
      const keptRows: JsonRow[] = [];
      sampled.forEach((row, i) => {
        if (row.id !== expectIds[i]) p.error('ids', `${name} line ${i + 1}: prompt id ${row.id}, expected ${expectIds[i]}`);
        if (row.skipped !== undefined) skipped++;
        else if (!Array.isArray(row.responses) || row.responses.length !== k) {
          p.error('count', `${name} line ${i + 1} (prompt ${row.id}): ${Array.isArray(row.responses) ? row.responses.length : 'no'} responses, expected ${k}`);
        } else keptRows.push(row);
      });
      kept += keptRows.length;
      // annotate
      if (!(await exists(join(dir('annotate'), 'done.json')))) continue;
      const aName = where('annotate', 'responses.jsonl');
      const annotated = await readJsonl(join(dir('annotate'), 'responses.jsonl')).catch((e: Error) => {
        p.error('read', `${aName}: ${e.message}`);
        return null;
      });
      if (!annotated) continue;
      if (annotated.length !== keptRows.length) {
        p.error('count', `${aName}: ${annotated.length} prompts, but the sample shard kept ${keptRows.length}`);
        continue;
      }
      annotated.forEach((row, i) => {
        const at = `${aName} line ${i + 1} (prompt ${row.id})`;
        if (row.id !== keptRows[i].id) p.error('ids', `${aName} line ${i + 1}: prompt id ${row.id}, expected ${keptRows[i].id}`);
        if (!Array.isArray(row.responses) || row.responses.length !== k) p.error('count', `${at}: ${row.responses?.length ?? 'no'} responses, expected ${k}`);
        else if (row.responses.some((r) => r.includes('\n\nHuman'))) p.error('cut', `${at}: a response still holds "\\n\\nHuman": responses must be cut there`);
        const order = row.order ?? [];
        if (order.length !== k || [...order].sort((a, b) => a - b).some((v, j) => v !== j)) p.error('order', `${at}: "order" is not a permutation of 0..${k - 1}`);
      });
      await checkNpy(p, join(dir('annotate'), 'rewards.npy'), where('annotate', 'rewards.npy'), [keptRows.length, k], (r, values) => {
        if (split !== 'train') return;
        for (let j = 1; j < values.length; j++) {
          if (values[j] < values[j - 1]) {
            p.error('rank', `${where('annotate', 'rewards.npy')}: prompt ${annotated[r]?.id ?? r} (row ${r}) is not in rank order: reward[${j - 1}] = ${values[j - 1]} > reward[${j}] = ${values[j]}; train responses must be sorted ascending`);
            break;
          }
        }
      });
      // embed
      if (!(await exists(join(dir('embed'), 'done.json')))) continue;
      const eName = where('embed', 'embeddings.npy');
      let shape: number[] | null = null;
      try {
        const npy = await openNpy(join(dir('embed'), 'embeddings.npy'));
        shape = npy.header.shape;
        await npy.source.close();
      } catch (e) {
        p.error('npy', `${eName}: ${(e as Error).message}`);
        continue;
      }
      if (shape.length !== 3) {
        p.error('shape', `${eName}: shape ${formatShape(shape)}, expected (${keptRows.length}, ${k}, D)`);
        continue;
      }
      dims.set(shape[2], [...(dims.get(shape[2]) ?? []), shard.index]);
      let identical = 0;
      await checkNpy(p, join(dir('embed'), 'embeddings.npy'), eName, [keptRows.length, k, shape[2]], (_r, values) => {
        const d = shape[2];
        for (let j = 1; j < k; j++) {
          for (let x = 0; x < d; x++) if (values[j * d + x] !== values[x]) return;
        }
        identical++;
      });
      if (identical > 0) {
        p.warn(`${eName}: ${identical} prompts have the same embedding for all ${k} responses (a pad-token state, as with the original position -1 pooling?)`);
      }
    }
    if (dims.size > 1) {
      const which = [...dims].map(([d, idx]) => `${idx.map((i) => `shard-${String(i).padStart(5, '0')}`).slice(0, 4).join(', ')}${idx.length > 4 ? ', …' : ''} ${idx.length === 1 ? 'has' : 'have'} ${d}`);
      p.error('shape', `embed/${split}: the shards disagree on D: ${which.join(', ')}`);
    }
    const dim = dims.size === 1 ? [...dims.keys()][0] : null;
    report.splits[split] = { prompts: kept, skipped, responsesPerPrompt: k, dim };
    if (complete.get('sample') && kept === 0) p.error('empty', `${split}: every prompt was skipped (over sampling.maxPromptTokens); nothing to pack`);
  }

  if (options.packed !== false && (await exists(join(paths.packed(out), 'manifest.json')))) {
    report.packed = true;
    await verifyPacked(p, run, report);
  }
  return report;
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

async function verifyPacked(p: Problems, run: RunConfig, report: VerifyReport): Promise<void> {
  const root = paths.packed(run.outputDir);
  for (const format of ['npy', 'arrow'] as const) {
    let ds;
    try {
      ds = await openDataDirectory(join(root, format), format === 'npy' ? { layout: 'NKD' } : {});
    } catch (e) {
      p.error('packed', `packed/${format}: does not open: ${(e as Error).message}`);
      continue;
    }
    try {
      for (const split of ['train', 'test'] as const) {
        const s = ds[split];
        const want = report.splits[split];
        if (want && (s.prompts !== want.prompts || s.responsesPerPrompt !== want.responsesPerPrompt || (want.dim !== null && s.embeddings.dim !== want.dim))) {
          p.error('packed', `packed/${format} ${split}: ${s.prompts} × ${s.responsesPerPrompt} × ${s.embeddings.dim}, but the shards hold ${want.prompts} × ${want.responsesPerPrompt} × ${want.dim}`);
        }
        if (split === 'train' && !s.rankSorted) p.error('packed', `packed/${format} train: responses are not in rank order (ascending golden reward)`);
        if (s.rewards.some((r) => !Number.isFinite(r))) p.error('packed', `packed/${format} ${split}: rewards hold NaN or infinite values`);
      }
    } finally {
      await ds.close();
    }
  }
}

export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const split of ['train', 'test'] as const) {
    const s = report.splits[split];
    if (s) lines.push(`${split}: ${s.prompts.toLocaleString('en-US')} prompts × ${s.responsesPerPrompt} responses${s.dim !== null ? ` × D ${s.dim}` : ''}${s.skipped > 0 ? ` (${s.skipped} skipped for length)` : ''}`);
  }
  if (report.packed) lines.push('packed: checked (npy and arrow)');
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  for (const e of report.errors) lines.push(`error: ${e}`);
  lines.push(report.errors.length === 0 ? 'verify: OK' : `verify: ${report.errors.length} problem${report.errors.length === 1 ? '' : 's'}`);
  return lines.join('\n');
}
