import seedrandom from 'seedrandom';

/**
 * Seeded randomness. Every random choice in the engine comes from an Rng derived from the
 * run's seed. Streams are forked by *label*, not drawn in sequence, so that e.g. the
 * annotation of seed 3 is the same whichever model is trained on it afterwards.
 */
export class Rng {
  private readonly prng: () => number;
  private spareNormal: number | null = null;

  constructor(readonly key: string) {
    this.prng = seedrandom.alea(key);
  }

  static fromSeed(seed: number): Rng {
    return new Rng(`seed:${seed}`);
  }

  /** An independent stream named `label`, fully determined by this stream's key. */
  fork(label: string | number): Rng {
    return new Rng(`${this.key}/${label}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  bernoulli(p: number): boolean {
    return this.prng() < p;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: number } | unknown[]>(items: T): T {
    const a = items as unknown as unknown[];
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return items;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** k distinct integers from [0, n), in random order. */
  sample(n: number, k: number): Int32Array {
    if (k > n) throw new RangeError(`cannot draw ${k} distinct values from ${n}`);
    if (k * 4 < n) {
      // Sparse draw: rejection is cheaper than a full permutation.
      const seen = new Set<number>();
      const out = new Int32Array(k);
      let filled = 0;
      while (filled < k) {
        const v = this.int(n);
        if (!seen.has(v)) {
          seen.add(v);
          out[filled++] = v;
        }
      }
      return out;
    }
    return this.permutation(n).slice(0, k);
  }
}
