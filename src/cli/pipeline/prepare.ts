/**
 * The prepare stage (run by the orchestrator itself, before any worker): reads the prompt
 * sources, applies the template and writes OUT/prepare/*.jsonl, the exact inputs the workers
 * read. A prepared file is rewritten only when its content changes, and its hash feeds the
 * fingerprints, so editing the prompts marks the later steps' shards stale.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { sourceFormat, type ModelRef, type PipelineConfig, type PipelineSplit, type PromptSource } from '../../core/pipelineConfig.ts';
import { modelFactsFromConfigJson, type ModelFacts, type PlanFacts } from '../../core/pipelinePlan.ts';
import {
  applyTemplate,
  promptStats,
  PromptSourceError,
  readCsvRows,
  readJsonlRows,
  toJsonl,
  type PreparedPrompt,
} from '../../core/pipelinePrompts.ts';
import { paths, PYTHON_DIR, sha256 } from './layout.ts';

const run = promisify(execFile);

async function readSourceText(source: PromptSource, config: PipelineConfig, withResponse: boolean): Promise<{ text: string; format: 'jsonl' | 'csv' }> {
  const format = sourceFormat(source);
  if (format !== 'parquet') {
    try {
      return { text: await readFile(source.path, 'utf8'), format };
    } catch (e) {
      throw new PromptSourceError(`cannot read ${source.path}: ${(e as Error).message}`);
    }
  }
  // Parquet: the Python helper (pyarrow) turns the needed columns into JSON lines.
  const dir = await mkdtemp(join(tmpdir(), 'reward-lab-parquet-'));
  try {
    const dst = join(dir, 'rows.jsonl');
    const columns = withResponse ? `${source.promptField},${source.responseField}` : source.promptField;
    const args = [join(PYTHON_DIR, 'read_table.py'), source.path, dst, '--columns', columns];
    if (source.limit !== undefined) args.push('--limit', String(source.limit));
    try {
      await run(config.python, args, { maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new PromptSourceError(`cannot read the Parquet file ${source.path} with ${config.python}: ${(err.stderr || err.message).trim()}`);
    }
    return { text: await readFile(dst, 'utf8'), format: 'jsonl' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function readSource(source: PromptSource, config: PipelineConfig, withResponse: boolean): Promise<PreparedPrompt[]> {
  const { text, format } = await readSourceText(source, config, withResponse);
  const rows = format === 'csv' ? readCsvRows(text, source, source.path, withResponse) : readJsonlRows(text, source, source.path, withResponse);
  if (rows.length === 0) throw new PromptSourceError(`${source.path} holds no rows`);
  return rows;
}

export interface Prepared {
  rows: Record<PipelineSplit | 'demonstrations', PreparedPrompt[]>;
  text: Record<PipelineSplit | 'demonstrations', string>;
  hashes: Record<string, string>;
  counts: Record<PipelineSplit, number> & { demonstrations: number };
}

/** Reads every source and renders the prepared files' text (nothing is written). */
export async function prepare(config: PipelineConfig): Promise<Prepared> {
  const tpl = (rows: PreparedPrompt[]) => rows.map((r) => ({ ...r, prompt: applyTemplate(config.prompts.template, r.prompt) }));
  const train = tpl(await readSource(config.prompts.train, config, false));
  const test = tpl(await readSource(config.prompts.test, config, false));
  const demos = config.sft.enabled && config.sft.demonstrations ? tpl(await readSource(config.sft.demonstrations, config, true)) : [];
  const text = { train: toJsonl(train), test: toJsonl(test), demonstrations: toJsonl(demos) };
  const hashes: Record<string, string> = { train: sha256(text.train), test: sha256(text.test) };
  if (config.sft.enabled) hashes.demonstrations = sha256(text.demonstrations);
  return {
    rows: { train, test, demonstrations: demos },
    text,
    hashes,
    counts: { train: train.length, test: test.length, demonstrations: demos.length },
  };
}

/** Writes the prepared files whose content changed (atomically). */
export async function writePrepared(config: PipelineConfig, prepared: Prepared): Promise<void> {
  const out = config.outputDir;
  await mkdir(join(out, 'prepare'), { recursive: true });
  const which: Array<PipelineSplit | 'demonstrations'> = config.sft.enabled ? ['train', 'test', 'demonstrations'] : ['train', 'test'];
  for (const what of which) {
    const path = paths.prepared(out, what);
    const existing = await readFile(path, 'utf8').catch(() => null);
    if (existing === prepared.text[what]) continue;
    await writeFile(`${path}.partial`, prepared.text[what]);
    await rename(`${path}.partial`, path);
  }
}

/**
 * What config.json says of a model: read from a local folder, or from the Hugging Face cache
 * when the model was downloaded before (HF_HUB_CACHE, HF_HOME or ~/.cache/huggingface).
 */
export async function modelFacts(ref: ModelRef, override?: string): Promise<ModelFacts> {
  const candidates: string[] = [];
  if (override) candidates.push(join(override, 'config.json'));
  candidates.push(join(ref.id, 'config.json'));
  const cache = process.env.HF_HUB_CACHE ?? join(process.env.HF_HOME ?? join(homedir(), '.cache', 'huggingface'), 'hub');
  if (/^[\w.-]+\/[\w.-]+$/.test(ref.id)) {
    const repo = join(cache, `models--${ref.id.replace('/', '--')}`);
    const rev = ref.revision ?? 'main';
    const commit = (await readFile(join(repo, 'refs', rev), 'utf8').catch(() => rev)).trim();
    candidates.push(join(repo, 'snapshots', commit, 'config.json'));
  }
  for (const c of candidates) {
    try {
      const facts = modelFactsFromConfigJson(JSON.parse(await readFile(c, 'utf8')), c);
      if (facts.hidden !== undefined) return facts;
    } catch {
      // try the next place
    }
  }
  return {};
}

export async function planFacts(config: PipelineConfig, prepared: Prepared): Promise<PlanFacts> {
  const train = promptStats(prepared.rows.train);
  const test = promptStats(prepared.rows.test);
  const demos = promptStats(prepared.rows.demonstrations);
  return {
    prompts: { train: train.count, test: test.count },
    meanPromptChars: { train: train.meanChars, test: test.meanChars },
    demonstrations: demos.count,
    meanDemonstrationChars: demos.meanChars,
    models: {
      generator: await modelFacts(config.models.generator),
      goldenRm: await modelFacts(config.models.goldenRm),
      embedder: await modelFacts(config.models.embedder),
    },
    workers: config.gpus.length,
  };
}
