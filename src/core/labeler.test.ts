import { describe, expect, it } from 'vitest';
import { annotationStats, labelPairs } from './annotate.ts';
import { InMemoryEmbeddings, makeSplit, type DatasetInfo } from './dataset.ts';
import { errorProbability, expectedAgreement, expectedSamePromptError, preferenceProbability, resolveScale, ScaleError } from './labeler.ts';
import { Rng } from './rng.ts';

/** A train split of 2-response prompts whose reward gaps are the given values. */
function splitWithGaps(gaps: ArrayLike<number>) {
  const rewards = new Float32Array(gaps.length * 2);
  for (let i = 0; i < gaps.length; i++) rewards[2 * i + 1] = gaps[i];
  return makeSplit(rewards, gaps.length, 2, new InMemoryEmbeddings(new Float32Array(gaps.length * 2), 1));
}

const info: DatasetInfo = { id: 't', description: '', task: 'helpful', synthetic: true, taskScale: 6 };

describe('labeler', () => {
  it('prefers a with probability σ(β Δr / s); β < 0 is perfect', () => {
    expect(preferenceProbability(0, 1, 1)).toBe(0.5);
    expect(preferenceProbability(6, 1, 6)).toBeCloseTo(1 / (1 + Math.exp(-1)), 15);
    expect(preferenceProbability(-3, 2, 1)).toBeCloseTo(1 / (1 + Math.exp(6)), 15);
    expect(preferenceProbability(0.001, -1, 1)).toBe(1);
    expect(preferenceProbability(-0.001, -1, 1)).toBe(0);
    expect(errorProbability(2, 0.5, 1)).toBeCloseTo(1 / (1 + Math.exp(1)), 15);
  });

  it('empirical error rate for fixed reward gaps matches the closed form', () => {
    const beta = 1.5;
    const scale = 2;
    const gapValues = [0.2, -0.7, 1.5, -3, 5];
    const n = 40_000;
    const gaps = Float32Array.from({ length: n * gapValues.length }, (_, i) => gapValues[i % gapValues.length]);
    const split = splitWithGaps(gaps);
    // Pair i compares response 1 (reward gap) with response 0 (reward 0).
    const a = Int32Array.from({ length: gaps.length }, (_, i) => 2 * i + 1);
    const b = Int32Array.from({ length: gaps.length }, (_, i) => 2 * i);
    const labels = labelPairs(split, a, b, beta, scale, new Rng('labels'));
    for (let g = 0; g < gapValues.length; g++) {
      let errors = 0;
      for (let i = g; i < gaps.length; i += gapValues.length) if ((labels.aPreferred[i] === 1) !== gaps[i] > 0) errors++;
      const expected = 1 / (1 + Math.exp((beta * Math.abs(Math.fround(gapValues[g]))) / scale));
      const sd = Math.sqrt((expected * (1 - expected)) / n);
      expect(Math.abs(errors / n - expected)).toBeLessThan(4 * sd);
    }
    const stats = annotationStats(split, labels, beta, { kind: 'custom', value: scale });
    const exact = gapValues.reduce((s, g) => s + errorProbability(Math.fround(g), beta, scale), 0) / gapValues.length;
    expect(stats.expectedLabelErrorRate).toBeCloseTo(exact, 6);
    expect(stats.meanAbsRewardGap).toBeCloseTo(gapValues.reduce((s, g) => s + Math.abs(g), 0) / gapValues.length, 5);
  });

  it('reproduces the paper\'s Q table (T7) in closed form', () => {
    const published: [number, number][] = [[1, 0.6749], [2, 0.7251], [4, 0.7781], [10, 0.8428]];
    for (const [variance, q] of published) expect(expectedAgreement(variance)).toBeCloseTo(q, 3);
  });

  it('reproduces the Q table through the annotation code path (normal reward gaps)', () => {
    // Q = E[σ(|W|)], W ~ N(0, β²σ²): gaps drawn with σ = 1, agreement = 1 − expected label error.
    const rng = new Rng('q-table');
    const gaps = Float32Array.from({ length: 400_000 }, () => rng.normal());
    const split = splitWithGaps(gaps);
    const a = Int32Array.from({ length: gaps.length }, (_, i) => 2 * i + 1);
    const b = Int32Array.from({ length: gaps.length }, (_, i) => 2 * i);
    for (const [variance, q] of [[1, 0.6749], [2, 0.7251], [4, 0.7781], [10, 0.8428]]) {
      const beta = Math.sqrt(variance);
      const labels = labelPairs(split, a, b, beta, 1, rng.fork(variance));
      const stats = annotationStats(split, labels, beta, { kind: 'custom', value: 1 });
      expect(1 - stats.expectedLabelErrorRate).toBeCloseTo(q, 3);
      expect(Math.abs(1 - stats.labelErrorRate - q)).toBeLessThan(0.004); // Bernoulli draws: ±4 sd
    }
  });

  it('resolves the reward scale: task constant, reward std, custom', () => {
    const rewards = Float32Array.from([1, 3, 1, 3]);
    expect(resolveScale({ kind: 'task' }, info, rewards)).toEqual({ kind: 'task', value: 6 });
    expect(resolveScale({ kind: 'std' }, info, rewards)).toEqual({ kind: 'std', value: 1 });
    expect(resolveScale({ kind: 'custom', value: 2.5 }, info, rewards)).toEqual({ kind: 'custom', value: 2.5 });
    expect(() => resolveScale({ kind: 'task' }, { ...info, task: 'unknown', taskScale: null }, rewards)).toThrow(ScaleError);
    expect(() => resolveScale({ kind: 'task' }, { ...info, task: 'unknown', taskScale: null }, rewards)).toThrow(/choose scale "std" or "custom"/);
  });

  it('computes the expected same-prompt error over every within-prompt pair', () => {
    const rewards = Float32Array.from([0, 1, 3]);
    const expected = (errorProbability(1, 2, 1) + errorProbability(3, 2, 1) + errorProbability(2, 2, 1)) / 3;
    expect(expectedSamePromptError(rewards, 1, 3, 2, 1)).toBeCloseTo(expected, 12);
    expect(expectedSamePromptError(rewards, 1, 3, -1, 1)).toBe(0);
  });
});
