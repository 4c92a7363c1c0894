import { writeArrowSplit } from '../core/arrowFormat.ts';
import type { Split } from '../core/dataset.ts';
import { makeDemoDataset } from '../core/demo.ts';
import type { DemoFilesSpec, NamedBytes } from './datasetFiles.ts';

/** The demo's splits as a Reward Lab Arrow pack: `train.arrow` and `test.arrow`. */
export async function demoArrowFiles(spec: DemoFilesSpec, datasetId = 'demo-pack'): Promise<NamedBytes[]> {
  const ds = makeDemoDataset(spec);
  const encode = async (split: Split, name: 'train' | 'test') => {
    const parts: Uint8Array[] = [];
    for await (const chunk of writeArrowSplit(split, { split: name, task: 'demo', datasetId })) parts.push(chunk);
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return { name: `${name}.arrow`, bytes };
  };
  return [await encode(ds.train, 'train'), await encode(ds.test, 'test')];
}

