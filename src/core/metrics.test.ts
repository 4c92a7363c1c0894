import { describe, it, expect } from 'vitest';
import {
  meanStd,
  bonGrid,
  bonForPermutation,
  bonForSubset,
  nestedBon,
  bestOfN,
  bonImprovement,
  spearman,
  perPromptSpearman,
  summarizeSpearman,
  pickQuantiles,
  topHalfRate,
  pairwiseAccuracy,
  histogram,
} from './metrics.ts';
import { Rng } from './rng.ts';

// 2 prompts × 4 responses. Prompt 1 has a score tie between responses 0 and 2, so the
// tie-breaking rule (first in subset order) is visible in the expected values.
const L = 4;
const SCORES = new Float32Array([0.125, 0.875, 0.5, 0.25, /**/ 2, 1, 2, 0]);
const REWARDS = new Float32Array([1, 2, 4, 3, /**/ 5, 6, 7, 8]);

/** A split whose scores are noisy rewards, with no ties (continuous draws). */
function randomSplit(prompts: number, responses: number, noise: number, seed: number) {
  const rng = Rng.fromSeed(seed);
  const rewards = new Float32Array(prompts * responses);
  const scores = new Float32Array(prompts * responses);
  for (let i = 0; i < rewards.length; i++) {
    rewards[i] = rng.normal();
    scores[i] = rewards[i] + noise * rng.normal();
  }
  return { rewards, scores };
}

describe('meanStd', () => {
  it('uses the population std and ignores NaN', () => {
    const r = meanStd([1, 2, NaN, 3, 4]);
    expect(r.mean).toBe(2.5);
    expect(r.std).toBeCloseTo(Math.sqrt(1.25), 15);
  });
  it('gives std 0 for one value and NaN mean for none', () => {
    expect(meanStd([7])).toEqual({ mean: 7, std: 0 });
    const empty = meanStd([NaN]);
    expect(empty.mean).toBeNaN();
    expect(empty.std).toBe(0);
  });
});

describe('bonGrid', () => {
  it('caps at L, deduplicates and sorts', () => {
    expect(bonGrid([500, 2, 2, 1, 300, 3], 4, 'nested')).toEqual([1, 2, 3, 4]);
    expect(bonGrid([2, 5, 10, 30, 50, 100, 300, 500], 500, 'nested')).toEqual([2, 5, 10, 30, 50, 100, 300, 500]);
  });
  it('drops values below 5 and non-integers for the independent protocol', () => {
    expect(bonGrid([2, 5, 10, 30, 50, 100, 300, 500], 100, 'independent')).toEqual([5, 10, 30, 50, 100]);
    expect(bonGrid([1, 2, 4, 0, -3, 2.5], 100, 'independent')).toEqual([]);
    expect(bonGrid([2, 5, 10], 4, 'independent')).toEqual([4]);
  });
});

describe('bonForPermutation (hand-computed)', () => {
  it('records the running pick at each N along the permutation', () => {
    // perm [2, 0, 3, 1]:
    // prompt 0: scores .5,.125,.25,.875 / rewards 4,1,3,2 -> model 4,4,4,2; oracle 4,4,4,4; random 4,2.5,8/3,2.5
    // prompt 1: scores 2,2,0,1 / rewards 7,5,8,6 -> the tie keeps 7 (first in subset order);
    //           model 7,7,7,7; oracle 7,7,8,8; random 7,6,20/3,6.5
    const pts = bonForPermutation(SCORES, REWARDS, 2, L, [2, 0, 3, 1], [1, 2, 3, 4]);
    expect(pts.map((p) => p.model)).toEqual([5.5, 5.5, 5.5, 4.5]);
    expect(pts.map((p) => p.oracle)).toEqual([5.5, 5.5, 6, 6]);
    const rand = pts.map((p) => p.random);
    expect(rand[0]).toBe(5.5);
    expect(rand[1]).toBe(4.25);
    expect(rand[2]).toBeCloseTo(14 / 3, 14);
    expect(rand[3]).toBe(4.5);
  });
  it('resolves ties by subset order, so N = L depends on the permutation only through ties', () => {
    // Identity order: prompt 1's tie goes to response 0 (reward 5) instead of 2 (reward 7).
    const [identity] = bonForPermutation(SCORES, REWARDS, 2, L, [0, 1, 2, 3], [4]);
    expect(identity).toEqual({ model: 3.5, oracle: 6, random: 4.5 });
    const [other] = bonForPermutation(SCORES, REWARDS, 2, L, [3, 1, 0, 2], [4]);
    expect(other.model).toBe(3.5);
  });
  it('only evaluates the requested N values', () => {
    const pts = bonForPermutation(SCORES, REWARDS, 2, L, [2, 0, 3, 1], [3]);
    expect(pts).toHaveLength(1);
    expect(pts[0].model).toBe(5.5);
    expect(pts[0].oracle).toBe(6);
    expect(pts[0].random).toBeCloseTo(14 / 3, 14);
  });
  it('treats a NaN score as lower than any number', () => {
    const scores = new Float32Array([NaN, 1, 0, NaN]);
    const rewards = new Float32Array([10, 1, 2, 3]);
    expect(bonForPermutation(scores, rewards, 1, 4, [0, 1, 2, 3], [1, 2, 4]).map((p) => p.model)).toEqual([10, 1, 1]);
    const allNaN = new Float32Array([NaN, NaN, NaN, NaN]);
    expect(bonForSubset(allNaN, rewards, 1, 4, [2, 0]).model).toBe(2);
  });
  it('rejects a grid that is not ascending or out of range', () => {
    expect(() => bonForPermutation(SCORES, REWARDS, 2, L, [0, 1, 2, 3], [2, 1])).toThrow(RangeError);
    expect(() => bonForPermutation(SCORES, REWARDS, 2, L, [0, 1, 2, 3], [5])).toThrow(RangeError);
    expect(() => bonForPermutation(SCORES, REWARDS, 3, L, [0, 1, 2, 3], [1])).toThrow(RangeError);
  });
});

describe('nestedBon', () => {
  it('gives, for every permutation, exactly what that permutation gives alone (ties and NaN scores included)', () => {
    const rng = new Rng('nested-bon');
    const prompts = 7;
    const L = 12;
    const scores = Float32Array.from({ length: prompts * L }, (_, i) => (i % 11 === 0 ? NaN : Math.round(rng.normal() * 2)));
    const rewards = Float32Array.from({ length: prompts * L }, () => rng.normal());
    const perms = Array.from({ length: 5 }, (_, r) => rng.fork(r).permutation(L));
    const ns = [1, 2, 5, 12];
    const got = nestedBon(scores, rewards, prompts, L, perms, ns);
    expect(got).toEqual(perms.map((perm) => bonForPermutation(scores, rewards, prompts, L, perm, ns)));
    expect(() => nestedBon(scores, rewards, prompts, L, perms, [2, 1])).toThrow(RangeError);
  });
});

describe('bonForSubset (hand-computed)', () => {
  it('picks within the subset only', () => {
    // Subset {3, 1}: prompt 0 picks 1 (score .875, reward 2), prompt 1 picks 1 (score 1, reward 6).
    expect(bonForSubset(SCORES, REWARDS, 2, L, [3, 1])).toEqual({ model: 4, oracle: 5.5, random: 4.75 });
    // Subset order breaks prompt 1's tie: [0, 2] keeps 0 (reward 5), [2, 0] keeps 2 (reward 7).
    expect(bonForSubset(SCORES, REWARDS, 2, L, [0, 2]).model).toBe((4 + 5) / 2);
    expect(bonForSubset(SCORES, REWARDS, 2, L, [2, 0]).model).toBe((4 + 7) / 2);
  });
});

describe('bestOfN', () => {
  const M = 40;
  const R = 50;
  const { scores, rewards } = randomSplit(M, R, 1, 1);
  const grid = [1, 2, 5, 10, 30, 50, 100];

  it('is deterministic for a seed and changes with it', () => {
    for (const protocol of ['nested', 'independent'] as const) {
      const a = bestOfN(scores, rewards, M, R, grid, 20, protocol, Rng.fromSeed(3));
      const b = bestOfN(scores, rewards, M, R, grid, 20, protocol, Rng.fromSeed(3));
      const c = bestOfN(scores, rewards, M, R, grid, 20, protocol, Rng.fromSeed(4));
      expect(a).toEqual(b);
      expect(c.mean).not.toEqual(a.mean);
    }
  });

  it('does not depend on the state of the stream it is given', () => {
    const fresh = Rng.fromSeed(3);
    const used = Rng.fromSeed(3);
    used.next();
    used.permutation(10);
    expect(bestOfN(scores, rewards, M, R, grid, 5, 'nested', used)).toEqual(
      bestOfN(scores, rewards, M, R, grid, 5, 'nested', fresh),
    );
  });

  it('keeps earlier repeats when more repeats are asked for', () => {
    // Repeat r draws from its own fork, so a 1-repeat run's value x1 is also the first repeat
    // of a 2-repeat run; the latter's mean and std then determine x2 and must agree.
    const one = bestOfN(scores, rewards, M, R, [1], 1, 'nested', Rng.fromSeed(9));
    const two = bestOfN(scores, rewards, M, R, [1], 2, 'nested', Rng.fromSeed(9));
    // mean of two = (first + second) / 2, std = |first - second| / 2.
    const second = 2 * two.mean[0] - one.mean[0];
    expect(two.std[0]).toBeCloseTo(Math.abs(one.mean[0] - second) / 2, 12);
  });

  it('matches the full-split pick at N = L and is a random pick at N = 1', () => {
    const curve = bestOfN(scores, rewards, M, R, grid, 30, 'nested', Rng.fromSeed(0));
    expect(curve.n).toEqual([1, 2, 5, 10, 30, 50]);
    const last = curve.n.length - 1;
    const imp = bonImprovement(scores, rewards, M, R);
    // No ties in continuous data: every permutation gives the same picks at N = L.
    expect(curve.mean[last]).toBeCloseTo(imp.best, 12);
    expect(curve.std[last]).toBeLessThan(1e-12);
    expect(curve.random[last]).toBeCloseTo(imp.base, 12);
    let oracle = 0;
    for (let p = 0; p < M; p++) oracle += Math.max(...rewards.subarray(p * R, (p + 1) * R));
    expect(curve.oracle[last]).toBeCloseTo(oracle / M, 12);
    // With one response the model, the oracle and a random pick are the same response.
    expect(curve.mean[0]).toBe(curve.oracle[0]);
    expect(curve.mean[0]).toBeCloseTo(curve.random[0], 12);
  });

  it('orders oracle >= model >= random on informative scores, and the oracle grows with N', () => {
    for (const protocol of ['nested', 'independent'] as const) {
      const curve = bestOfN(scores, rewards, M, R, grid, 30, protocol, Rng.fromSeed(2));
      for (let g = 0; g < curve.n.length; g++) {
        expect(curve.oracle[g]).toBeGreaterThanOrEqual(curve.mean[g] - 1e-12);
        if (curve.n[g] >= 5) expect(curve.mean[g]).toBeGreaterThan(curve.random[g]);
        if (g > 0 && protocol === 'nested') expect(curve.oracle[g]).toBeGreaterThanOrEqual(curve.oracle[g - 1]);
      }
    }
  });

  it('drops N < 5 for the independent protocol and agrees with nested at N = L', () => {
    const ind = bestOfN(scores, rewards, M, R, grid, 10, 'independent', Rng.fromSeed(0));
    const nes = bestOfN(scores, rewards, M, R, grid, 10, 'nested', Rng.fromSeed(0));
    expect(ind.n).toEqual([5, 10, 30, 50]);
    expect(ind.mean[3]).toBeCloseTo(nes.mean[5], 12);
  });

  it('reproduces the hand-computed nested result at N = L including the tie', () => {
    // At N = L only prompt 1's tie depends on the permutation: the pick is response 2 (reward
    // 7) or 0 (reward 5) depending on which comes first, so each repeat gives 4.5 or 3.5.
    const curve = bestOfN(SCORES, REWARDS, 2, L, [1, 2, 4, 10], 200, 'nested', Rng.fromSeed(0));
    expect(curve.n).toEqual([1, 2, 4]);
    expect(curve.oracle[2]).toBe(6);
    expect(curve.random[2]).toBe(4.5);
    expect(curve.mean[2]).toBeGreaterThan(3.5);
    expect(curve.mean[2]).toBeLessThan(4.5);
    // N = 1: model = oracle = random = mean of the first element's rewards.
    expect(curve.mean[0]).toBe(curve.oracle[0]);
    expect(curve.mean[0]).toBe(curve.random[0]);
    // Over many repeats the first element is close to uniform: expectation (2.5 + 6.5) / 2.
    expect(curve.mean[0]).toBeCloseTo(4.5, 0);
  });

  it('validates its inputs', () => {
    expect(() => bestOfN(SCORES, REWARDS, 2, 3, [1], 1, 'nested', Rng.fromSeed(0))).toThrow(RangeError);
    expect(() => bestOfN(SCORES, REWARDS, 2, L, [1], 0, 'nested', Rng.fromSeed(0))).toThrow(RangeError);
  });

  it('runs the published setting (2000 x 500, 100 repeats, 9 N values) fast', () => {
    const big = randomSplit(2000, 500, 1, 5);
    const start = performance.now();
    const curve = bestOfN(big.scores, big.rewards, 2000, 500, [1, 2, 5, 10, 30, 50, 100, 300, 500], 100, 'nested', Rng.fromSeed(0));
    const ms = performance.now() - start;
    expect(curve.n).toHaveLength(9);
    // The target is well under a second; the bound leaves room for a loaded CI machine.
    expect(ms).toBeLessThan(3000);
  });
});

describe('bonImprovement', () => {
  it('compares the argmax pick with the mean response (hand-computed)', () => {
    // base: (2.5 + 6.5) / 2 = 4.5. best: prompt 0 picks response 1 (reward 2), prompt 1's tie
    // between 0 and 2 goes to the lower index 0 (reward 5): (2 + 5) / 2 = 3.5.
    expect(bonImprovement(SCORES, REWARDS, 2, L)).toEqual({ base: 4.5, best: 3.5, improvement: -1 });
  });
  it('is positive for perfect scores', () => {
    const r = bonImprovement(REWARDS, REWARDS, 2, L);
    expect(r).toEqual({ base: 4.5, best: 6, improvement: 1.5 });
  });
});

describe('spearman', () => {
  it('averages tied ranks', () => {
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(0.9486832980505138, 15);
    // ranks [1.5,1.5,3,4] vs [4,3,2,1]: sum d_x d_y = -4.5, var 4.5 and 5 -> -sqrt(0.9).
    expect(spearman([5, 5, 7, 9], [4, 3, 2, 1])).toBeCloseTo(-Math.sqrt(0.9), 15);
    // ranks [1.5,1.5,3.5,3.5] vs [1.5,3.5,1.5,3.5]: uncorrelated.
    expect(spearman([0, 0, 1, 1], [0, 1, 0, 1])).toBe(0);
  });
  it('is invariant to monotone transforms and gives ±1 for (anti)monotone pairs', () => {
    expect(spearman([1, 10, 100, 1000], [0.1, 0.2, 0.3, 0.4])).toBe(1);
    expect(spearman([3, 2, 1], [1, 2, 3])).toBe(-1);
    expect(spearman([-Infinity, 0, Infinity], [1, 2, 3])).toBe(1);
  });
  it('is NaN for a constant side or fewer than two pairs, and drops NaN pairs', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(spearman([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(spearman([1], [2])).toBeNaN();
    expect(spearman([], [])).toBeNaN();
    expect(spearman([1, NaN, 2, 3], [1, 5, 2, 3])).toBe(1);
    expect(() => spearman([1, 2], [1])).toThrow(RangeError);
  });
});

describe('spearman on float32 values (the sorted-key path)', () => {
  /** Average ranks by a plain comparator sort: the reference the fast path must match bit for bit. */
  function referenceSpearman(a: number[], b: number[]): number {
    const ranks = (v: number[]) => {
      const order = v.map((_, i) => i).sort((i, j) => (v[i] < v[j] ? -1 : v[i] > v[j] ? 1 : i - j));
      const r = new Array<number>(v.length);
      for (let i = 0; i < v.length; ) {
        let j = i + 1;
        while (j < v.length && v[order[j]] === v[order[i]]) j++;
        for (let k = i; k < j; k++) r[order[k]] = (i + j + 1) / 2;
        i = j;
      }
      return r;
    };
    const [ra, rb] = [ranks(a), ranks(b)];
    const m = (a.length + 1) / 2;
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < a.length; i++) {
      sxy += (ra[i] - m) * (rb[i] - m);
      sxx += (ra[i] - m) ** 2;
      syy += (rb[i] - m) ** 2;
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  it('equals the comparator ranking exactly, with ties, ±0 and ±Infinity', () => {
    const rng = new Rng('spearman-keys');
    const special = [0, -0, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38];
    for (let trial = 0; trial < 20; trial++) {
      const n = 2 + trial * 37;
      // Coarse values make many ties; every third trial mixes in the special values.
      const a = Array.from({ length: n }, (_, i) => (trial % 3 === 0 && i % 5 === 0 ? special[i % special.length] : Math.fround(Math.round(rng.normal() * 4) / 4)));
      const b = Array.from({ length: n }, () => Math.fround(rng.normal()));
      const [fa, fb] = [Float32Array.from(a), Float32Array.from(b)];
      expect(spearman(fa, fb)).toBe(referenceSpearman(Array.from(fa), Array.from(fb)));
    }
  });

  it('falls back to the comparator for values a float32 cannot hold, with the same answer', () => {
    const a = [0.1, 0.2, 0.2, 0.30000000000000004, -1e-300];
    const b = [5, 4, 3, 2, 1];
    expect(spearman(a, b)).toBe(referenceSpearman(a, b));
  });
});

describe('perPromptSpearman and summarizeSpearman', () => {
  it('computes one value per prompt and summarises the defined ones', () => {
    const scores = new Float32Array([1, 2, 2, 3, /**/ 0, 0, 0, 0, /**/ 4, 3, 2, 1]);
    const rewards = new Float32Array([1, 2, 3, 4, /**/ 1, 2, 3, 4, /**/ 1, 2, 3, 4]);
    const per = perPromptSpearman(scores, rewards, 3, 4);
    expect(per[0]).toBeCloseTo(0.9486832980505138, 6);
    expect(per[1]).toBeNaN();
    expect(per[2]).toBe(-1);
    const s = summarizeSpearman(per);
    expect(s.valid).toBe(2);
    expect(s.mean).toBeCloseTo((per[0] - 1) / 2, 15);
    expect(s.median).toBeCloseTo((per[0] - 1) / 2, 15);
    expect(s.perPrompt).toEqual([per[0], null, -1]);
    expect(JSON.parse(JSON.stringify(s)).perPrompt).toEqual([per[0], null, -1]);
  });
  it('takes the middle value for an odd count and NaN when nothing is defined', () => {
    expect(summarizeSpearman(new Float64Array([0.9, NaN, 0.1, 0.5])).median).toBe(0.5);
    const none = summarizeSpearman(new Float64Array([NaN, NaN]));
    expect(none.valid).toBe(0);
    expect(none.mean).toBeNaN();
    expect(none.median).toBeNaN();
    expect(none.perPrompt).toEqual([null, null]);
  });
});

describe('pickQuantiles and topHalfRate', () => {
  it('gives the fraction of responses at or below the pick (hand-computed)', () => {
    // Prompt 0 picks reward 2 of {1,2,4,3}: 2 of 4 -> 0.5. Prompt 1 picks reward 5 (tie to the
    // lower index) of {5,6,7,8}: 1 of 4 -> 0.25.
    const q = pickQuantiles(SCORES, REWARDS, 2, L);
    expect([...q]).toEqual([0.5, 0.25]);
    expect(topHalfRate(q)).toBe(0);
  });
  it('counts only strictly-above-median picks as top half', () => {
    const scores = new Float32Array([0, 0, 9, 0, /**/ 9, 0, 0, 0, /**/ 0, 0, 0, 9]);
    const rewards = new Float32Array([1, 2, 3, 4, /**/ 1, 2, 3, 4, /**/ 4, 4, 1, 4]);
    // Picks: reward 3 (3/4), reward 1 (1/4), reward 4 with ties at 4 (4/4).
    const q = pickQuantiles(scores, rewards, 3, 4);
    expect([...q]).toEqual([0.75, 0.25, 1]);
    expect(topHalfRate(q)).toBeCloseTo(2 / 3, 15);
    expect(topHalfRate(new Float64Array([0.5, 0.51, NaN]))).toBe(0.5);
    expect(topHalfRate(new Float64Array([]))).toBeNaN();
  });
});

describe('pairwiseAccuracy', () => {
  it('scores agreement and gives half credit to ties', () => {
    const a = new Float32Array([1, 2, 3, 4, NaN]);
    const b = new Float32Array([0, 3, 3, 1, 0]);
    const pref = new Uint8Array([1, 0, 1, 0, 1]);
    // right, right, tie, wrong, NaN (no preference): (1 + 1 + 0.5 + 0 + 0.5) / 5.
    expect(pairwiseAccuracy(a, b, pref)).toBe(0.6);
    expect(pairwiseAccuracy(a.subarray(0, 4), b.subarray(0, 4), pref.subarray(0, 4))).toBe(0.625);
  });
  it('is NaN for no pairs and rejects mismatched lengths', () => {
    expect(pairwiseAccuracy(new Float32Array(0), new Float32Array(0), new Uint8Array(0))).toBeNaN();
    expect(() => pairwiseAccuracy(new Float32Array(2), new Float32Array(1), new Uint8Array(2))).toThrow(RangeError);
  });
});

describe('histogram', () => {
  it('bins equal-width, clamps out-of-range values and skips NaN', () => {
    const h = histogram([0, 0.1, 0.5, 0.99, 1, 2, -1, NaN, Infinity, -Infinity], 4, 0, 1);
    expect(h.edges).toEqual([0, 0.25, 0.5, 0.75, 1]);
    // 0,0.1,-1,-Inf -> bin 0; 0.5 -> bin 2; 0.99,1,2,Inf -> bin 3.
    expect(h.counts).toEqual([4, 0, 1, 4]);
  });
  it('works on a Spearman range and rejects bad arguments', () => {
    const h = histogram(new Float64Array([-1, -0.5, 0, 0.5, 1]), 2, -1, 1);
    expect(h.counts).toEqual([2, 3]);
    expect(() => histogram([1], 0, 0, 1)).toThrow(RangeError);
    expect(() => histogram([1], 2, 1, 1)).toThrow(RangeError);
  });
});
