/**
 * A demo dataset as the bytes of dataset files, in memory: the published .npy pairs in either
 * layout (and, in arrowFiles.ts, a Reward Lab Arrow pack). Unit tests wrap them in `File`s;
 * end-to-end tests write them to a folder and pick them through the file input.
 */
import type { Split } from '../core/dataset.ts';
import { makeDemoDataset } from '../core/demo.ts';
import type { DemoDatasetSpec } from '../core/spec.ts';
import { encodeNpy, type WriteDtype } from './writeNpy.ts';

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export type DemoFilesSpec = Omit<DemoDatasetSpec, 'kind'>;

/** A small demo: fast to write and to run on. */
export const SMALL_DEMO: DemoFilesSpec = { seed: 3, trainPrompts: 300, responsesPerTrainPrompt: 10, testPrompts: 40, responsesPerTestPrompt: 50, dim: 24 };

/**
 * The demo's splits as .npy files. 'NKD': the infrastructure files `embd_{stem}_{split}.npy`
 * (N, K, D) with rewards (N, K, 1); 'KND': the files as distributed, `EMBD-{SPLIT}-{stem}.npy`
 * (K, N, D) with rewards (K, N).
 */
export async function demoNpyFiles(
  spec: DemoFilesSpec,
  layout: 'NKD' | 'KND',
  options: { stem?: string; dtype?: WriteDtype } = {},
): Promise<NamedBytes[]> {
  const ds = makeDemoDataset(spec);
  const stem = options.stem ?? (layout === 'NKD' ? 'demo_randproj_helpful' : 'demo-randproj-helpful');
  const out: NamedBytes[] = [];
  const write = async (split: Split, name: 'train' | 'test') => {
    const { prompts: n, responsesPerPrompt: k } = split;
    const d = split.embeddings.dim;
    const emb = await split.embeddings.readRange(0, split.embeddings.rows);
    const dtype = options.dtype ?? 'float32';
    if (layout === 'NKD') {
      out.push({ name: `embd_${stem}_${name}.npy`, bytes: encodeNpy({ shape: [n, k, d], values: emb, dtype }) });
      out.push({ name: `reward_${stem}_${name}.npy`, bytes: encodeNpy({ shape: [n, k, 1], values: split.rewards }) });
      return;
    }
    const e = new Float32Array(n * k * d);
    const r = new Float32Array(n * k);
    for (let j = 0; j < k; j++) {
      for (let p = 0; p < n; p++) {
        e.set(emb.subarray((p * k + j) * d, (p * k + j + 1) * d), (j * n + p) * d);
        r[j * n + p] = split.rewards[p * k + j];
      }
    }
    const upper = name.toUpperCase();
    out.push({ name: `EMBD-${upper}-${stem}.npy`, bytes: encodeNpy({ shape: [k, n, d], values: e, dtype }) });
    out.push({ name: `REWARD-${upper}-${stem}.npy`, bytes: encodeNpy({ shape: [k, n], values: r }) });
  };
  await write(ds.train, 'train');
  await write(ds.test, 'test');
  return out;
}

/** Replaces the bytes of the file called `name`. */
export function withFile(files: readonly NamedBytes[], name: string, bytes: Uint8Array): NamedBytes[] {
  return files.map((f) => (f.name === name ? { name, bytes } : f));
}
