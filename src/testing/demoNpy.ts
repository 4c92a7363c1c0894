import { join } from 'node:path';
import type { Split } from '../core/dataset.ts';
import { makeDemoDataset } from '../core/demo.ts';
import type { DemoDatasetSpec } from '../core/spec.ts';
import { writeNpy } from './writeNpy.ts';

/**
 * Writes a demo dataset to `dir` as .npy files in the infrastructure layout
 * (embd_… (N, K, D), reward_… (N, K, 1)), so file-based runs can be compared with in-memory ones.
 */
export async function writeDemoAsNpy(dir: string, spec: Omit<DemoDatasetSpec, 'kind'>, stem = 'demo_randproj_helpful'): Promise<void> {
  const ds = makeDemoDataset(spec);
  const write = async (split: Split, name: 'train' | 'test') => {
    const { prompts, responsesPerPrompt: k } = split;
    const emb = await split.embeddings.readRange(0, split.embeddings.rows);
    await writeNpy(join(dir, `embd_${stem}_${name}.npy`), { shape: [prompts, k, split.embeddings.dim], values: emb });
    await writeNpy(join(dir, `reward_${stem}_${name}.npy`), { shape: [prompts, k, 1], values: split.rewards });
  };
  await write(ds.train, 'train');
  await write(ds.test, 'test');
}
