import { describe, expect, it } from 'vitest';
import { InMemoryEmbeddings, makeSplit, type Split } from './dataset.ts';
import { PairingError, selectPairs } from './pairing.ts';
import { Rng } from './rng.ts';
import { pairingSchema, type PairingSpec } from './spec.ts';

const K = 10;

/** A rank-sorted split: response j of prompt p has reward p + j / K. */
function sortedSplit(prompts: number): Split {
  const rewards = Float32Array.from({ length: prompts * K }, (_, i) => Math.floor(i / K) + (i % K) / K);
  return makeSplit(rewards, prompts, K, new InMemoryEmbeddings(new Float32Array(prompts * K), 1));
}

const pairing = (p: Partial<PairingSpec>): PairingSpec => pairingSchema.parse(p);
const prompt = (row: number) => Math.floor(row / K);
const response = (row: number) => row % K;

describe('pairing', () => {
  it('similar pairs are ranks 4 and 5, diversified ranks 0 and 9 (same prompt)', () => {
    const split = sortedSplit(50);
    const similar = selectPairs(split, pairing({ candidates: 'similar' }), 30, new Rng('s'));
    const diversified = selectPairs(split, pairing({ candidates: 'diversified' }), 30, new Rng('d'));
    for (let i = 0; i < 30; i++) {
      expect(prompt(similar.a[i])).toBe(prompt(similar.b[i]));
      expect([response(similar.a[i]), response(similar.b[i])].sort()).toEqual([4, 5]);
      expect([response(diversified.a[i]), response(diversified.b[i])].sort()).toEqual([0, 9]);
    }
  });

  it('finds ranks from rewards when the split is not rank-sorted', () => {
    // Response j of each prompt has reward −j: rank 0 is response 9, rank 9 is response 0.
    const rewards = Float32Array.from({ length: 5 * K }, (_, i) => -(i % K));
    const split = makeSplit(rewards, 5, K, new InMemoryEmbeddings(new Float32Array(5 * K), 1));
    expect(split.rankSorted).toBe(false);
    const sim = selectPairs(split, pairing({ candidates: 'similar' }), 5, new Rng('u'));
    for (let i = 0; i < 5; i++) expect([response(sim.a[i]), response(sim.b[i])].sort()).toEqual([4, 5]);
  });

  it('random same-prompt pairs are two distinct responses of one prompt, one pair per prompt', () => {
    const split = sortedSplit(200);
    const { a, b, promptsUsed } = selectPairs(split, pairing({}), 150, new Rng('r'));
    expect(a.length).toBe(150);
    expect(promptsUsed).toBe(150);
    const prompts = new Set<number>();
    for (let i = 0; i < a.length; i++) {
      expect(prompt(a[i])).toBe(prompt(b[i]));
      expect(a[i]).not.toBe(b[i]);
      prompts.add(prompt(a[i]));
    }
    expect(prompts.size).toBe(150);
  });

  it('cross-prompt pairs never pair a prompt with itself', () => {
    const split = sortedSplit(40);
    for (const candidates of ['random', 'similar', 'diversified'] as const) {
      const { a, b } = selectPairs(split, pairing({ scope: 'cross-prompt', candidates }), 40, new Rng(candidates));
      for (let i = 0; i < a.length; i++) expect(prompt(a[i])).not.toBe(prompt(b[i]));
      if (candidates === 'similar') for (const r of [...a, ...b]) expect([4, 5]).toContain(response(r));
      if (candidates === 'diversified') for (const r of [...a, ...b]) expect([0, 9]).toContain(response(r));
    }
  });

  it('honours budgets exactly under the multi-pair convention, with distinct pairs per prompt', () => {
    const split = sortedSplit(30);
    for (const budget of [1, 10, 97, 300]) {
      const { a, b, promptsUsed } = selectPairs(split, pairing({ convention: 'multi-per-prompt', pairsPerPrompt: 10, orderFlip: true }), budget, new Rng(`budget-${budget}`));
      expect(a.length).toBe(budget);
      expect(promptsUsed).toBe(Math.ceil(budget / 10));
      const byPrompt = new Map<number, Set<string>>();
      for (let i = 0; i < budget; i++) {
        const key = [a[i], b[i]].sort((x, y) => x - y).join();
        const seen = byPrompt.get(prompt(a[i])) ?? new Set();
        expect(seen.has(key)).toBe(false);
        seen.add(key);
        byPrompt.set(prompt(a[i]), seen);
      }
    }
  });

  it('order flip swaps about half of the pairs', () => {
    const split = sortedSplit(1000);
    const flipped = selectPairs(split, pairing({ candidates: 'diversified', orderFlip: true }), 1000, new Rng('f'));
    const aIsBest = flipped.a.filter((r) => response(r) === 9).length;
    expect(aIsBest).toBeGreaterThan(430);
    expect(aIsBest).toBeLessThan(570);
    const fixed = selectPairs(split, pairing({ candidates: 'diversified' }), 1000, new Rng('f'));
    expect(fixed.a.every((r) => response(r) === 0)).toBe(true);
  });

  it('refuses budgets the split cannot meet, and impossible distinct-pair counts', () => {
    const split = sortedSplit(10);
    expect(() => selectPairs(split, pairing({}), 11, new Rng('x'))).toThrow(PairingError);
    expect(() => selectPairs(split, pairing({}), 11, new Rng('x'))).toThrow(/needs 11 prompts .* only 10/);
    expect(() => selectPairs(split, pairing({ convention: 'multi-per-prompt', pairsPerPrompt: 2, candidates: 'similar' }), 4, new Rng('x'))).toThrow(
      /only 1 distinct pair/,
    );
    expect(() => selectPairs(split, pairing({ convention: 'multi-per-prompt', pairsPerPrompt: 46 }), 46, new Rng('x'))).toThrow(/only 45 distinct/);
  });

  it('is deterministic per seed', () => {
    const split = sortedSplit(100);
    const one = selectPairs(split, pairing({ scope: 'cross-prompt' }), 80, new Rng('same'));
    const two = selectPairs(split, pairing({ scope: 'cross-prompt' }), 80, new Rng('same'));
    expect(two).toEqual(one);
  });
});
