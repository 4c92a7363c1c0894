/**
 * Planning the companion pipeline: which steps run, how prompts are cut into shards, how much
 * work, disk and time to expect. Pure: the host counts the prompts and reads what it can of
 * the models' config.json, and hands the facts in.
 */
import { responsesPerPrompt, type PipelineConfig, type PipelineSplit } from './pipelineConfig.ts';
import { formatBytes } from './units.ts';

export const PIPELINE_STEPS = ['sft', 'sample', 'annotate', 'embed'] as const;
export type PipelineStep = (typeof PIPELINE_STEPS)[number];
export const SPLITS: readonly PipelineSplit[] = ['train', 'test'];

/** 'all' is the SFT step's single shard (over the demonstrations). */
export type ShardSplit = PipelineSplit | 'all';

/** One unit of work: rows [start, end) of a split's prepared prompt file. */
export interface Shard {
  split: ShardSplit;
  index: number;
  start: number;
  end: number;
}

/** The SFT step is one shard over the demonstrations. */
export const SFT_SHARD: Shard = { split: 'all', index: 0, start: 0, end: 0 };

export function shardKey(s: { split: string; index: number }): string {
  return `${s.split}/${String(s.index).padStart(5, '0')}`;
}

/**
 * Contiguous, ordered shards covering [0, prompts) exactly once, each of at most
 * ⌈shardResponses / k⌉ prompts (at least one).
 */
export function planShards(split: PipelineSplit, prompts: number, k: number, shardResponses: number): Shard[] {
  const size = Math.max(1, Math.ceil(shardResponses / k));
  const out: Shard[] = [];
  for (let start = 0, index = 0; start < prompts; start += size, index++) out.push({ split, index, start, end: Math.min(prompts, start + size) });
  return out;
}

export function allShards(config: PipelineConfig, prompts: Record<PipelineSplit, number>): Shard[] {
  return SPLITS.flatMap((s) => planShards(s, prompts[s], responsesPerPrompt(config, s), config.shardResponses));
}

/** Steps to run, in order, from a `--steps` list (default: all that are enabled). */
export function selectSteps(config: PipelineConfig, list?: string): PipelineStep[] {
  if (list === undefined) return PIPELINE_STEPS.filter((s) => s !== 'sft' || config.sft.enabled);
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const bad = names.filter((n) => !(PIPELINE_STEPS as readonly string[]).includes(n));
  if (bad.length > 0) throw new RangeError(`unknown step${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')}; steps are ${PIPELINE_STEPS.join(', ')}`);
  if (names.length === 0) throw new RangeError(`--steps lists no step; steps are ${PIPELINE_STEPS.join(', ')}`);
  if (names.includes('sft') && !config.sft.enabled) throw new RangeError('--steps names sft, but sft.enabled is false in the config');
  return PIPELINE_STEPS.filter((s) => names.includes(s));
}

/** What the host could learn of a model from its config.json; all optional. */
export interface ModelFacts {
  params?: number;
  hidden?: number;
  /** Where the facts came from, for the plan's notes. */
  source?: string;
}

/** Parameter count and width from a transformers config.json (Llama-style estimate). */
export function modelFactsFromConfigJson(json: unknown, source: string): ModelFacts {
  if (json === null || typeof json !== 'object') return {};
  const c = json as Record<string, unknown>;
  const text = (c.text_config && typeof c.text_config === 'object' ? c.text_config : c) as Record<string, unknown>;
  const num = (k: string): number | undefined => (typeof text[k] === 'number' ? (text[k] as number) : undefined);
  const h = num('hidden_size') ?? num('n_embd') ?? num('d_model');
  if (h === undefined) return {};
  const layers = num('num_hidden_layers') ?? num('n_layer') ?? num('num_layers');
  const vocab = num('vocab_size');
  const inter = num('intermediate_size') ?? num('n_inner') ?? 4 * h;
  const heads = num('num_attention_heads') ?? num('n_head');
  const kvHeads = num('num_key_value_heads') ?? heads;
  const facts: ModelFacts = { hidden: h, source };
  if (layers !== undefined && vocab !== undefined) {
    const kvShare = heads && kvHeads ? kvHeads / heads : 1;
    const attention = h * h * (2 + 2 * kvShare);
    const mlp = 3 * h * inter;
    const tied = text.tie_word_embeddings !== false;
    facts.params = layers * (attention + mlp) + vocab * h * (tied ? 1 : 2);
  }
  return facts;
}

export interface PlanFacts {
  prompts: Record<PipelineSplit, number>;
  /** Mean characters per prompt (after the template), per split. */
  meanPromptChars: Record<PipelineSplit, number>;
  demonstrations: number;
  meanDemonstrationChars: number;
  models: { generator: ModelFacts; goldenRm: ModelFacts; embedder: ModelFacts };
  workers: number;
}

export interface StepPlan {
  step: PipelineStep;
  enabled: boolean;
  what: string;
  shards: number;
  /** Work in the step's unit (responses, or demonstration tokens for SFT). */
  work: number;
  unit: string;
  seconds: number;
}

export interface DiskItem {
  what: string;
  bytes: number;
}

export interface PipelinePlan {
  steps: StepPlan[];
  splits: Record<PipelineSplit, { prompts: number; responsesPerPrompt: number; responses: number; shards: number; promptsPerShard: number }>;
  dim: number;
  disk: DiskItem[];
  diskTotal: number;
  seconds: number;
  assumptions: string[];
}

/** Assumed throughput of an H100-class GPU (overridable in the config's `estimates`). */
export const DEFAULT_ESTIMATES = {
  /** transformers `generate`, bf16, batches of ~256 sequences, 7B model. */
  sampleTokensPerSecond: 2500,
  /** vLLM, same model. */
  vllmTokensPerSecond: 20000,
  /** Effective bf16 FLOP/s of forward passes and LoRA training (≈ 35% of peak). */
  flopsPerSecond: 3.5e14,
  paramsBillions: 7,
  embeddingDim: 4096,
  charsPerToken: 4,
  bytesPerResponseChar: 1.1,
} as const;

export function planPipeline(config: PipelineConfig, facts: PlanFacts): PipelinePlan {
  const est = config.estimates;
  const assumptions: string[] = [];
  const defaultParams = (est.paramsBillions ?? DEFAULT_ESTIMATES.paramsBillions) * 1e9;
  const paramsOf = (name: string, m: ModelFacts): number => {
    if (m.params !== undefined) {
      assumptions.push(`${name}: ${(m.params / 1e9).toFixed(m.params < 1e9 ? 3 : 1)}B parameters, estimated from ${m.source ?? 'its config.json'}`);
      return m.params;
    }
    assumptions.push(`${name}: ${defaultParams / 1e9}B parameters assumed (its config.json was not found locally; set estimates.paramsBillions)`);
    return defaultParams;
  };
  const genParams = paramsOf('generator', facts.models.generator);
  const rmParams = paramsOf('golden RM', facts.models.goldenRm);
  const embParams = paramsOf('embedder', facts.models.embedder);
  let dim: number;
  if (facts.models.embedder.hidden !== undefined) {
    dim = facts.models.embedder.hidden;
    assumptions.push(`embedding width D = ${dim}, from ${facts.models.embedder.source ?? "the embedder's config.json"}`);
  } else {
    dim = est.embeddingDim ?? DEFAULT_ESTIMATES.embeddingDim;
    assumptions.push(`embedding width D = ${dim} assumed (the embedder's config.json was not found locally; set estimates.embeddingDim)`);
  }
  const cpt = DEFAULT_ESTIMATES.charsPerToken;
  assumptions.push(`prompt tokens ≈ characters / ${cpt}; every response assumed ${config.sampling.maxNewTokens} tokens (the maximum: an upper bound)`);
  assumptions.push(`no prompt skipped for length (the ${config.sampling.maxPromptTokens}-token check needs the tokenizer; it only lowers the numbers)`);

  const splits = {} as PipelinePlan['splits'];
  for (const split of ['train', 'test'] as const) {
    const k = responsesPerPrompt(config, split);
    const n = facts.prompts[split];
    const perShard = Math.max(1, Math.ceil(config.shardResponses / k));
    splits[split] = { prompts: n, responsesPerPrompt: k, responses: n * k, shards: Math.ceil(n / perShard), promptsPerShard: perShard };
  }
  const responses = splits.train.responses + splits.test.responses;
  const shards = splits.train.shards + splits.test.shards;
  const respTokens = config.sampling.maxNewTokens;
  const promptTokens = (s: PipelineSplit) => Math.min(config.sampling.maxPromptTokens, facts.meanPromptChars[s] / cpt);
  // Token positions of prompt + response per response, for the forward passes (capped at max lengths).
  const seqTokens = (s: PipelineSplit, cap: number) => Math.min(cap, promptTokens(s) + respTokens);
  const workers = Math.max(1, facts.workers);
  const flops = est.flopsPerSecond ?? DEFAULT_ESTIMATES.flopsPerSecond;
  const engine = config.sampling.engine;
  const tokRate7b =
    est.sampleTokensPerSecond ?? (engine === 'vllm' ? DEFAULT_ESTIMATES.vllmTokensPerSecond : DEFAULT_ESTIMATES.sampleTokensPerSecond);
  const tokRate = (tokRate7b * 7e9) / genParams;
  assumptions.push(
    `sampling at ${Math.round(tokRate7b).toLocaleString('en-US')} generated tokens/s per GPU for a 7B model (${engine === 'vllm' ? 'vLLM' : 'transformers generate; vLLM is several times faster'}), scaled by model size`,
  );
  assumptions.push(`forward passes and LoRA training at ${(flops / 1e12).toFixed(0)} TFLOP/s effective per GPU (2·params FLOPs per token forward, 6·params training)`);
  assumptions.push(`${workers} worker${workers > 1 ? 's' : ''} in parallel (the gpus list); model loading not counted`);

  const forwardSeconds = (params: number, cap: number) =>
    (splits.train.responses * seqTokens('train', cap) + splits.test.responses * seqTokens('test', cap)) * 2 * params / flops / workers;
  const demoTokens = facts.demonstrations * Math.min(config.sft.maxLength, facts.meanDemonstrationChars / cpt);
  const steps: StepPlan[] = [
    {
      step: 'sft',
      enabled: config.sft.enabled,
      what: config.sft.enabled
        ? `LoRA r ${config.sft.lora.r}, α ${config.sft.lora.alpha}, dropout ${config.sft.lora.dropout}, lr ${config.sft.lr < 1e-3 ? config.sft.lr.toExponential() : config.sft.lr}, ${config.sft.epochs} epochs on ${facts.demonstrations.toLocaleString('en-US')} demonstrations (loss on the response only), one GPU`
        : 'off (sft.enabled is false): the generator samples as it is',
      shards: config.sft.enabled ? 1 : 0,
      work: config.sft.enabled ? Math.round(demoTokens * config.sft.epochs) : 0,
      unit: 'tokens',
      seconds: config.sft.enabled ? (demoTokens * config.sft.epochs * 6 * genParams) / flops : 0,
    },
    {
      step: 'sample',
      enabled: true,
      what: `${splits.train.responsesPerPrompt} responses per train prompt, ${splits.test.responsesPerPrompt} per test prompt; temperature ${config.sampling.temperature}, top-p ${config.sampling.topP}${config.sampling.topK > 0 ? `, top-k ${config.sampling.topK}` : ''}, ≤ ${config.sampling.maxNewTokens} new tokens, prompts over ${config.sampling.maxPromptTokens} tokens skipped`,
      shards,
      work: responses,
      unit: 'responses',
      seconds: (responses * respTokens) / tokRate / workers,
    },
    {
      step: 'annotate',
      enabled: true,
      what: `cut at the first "\\n\\nHuman", golden reward (one logit, ≤ ${config.annotate.maxLength} tokens); train responses sorted by reward`,
      shards,
      work: responses,
      unit: 'responses',
      seconds: forwardSeconds(rmParams, config.annotate.maxLength),
    },
    {
      step: 'embed',
      enabled: true,
      what: `last-layer hidden state at the last real token (≤ ${config.embed.maxLength} tokens), D = ${dim}`,
      shards,
      work: responses,
      unit: 'responses',
      seconds: forwardSeconds(embParams, config.embed.maxLength),
    },
  ];

  const textBytes = (split: PipelineSplit) =>
    splits[split].responses * respTokens * cpt * DEFAULT_ESTIMATES.bytesPerResponseChar + splits[split].prompts * facts.meanPromptChars[split];
  const text = textBytes('train') + textBytes('test');
  const embBytes = responses * dim * 4;
  const disk: DiskItem[] = [];
  if (config.sft.enabled) disk.push({ what: 'SFT: merged model (bf16) + LoRA adapter', bytes: genParams * 2 * 1.01 });
  disk.push({ what: 'sample: responses (JSON lines)', bytes: text });
  disk.push({ what: 'annotate: cut responses + rewards', bytes: text + responses * 4 });
  disk.push({ what: `embed: embeddings, float32 (${responses.toLocaleString('en-US')} × ${dim})`, bytes: embBytes });
  disk.push({ what: 'pack: .npy (embd_/reward_)', bytes: embBytes + responses * 4 });
  disk.push({ what: 'pack: Arrow streams with text', bytes: embBytes + responses * 12 + text });
  assumptions.push(`response text ≈ ${respTokens * cpt} characters each; embeddings stored three times (shards, .npy, Arrow): delete the shards after packing to reclaim them`);
  const diskTotal = disk.reduce((s, d) => s + d.bytes, 0);
  const seconds = steps.filter((s) => s.enabled).reduce((a, s) => a + s.seconds, 0);
  return { steps, splits, dim, disk, diskTotal, seconds, assumptions };
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.max(0, Math.round(s))}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function formatPlan(config: PipelineConfig, plan: PipelinePlan): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines: string[] = [];
  lines.push(`models: generator ${config.models.generator.id}${config.models.generator.revision ? `@${config.models.generator.revision}` : ''}, ` +
    `golden RM ${config.models.goldenRm.id}${config.models.goldenRm.revision ? `@${config.models.goldenRm.revision}` : ''}, ` +
    `embedder ${config.models.embedder.id}${config.models.embedder.revision ? `@${config.models.embedder.revision}` : ''}`);
  for (const split of ['train', 'test'] as const) {
    const s = plan.splits[split];
    lines.push(`${split}: ${n(s.prompts)} prompts × ${s.responsesPerPrompt} responses = ${n(s.responses)} responses in ${n(s.shards)} shards of ≤ ${n(s.promptsPerShard)} prompts`);
  }
  lines.push('', 'steps:');
  for (const s of plan.steps) {
    lines.push(`  ${s.step.padEnd(9)}${s.enabled ? `~${formatDuration(s.seconds).padStart(7)}` : '    skip'}  ${s.what}`);
  }
  lines.push(`  ${'pack'.padEnd(9)}${''.padStart(8)}  .npy (N, K, D) / (N, K, 1) + Arrow streams + manifest, train rank-sorted`);
  lines.push('', `time: ~${formatDuration(plan.seconds)} of GPU work`);
  lines.push('disk:');
  for (const d of plan.disk) lines.push(`  ${formatBytes(d.bytes).padStart(9)}  ${d.what}`);
  lines.push(`  ${formatBytes(plan.diskTotal).padStart(9)}  in all, under ${config.outputDir}`);
  lines.push('', 'assumptions:');
  for (const a of plan.assumptions) lines.push(`  - ${a}`);
  return lines.join('\n');
}
