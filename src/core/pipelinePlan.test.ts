import { describe, expect, it } from 'vitest';

import { parsePipelineConfig } from './pipelineConfig.ts';
import { allShards, formatPlan, modelFactsFromConfigJson, planPipeline, planShards, selectSteps, shardKey, type PlanFacts } from './pipelinePlan.ts';

const base = {
  models: { generator: { id: 'g' }, goldenRm: { id: 'r' }, embedder: { id: 'e' } },
  prompts: { train: { path: 'train.jsonl' }, test: { path: 'test.jsonl' } },
  outputDir: 'out',
};

describe('sharding', () => {
  it('covers every prompt exactly once, in order, for any sizes', () => {
    for (const prompts of [0, 1, 7, 409, 410, 411, 1000, 40_001]) {
      for (const k of [2, 10, 500]) {
        for (const shardResponses of [1, 100, 4096, 1e6]) {
          const shards = planShards('train', prompts, k, shardResponses);
          const seen = new Uint8Array(prompts);
          let next = 0;
          let ordered = true;
          const cap = Math.max(1, Math.ceil(shardResponses / k));
          shards.forEach((s, i) => {
            ordered &&= s.index === i && s.start === next && s.end > s.start && s.end - s.start <= cap;
            for (let p = s.start; p < s.end; p++) seen[p]++;
            next = s.end;
          });
          expect(ordered).toBe(true);
          expect(next).toBe(prompts);
          expect(seen.every((v) => v === 1)).toBe(true);
        }
      }
    }
  });

  it('weighs shards by responses: few test prompts (500 responses each), many train prompts (10 each)', () => {
    const c = parsePipelineConfig(base);
    const shards = allShards(c, { train: 1000, test: 20 });
    expect(shards.map((s) => `${shardKey(s)} ${s.start}-${s.end}`)).toEqual([
      'train/00000 0-410',
      'train/00001 410-820',
      'train/00002 820-1000',
      'test/00000 0-9',
      'test/00001 9-18',
      'test/00002 18-20',
    ]);
  });

  it('selects steps, in pipeline order, and refuses unknown ones', () => {
    const c = parsePipelineConfig(base);
    expect(selectSteps(c)).toEqual(['sample', 'annotate', 'embed']);
    expect(selectSteps(c, 'embed,sample')).toEqual(['sample', 'embed']);
    expect(() => selectSteps(c, 'sample,embedd')).toThrow('unknown step "embedd"; steps are sft, sample, annotate, embed');
    expect(() => selectSteps(c, 'sft')).toThrow(/sft\.enabled is false/);
    const sft = parsePipelineConfig({ ...base, sft: { enabled: true, demonstrations: { path: 'd.jsonl' } } });
    expect(selectSteps(sft)).toEqual(['sft', 'sample', 'annotate', 'embed']);
  });
});

describe('model facts', () => {
  it('estimates parameters from a Llama-style config.json (Llama-3-8B: 8.03B)', () => {
    const llama3 = {
      hidden_size: 4096,
      num_hidden_layers: 32,
      intermediate_size: 14336,
      vocab_size: 128256,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      tie_word_embeddings: false,
    };
    const f = modelFactsFromConfigJson(llama3, 'llama/config.json');
    expect(f.hidden).toBe(4096);
    expect(f.params).toBe(8_029_995_008);
    expect(modelFactsFromConfigJson({ vocab_size: 3 }, 'x')).toEqual({});
    expect(modelFactsFromConfigJson({ text_config: { hidden_size: 64 } }, 'x')).toEqual({ hidden: 64, source: 'x' });
  });
});

describe('plan', () => {
  const facts: PlanFacts = {
    prompts: { train: 1000, test: 20 },
    meanPromptChars: { train: 400, test: 400 },
    demonstrations: 0,
    meanDemonstrationChars: 0,
    models: {
      generator: { params: 2e9, hidden: 2048, source: 'gen/config.json' },
      goldenRm: { params: 7e9, source: 'rm/config.json' },
      embedder: { params: 2e9, hidden: 2048, source: 'emb/config.json' },
    },
    workers: 2,
  };

  it('counts the work and estimates time from the stated assumptions', () => {
    const c = parsePipelineConfig({ ...base, gpus: [0, 1] });
    const plan = planPipeline(c, facts);
    expect(plan.splits.train).toEqual({ prompts: 1000, responsesPerPrompt: 10, responses: 10_000, shards: 3, promptsPerShard: 410 });
    expect(plan.splits.test).toEqual({ prompts: 20, responsesPerPrompt: 500, responses: 10_000, shards: 3, promptsPerShard: 9 });
    expect(plan.dim).toBe(2048);
    const step = Object.fromEntries(plan.steps.map((s) => [s.step, s]));
    expect(step.sft.enabled).toBe(false);
    // 20,000 responses × 128 tokens at 2,500 tok/s × (7B / 2B), two GPUs
    expect(step.sample.seconds).toBeCloseTo((20_000 * 128) / (2500 * 3.5) / 2, 6);
    // 20,000 × (100 prompt + 128 response tokens) × 2 × 7e9 FLOPs at 350 TFLOP/s, two GPUs
    expect(step.annotate.seconds).toBeCloseTo((20_000 * 228 * 2 * 7e9) / 3.5e14 / 2, 6);
    expect(step.embed.seconds).toBeCloseTo((20_000 * 228 * 2 * 2e9) / 3.5e14 / 2, 6);
    expect(plan.seconds).toBeCloseTo(step.sample.seconds + step.annotate.seconds + step.embed.seconds, 6);
    const disk = Object.fromEntries(plan.disk.map((d) => [d.what.split(':')[0] + (d.what.includes('Arrow') ? ' arrow' : ''), d.bytes]));
    expect(disk.embed).toBe(20_000 * 2048 * 4);
    expect(disk.sample).toBeCloseTo(20_000 * 128 * 4 * 1.1 + 1020 * 400, 3);
    expect(plan.assumptions.join('\n')).toMatch(/2\.0B parameters, estimated from gen\/config\.json/);
    expect(plan.assumptions.join('\n')).toMatch(/embedding width D = 2048, from emb\/config\.json/);
    const text = formatPlan(c, plan);
    expect(text).toMatch(/train: 1,000 prompts × 10 responses = 10,000 responses in 3 shards of ≤ 410 prompts/);
    expect(text).toMatch(/test: 20 prompts × 500 responses = 10,000 responses in 3 shards of ≤ 9 prompts/);
    expect(text).toMatch(/assumptions:\n {2}- generator/);
  });

  it('says what it assumed when the models cannot be read', () => {
    const c = parsePipelineConfig({ ...base, sft: { enabled: true, demonstrations: { path: 'd.jsonl' } }, estimates: { embeddingDim: 3072 } });
    const plan = planPipeline(c, { ...facts, demonstrations: 100, meanDemonstrationChars: 800, models: { generator: {}, goldenRm: {}, embedder: {} } });
    expect(plan.dim).toBe(3072);
    expect(plan.assumptions).toContain('embedder: 7B parameters assumed (its config.json was not found locally; set estimates.paramsBillions)');
    expect(plan.assumptions).toContain('embedding width D = 3072 assumed (the embedder\'s config.json was not found locally; set estimates.embeddingDim)');
    const sft = plan.steps.find((s) => s.step === 'sft')!;
    expect(sft.enabled).toBe(true);
    // 100 demonstrations × 200 tokens × 2 epochs × 6 × 7e9 FLOPs
    expect(sft.seconds).toBeCloseTo((100 * 200 * 2 * 6 * 7e9) / 3.5e14, 6);
    expect(plan.disk[0]).toEqual({ what: 'SFT: merged model (bf16) + LoRA adapter', bytes: 7e9 * 2 * 1.01 });
  });
});
