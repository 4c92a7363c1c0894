/**
 * The pipeline's folder on disk (pipeline/python/protocol.py mirrors it):
 *
 *   OUT/run/config.json                     what the workers read: config, shard plan, fingerprints
 *   OUT/prepare/{train,test,demonstrations}.jsonl   prompts as the workers see them
 *   OUT/sft/model/                          merged SFT model (+ adapter/), done.json
 *   OUT/{sample,annotate,embed}/{train,test}/shard-00000/   one folder per shard, done.json last
 *   OUT/logs/                               each worker's stderr
 *   OUT/packed/{npy,arrow}/, manifest.json  `pipeline pack`
 *
 * A shard is done when its done.json exists and carries the step's current fingerprint (a hash
 * of the settings the step's output depends on, chained through the upstream steps).
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

import { canonicalJson, parsePipelineConfig, stepSettings, type PipelineConfig, type PipelineSplit } from '../../core/pipelineConfig.ts';
import { WORKER_PROTOCOL_VERSION } from '../../core/pipelineProtocol.ts';
import { PIPELINE_STEPS, SFT_SHARD, allShards, type PipelineStep, type Shard, type ShardSplit } from '../../core/pipelinePlan.ts';
import { UsageError } from '../backend.ts';

export const DEFAULT_WORKER = resolve(import.meta.dirname, '..', '..', '..', 'pipeline', 'python', 'worker.py');
export const PYTHON_DIR = dirname(DEFAULT_WORKER);

export interface LoadedConfig {
  config: PipelineConfig;
  /** The config file. */
  path: string;
}

/** Reads and validates the config; relative paths in it are taken from the config file's folder. */
export async function loadPipelineConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the pipeline config ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`the pipeline config ${path} is not valid JSON: ${(e as Error).message}`);
  }
  const config = parsePipelineConfig(json, `pipeline config ${path}`);
  const base = dirname(resolve(path));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  // Model ids stay as written unless they name an existing local folder relative to the config.
  const localModel = async <T extends { id: string }>(m: T): Promise<T> => {
    if (isAbsolute(m.id) || m.id.startsWith('.')) return { ...m, id: abs(m.id) };
    try {
      await readdir(resolve(base, m.id));
      return { ...m, id: resolve(base, m.id) };
    } catch {
      return m;
    }
  };
  const resolved: PipelineConfig = {
    ...config,
    outputDir: abs(config.outputDir),
    prompts: { ...config.prompts, train: { ...config.prompts.train, path: abs(config.prompts.train.path) }, test: { ...config.prompts.test, path: abs(config.prompts.test.path) } },
    sft: config.sft.demonstrations ? { ...config.sft, demonstrations: { ...config.sft.demonstrations, path: abs(config.sft.demonstrations.path) } } : config.sft,
    models: {
      generator: await localModel(config.models.generator),
      goldenRm: await localModel(config.models.goldenRm),
      embedder: await localModel(config.models.embedder),
    },
    ...(config.worker !== undefined ? { worker: abs(config.worker) } : {}),
  };
  return { config: resolved, path: resolve(path) };
}

export function workerScript(config: PipelineConfig): string {
  return config.worker ?? DEFAULT_WORKER;
}

export const paths = {
  runConfig: (out: string) => join(out, 'run', 'config.json'),
  prepared: (out: string, what: PipelineSplit | 'demonstrations') => join(out, 'prepare', `${what}.jsonl`),
  logs: (out: string) => join(out, 'logs'),
  packed: (out: string) => join(out, 'packed'),
  shardDir(out: string, step: PipelineStep, split: ShardSplit, index: number): string {
    if (step === 'sft') return join(out, 'sft', 'model');
    return join(out, step, split, `shard-${String(index).padStart(5, '0')}`);
  },
};

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Each step's fingerprint: its settings and its upstream's fingerprint, hashed. */
export function fingerprints(config: PipelineConfig, preparedHashes: Record<string, string>): Record<PipelineStep, string> {
  const settings = stepSettings(config);
  const sft = sha256(canonicalJson({ settings: settings.sft, demonstrations: preparedHashes.demonstrations ?? null }));
  const sample = sha256(canonicalJson({ settings: settings.sample, prompts: [preparedHashes.train, preparedHashes.test], template: config.prompts.template, sft: config.sft.enabled ? sft : null }));
  const annotate = sha256(canonicalJson({ settings: settings.annotate, upstream: sample }));
  const embed = sha256(canonicalJson({ settings: settings.embed, upstream: annotate }));
  return { sft, sample, annotate, embed };
}

/** What the workers read (OUT/run/config.json). */
export interface RunConfig {
  protocol: number;
  outputDir: string;
  config: PipelineConfig;
  prepared: Record<PipelineSplit | 'demonstrations', string | null>;
  shards: Record<PipelineSplit, Array<[number, number]>>;
  responses: Record<PipelineSplit, number>;
  fingerprints: Record<PipelineStep, string>;
  /** The merged SFT model when the SFT step is on, else null (the generator as configured). */
  generatorPath: string | null;
  preparedHashes: Record<string, string>;
  counts: Record<PipelineSplit, number> & { demonstrations: number };
}

export function buildRunConfig(config: PipelineConfig, counts: RunConfig['counts'], preparedHashes: Record<string, string>): RunConfig {
  const out = config.outputDir;
  const shards = allShards(config, counts);
  const bySplit = (s: PipelineSplit) => shards.filter((x) => x.split === s).map((x): [number, number] => [x.start, x.end]);
  return {
    protocol: WORKER_PROTOCOL_VERSION,
    outputDir: out,
    config,
    prepared: {
      train: paths.prepared(out, 'train'),
      test: paths.prepared(out, 'test'),
      demonstrations: config.sft.enabled ? paths.prepared(out, 'demonstrations') : null,
    },
    shards: { train: bySplit('train'), test: bySplit('test') },
    responses: { train: config.sampling.trainResponses, test: config.sampling.testResponses },
    fingerprints: fingerprints(config, preparedHashes),
    generatorPath: config.sft.enabled ? paths.shardDir(out, 'sft', 'all', 0) : null,
    preparedHashes,
    counts,
  };
}

export async function readRunConfig(out: string): Promise<RunConfig | null> {
  try {
    return JSON.parse(await readFile(paths.runConfig(out), 'utf8')) as RunConfig;
  } catch {
    return null;
  }
}

/** The shards of a step, from the run config's plan. */
export function stepShards(run: RunConfig, step: PipelineStep): Shard[] {
  if (step === 'sft') return run.config.sft.enabled ? [SFT_SHARD] : [];
  return (['train', 'test'] as const).flatMap((split) => run.shards[split].map(([start, end], index) => ({ split, index, start, end })));
}

export interface DoneMarker {
  step: string;
  split: string;
  shard: number;
  fingerprint: string;
  prompts?: number;
  kept?: number;
  responses_per_prompt?: number;
  dim?: number;
  seconds?: number;
  model?: { id: string; revision?: string | null; commit?: string; path?: string };
  engine?: string;
  [extra: string]: unknown;
}

export type ShardState =
  | { state: 'done'; marker: DoneMarker }
  | { state: 'stale'; marker: DoneMarker }
  | { state: 'partial' }
  | { state: 'pending' };

export async function readDone(dir: string): Promise<DoneMarker | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'done.json'), 'utf8')) as DoneMarker;
  } catch {
    return null;
  }
}

/**
 * A shard's state: done (current settings), stale (done under other settings), partial (a
 * temporary folder exists) or pending. `siblings` lists the shard folder's parent (read once per
 * split by `stepStates`).
 */
export async function shardState(run: RunConfig, step: PipelineStep, shard: Shard, siblings?: readonly string[]): Promise<ShardState> {
  const dir = paths.shardDir(run.outputDir, step, shard.split, shard.index);
  const marker = await readDone(dir);
  if (marker) return marker.fingerprint === run.fingerprints[step] ? { state: 'done', marker } : { state: 'stale', marker };
  const names = siblings ?? (await readdir(dirname(dir)).catch(() => [] as string[]));
  const base = basename(dir);
  return names.some((n) => n.startsWith(`${base}.tmp-`)) ? { state: 'partial' } : { state: 'pending' };
}

export async function stepStates(run: RunConfig, step: PipelineStep): Promise<Array<{ shard: Shard; state: ShardState }>> {
  const shards = stepShards(run, step);
  const listings = new Map<string, Promise<string[]>>();
  const list = (dir: string) => {
    if (!listings.has(dir)) listings.set(dir, readdir(dir).catch(() => [] as string[]));
    return listings.get(dir) as Promise<string[]>;
  };
  return Promise.all(
    shards.map(async (shard) => ({ shard, state: await shardState(run, step, shard, await list(dirname(paths.shardDir(run.outputDir, step, shard.split, shard.index)))) })),
  );
}

export { PIPELINE_STEPS };
