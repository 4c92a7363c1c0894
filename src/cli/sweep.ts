import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Dataset } from '../core/dataset.ts';
import { datasetFromSpec, ExperimentFailedError, runExperiments } from '../core/experiment.ts';
import { bindFilesDataset, type ExperimentSpec } from '../core/spec.ts';
import { canonicalJson, expandSweep, mergeCellResults, parseShard, parseSweep, shardCells, sweepTable, type CellResult, type SweepCell, type SweepSpec } from '../core/sweep.ts';
import type { NpyLayoutChoice } from '../core/npyDataset.ts';
import { parseBackend, UsageError, activateBackend } from './backend.ts';
import { byteSizeFlag, layoutFlag } from './flags.ts';
import { progressPrinter } from './progressLine.ts';

/**
 * `reward-lab sweep` runs the cells of one shard of a grid, writing each finished cell to
 * OUT/cells/<id>.json (atomically, so an interrupted shard resumes where it stopped). Cells on
 * one dataset run as a batch (runExperiments), which reads its test split once per group of
 * cells (up to 8, whose models fit a quarter of the memory cap), not once per cell;
 * `reward-lab merge` combines the cells of one or more output folders into one result set.
 */

export type DataLoader = (dir: string, options: { layout?: NpyLayoutChoice }) => Promise<Dataset & { close(): Promise<void> }>;

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

async function finishedCells(dir: string): Promise<CellResult[]> {
  const cellsDir = join(dir, 'cells');
  let names: string[];
  try {
    names = (await readdir(cellsDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return Promise.all(names.map(async (n) => (await readJson(join(cellsDir, n), 'cell result')) as CellResult));
}

export async function sweepCommand(args: string[], loadData: DataLoader): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      spec: { type: 'string' },
      shard: { type: 'string', default: '0/1' },
      out: { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string' },
      layout: { type: 'string' },
      'memory-cap': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.spec || !values.out) throw new UsageError('sweep needs --spec FILE and --out DIR');
  const layout = layoutFlag(values.layout);
  const memoryCapBytes = byteSizeFlag(values['memory-cap'], '--memory-cap');
  const sweep = parseSweep(await readJson(values.spec, 'sweep spec'));
  const { shard, shards } = parseShard(values.shard);
  const cells = shardCells(expandSweep(sweep), shard, shards);
  await mkdir(join(values.out, 'cells'), { recursive: true });
  await ensureSameSweep(values.out, sweep);

  const done = new Set((await finishedCells(values.out)).map((c) => c.cellKey));
  const todo = cells.filter((c) => !done.has(c.key));
  // On a terminal, a line of its own first clears the progress line being rewritten there.
  const say = (line: string) => values.quiet || process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}${line}\n`);
  say(`shard ${shard}/${shards}: ${cells.length} cells, ${cells.length - todo.length} already done, ${todo.length} to run`);

  await activateBackend(parseBackend(values.backend));
  const data = values.data ? await loadData(values.data, { layout }) : null;
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    let finished = 0;
    // Cells on one dataset run as one batch: their seeds share passes over its test split.
    for (const batch of byDataset(todo)) {
      const dataset = data ?? datasetFromSpec(batch[0].spec);
      if (!dataset) throw new UsageError('the sweep names a file dataset: pass its folder with --data DIR');
      const specs = batch.map((cell) => (data ? bindFilesDataset(cell.spec, data.info.id) : cell.spec));
      say(`running ${batch.length} cells on dataset ${describeDataset(batch[0].spec)}`);
      try {
        await runExperiments(specs, dataset, {
          signal: controller.signal,
          memoryCapBytes,
          onProgress: progressPrinter(process.stderr, values.quiet),
          onResult: async (i, result) => {
            const cell = batch[i];
            const record: CellResult = { cellKey: cell.key, axes: cell.axes, seed: cell.seed, result };
            await writeAtomically(join(values.out!, 'cells', `${cell.id}.json`), `${JSON.stringify(record)}\n`);
            say(`[${++finished}/${todo.length}] cell ${cell.id}: ${canonicalJson(cell.axes)} seed ${cell.seed}`);
          },
        });
      } catch (error) {
        if (!(error instanceof ExperimentFailedError)) throw error;
        const cell = batch[error.experimentIndex];
        throw new Error(`cell ${cell.id} (${canonicalJson(cell.axes)} seed ${cell.seed}) failed: ${error.message}`, { cause: error });
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    await data?.close();
  }
  return 0;
}

/** Cells grouped by the dataset their specs name, in the order the groups first appear. */
function byDataset(cells: readonly SweepCell[]): SweepCell[][] {
  const groups = new Map<string, SweepCell[]>();
  for (const cell of cells) {
    const key = canonicalJson(cell.spec.dataset);
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  return [...groups.values()];
}

function describeDataset(spec: ExperimentSpec): string {
  return spec.dataset.kind === 'files' ? `"${spec.dataset.id}"` : canonicalJson(spec.dataset);
}

/** A shard folder belongs to one sweep: refuse to mix cells of two grids. */
async function ensureSameSweep(dir: string, sweep: SweepSpec): Promise<void> {
  const path = join(dir, 'sweep.json');
  let existing: unknown;
  try {
    existing = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    await writeAtomically(path, `${JSON.stringify(sweep, null, 2)}\n`);
    return;
  }
  if (canonicalJson(parseSweep(existing)) !== canonicalJson(sweep)) {
    throw new UsageError(`${dir} already holds cells of a different sweep (${path}); use another --out folder`);
  }
}

export async function mergeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length === 0) throw new UsageError('merge needs at least one sweep output folder');
  const sweep = parseSweep(await readJson(join(positionals[0], 'sweep.json'), 'sweep spec'));
  const parts: CellResult[] = [];
  for (const dir of positionals) {
    const other = parseSweep(await readJson(join(dir, 'sweep.json'), 'sweep spec'));
    if (canonicalJson(other) !== canonicalJson(sweep)) throw new UsageError(`${dir} holds a different sweep than ${positionals[0]}`);
    parts.push(...(await finishedCells(dir)));
  }
  const { set, missing } = mergeCellResults(sweep, parts);
  const out = values.out ?? join(positionals[0], 'sweep-result.json');
  await writeAtomically(out, `${JSON.stringify(set)}\n`);
  for (const row of sweepTable(set)) {
    const m = row.metrics;
    process.stdout.write(
      `${canonicalJson(row.axes)}  seeds ${row.seeds.length}  improvement ${m.improvement.mean.toFixed(3)} ± ${m.improvement.std.toFixed(3)}  ` +
        `spearman ${m.spearman.mean.toFixed(3)} ± ${m.spearman.std.toFixed(3)}\n`,
    );
  }
  process.stderr.write(`wrote ${out}: ${set.cells.length} cells${missing.length ? `, ${missing.length} still missing` : ''}\n`);
  return 0;
}
