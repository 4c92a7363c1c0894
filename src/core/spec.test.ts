import { describe, expect, it } from 'vitest';
import { PRESETS } from './presets.ts';
import { defaultSpec, deviationsOf, parseSpec, safeParseSpec, SpecError } from './spec.ts';

describe('ExperimentSpec', () => {
  it('defaults to the paper\'s settings', () => {
    const s = defaultSpec();
    expect(s.annotation).toEqual({
      beta: 10,
      scale: { kind: 'task' },
      budget: 10_000,
      pairing: { candidates: 'random', scope: 'same-prompt', convention: 'one-per-prompt', pairsPerPrompt: 10, orderFlip: false },
    });
    expect(s.model).toEqual({
      objective: 'bt-mlp',
      hidden: [1024, 512],
      init: 'pytorch',
      training: { lr: 1e-3, epochs: 30, batchSize: 10_240, validationFraction: 0.2, patience: 3, split: 'rows', epochMode: 'random-subsets', rollback: false },
      gbdt: { trees: 100, leaves: 31, learningRate: 0.1, minDataInLeaf: 20, minSumHessianInLeaf: 1e-3, lambdaL2: 0, maxBin: 255, binSampleCount: 200_000 },
      ensemble: { size: 1, aggregation: 'mean' },
    });
    expect(s.evaluation.bonN).toEqual([1, 2, 5, 10, 30, 50, 100, 300, 500]);
    expect(s.evaluation.repeats).toBe(100);
    expect(s.seeds).toHaveLength(5);
    expect(deviationsOf(s)).toEqual([]);
  });

  it('survives a JSON round trip unchanged', () => {
    const s = PRESETS['quick-demo']();
    expect(parseSpec(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('names the field and what was expected', () => {
    const r = safeParseSpec({ annotation: { beta: 'high', budget: -5 }, model: { objective: 'svm' }, seeds: [] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.issues.map((i) => [i.path, i.message]));
    expect(byPath['annotation.beta']).toMatch(/expected number/);
    expect(byPath['annotation.budget']).toMatch(/budget must be at least 1/);
    expect(byPath['model.objective']).toMatch(/bt-mlp.*clf-mlp/);
    expect(byPath.seeds).toMatch(/at least one seed/);
  });

  it('rejects unknown keys so a typo never falls back to a default', () => {
    expect(() => parseSpec({ model: { trainng: { epochs: 3 } } })).toThrow(SpecError);
    expect(() => parseSpec({ model: { training: { epocs: 3 } } })).toThrow(/model\.training: Unrecognized key: "epocs"/);
  });

  it('rejects β = 0 (no information) but allows β < 0 (perfect annotator)', () => {
    expect(safeParseSpec({ annotation: { beta: 0 } }).ok).toBe(false);
    expect(parseSpec({ annotation: { beta: -1 } }).annotation.beta).toBe(-1);
  });

  it('lists each corrected option in effect as a named deviation', () => {
    const s = parseSpec({ model: { training: { split: 'pairs', epochMode: 'passes', rollback: true }, ensemble: { size: 3 } } });
    const names = deviationsOf(s).map((d) => d.split(':')[0]);
    expect(names).toEqual(['split-by-pair', 'true-epochs', 'rollback', 'real-ensemble']);
  });
});
