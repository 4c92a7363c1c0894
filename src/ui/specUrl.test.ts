import { describe, expect, it } from 'vitest';
import { PRESETS } from '../core/presets.ts';
import { defaultSpec, parseSpec, type ExperimentSpec } from '../core/spec.ts';
import { specDiff, specFromHash, specToHash } from './specUrl.ts';

const roundTrip = (spec: ExperimentSpec) => {
  const link = specFromHash(specToHash(spec));
  if (link.kind !== 'ok') throw new Error(`did not round-trip: ${JSON.stringify(link)}`);
  return link.spec;
};

describe('spec ↔ URL', () => {
  it('writes the paper defaults as the bare version marker', () => {
    expect(specToHash(defaultSpec())).toBe('#v=1');
    expect(roundTrip(defaultSpec())).toEqual(defaultSpec());
  });

  it('writes only what differs from the paper, readable and short', () => {
    const hash = specToHash(PRESETS['quick-demo']());
    expect(hash).toBe(
      '#v=1&dataset.kind=demo&dataset.trainPrompts=4000&dataset.testPrompts=200&dataset.dim=64&annotation.beta=0.5' +
        '&annotation.budget=4000&model.objective=clf-mlp&model.hidden=128,64&model.training.batchSize=1024&evaluation.repeats=20&seeds=0',
    );
    expect(roundTrip(PRESETS['quick-demo']())).toEqual(PRESETS['quick-demo']());
  });

  it('round-trips every kind of field exactly: floats, negatives, booleans, enums, lists, unions', () => {
    const spec = parseSpec({
      dataset: { kind: 'demo', seed: -3, trainPrompts: 123, responsesPerTrainPrompt: 7, testPrompts: 11, responsesPerTestPrompt: 13, dim: 5 },
      annotation: {
        beta: -1,
        scale: { kind: 'custom', value: 0.1 + 0.2 },
        budget: 77,
        pairing: { candidates: 'diversified', scope: 'cross-prompt', convention: 'multi-per-prompt', pairsPerPrompt: 3, orderFlip: true },
      },
      model: {
        objective: 'bt-mlp',
        hidden: [],
        init: 'glorot',
        training: { lr: 0.1 * 3e-3, epochs: 2, batchSize: 17, validationFraction: 1 / 3, patience: 1, split: 'pairs', epochMode: 'passes', rollback: true },
        ensemble: { size: 4, aggregation: 'min' },
      },
      evaluation: { bonN: [3, 1, 1e3], repeats: 9, protocol: 'independent', heldOutPairs: 0 },
      seeds: [7, -2, 0],
    });
    expect(roundTrip(spec)).toEqual(spec);
  });

  it('carries the kind of a union whose other fields changed', () => {
    const spec = parseSpec({ annotation: { scale: { kind: 'custom', value: 2 } } });
    expect([...specDiff(spec).keys()]).toEqual(['annotation.scale.kind', 'annotation.scale.value']);
    expect(roundTrip(spec).annotation.scale).toEqual({ kind: 'custom', value: 2 });
  });

  it('reads a hand-written link, encoded or not', () => {
    const link = specFromHash('#v=1&annotation.beta=3&model.objective=bt-mlp&model.hidden=256%2C128&seeds=1,2');
    expect(link.kind).toBe('ok');
    if (link.kind !== 'ok') return;
    expect(link.spec.annotation.beta).toBe(3);
    expect(link.spec.model.objective).toBe('bt-mlp');
    expect(link.spec.model.hidden).toEqual([256, 128]);
    expect(link.spec.seeds).toEqual([1, 2]);
    expect(link.spec.annotation.budget).toBe(defaultSpec().annotation.budget);
  });

  it('says there is no spec when the hash has no version marker', () => {
    expect(specFromHash('')).toEqual({ kind: 'none' });
    expect(specFromHash('#results')).toEqual({ kind: 'none' });
  });

  it('keeps the usable fields of a link and reports the others by field', () => {
    const link = specFromHash('#v=1&annotation.beta=abc&annotation.budget=0&model.objective=svm&model.hidden=64,x&seeds=3');
    expect(link.kind).toBe('partial');
    if (link.kind !== 'partial') return;
    expect(link.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['annotation.beta', 'annotation.budget', 'model.objective', 'model.hidden.1']));
    expect(link.issues.find((i) => i.path === 'annotation.budget')?.message).toBe('budget must be at least 1');
    const paper = defaultSpec();
    expect(link.spec.seeds).toEqual([3]);
    expect(link.spec.annotation.beta).toBe(paper.annotation.beta);
    expect(link.spec.annotation.budget).toBe(paper.annotation.budget);
    expect(link.spec.model.objective).toBe(paper.model.objective);
    expect(link.spec.model.hidden).toEqual(paper.model.hidden);
  });

  it('ignores unknown fields, conflicting fields and prototype keys, saying so', () => {
    const unknown = specFromHash('#v=1&annotation.betta=3&annotation.beta=2');
    expect(unknown).toMatchObject({ kind: 'partial', issues: [{ path: 'annotation.betta', message: 'not a spec field' }] });
    if (unknown.kind === 'partial') expect(unknown.spec.annotation.beta).toBe(2);
    expect(specFromHash('#v=1&annotation=3&annotation.beta=1').kind).toBe('partial');
    const polluted = specFromHash('#v=1&__proto__.polluted=1&annotation.constructor=1');
    expect(polluted.kind).toBe('partial');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a link of another format version', () => {
    expect(specFromHash('#v=2&annotation.beta=3')).toEqual({
      kind: 'invalid',
      issues: [{ path: 'v', message: 'unknown link format v=2 (this app reads v=1)' }],
    });
  });
});
