import { describe, expect, it } from 'vitest';

import {
  canonicalJson,
  datasetStem,
  diffPaths,
  generatorTag,
  modelTag,
  parsePipelineConfig,
  PipelineConfigError,
  safeParsePipelineConfig,
  sourceFormat,
  visibleDevices,
} from './pipelineConfig.ts';

const minimal = {
  models: { generator: { id: 'google/gemma-2b' }, goldenRm: { id: 'weqweasdas/RM-Gemma-7B' }, embedder: { id: 'google/gemma-2b' } },
  prompts: { train: { path: 'train.jsonl' }, test: { path: 'test.csv' } },
  outputDir: 'out',
};

function issues(input: unknown): Array<{ path: string; message: string }> {
  const r = safeParsePipelineConfig(input);
  if (r.ok) throw new Error('expected the config to be refused');
  return r.issues;
}

describe('pipeline config', () => {
  it('fills in the paper settings (method.md §7)', () => {
    const c = parsePipelineConfig(minimal);
    expect(c.sampling).toEqual({
      trainResponses: 10,
      testResponses: 500,
      temperature: 1,
      topP: 0.95,
      topK: 0,
      maxNewTokens: 128,
      maxPromptTokens: 450,
      engine: 'auto',
      batchSequences: 256,
    });
    expect(c.sft).toMatchObject({ enabled: false, lora: { r: 32, alpha: 32, dropout: 0, targetModules: null }, lr: 5e-5, epochs: 2 });
    expect(c.annotate).toEqual({ maxLength: 512, batchSize: 32, input: 'text' });
    expect(c.embed).toEqual({ maxLength: 512, batchSize: 32 });
    expect(c.prompts.template).toBe('Human: {prompt}\n\nAssistant:');
    expect(c.gpus).toEqual([0]);
    expect(c.seed).toBe(0);
    expect(c.python).toBe('python3');
    expect(c.retries).toBe(2);
  });

  it('names each bad field and what it expects', () => {
    const bad = {
      ...minimal,
      models: { generator: { id: '' }, goldenRm: { id: 'x', tag: 'has_underscore' }, embedder: {} },
      sampling: { topP: 1.5, trainResponses: 1, maxNewTokens: 12.5 },
      gpus: ['gpu0'],
      seed: -1,
    };
    const got = issues(bad);
    const byPath = Object.fromEntries(got.map((i) => [i.path, i.message]));
    expect(byPath['models.generator.id']).toBe('id must not be empty');
    expect(byPath['models.goldenRm.tag']).toMatch(/no "_"/);
    expect(byPath['models.embedder.id']).toBe('id must be a Hugging Face model id or a local folder');
    expect(byPath['sampling.topP']).toBe('sampling.topP must be in (0, 1]');
    expect(byPath['sampling.trainResponses']).toBe('sampling.trainResponses must be at least 2');
    expect(byPath['sampling.maxNewTokens']).toBe('sampling.maxNewTokens must be a whole number');
    expect(byPath['gpus.0']).toMatch(/a GPU index \(0\), a comma list \("0,1"\).*or "cpu"/);
    expect(byPath.seed).toBe('seed must be ≥ 0');
  });

  it('refuses misspelt keys instead of falling back to defaults', () => {
    const got = issues({ ...minimal, sampling: { temprature: 0.7 } });
    expect(got).toEqual([{ path: 'sampling', message: expect.stringMatching(/Unrecognized key.*temprature/) }]);
  });

  it('wants demonstrations when SFT is on, and a {prompt} in the template', () => {
    const got = issues({ ...minimal, sft: { enabled: true }, prompts: { ...minimal.prompts, template: 'Human: hi' } });
    expect(got).toContainEqual({ path: 'sft.demonstrations', message: expect.stringMatching(/sft\.demonstrations must name the demonstration file/) });
    expect(got).toContainEqual({ path: 'prompts.template', message: 'prompts.template must contain {prompt}' });
  });

  it('reports missing required sections with their path', () => {
    const got = issues({});
    expect(got.map((i) => i.path).sort()).toEqual(['models', 'outputDir', 'prompts']);
  });

  it('throws PipelineConfigError listing every issue', () => {
    expect(() => parsePipelineConfig({ ...minimal, retries: 'many' }, 'pipeline config x.json')).toThrow(PipelineConfigError);
    expect(() => parsePipelineConfig({ ...minimal, retries: 'many' }, 'pipeline config x.json')).toThrow(/invalid pipeline config x\.json:\n {2}- retries: /);
  });

  it('names files and datasets from model tags', () => {
    const c = parsePipelineConfig({ ...minimal, task: 'helpful' });
    expect(modelTag(c.models.generator)).toBe('gemma-2b');
    expect(modelTag(c.models.goldenRm)).toBe('rm-gemma-7b');
    expect(datasetStem(c)).toBe('gemma-2b_gemma-2b_helpful');
    const sft = parsePipelineConfig({ ...minimal, sft: { enabled: true, demonstrations: { path: 'd.jsonl' } } });
    expect(generatorTag(sft)).toBe('gemma-2b-sft');
    expect(datasetStem(sft)).toBe('gemma-2b-sft_gemma-2b_custom');
    const tagged = parsePipelineConfig({ ...minimal, models: { ...minimal.models, generator: { id: '/models/x_y/', tag: 'gemma2b' } } });
    expect(generatorTag(tagged)).toBe('gemma2b');
    expect(modelTag({ id: '/models/My_Model/', dtype: 'bfloat16' })).toBe('mymodel');
  });

  it('reads source formats from extensions and GPU entries as CUDA_VISIBLE_DEVICES', () => {
    expect(sourceFormat({ path: 'a.CSV', promptField: 'p', responseField: 'r' })).toBe('csv');
    expect(sourceFormat({ path: 'a.parquet', promptField: 'p', responseField: 'r' })).toBe('parquet');
    expect(sourceFormat({ path: 'a.txt', format: 'csv', promptField: 'p', responseField: 'r' })).toBe('csv');
    expect(sourceFormat({ path: 'a.json', promptField: 'p', responseField: 'r' })).toBe('jsonl');
    expect(parsePipelineConfig({ ...minimal, gpus: [0, '1,2', 'cpu'] }).gpus.map(visibleDevices)).toEqual(['0', '1,2', '']);
  });

  it('hashes settings stably and lists what changed', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: undefined }] })).toBe('{"a":[2,{"d":1}],"b":1}');
    expect(diffPaths({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { b: 2, c: [1, 2] }, e: 1 })).toEqual(['a.b', 'd', 'e']);
  });
});
