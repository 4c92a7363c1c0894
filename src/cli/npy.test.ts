import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DatasetError, DatasetQuestionError, NpyEmbeddings, scanEmbeddings } from '../core/npyDataset.ts';
import type { NpyLayout } from '../core/npyDataset.ts';
import { FileSource } from './fileSource.ts';
import { explainQuestions, openNpyDirectory, parseLayoutOption } from './npyDataset.ts';
import { writeNpy } from '../testing/writeNpy.ts';
import type { WriteDtype } from '../testing/writeNpy.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reward-lab-npy-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshDir(): Promise<string> {
  return mkdtemp(join(root, 'd'));
}

// Multiples of 0.25 below 256: exact in every dtype.
function value(row: number, col: number): number {
  return ((row * 31 + col * 7) % 1000) * 0.25 - 100;
}

/** An (n, k, d) split's embeddings as prompt-major values and in the (k, n, d) file order. */
function embeddings(n: number, k: number, d: number): { nkd: Float32Array; knd: Float32Array } {
  const nkd = new Float32Array(n * k * d);
  const knd = new Float32Array(n * k * d);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < k; j++) {
      for (let c = 0; c < d; c++) {
        const v = value(p * k + j, c);
        nkd[(p * k + j) * d + c] = v;
        knd[(j * n + p) * d + c] = v;
      }
    }
  }
  return { nkd, knd };
}

/** Rewards ascending within each prompt (rank-sorted), prompt-major and (k, n). */
function rewards(n: number, k: number): { nk: Float32Array; kn: Float32Array } {
  const nk = new Float32Array(n * k);
  const kn = new Float32Array(n * k);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < k; j++) {
      nk[p * k + j] = ((p * 5) % 7) + j * 0.5;
      kn[j * n + p] = nk[p * k + j];
    }
  }
  return { nk, kn };
}

const TRAIN = { n: 6, k: 3, d: 4 };
const TEST = { n: 3, k: 5, d: 4 };

async function writeInfra(dir: string): Promise<void> {
  for (const [split, { n, k, d }] of [['train', TRAIN], ['test', TEST]] as const) {
    await writeNpy(join(dir, `embd_gen_emb_helpful_${split}.npy`), { shape: [n, k, d], values: embeddings(n, k, d).nkd });
    await writeNpy(join(dir, `reward_gen_rmmistral7b_helpful_${split}.npy`), { shape: [n, k, 1], values: rewards(n, k).nk });
  }
}

async function writeDistributed(dir: string, testRewardShape: 'KN' | 'KN1' = 'KN'): Promise<void> {
  for (const [split, { n, k, d }] of [['TRAIN', TRAIN], ['TEST', TEST]] as const) {
    await writeNpy(join(dir, `EMBD-${split}-x.npy`), { shape: [k, n, d], values: embeddings(n, k, d).knd });
    const shape = split === 'TEST' && testRewardShape === 'KN1' ? [k, n, 1] : [k, n];
    await writeNpy(join(dir, `REWARD-${split}-x.npy`), { shape, values: rewards(n, k).kn });
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('openNpyDirectory', () => {
  it('opens an infrastructure folder from disk', async () => {
    const dir = await freshDir();
    await writeInfra(dir);
    const ds = await openNpyDirectory(dir);
    expect(ds.info).toMatchObject({ id: 'gen_emb_helpful', task: 'helpful', generator: 'gen', embedder: 'emb' });
    expect(ds.plan.splits.train.layout).toBe('NKD');
    expect(ds.train.rewards).toEqual(rewards(TRAIN.n, TRAIN.k).nk);
    expect(await ds.test.embeddings.readRange(0, ds.test.embeddings.rows)).toEqual(embeddings(TEST.n, TEST.k, TEST.d).nkd);
    await ds.close();
    await ds.close();
    await expect(ds.train.embeddings.readRange(0, 1)).rejects.toThrow(DatasetError);
  });

  it('opens only the dataset files of a folder that holds other things', async () => {
    const dir = await freshDir();
    await writeDistributed(dir);
    await writeFile(join(dir, 'README.md'), '# notes');
    await writeFile(join(dir, 'other.npy'), 'not even npy');
    await mkdir(join(dir, 'embd_nested_train.npy'));
    const ds = await openNpyDirectory(dir, { chunkBytes: 20 });
    expect(ds.plan.ignored).toEqual([]);
    expect(ds.plan.splits.test).toMatchObject({ layout: 'KND', prompts: TEST.n, responsesPerPrompt: TEST.k });
    const rows = Int32Array.from([14, 0, 7]);
    const expected = embeddings(TEST.n, TEST.k, TEST.d).nkd;
    const got = await ds.test.embeddings.gather(rows);
    rows.forEach((r, i) => expect(got.subarray(i * 4, i * 4 + 4)).toEqual(expected.subarray(r * 4, r * 4 + 4)));
    await ds.close();
  });

  it('explains folders it cannot use', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'notes.txt'), 'x');
    await expect(openNpyDirectory(dir)).rejects.toThrow(`no .npy dataset files in ${dir}: expected embd_*_train.npy`);
    await expect(openNpyDirectory(dir)).rejects.toThrow('found: notes.txt');
    await expect(openNpyDirectory(join(dir, 'nope'))).rejects.toThrow(`cannot read the dataset directory ${join(dir, 'nope')}`);
    const err = await failure(openNpyDirectory(join(dir, 'notes.txt')));
    expect(err).toBeInstanceOf(DatasetError);
    expect(err.message).toBe(`${join(dir, 'notes.txt')} is not a directory: give the folder that holds the .npy files`);
  });

  it('reports a missing partner', async () => {
    const dir = await freshDir();
    await writeInfra(dir);
    await rm(join(dir, 'reward_gen_rmmistral7b_helpful_test.npy'));
    await expect(openNpyDirectory(dir)).rejects.toThrow(
      'the dataset is incomplete: found embd_gen_emb_helpful_train.npy (train embeddings), ' +
        'reward_gen_rmmistral7b_helpful_train.npy (train rewards), embd_gen_emb_helpful_test.npy (test embeddings), ' +
        'but no file for the test rewards (reward_*_test.npy or REWARD-TEST-*.npy)',
    );
  });

  it('surfaces layout questions with the --layout flags that answer them', async () => {
    const dir = await freshDir();
    await writeDistributed(dir, 'KN1');
    const err = await failure(openNpyDirectory(dir));
    expect(err).toBeInstanceOf(DatasetQuestionError);
    const text = explainQuestions(err as DatasetQuestionError);
    expect(text).toContain('is EMBD-TEST-x.npy (5, 3, 4) laid out (K, N, D) or (N, K, D)?');
    expect(text).toContain('(the names say (K, N, D) but the reward shape says (N, K, D): ');
    // KND matches how train is read, so the plain flag answers; NKD must leave train alone.
    expect(text).toMatch(/--layout KND +\(K, N, D\): 3 prompts × 5 responses each/);
    expect(text).toMatch(/--layout test=NKD +\(N, K, D\): 5 prompts × 3 responses each/);

    const pinned = await failure(openNpyDirectory(dir, { layout: { train: 'KND' } }));
    expect(explainQuestions(pinned as DatasetQuestionError)).toContain('--layout test=NKD,train=KND');

    const ds = await openNpyDirectory(dir, { layout: 'KND' });
    expect(ds.test.rewards).toEqual(rewards(TEST.n, TEST.k).nk);
    await ds.close();
  });
});

describe('parseLayoutOption', () => {
  it('accepts one layout or one per split, case-insensitively', () => {
    expect(parseLayoutOption('NKD')).toBe('NKD');
    expect(parseLayoutOption(' knd ')).toBe('KND');
    expect(parseLayoutOption('train=KND,test=nkd')).toEqual({ train: 'KND', test: 'NKD' });
    expect(parseLayoutOption('test=KND')).toEqual({ test: 'KND' });
    for (const bad of ['', 'NDK', 'train=KND,', 'val=KND', 'train:KND']) expect(parseLayoutOption(bad)).toBeNull();
  });
});

describe('NpyEmbeddings over files', () => {
  // 1,031 floats a row, so 4 MiB chunks (about 1,017 rows) end mid-row throughout.
  const n = 240;
  const k = 10;
  const d = 1031;
  const { nkd, knd } = embeddings(n, k, d);

  function mismatches(got: Float32Array, rows: ArrayLike<number>): number {
    let bad = 0;
    for (let i = 0; i < rows.length; i++) {
      for (let c = 0; c < d; c++) if (got[i * d + c] !== nkd[rows[i] * d + c]) bad++;
    }
    return bad;
  }

  const range = (start: number, end: number): number[] => Array.from({ length: end - start }, (_, i) => start + i);

  it.each([
    ['NKD', 'float32', undefined],
    ['KND', 'float32', undefined],
    ['KND', 'float16', (1 << 20) + 2],
  ] as [NpyLayout, WriteDtype, number | undefined][])('%s %s, chunkBytes %s: multi-MB reads match the source', async (layout, dtype, chunkBytes) => {
    const dir = await freshDir();
    const path = join(dir, 'big.npy');
    await writeNpy(path, { shape: layout === 'NKD' ? [n, k, d] : [k, n, d], values: layout === 'NKD' ? nkd : knd, dtype });
    const source = await FileSource.open(path);
    try {
      const store = await NpyEmbeddings.open(source, layout, chunkBytes === undefined ? {} : { chunkBytes });
      const rows = store.rows;
      expect(mismatches(await store.readRange(0, rows), range(0, rows))).toBe(0);
      expect(mismatches(await store.readRange(1000, 1040), range(1000, 1040))).toBe(0);
      // Into a caller's buffer over several chunks ((N, K, D) float32: read straight into it).
      const into = new Float32Array(rows * d);
      const filled = await store.readRange(7, rows - 3, undefined, into);
      expect(filled.buffer).toBe(into.buffer);
      expect(mismatches(filled, range(7, rows - 3))).toBe(0);
      const picked = Int32Array.from({ length: 500 }, (_, i) => (i * 7919) % rows);
      expect(mismatches(await store.gather(picked), picked)).toBe(0);
      const dataBytes = rows * d * (dtype === 'float16' ? 2 : 4);
      let last: [number, number] = [0, 0];
      const scan = await scanEmbeddings(store, { onProgress: (done, total) => (last = [done, total]) });
      expect(scan).toEqual({ rows, nonFinite: 0, firstNonFinite: null });
      expect(last).toEqual([dataBytes, dataBytes]);
      expect(store.bytesRead).toBeGreaterThanOrEqual(2 * dataBytes);
    } finally {
      await source.close();
    }
  });
});
