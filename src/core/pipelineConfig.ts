import { z } from 'zod';

/**
 * The companion pipeline's config (method.md §7): one validated file naming the models, the
 * prompt sources, the counts, the sampling and length settings, the seed, the output folder
 * and the machines. Defaults are the paper's settings. Unknown keys are refused, so a
 * misspelt option never silently falls back to a default.
 *
 * Paths stay as written; the host resolves relative ones against the config file's folder.
 */

const positiveInt = (what: string) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).positive(`${what} must be at least 1`);

/** Short names that go into file names (`embd_{generator}_{embedder}_{task}_{split}.npy`): no underscores. */
const TAG = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

export const modelRefSchema = z.strictObject({
  /** A Hugging Face model id (org/name) or a local folder. */
  id: z.string({ error: 'id must be a Hugging Face model id or a local folder' }).min(1, 'id must not be empty'),
  /** Branch, tag or commit of a hub model; recorded in the manifest. Ignored for local folders. */
  revision: z.string().min(1).optional(),
  /** Short name used in file names and metadata; default derived from the id. */
  tag: z.string().regex(TAG, 'tag must be letters, digits, "." or "-" (no "_": it separates the parts of the .npy file names)').optional(),
  dtype: z.enum(['bfloat16', 'float16', 'float32']).default('bfloat16'),
});

export const sourceSchema = z.strictObject({
  /** A local JSONL, CSV or Parquet file (Parquet is read by the Python worker, via pyarrow). */
  path: z.string({ error: 'path must name a JSONL, CSV or Parquet file' }).min(1, 'path must not be empty'),
  /** Default: from the file extension (.jsonl/.json, .csv, .parquet). */
  format: z.enum(['jsonl', 'csv', 'parquet']).optional(),
  promptField: z.string().min(1).default('prompt'),
  /** Demonstrations only: the column holding the response to imitate. */
  responseField: z.string().min(1).default('response'),
  /** Use only the first `limit` rows (for trial runs). */
  limit: positiveInt('limit').optional(),
});

export const loraSchema = z.strictObject({
  r: positiveInt('sft.lora.r').default(32),
  alpha: z.number().positive('sft.lora.alpha must be > 0').default(32),
  dropout: z.number().min(0).lt(1, 'sft.lora.dropout must be in [0, 1)').default(0),
  /** Module names to adapt; null = peft's default for the architecture. */
  targetModules: z.array(z.string().min(1)).min(1).nullable().default(null),
});

export const sftSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    demonstrations: sourceSchema.optional(),
    lora: loraSchema.default(() => loraSchema.parse({})),
    lr: z.number().positive('sft.lr must be > 0').default(5e-5),
    epochs: z.number().positive('sft.epochs must be > 0').default(2),
    batchSize: positiveInt('sft.batchSize').default(8),
    gradientAccumulation: positiveInt('sft.gradientAccumulation').default(1),
    /** Prompt + response tokens per demonstration; longer ones are truncated (the response's end goes). */
    maxLength: positiveInt('sft.maxLength').default(512),
  })
  .refine((s) => !s.enabled || s.demonstrations !== undefined, {
    message: 'sft.enabled is true, so sft.demonstrations must name the demonstration file (prompt + response per row)',
    path: ['demonstrations'],
  });

export const samplingSchema = z.strictObject({
  trainResponses: positiveInt('sampling.trainResponses').min(2, 'sampling.trainResponses must be at least 2').default(10),
  testResponses: positiveInt('sampling.testResponses').min(2, 'sampling.testResponses must be at least 2').default(500),
  temperature: z.number().positive('sampling.temperature must be > 0').default(1.0),
  topP: z.number().gt(0).max(1, 'sampling.topP must be in (0, 1]').default(0.95),
  /** 0 disables top-k (vLLM's default; transformers' generate would otherwise apply top-k 50). */
  topK: z.number().int().nonnegative().default(0),
  maxNewTokens: positiveInt('sampling.maxNewTokens').default(128),
  /** Prompts longer than this (in generator tokens) are skipped, as in the paper. */
  maxPromptTokens: positiveInt('sampling.maxPromptTokens').default(450),
  /** vLLM when importable ('auto'), or force one. */
  engine: z.enum(['auto', 'transformers', 'vllm']).default('auto'),
  /** transformers only: sequences generated per `generate` call (prompts × n, chunked). */
  batchSequences: positiveInt('sampling.batchSequences').default(256),
});

export const annotateSchema = z.strictObject({
  maxLength: positiveInt('annotate.maxLength').default(512),
  batchSize: positiveInt('annotate.batchSize').default(32),
  /** 'text': prompt + response as one string; 'chat': Human/Assistant turns through the RM tokenizer's chat template. */
  input: z.enum(['text', 'chat']).default('text'),
});

export const embedSchema = z.strictObject({
  maxLength: positiveInt('embed.maxLength').default(512),
  batchSize: positiveInt('embed.batchSize').default(32),
});

/** Overrides of the throughput assumptions behind `plan`'s time estimate. */
export const estimatesSchema = z.strictObject({
  /** Generated tokens per second per GPU for a 7B model (scaled by 7B / model size). */
  sampleTokensPerSecond: z.number().positive().optional(),
  /** Effective bf16 FLOP/s per GPU for forward passes and LoRA training. */
  flopsPerSecond: z.number().positive().optional(),
  /** Parameters of each model when its config.json cannot be read, in billions. */
  paramsBillions: z.number().positive().optional(),
  /** Embedding width D when the embedder's config.json cannot be read. */
  embeddingDim: positiveInt('estimates.embeddingDim').optional(),
});

const GPU_ENTRY = /^(cpu|\d+(,\d+)*)$/;

export const pipelineConfigSchema = z.strictObject({
  /** Recorded in the manifest; the dataset id is `{generator}_{embedder}_{task}`. */
  name: z.string().min(1).optional(),
  task: z.enum(['helpful', 'harmless', 'unknown']).default('unknown'),
  models: z.strictObject({
    /** The response generator, and the base model of the SFT step when it is enabled. */
    generator: modelRefSchema,
    /** Golden reward model: sequence classification with one logit. */
    goldenRm: modelRefSchema,
    embedder: modelRefSchema,
  }),
  prompts: z.strictObject({
    train: sourceSchema,
    test: sourceSchema,
    /** How a prompt becomes the model's input; `{prompt}` is replaced. Use "{prompt}" for prompts already in HH format. */
    template: z
      .string()
      .refine((t) => t.includes('{prompt}'), 'prompts.template must contain {prompt}')
      .default('Human: {prompt}\n\nAssistant:'),
  }),
  sft: sftSchema.default(() => sftSchema.parse({})),
  sampling: samplingSchema.default(() => samplingSchema.parse({})),
  annotate: annotateSchema.default(() => annotateSchema.parse({})),
  embed: embedSchema.default(() => embedSchema.parse({})),
  seed: z.number({ error: 'seed must be a whole number' }).int('seed must be a whole number').nonnegative('seed must be ≥ 0').default(0),
  outputDir: z.string({ error: 'outputDir must name the folder the pipeline writes to' }).min(1),
  /**
   * One worker process per entry, each given the entry as CUDA_VISIBLE_DEVICES: 0, "0,1" (one
   * worker spanning two GPUs, for models that need both) or "cpu".
   */
  gpus: z
    .array(
      z.union([
        z.number().int().nonnegative(),
        z.string().regex(GPU_ENTRY, 'a gpus entry is a GPU index (0), a comma list ("0,1") for one worker spanning several, or "cpu"'),
      ]),
    )
    .min(1, 'gpus must list at least one GPU (or "cpu")')
    .default([0]),
  python: z.string().min(1).default('python3'),
  /** The worker script; default the repository's pipeline/python/worker.py. A test double may stand in. */
  worker: z.string().min(1).optional(),
  /** Work per shard, in responses: train shards hold ⌈this / trainResponses⌉ prompts, test shards ⌈this / testResponses⌉. */
  shardResponses: positiveInt('shardResponses').default(4096),
  /** Further attempts of a failed shard before the step gives up. */
  retries: z.number().int().nonnegative().max(20).default(2),
  estimates: estimatesSchema.default({}),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof pipelineConfigSchema>;
export type ModelRef = z.infer<typeof modelRefSchema>;
export type PromptSource = z.infer<typeof sourceSchema>;
export type PipelineSplit = 'train' | 'test';

export interface PipelineConfigIssue {
  /** Dotted path of the offending field, e.g. "sampling.topP". */
  path: string;
  message: string;
}

export class PipelineConfigError extends Error {
  constructor(
    readonly issues: PipelineConfigIssue[],
    where = 'pipeline config',
  ) {
    super(`invalid ${where}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'PipelineConfigError';
  }
}

export function safeParsePipelineConfig(input: unknown): { ok: true; config: PipelineConfig } | { ok: false; issues: PipelineConfigIssue[] } {
  const r = pipelineConfigSchema.safeParse(input);
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
}

export function parsePipelineConfig(input: unknown, where?: string): PipelineConfig {
  const r = safeParsePipelineConfig(input);
  if (!r.ok) throw new PipelineConfigError(r.issues, where);
  return r.config;
}

/** The format of a source: as given, else from its extension. */
export function sourceFormat(source: PromptSource): 'jsonl' | 'csv' | 'parquet' {
  if (source.format) return source.format;
  const lower = source.path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  return 'jsonl';
}

/** A file-name-safe short name for a model: its tag, else the id's last path part, lowercased, without "_". */
export function modelTag(ref: ModelRef): string {
  if (ref.tag) return ref.tag;
  const last = ref.id.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? ref.id;
  const tag = last.toLowerCase().replace(/[^a-z0-9.-]+/g, '');
  return tag.length > 0 ? tag : 'model';
}

/** The generator's tag as recorded: "-sft" appended when the SFT step made the generator. */
export function generatorTag(config: PipelineConfig): string {
  const base = modelTag(config.models.generator);
  return config.sft.enabled && !config.models.generator.tag ? `${base}-sft` : base;
}

/** `{generator}_{embedder}_{task}`: the stem of the .npy names and the dataset's id. */
export function datasetStem(config: PipelineConfig): string {
  return `${generatorTag(config)}_${modelTag(config.models.embedder)}_${config.task === 'unknown' ? 'custom' : config.task}`;
}

export function responsesPerPrompt(config: PipelineConfig, split: PipelineSplit): number {
  return split === 'train' ? config.sampling.trainResponses : config.sampling.testResponses;
}

/** The CUDA_VISIBLE_DEVICES value of a gpus entry ("" for cpu). */
export function visibleDevices(entry: number | string): string {
  return entry === 'cpu' ? '' : String(entry);
}

/** JSON with object keys sorted, so equal values give equal text (for fingerprints). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * What each step's output depends on, beyond its upstream step: a shard made under other
 * settings is stale. Execution knobs (GPUs, batch sizes, engine, retries) are left out: they
 * do not change what a shard means.
 */
export function stepSettings(config: PipelineConfig): Record<'sft' | 'sample' | 'annotate' | 'embed', unknown> {
  const model = (m: ModelRef) => ({ id: m.id, revision: m.revision ?? null, dtype: m.dtype });
  const s = config.sampling;
  return {
    sft: config.sft.enabled
      ? { generator: model(config.models.generator), lora: config.sft.lora, lr: config.sft.lr, epochs: config.sft.epochs, batchSize: config.sft.batchSize, gradientAccumulation: config.sft.gradientAccumulation, maxLength: config.sft.maxLength, seed: config.seed }
      : null,
    sample: {
      generator: model(config.models.generator),
      sft: config.sft.enabled,
      responses: { train: s.trainResponses, test: s.testResponses },
      temperature: s.temperature,
      topP: s.topP,
      topK: s.topK,
      maxNewTokens: s.maxNewTokens,
      maxPromptTokens: s.maxPromptTokens,
      seed: config.seed,
      shardResponses: config.shardResponses,
    },
    annotate: { goldenRm: model(config.models.goldenRm), maxLength: config.annotate.maxLength, input: config.annotate.input },
    embed: { embedder: model(config.models.embedder), maxLength: config.embed.maxLength },
  };
}

/** Dotted paths where two JSON values differ (objects compared key by key, arrays as wholes). */
export function diffPaths(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || '(root)'];
}
