/**
 * Test-split evaluation metrics (method.md §5). Pure functions over prompt-major flat arrays:
 * `scores[p * L + j]` is the model's score and `rewards[p * L + j]` the golden reward of
 * response j of test prompt p.
 *
 * Conventions shared by every "pick":
 * - Ties in model score go to the first response in subset order (for full-prompt picks, the
 *   lowest response index). Strict `>` in the running argmax gives exactly this, and it keeps
 *   the nested best-of-N consistent with a pick recomputed from scratch on the same prefix.
 * - A NaN score ranks below every number, so a diverged model never wins a pick by accident;
 *   if all candidates are NaN the first one is picked.
 * - Golden rewards are assumed finite.
 */
import type { Rng } from './rng.ts';

export interface MeanStd {
  mean: number;
  /** Population std (divide by n); 0 when fewer than two values. */
  std: number;
}

/** Mean and population std of the non-NaN values; mean is NaN when there are none. */
export function meanStd(values: ArrayLike<number>): MeanStd {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
  }
  if (n === 0) return { mean: NaN, std: 0 };
  const mean = sum / n;
  if (n === 1) return { mean, std: 0 };
  // Two passes: the one-pass formula loses precision when values sit far from zero, as
  // golden rewards often do.
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    ss += (v - mean) * (v - mean);
  }
  return { mean, std: Math.sqrt(ss / n) };
}

function checkSplit(scores: ArrayLike<number>, rewards: ArrayLike<number>, prompts: number, L: number): void {
  if (!Number.isInteger(prompts) || prompts < 0 || !Number.isInteger(L) || L < 1) {
    throw new RangeError(`invalid split shape ${prompts} x ${L}`);
  }
  if (scores.length !== prompts * L || rewards.length !== prompts * L) {
    throw new RangeError(
      `expected ${prompts} x ${L} = ${prompts * L} values, got scores ${scores.length}, rewards ${rewards.length}`,
    );
  }
}

/** Index (within the prompt) of the highest-scoring response; ties to the lowest index. */
function argmaxScore(scores: ArrayLike<number>, base: number, L: number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let j = 0; j < L; j++) {
    const s = scores[base + j];
    if (s > bestScore) {
      bestScore = s;
      best = j;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Best-of-N

export type BonProtocol = 'nested' | 'independent';

export interface BonCurve {
  /** The N grid actually used. */
  n: number[];
  /** Per N: mean over repeats of the mean (over prompts) golden reward of the model's pick. */
  mean: number[];
  /** Per N: population std over repeats of that quantity. */
  std: number[];
  /** Per N: same with the pick = argmax golden reward, mean over repeats. */
  oracle: number[];
  /** Per N: expected golden reward of a uniformly random pick from the subset, mean over repeats. */
  random: number[];
}

/** Golden reward of the model pick, oracle pick and random pick, each averaged over prompts. */
export interface BonPoint {
  model: number;
  oracle: number;
  random: number;
}

/**
 * The N grid a protocol evaluates: integers, capped at L, deduplicated, ascending. The
 * independent protocol (active-learning paper) starts at N = 5; its filter applies to the
 * requested values, so with L < 5 a requested N >= 5 still yields N = L.
 */
export function bonGrid(grid: readonly number[], L: number, protocol: BonProtocol): number[] {
  const minN = protocol === 'independent' ? 5 : 1;
  const out = new Set<number>();
  for (const g of grid) {
    if (!Number.isInteger(g) || g < minN) continue;
    out.add(Math.min(g, L));
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Nested best-of-N for one permutation shared by all prompts: the subset of size N is the
 * first N entries of `perm`. One running argmax per prompt along the permutation serves every
 * N at once, so the cost is prompts × max(ns) rather than prompts × Σ ns.
 * `ns` must be ascending integers in [1, perm.length].
 */
export function bonForPermutation(
  scores: Float32Array,
  rewards: Float32Array,
  prompts: number,
  L: number,
  perm: ArrayLike<number>,
  ns: readonly number[],
): BonPoint[] {
  return nestedBon(scores, rewards, prompts, L, [perm], ns)[0];
}

/**
 * `bonForPermutation` for several permutations at once, prompt by prompt: a prompt's scores and
 * rewards stay in the nearest cache while every permutation walks them (1.2–1.3× faster than a
 * pass over the whole test split per permutation, at 2,000 × 500 and 100 repeats; what remains is
 * the running sums' chain of dependent additions). Each sum adds the prompts in order, so every
 * permutation's points are those it gets alone.
 */
export function nestedBon(
  scores: Float32Array,
  rewards: Float32Array,
  prompts: number,
  L: number,
  perms: readonly ArrayLike<number>[],
  ns: readonly number[],
): BonPoint[][] {
  checkSplit(scores, rewards, prompts, L);
  const G = ns.length;
  const R = perms.length;
  for (const perm of perms) {
    for (let g = 0; g < G; g++) {
      if (!Number.isInteger(ns[g]) || ns[g] < 1 || ns[g] > perm.length || (g > 0 && ns[g] <= ns[g - 1])) {
        throw new RangeError(`N grid must be ascending integers in [1, ${perm.length}], got [${ns.join(', ')}]`);
      }
    }
  }
  // Sums by (repeat, grid point).
  const model = new Float64Array(R * G);
  const oracle = new Float64Array(R * G);
  const random = new Float64Array(R * G);
  for (let p = 0; p < prompts && G > 0; p++) {
    const base = p * L;
    for (let r = 0; r < R; r++) {
      const perm = perms[r];
      let bestScore = -Infinity;
      let bestReward = rewards[base + perm[0]];
      let maxReward = -Infinity;
      let sum = 0;
      let k = 0;
      for (let g = 0; g < G; g++) {
        const end = ns[g];
        for (; k < end; k++) {
          const idx = base + perm[k];
          const s = scores[idx];
          const reward = rewards[idx];
          if (s > bestScore) {
            bestScore = s;
            bestReward = reward;
          }
          if (reward > maxReward) maxReward = reward;
          sum += reward;
        }
        model[r * G + g] += bestReward;
        oracle[r * G + g] += maxReward;
        random[r * G + g] += sum / end;
      }
    }
  }
  return perms.map((_, r) =>
    ns.map((__, g) => ({ model: model[r * G + g] / prompts, oracle: oracle[r * G + g] / prompts, random: random[r * G + g] / prompts })),
  );
}

/** Best-of-N for one explicit subset (response indices, in tie-breaking order) shared by all prompts. */
export function bonForSubset(
  scores: Float32Array,
  rewards: Float32Array,
  prompts: number,
  L: number,
  subset: ArrayLike<number>,
): BonPoint {
  if (subset.length < 1) throw new RangeError('best-of-N needs a non-empty subset');
  return bonForPermutation(scores, rewards, prompts, L, subset, [subset.length])[0];
}

/**
 * Best-of-N curve over `repeats` random draws (method.md §5).
 * - 'nested' (paper 1): per repeat one random permutation of the L responses, shared by all
 *   prompts; the subset of size N is its first N entries.
 * - 'independent' (active-learning paper): per repeat and per N an independent random subset
 *   of size N, shared by all prompts; grid values below 5 are dropped.
 * Each repeat (and, for 'independent', each N) draws from its own labelled fork, so a
 * repeat's subsets do not depend on the repeat count or on the rest of the grid.
 */
export function bestOfN(
  scores: Float32Array,
  rewards: Float32Array,
  prompts: number,
  L: number,
  grid: readonly number[],
  repeats: number,
  protocol: BonProtocol,
  rng: Rng,
): BonCurve {
  checkSplit(scores, rewards, prompts, L);
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be a positive integer, got ${repeats}`);
  const ns = bonGrid(grid, L, protocol);
  const G = ns.length;
  const model = ns.map(() => new Float64Array(repeats));
  const oracle = ns.map(() => new Float64Array(repeats));
  const random = ns.map(() => new Float64Array(repeats));
  const stream = rng.fork(`bon:${protocol}`);
  // Points by repeat, then grid point.
  const points =
    protocol === 'nested'
      ? nestedBon(scores, rewards, prompts, L, Array.from({ length: repeats }, (_, r) => stream.fork(r).permutation(L)), ns)
      : Array.from({ length: repeats }, (_, r) =>
          ns.map((n) => bonForSubset(scores, rewards, prompts, L, stream.fork(r).fork(n).sample(L, n))),
        );
  points.forEach((repeat, r) =>
    repeat.forEach((point, g) => {
      model[g][r] = point.model;
      oracle[g][r] = point.oracle;
      random[g][r] = point.random;
    }),
  );
  const curve: BonCurve = { n: ns, mean: [], std: [], oracle: [], random: [] };
  for (let g = 0; g < G; g++) {
    const m = meanStd(model[g]);
    curve.mean.push(m.mean);
    curve.std.push(m.std);
    curve.oracle.push(meanStd(oracle[g]).mean);
    curve.random.push(meanStd(random[g]).mean);
  }
  return curve;
}

/**
 * The headline BoN-L improvement: golden reward of the argmax-score pick over all L responses
 * minus the base policy's mean golden reward, each averaged over prompts. No randomness: at
 * N = L every permutation gives the same subset, and ties go to the lowest index.
 */
export function bonImprovement(
  scores: Float32Array,
  rewards: Float32Array,
  prompts: number,
  L: number,
): { base: number; best: number; improvement: number } {
  checkSplit(scores, rewards, prompts, L);
  let base = 0;
  let best = 0;
  for (let p = 0; p < prompts; p++) {
    const off = p * L;
    let sum = 0;
    for (let j = 0; j < L; j++) sum += rewards[off + j];
    base += sum / L;
    best += rewards[off + argmaxScore(scores, off, L)];
  }
  base /= prompts;
  best /= prompts;
  return { base, best, improvement: best - base };
}

// ---------------------------------------------------------------------------------------------
// Rank correlation

/** 1-based ranks, ties given the average of the ranks they span. */
function averageRanks(values: Float64Array): Float64Array {
  const n = values.length;
  const order = ascendingOrder(values);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]] === values[order[i]]) j++;
    const rank = (i + j + 1) / 2; // mean of the 1-based ranks i+1 .. j
    for (let k = i; k < j; k++) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * The indices of `values` (no NaN) in ascending order of value, equal values in index order.
 * Values that are all float32 (scores and rewards are) sort as numbers whose high bits are the
 * value's order-preserving bit pattern and whose low bits are the index: the engine's own
 * numeric sort, 3–4× faster than a comparator at 500 values, in exactly the same order.
 */
function ascendingOrder(values: Float64Array): Int32Array {
  const n = values.length;
  const order = new Int32Array(n);
  const indexBits = Math.max(1, Math.ceil(Math.log2(n)));
  let float32 = indexBits <= 21; // 32 value bits + index bits must stay exact in a double
  for (let i = 0; i < n && float32; i++) float32 = Math.fround(values[i]) === values[i];
  if (!float32) {
    for (let i = 0; i < n; i++) order[i] = i;
    // A comparison rather than subtraction: -Infinity - -Infinity is NaN, which breaks sort.
    return order.sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
  }
  const scale = 2 ** indexBits;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    f32[0] = values[i];
    const bits = f32Bits[0];
    // Negative floats order by inverted bits, positive ones above all of them (-0 just below +0,
    // which compare equal and so still form one tie).
    const ordered = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
    keys[i] = ordered * scale + i;
  }
  keys.sort();
  for (let i = 0; i < n; i++) order[i] = keys[i] % scale;
  return order;
}

/**
 * Spearman rank correlation: average ranks for ties, then Pearson on the ranks. Pairs with a
 * NaN on either side are dropped. NaN when fewer than two pairs remain or either side is
 * constant (the correlation is undefined there, and the mean over prompts drops it).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths differ (${a.length} vs ${b.length})`);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]) && !Number.isNaN(b[i])) n++;
  if (n < 2) return NaN;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0, k = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) continue;
    x[k] = a[i];
    y[k] = b[i];
    k++;
  }
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  // Both rank vectors have mean (n + 1) / 2 exactly, and a constant side gives ranks all equal
  // to it, so the zero-variance test below is exact.
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i] - mean;
    const dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman between model scores and golden rewards within each prompt; NaN where undefined. */
export function perPromptSpearman(
  scores: Float32Array,
  rewards: Float32Array,
  prompts: number,
  L: number,
): Float64Array {
  checkSplit(scores, rewards, prompts, L);
  const out = new Float64Array(prompts);
  for (let p = 0; p < prompts; p++) {
    out[p] = spearman(scores.subarray(p * L, (p + 1) * L), rewards.subarray(p * L, (p + 1) * L));
  }
  return out;
}

export interface SpearmanSummary {
  /** Mean over prompts with a defined correlation; NaN when none. */
  mean: number;
  /** Median over the same prompts; NaN when none. */
  median: number;
  /** How many prompts have a defined correlation. */
  valid: number;
  /** Every prompt's value, null where undefined, so the summary survives JSON. */
  perPrompt: (number | null)[];
}

export function summarizeSpearman(perPrompt: Float64Array): SpearmanSummary {
  const valid: number[] = [];
  const out: (number | null)[] = [];
  for (let i = 0; i < perPrompt.length; i++) {
    const v = perPrompt[i];
    if (Number.isNaN(v)) {
      out.push(null);
    } else {
      out.push(v);
      valid.push(v);
    }
  }
  const mean = meanStd(valid).mean;
  let median = NaN;
  if (valid.length > 0) {
    const sorted = [...valid].sort((x, y) => x - y);
    const mid = sorted.length >> 1;
    median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
  return { mean, median, valid: valid.length, perPrompt: out };
}

// ---------------------------------------------------------------------------------------------
// Pick quantiles, pairwise accuracy, histograms

/**
 * Per prompt, the quantile of the argmax-score pick among the prompt's golden rewards: the
 * fraction of its L responses with golden reward <= the pick's (so the best response has 1).
 */
export function pickQuantiles(
  scores: Float32Array,
  rewards: Float32Array,
  prompts: number,
  L: number,
): Float64Array {
  checkSplit(scores, rewards, prompts, L);
  const out = new Float64Array(prompts);
  for (let p = 0; p < prompts; p++) {
    const off = p * L;
    const picked = rewards[off + argmaxScore(scores, off, L)];
    let count = 0;
    for (let j = 0; j < L; j++) if (rewards[off + j] <= picked) count++;
    out[p] = count / L;
  }
  return out;
}

/**
 * Fraction of prompts whose pick lands strictly above the median (quantile > 0.5), over the
 * prompts with a defined quantile. The original code's "binary accuracy" counted the opposite
 * (bottom-half picks, a failure rate); this is the honestly named success rate.
 */
export function topHalfRate(quantiles: Float64Array): number {
  let n = 0;
  let top = 0;
  for (let i = 0; i < quantiles.length; i++) {
    const q = quantiles[i];
    if (Number.isNaN(q)) continue;
    n++;
    if (q > 0.5) top++;
  }
  return n === 0 ? NaN : top / n;
}

/**
 * Fraction of held-out pairs the model orders like the label: credit 1 when
 * (scoreA > scoreB) agrees with aPreferred (nonzero = a preferred), 0 when it disagrees, and
 * 1/2 for a score tie (or a NaN score), since a tie expresses no preference. NaN for no pairs.
 */
export function pairwiseAccuracy(scoreA: Float32Array, scoreB: Float32Array, aPreferred: Uint8Array): number {
  const n = scoreA.length;
  if (scoreB.length !== n || aPreferred.length !== n) {
    throw new RangeError(`pairwiseAccuracy: lengths differ (${n}, ${scoreB.length}, ${aPreferred.length})`);
  }
  if (n === 0) return NaN;
  let credit = 0;
  for (let i = 0; i < n; i++) {
    const a = scoreA[i];
    const b = scoreB[i];
    if (a > b) credit += aPreferred[i] !== 0 ? 1 : 0;
    else if (a < b) credit += aPreferred[i] !== 0 ? 0 : 1;
    else credit += 0.5;
  }
  return credit / n;
}

/**
 * Equal-width histogram on [lo, hi] with `bins` bins (edges has bins + 1 entries). Values
 * outside the range are clamped into the first or last bin so that nothing silently vanishes
 * from a distribution plot; NaN is skipped. The last bin is closed on the right.
 */
export function histogram(
  values: ArrayLike<number>,
  bins: number,
  lo: number,
  hi: number,
): { edges: number[]; counts: number[] } {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new RangeError(`invalid range [${lo}, ${hi}]`);
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) edges.push(i === bins ? hi : lo + ((hi - lo) * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    let b = Math.floor((v - lo) * scale);
    if (b < 0) b = 0;
    else if (b >= bins) b = bins - 1;
    counts[b]++;
  }
  return { edges, counts };
}
