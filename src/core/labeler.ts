import type { DatasetInfo } from './dataset.ts';
import type { Rng } from './rng.ts';
import type { ScaleSpec } from './spec.ts';

/**
 * The simulated annotator of method.md §2: prefers a over b with probability
 * σ(β · (r_a − r_b) / s); β < 0 is a perfect annotator.
 */

export interface ResolvedScale {
  kind: ScaleSpec['kind'];
  value: number;
}

export class ScaleError extends Error {}

export function resolveScale(scale: ScaleSpec, info: DatasetInfo, trainRewards: Float32Array): ResolvedScale {
  switch (scale.kind) {
    case 'custom':
      return { kind: 'custom', value: scale.value };
    case 'std':
      return { kind: 'std', value: standardDeviation(trainRewards) };
    case 'task':
      if (info.taskScale === null) {
        throw new ScaleError(
          `dataset "${info.id}" has no known task, so it has no per-task reward scale; choose scale "std" or "custom"`,
        );
      }
      return { kind: 'task', value: info.taskScale };
  }
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** P(annotator prefers a) for a reward gap r_a − r_b. */
export function preferenceProbability(rewardGap: number, beta: number, scale: number): number {
  if (beta < 0) return rewardGap > 0 ? 1 : rewardGap < 0 ? 0 : 0.5;
  return sigmoid((beta * rewardGap) / scale);
}

/** One Bernoulli label: true when the annotator prefers a. */
export function drawLabel(rewardGap: number, beta: number, scale: number, rng: Rng): boolean {
  return rng.next() < preferenceProbability(rewardGap, beta, scale);
}

/** Probability that the annotator contradicts the golden order (0 for tied rewards, where there is no order). */
export function errorProbability(rewardGap: number, beta: number, scale: number): number {
  if (rewardGap === 0) return 0;
  return preferenceProbability(-Math.abs(rewardGap), beta, scale);
}

/**
 * Q = E[σ(|W|)] with W ~ N(0, variance): the expected agreement of the annotator with the
 * golden order when β·Δr/s is normal (paper-targets T7). Composite Simpson on [0, 12σ];
 * the integrand is smooth, so 4,000 panels give ~1e-12 accuracy.
 */
export function expectedAgreement(variance: number): number {
  if (variance <= 0) return 0.5;
  const sd = Math.sqrt(variance);
  const hi = 12 * sd;
  const panels = 4000;
  const h = hi / panels;
  const f = (w: number) => sigmoid(w) * Math.exp((-0.5 * w * w) / variance);
  let acc = f(0) + f(hi);
  for (let i = 1; i < panels; i++) acc += (i % 2 === 1 ? 4 : 2) * f(i * h);
  // Folded normal density: 2 φ(w/σ)/σ on w ≥ 0.
  return ((acc * h) / 3) * (2 / (sd * Math.sqrt(2 * Math.PI)));
}

/**
 * Expected label-error rate of random same-prompt pairs for a given β, averaged exactly over
 * every within-prompt pair of (up to) the first `maxPrompts` prompts — no sampling, so the
 * UI can show it live as β moves.
 */
export function expectedSamePromptError(
  rewards: Float32Array,
  prompts: number,
  k: number,
  beta: number,
  scale: number,
  maxPrompts = 2000,
): number {
  const used = Math.min(prompts, maxPrompts);
  let sum = 0;
  let count = 0;
  for (let p = 0; p < used; p++) {
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        sum += errorProbability(rewards[p * k + i] - rewards[p * k + j], beta, scale);
        count++;
      }
    }
  }
  return count === 0 ? 0 : sum / count;
}

function standardDeviation(values: Float32Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return Math.sqrt(ss / values.length);
}
