/**
 * `reward-lab pack`: converts a .npy dataset folder into Reward Lab's Arrow format
 * (`train.arrow`, `test.arrow`, `manifest.json`), optionally a seeded prompt subsample and/or
 * float16 embeddings. Embeddings stream from the .npy files to the Arrow files one record
 * batch at a time, so a multi-GB split packs in bounded memory.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

import { openArrowSplit, writeArrowSplit, type ArrowSplitDescription, type ArrowSubsample } from '../core/arrowFormat.ts';
import { isCancelled } from '../core/cancel.ts';
import type { Split } from '../core/dataset.ts';
import type { NpyDataset } from '../core/npyDataset.ts';
import { Rng } from '../core/rng.ts';
import { choosePrompts, subsampleSplit } from '../core/subsample.ts';
import { ENGINE_VERSION } from '../core/version.ts';
import { UsageError } from './backend.ts';
import { ARROW_TEST_FILE, ARROW_TRAIN_FILE } from './dataDirectory.ts';
import { FileSource } from './fileSource.ts';
import { layoutFlag } from './flags.ts';
import { openNpyDirectory } from './npyDataset.ts';
import { formatSeconds } from './progressLine.ts';
import { formatBytes } from '../core/units.ts';

export const PACK_USAGE =
  'reward-lab pack  --data DIR --out DIR [--layout NKD|KND] [--train-prompts N] [--test-prompts M] [--seed S] [--float16] [--quiet]';

export const MANIFEST_FORMAT = 'reward-lab.pack-manifest/1';
export const SUBSAMPLE_METHOD = 'uniform without replacement, ascending prompt order';

type SplitName = 'train' | 'test';

interface PlannedSplit {
  name: SplitName;
  split: Split;
  promptIds?: Int32Array;
  subsample?: ArrowSubsample;
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--${flag} must be a positive integer, got "${v}"`);
  return Number(v);
}

/**
 * The prompts kept of one split. The draw is the engine's own subsample (`applySubsample`
 * with the same seed picks the same prompts), so packing a subsample and subsampling at run
 * time agree.
 */
function planSplit(name: SplitName, split: Split, count: number | undefined, seed: number): PlannedSplit {
  if (count === undefined || count === split.prompts) return { name, split };
  if (count > split.prompts) {
    throw new UsageError(`--${name}-prompts is ${count}, but the ${name} split has only ${split.prompts} prompts`);
  }
  const chosen = choosePrompts(split.prompts, count, new Rng(`subsample:${seed}`).fork(name));
  return {
    name,
    split: subsampleSplit(split, chosen),
    promptIds: chosen,
    subsample: { prompts: count, of: split.prompts, seed, method: SUBSAMPLE_METHOD, rng: `subsample:${seed}/${name}` },
  };
}

/** Progress of one file on stderr: a rewritten line on a terminal, a line every 2 s otherwise. */
function packProgress(file: string, quiet: boolean): { update(rows: number, total: number, bytes: number): void; done(rows: number, bytes: number): void } {
  const started = Date.now();
  let lastPrinted = 0;
  let width = 0;
  const err = process.stderr;
  const line = (text: string, final: boolean): void => {
    if (quiet) return;
    if (err.isTTY) {
      err.write(`\r${text.padEnd(width)}${final ? '\n' : ''}`);
      width = text.length;
    } else {
      err.write(`${text}\n`);
    }
  };
  return {
    update(rows, total, bytes) {
      const now = Date.now();
      if (now - lastPrinted < (err.isTTY ? 200 : 2000)) return;
      lastPrinted = now;
      const secs = (now - started) / 1000;
      const rate = secs > 0 ? rows / secs : 0;
      const eta = rate > 0 && rows < total ? ` ETA ${formatSeconds((total - rows) / rate)}` : '';
      const pct = ((rows / total) * 100).toFixed(0).padStart(3);
      line(`${pct}% ${file}: ${formatBytes(bytes)}, ${rows.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows, ${Math.round(rate).toLocaleString('en-US')} rows/s${eta}`, false);
    },
    done(rows, bytes) {
      const secs = (Date.now() - started) / 1000;
      const rate = secs > 0 ? ` (${Math.round(rows / secs).toLocaleString('en-US')} rows/s)` : '';
      line(`wrote ${file}: ${rows.toLocaleString('en-US')} rows, ${formatBytes(bytes)} in ${formatSeconds(secs)}${rate}`, true);
    },
  };
}

async function writeSplitFile(
  path: string,
  plan: PlannedSplit,
  desc: ArrowSplitDescription,
  options: { float16: boolean; batchRows?: number; signal: AbortSignal; quiet: boolean },
): Promise<{ bytes: number; batches: number }> {
  const file = basename(path);
  // Written under a temporary name and renamed when complete, so a failed or cancelled pack
  // never leaves a file with the final name.
  const partial = `${path}.partial`;
  const progress = packProgress(file, options.quiet);
  let bytes = 0;
  try {
    const chunks = writeArrowSplit(plan.split, desc, {
      float16: options.float16,
      signal: options.signal,
      ...(options.batchRows !== undefined ? { batchRows: options.batchRows } : {}),
      onProgress: (p) => {
        bytes = p.bytes;
        progress.update(p.rows, p.totalRows, p.bytes);
      },
    });
    // pipeline() awaits 'drain', so the generator is pulled no faster than the disk takes it.
    await pipeline(chunks, createWriteStream(partial));
    // Reopening checks the file end to end (framing, ids, rewards) before it gets its name.
    const src = await FileSource.open(partial);
    let batches: number;
    try {
      const back = await openArrowSplit(src);
      if (back.prompts !== plan.split.prompts || back.responsesPerPrompt !== plan.split.responsesPerPrompt) {
        throw new Error(`${file} reads back as ${back.prompts}×${back.responsesPerPrompt}, not ${plan.split.prompts}×${plan.split.responsesPerPrompt}`);
      }
      batches = back.embeddings.batchCount;
    } finally {
      await src.close();
    }
    await rename(partial, path);
    progress.done(plan.split.prompts * plan.split.responsesPerPrompt, bytes);
    return { bytes: (await stat(path)).size, batches };
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}

export async function packCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      layout: { type: 'string' },
      'train-prompts': { type: 'string' },
      'test-prompts': { type: 'string' },
      seed: { type: 'string' },
      float16: { type: 'boolean', default: false },
      'batch-rows': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.data || !values.out) throw new UsageError('pack needs --data DIR (the .npy folder) and --out DIR (where to write the Arrow files)');
  const layout = layoutFlag(values.layout);
  if (resolve(values.data) === resolve(values.out)) {
    throw new UsageError('--out must be a different folder from --data: a folder holding both .npy and Arrow files is ambiguous to `run --data`');
  }
  const trainPrompts = positiveInt('train-prompts', values['train-prompts']);
  const testPrompts = positiveInt('test-prompts', values['test-prompts']);
  const batchRows = positiveInt('batch-rows', values['batch-rows']);
  if (values.seed !== undefined && !/^-?\d+$/.test(values.seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  const float16 = values.float16 ?? false;
  const quiet = values.quiet ?? false;

  const existing = await readdir(values.data).catch(() => [] as string[]);
  if (existing.includes(ARROW_TRAIN_FILE) && !existing.some((n) => /\.npy$/i.test(n))) {
    throw new UsageError(`${values.data} already holds a packed dataset (${ARROW_TRAIN_FILE}); pack reads .npy folders`);
  }
  // An ambiguous layout throws DatasetQuestionError, which main() turns into the questions to answer.
  const source: NpyDataset = await openNpyDirectory(values.data, layout !== undefined ? { layout } : {});
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const plans = [
      planSplit('train', source.train, trainPrompts, seed),
      planSplit('test', source.test, testPrompts, seed),
    ];
    await mkdir(values.out, { recursive: true });
    const info = source.info;
    const written: Record<string, unknown> = {};
    for (const plan of plans) {
      const file = plan.name === 'train' ? ARROW_TRAIN_FILE : ARROW_TEST_FILE;
      const desc: ArrowSplitDescription = {
        split: plan.name,
        task: info.task,
        datasetId: info.id,
        ...(info.generator !== undefined ? { generator: info.generator } : {}),
        ...(info.embedder !== undefined ? { embedder: info.embedder } : {}),
        ...(info.goldenRewardModel !== undefined ? { goldenRewardModel: info.goldenRewardModel } : {}),
        ...(plan.subsample !== undefined ? { subsample: plan.subsample } : {}),
        ...(plan.promptIds !== undefined ? { promptIds: plan.promptIds } : {}),
      };
      const { bytes, batches } = await writeSplitFile(join(values.out, file), plan, desc, {
        float16,
        signal: controller.signal,
        quiet,
        ...(batchRows !== undefined ? { batchRows } : {}),
      });
      const s = plan.split;
      written[plan.name] = {
        file,
        bytes,
        recordBatches: batches,
        prompts: s.prompts,
        responsesPerPrompt: s.responsesPerPrompt,
        rows: s.prompts * s.responsesPerPrompt,
        dim: s.embeddings.dim,
        embeddingDtype: float16 ? 'float16' : 'float32',
        rankSorted: s.rankSorted,
      };
    }
    const dataDir = values.data;
    const sourceFiles = await Promise.all(
      Object.values(source.plan.files).map(async (f) => ({
        role: f.role,
        name: f.name,
        shape: f.shape,
        dtype: f.dtype,
        layout: f.layout,
        bytes: (await stat(join(dataDir, f.name))).size,
      })),
    );
    const manifest = {
      format: MANIFEST_FORMAT,
      producer: `reward-lab ${ENGINE_VERSION}`,
      createdAt: new Date().toISOString(),
      source: { dir: values.data, dataset: info.id, description: info.description, task: info.task, files: sourceFiles },
      float16,
      subsample: Object.fromEntries(plans.map((p) => [p.name, p.subsample ?? null])),
      splits: written,
    };
    await writeFile(join(values.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (!quiet) process.stderr.write(`packed ${info.id} into ${values.out}\n`);
    return 0;
  } catch (e) {
    if (isCancelled(e) || controller.signal.aborted) {
      process.stderr.write('\ncancelled; no partial files were kept\n');
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    await source.close();
  }
}
