import { checkRange, makeSplit, resultArray, TASK_SCALES, type Dataset, type EmbeddingStore, type Split } from './dataset.ts';
import { Rng } from './rng.ts';
import type { DemoDatasetSpec } from './spec.ts';

/**
 * The built-in demo dataset: a synthetic embedding dataset with a known golden reward.
 *
 * Generative model (all draws from the demo seed):
 *   prompt latent      μ_i ~ N(0, I_d),  d = 16
 *   response latent    z_ij = μ_i + ε_ij,  ε_ij ~ N(0, I_d)
 *   golden reward      r_ij = κ · g(z_ij) + c_i,  c_i ~ N(0, 1)   (prompt-level offset the embedding cannot see)
 *                      g(z) = w·z + 1.5 tanh(2 v·z) + 0.5 ((u·z)² − 2)    (w, v, u random unit vectors)
 *   embedding          x_ij = A z_ij + σ_e η_ij,  A ∈ R^{D×d} with N(0, 1/d) entries,  η ~ N(0, I_D),  σ_e = 0.5
 * The train split's K responses per prompt are sorted by golden reward, ascending (like the
 * published data); test responses stay in generation order.
 *
 * κ is set so that the annotator's error rate on random same-prompt pairs matches the published
 * calibration with the demo's constant scale s = 1: ≈ 5% at β = 10 and ≈ 38% at β = 0.5.
 *
 * Embeddings are never materialised: rows are computed on demand from the latents, with noise
 * drawn from a per-row stream, so the demo costs O(N·K·d) memory and loads instantly at any size.
 */

export const DEMO_LATENT_DIM = 16;
export const DEMO_REWARD_GAIN = 0.55;
export const DEMO_EMBEDDING_NOISE = 0.5;

export function makeDemoDataset(spec: Omit<DemoDatasetSpec, 'kind'>): Dataset {
  const root = new Rng(`demo:${spec.seed}`);
  const d = DEMO_LATENT_DIM;
  const world = root.fork('world');
  const w = unitVector(d, world);
  const v = unitVector(d, world);
  const u = unitVector(d, world);
  const projection = new Float32Array(spec.dim * d);
  for (let i = 0; i < projection.length; i++) projection[i] = world.normal() / Math.sqrt(d);

  const reward = (z: Float32Array, off: number): number => {
    let lw = 0;
    let lv = 0;
    let lu = 0;
    for (let t = 0; t < d; t++) {
      lw += w[t] * z[off + t];
      lv += v[t] * z[off + t];
      lu += u[t] * z[off + t];
    }
    return DEMO_REWARD_GAIN * (lw + 1.5 * Math.tanh(2 * lv) + 0.5 * (lu * lu - 2));
  };

  const makeSplitFor = (name: 'train' | 'test', prompts: number, k: number, sortByReward: boolean): Split => {
    const rng = root.fork(name);
    const latents = new Float32Array(prompts * k * d);
    const rewards = new Float32Array(prompts * k);
    const mu = new Float32Array(d);
    const zs = new Float32Array(k * d);
    const rs = new Float64Array(k);
    const order = Array.from({ length: k }, (_, i) => i);
    for (let p = 0; p < prompts; p++) {
      for (let t = 0; t < d; t++) mu[t] = rng.normal();
      const offset = rng.normal();
      for (let j = 0; j < k; j++) {
        for (let t = 0; t < d; t++) zs[j * d + t] = mu[t] + rng.normal();
        rs[j] = reward(zs, j * d) + offset;
      }
      for (let j = 0; j < k; j++) order[j] = j;
      if (sortByReward) order.sort((i, j) => rs[i] - rs[j] || i - j);
      for (let j = 0; j < k; j++) {
        const src = order[j];
        rewards[p * k + j] = rs[src];
        latents.set(zs.subarray(src * d, src * d + d), (p * k + j) * d);
      }
    }
    const store = new DemoEmbeddings(latents, projection, spec.dim, d, root.fork(`${name}-noise`).key);
    return makeSplit(rewards, prompts, k, store, sortByReward ? true : undefined);
  };

  return {
    info: {
      id: `demo(seed=${spec.seed})`,
      description:
        `Synthetic demo: ${spec.trainPrompts.toLocaleString('en-US')} train prompts × ${spec.responsesPerTrainPrompt}, ` +
        `${spec.testPrompts.toLocaleString('en-US')} test prompts × ${spec.responsesPerTestPrompt}, D = ${spec.dim}. ` +
        'A known nonlinear golden reward of a 16-d latent plus a prompt offset; embeddings are a fixed random linear map of the latent plus noise.',
      task: 'demo',
      synthetic: true,
      taskScale: TASK_SCALES.demo,
      generator: 'synthetic',
      embedder: 'random-linear-map',
      goldenRewardModel: 'closed-form',
    },
    train: makeSplitFor('train', spec.trainPrompts, spec.responsesPerTrainPrompt, true),
    test: makeSplitFor('test', spec.testPrompts, spec.responsesPerTestPrompt, false),
  };
}

function unitVector(d: number, rng: Rng): Float64Array {
  const x = new Float64Array(d);
  let n = 0;
  for (let i = 0; i < d; i++) {
    x[i] = rng.normal();
    n += x[i] * x[i];
  }
  n = Math.sqrt(n);
  for (let i = 0; i < d; i++) x[i] /= n;
  return x;
}

/** Embedding rows computed on demand: x = A z + σ_e η, with η from a stream keyed by the row. */
class DemoEmbeddings implements EmbeddingStore {
  readonly rows: number;

  constructor(
    private readonly latents: Float32Array,
    private readonly projection: Float32Array,
    readonly dim: number,
    private readonly latentDim: number,
    private readonly noiseKey: string,
  ) {
    this.rows = latents.length / latentDim;
  }

  async readRange(start: number, end: number, _signal?: AbortSignal, into?: Float32Array): Promise<Float32Array> {
    checkRange(start, end, this.rows);
    const out = resultArray((end - start) * this.dim, into);
    for (let r = start; r < end; r++) this.writeRow(r, out, (r - start) * this.dim);
    return out;
  }

  async gather(rows: Int32Array): Promise<Float32Array> {
    const out = new Float32Array(rows.length * this.dim);
    for (let i = 0; i < rows.length; i++) {
      checkRange(rows[i], rows[i] + 1, this.rows);
      this.writeRow(rows[i], out, i * this.dim);
    }
    return out;
  }

  private writeRow(row: number, out: Float32Array, at: number): void {
    const { dim, latentDim: d, projection: a, latents } = this;
    const noise = new Rng(`${this.noiseKey}/${row}`);
    const z = row * d;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += a[i * d + t] * latents[z + t];
      out[at + i] = s + DEMO_EMBEDDING_NOISE * noise.normal();
    }
  }
}
