import type { Split } from './dataset.ts';
import { drawLabel, errorProbability, type ResolvedScale } from './labeler.ts';
import { selectPairs } from './pairing.ts';
import type { Rng } from './rng.ts';
import type { AnnotationSpec } from './spec.ts';

/** Annotated pairs over one split: rows a[i], b[i] and whether the annotator preferred a. */
export interface Annotations {
  a: Int32Array;
  b: Int32Array;
  aPreferred: Uint8Array;
}

export interface AnnotationStats {
  pairs: number;
  promptsUsed: number;
  scale: ResolvedScale;
  /** Fraction of labels that contradict the golden order (pairs with tied rewards excluded). */
  labelErrorRate: number;
  /** The labeler's error probability averaged over the drawn pairs (no Bernoulli noise). */
  expectedLabelErrorRate: number;
  /** Mean |r_a − r_b| over the annotated pairs (paper target T6). */
  meanAbsRewardGap: number;
}

export function labelPairs(
  split: Split,
  a: Int32Array,
  b: Int32Array,
  beta: number,
  scale: number,
  rng: Rng,
): Annotations {
  const aPreferred = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    aPreferred[i] = drawLabel(split.rewards[a[i]] - split.rewards[b[i]], beta, scale, rng) ? 1 : 0;
  }
  return { a, b, aPreferred };
}

export function annotate(
  split: Split,
  spec: AnnotationSpec,
  scale: ResolvedScale,
  rng: Rng,
): { annotations: Annotations; stats: AnnotationStats } {
  const { a, b, promptsUsed } = selectPairs(split, spec.pairing, spec.budget, rng.fork('pairing'));
  const annotations = labelPairs(split, a, b, spec.beta, scale.value, rng.fork('labels'));
  return { annotations, stats: { ...annotationStats(split, annotations, spec.beta, scale), promptsUsed } };
}

export function annotationStats(
  split: Split,
  ann: Annotations,
  beta: number,
  scale: ResolvedScale,
): Omit<AnnotationStats, 'promptsUsed'> {
  let errors = 0;
  let ordered = 0;
  let expected = 0;
  let gap = 0;
  for (let i = 0; i < ann.a.length; i++) {
    const d = split.rewards[ann.a[i]] - split.rewards[ann.b[i]];
    gap += Math.abs(d);
    expected += errorProbability(d, beta, scale.value);
    if (d !== 0) {
      ordered++;
      if ((d > 0) !== (ann.aPreferred[i] === 1)) errors++;
    }
  }
  const n = ann.a.length;
  return {
    pairs: n,
    scale,
    labelErrorRate: ordered === 0 ? 0 : errors / ordered,
    expectedLabelErrorRate: n === 0 ? 0 : expected / n,
    meanAbsRewardGap: n === 0 ? 0 : gap / n,
  };
}
