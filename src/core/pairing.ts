import type { Split } from './dataset.ts';
import type { Rng } from './rng.ts';
import type { PairingSpec, SpecIssue } from './spec.ts';

/**
 * Which pairs get annotated (method.md §3). Pairs are global train-row indices (a, b).
 * Candidates are defined by *rank* (similar = ranks K/2−1 and K/2, i.e. 4 and 5 of 10;
 * diversified = ranks 0 and K−1); on a rank-sorted split rank r is response r, otherwise
 * ranks are computed from the golden rewards.
 */

export interface PairSelection {
  a: Int32Array;
  b: Int32Array;
  /** Number of distinct anchor prompts the budget used. */
  promptsUsed: number;
}

export class PairingError extends Error {}

/**
 * Why a pairing cannot be drawn from a train split of `prompts` × `k`, as spec issues (empty when
 * it can). The engine refuses to start on any; the app shows them before Run.
 */
export function pairingIssues(pairing: PairingSpec, budget: number, prompts: number, k: number): SpecIssue[] {
  const issues: SpecIssue[] = [];
  if (k < 2) issues.push({ path: 'dataset', message: `pairing needs at least 2 responses per prompt, the train split has ${k}` });
  if (pairing.scope === 'cross-prompt' && prompts < 2) {
    issues.push({ path: 'annotation.pairing.scope', message: 'cross-prompt pairing needs at least 2 train prompts' });
  }
  const perPrompt = pairsPerPrompt(pairing);
  const distinct = pairing.scope === 'cross-prompt' ? Infinity : pairing.candidates === 'random' ? (k * (k - 1)) / 2 : 1;
  if (perPrompt > distinct) {
    issues.push({
      path: 'annotation.pairing.pairsPerPrompt',
      message:
        `${pairing.candidates} same-prompt pairing has only ${distinct} distinct pair(s) per prompt, ` +
        `but pairsPerPrompt is ${perPrompt}; lower pairsPerPrompt or use cross-prompt pairing`,
    });
  }
  const needed = Math.ceil(budget / perPrompt);
  if (needed > prompts) {
    issues.push({
      path: 'annotation.budget',
      message:
        `budget ${fmt(budget)} needs ${fmt(needed)} prompts at ${perPrompt} pair(s) per prompt, ` +
        `but the train split has only ${fmt(prompts)}; lower the budget or use more pairs per prompt`,
    });
  }
  return issues;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function pairsPerPrompt(pairing: PairingSpec): number {
  return pairing.convention === 'one-per-prompt' ? 1 : pairing.pairsPerPrompt;
}

export function selectPairs(split: Split, pairing: PairingSpec, budget: number, rng: Rng): PairSelection {
  const { prompts, responsesPerPrompt: k } = split;
  const issues = pairingIssues(pairing, budget, prompts, k);
  if (issues.length > 0) throw new PairingError(issues.map((i) => i.message).join('; '));
  const perPrompt = pairsPerPrompt(pairing);
  const promptsNeeded = Math.ceil(budget / perPrompt);

  const ranks = new RankLookup(split);
  const candidates = candidateRanks(pairing.candidates, k);
  const anchors = rng.fork('anchors').sample(prompts, promptsNeeded);
  const draw = rng.fork('pairs');
  const a = new Int32Array(budget);
  const b = new Int32Array(budget);
  let filled = 0;
  for (let t = 0; t < promptsNeeded; t++) {
    const p = anchors[t];
    const count = Math.min(perPrompt, budget - filled);
    const seen = new Set<string>();
    for (let m = 0; m < count; m++) {
      let x: number;
      let y: number;
      // Retry until the pair is new for this prompt; bounded because distinct pairs exist (checked above).
      do {
        [x, y] =
          pairing.scope === 'same-prompt'
            ? samePromptPair(p, candidates, ranks, k, draw)
            : crossPromptPair(p, candidates, ranks, prompts, draw);
      } while (perPrompt > 1 && seen.has(pairKey(x, y)));
      seen.add(pairKey(x, y));
      if (pairing.orderFlip && draw.next() < 0.5) [x, y] = [y, x];
      a[filled] = x;
      b[filled] = y;
      filled++;
    }
  }
  return { a, b, promptsUsed: promptsNeeded };
}

/** The ranks eligible as candidates, or null for "any response". */
export function candidateRanks(mode: PairingSpec['candidates'], k: number): [number, number] | null {
  if (mode === 'random') return null;
  if (mode === 'similar') return [Math.floor(k / 2) - 1, Math.floor(k / 2)];
  return [0, k - 1];
}

function samePromptPair(p: number, cands: [number, number] | null, ranks: RankLookup, k: number, rng: Rng): [number, number] {
  if (cands === null) {
    const [i, j] = rng.sample(k, 2);
    return [p * k + i, p * k + j];
  }
  return [ranks.row(p, cands[0]), ranks.row(p, cands[1])];
}

function crossPromptPair(p: number, cands: [number, number] | null, ranks: RankLookup, prompts: number, rng: Rng): [number, number] {
  let q = rng.int(prompts - 1);
  if (q >= p) q++; // uniform over the other prompts
  return [pickCandidate(p, cands, ranks, rng), pickCandidate(q, cands, ranks, rng)];
}

function pickCandidate(p: number, cands: [number, number] | null, ranks: RankLookup, rng: Rng): number {
  if (cands === null) return ranks.row(p, rng.int(ranks.k));
  return ranks.row(p, cands[rng.int(2)]);
}

function pairKey(x: number, y: number): string {
  return x < y ? `${x},${y}` : `${y},${x}`;
}

/** Maps (prompt, rank) to a row; identity on rank-sorted splits. */
class RankLookup {
  readonly k: number;
  private readonly order: Int32Array | null;

  constructor(split: Split) {
    this.k = split.responsesPerPrompt;
    this.order = split.rankSorted ? null : argsortWithinPrompts(split.rewards, split.prompts, this.k);
  }

  row(prompt: number, rank: number): number {
    const k = this.k;
    return prompt * k + (this.order === null ? rank : this.order[prompt * k + rank]);
  }
}

function argsortWithinPrompts(rewards: Float32Array, prompts: number, k: number): Int32Array {
  const order = new Int32Array(prompts * k);
  const idx = Array.from({ length: k }, (_, i) => i);
  for (let p = 0; p < prompts; p++) {
    idx.sort((i, j) => rewards[p * k + i] - rewards[p * k + j] || i - j);
    for (let r = 0; r < k; r++) order[p * k + r] = idx[r];
  }
  return order;
}
