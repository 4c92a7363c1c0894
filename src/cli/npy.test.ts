import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  checkDataSize,
  decodeToFloat32,
  halfToFloat,
  NPY_HEADER_PROBE_BYTES,
  NpyFormatError,
  npyHeaderEnd,
  parseNpyHeader,
} from '../core/npy.ts';
import type { NpyDtype } from '../core/npy.ts';
import { DatasetError, NpyFileEmbeddings, openNpyDataset, readRewards } from './npyDataset.ts';
import type { NpyLayout, NpyReadOptions } from './npyDataset.ts';
import { encodeNpy, floatToHalf, writeNpy } from '../testing/writeNpy.ts';
import type { NpyWriteOptions } from '../testing/writeNpy.ts';

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

// Values exactly representable in float16 (multiples of 0.25 below 512), so every dtype
// must reproduce them bit for bit.
function embValue(split: number, p: number, j: number, c: number, k: number, d: number): number {
  return (((p * k + j) * d + c) % 400) * 0.25 * (c % 2 === 0 ? 1 : -1) + split * 100;
}

interface SplitData {
  n: number;
  k: number;
  d: number;
  /** Prompt-major (N, K, D). */
  emb: Float64Array;
  /** Response-major (K, N, D), the same values. */
  embKND: Float64Array;
  /** Prompt-major (N, K). */
  rew: Float64Array;
  /** Response-major (K, N). */
  rewKN: Float64Array;
}

function makeSplitData(split: number, n: number, k: number, d: number, sorted: boolean): SplitData {
  const emb = new Float64Array(n * k * d);
  const embKND = new Float64Array(n * k * d);
  const rew = new Float64Array(n * k);
  const rewKN = new Float64Array(n * k);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < k; j++) {
      for (let c = 0; c < d; c++) {
        const v = embValue(split, p, j, c, k, d);
        emb[(p * k + j) * d + c] = v;
        embKND[(j * n + p) * d + c] = v;
      }
      const r = sorted ? p * 0.5 + j - 1 : ((p * 7 + j * 3) % 5) - 2;
      rew[p * k + j] = r;
      rewKN[j * n + p] = r;
    }
  }
  return { n, k, d, emb, embKND, rew, rewKN };
}

const TRAIN = makeSplitData(0, 7, 3, 5, true);
const TEST = makeSplitData(1, 4, 6, 5, false);

function expectedRows(data: SplitData, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * data.d);
  for (let i = 0; i < rows.length; i++) {
    out.set(data.emb.subarray(rows[i] * data.d, (rows[i] + 1) * data.d), i * data.d);
  }
  return out;
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

async function writeInfraDir(
  dir: string,
  dtype: NpyDtype = 'float32',
  overrides: Partial<Record<'embTrain' | 'rewTrain' | 'embTest' | 'rewTest', Partial<NpyWriteOptions>>> = {},
): Promise<Record<'embTrain' | 'rewTrain' | 'embTest' | 'rewTest', string>> {
  const files = {
    embTrain: join(dir, 'embd_gemma2b_gemma2b_helpful_train.npy'),
    rewTrain: join(dir, 'reward_gemma2b_rmmistral7b_helpful_train.npy'),
    embTest: join(dir, 'embd_gemma2b_gemma2b_helpful_test.npy'),
    rewTest: join(dir, 'reward_gemma2b_rmmistral7b_helpful_test.npy'),
  };
  await writeNpy(files.embTrain, { shape: [TRAIN.n, TRAIN.k, TRAIN.d], values: TRAIN.emb, dtype, ...overrides.embTrain });
  await writeNpy(files.rewTrain, { shape: [TRAIN.n, TRAIN.k, 1], values: TRAIN.rew, dtype, ...overrides.rewTrain });
  await writeNpy(files.embTest, { shape: [TEST.n, TEST.k, TEST.d], values: TEST.emb, dtype, ...overrides.embTest });
  await writeNpy(files.rewTest, { shape: [TEST.n, TEST.k, 1], values: TEST.rew, dtype, ...overrides.rewTest });
  return files;
}

async function writeDistributedDir(dir: string, dtype: NpyDtype = 'float32'): Promise<void> {
  await writeNpy(join(dir, 'EMBD-TRAIN-gemma2b-harmless.npy'), {
    shape: [TRAIN.k, TRAIN.n, TRAIN.d],
    values: TRAIN.embKND,
    dtype,
  });
  await writeNpy(join(dir, 'REWARD-TRAIN-gemma2b-harmless.npy'), { shape: [TRAIN.k, TRAIN.n], values: TRAIN.rewKN, dtype });
  await writeNpy(join(dir, 'embd-test-gemma2b-harmless.npy'), { shape: [TEST.k, TEST.n, TEST.d], values: TEST.embKND, dtype });
  await writeNpy(join(dir, 'Reward-Test-gemma2b-harmless.npy'), {
    shape: [TEST.k, TEST.n, 1],
    values: TEST.rewKN,
    dtype,
  });
}

async function expectDatasetError(dir: string, ...fragments: (string | RegExp)[]): Promise<DatasetError> {
  const err = await openNpyDataset(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  const message = (err as Error).message;
  for (const f of fragments) {
    if (typeof f === 'string') expect(message).toContain(f);
    else expect(message).toMatch(f);
  }
  return err as DatasetError;
}

// np.save(f, (np.arange(6, dtype=dt) / 4).reshape(2, 3)) with numpy 1.x/2.x.
const NPY_HEADER_HEX =
  '934e554d5059010076007b276465736372273a20273c66__272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d' +
  '20'.repeat(58) +
  '0a';
const NUMPY_SAVE_HEX: Record<NpyDtype, string> = {
  float16: NPY_HEADER_HEX.replace('__', '32') + '000000340038003a003c003d',
  float32: NPY_HEADER_HEX.replace('__', '34') + '000000000000803e0000003f0000403f0000803f0000a03f',
  float64:
    NPY_HEADER_HEX.replace('__', '38') +
    '0000000000000000000000000000d03f000000000000e03f000000000000e83f000000000000f03f000000000000f43f',
};

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function parseError(bytes: Uint8Array, name = 'x.npy'): string {
  try {
    parseNpyHeader(bytes, name);
  } catch (e) {
    expect(e).toBeInstanceOf(NpyFormatError);
    return (e as Error).message;
  }
  throw new Error('expected parseNpyHeader to throw');
}

describe('parseNpyHeader', () => {
  it.each([1, 2, 3] as const)('parses a version %i.0 header', (version) => {
    const bytes = encodeNpy({ shape: [3, 4], values: range(0, 12), version });
    const h = parseNpyHeader(bytes, 'v.npy');
    expect(h).toEqual({
      version: `${version}.0`,
      dtype: 'float32',
      shape: [3, 4],
      dataOffset: 128,
      bytesPerElement: 4,
      elementCount: 12,
      dataBytes: 48,
    });
    expect(npyHeaderEnd(bytes, 'v.npy')).toBe(128);
    expect(() => checkDataSize(h, bytes.length, 'v.npy')).not.toThrow();
  });

  it('reads files exactly as np.save writes them, and the test helper writes the same bytes', () => {
    const values = [0, 0.25, 0.5, 0.75, 1, 1.25];
    for (const [dtype, hex] of Object.entries(NUMPY_SAVE_HEX) as [NpyDtype, string][]) {
      const bytes = fromHex(hex);
      const h = parseNpyHeader(bytes, 'np.npy');
      expect(h).toMatchObject({ version: '1.0', dtype, shape: [2, 3], dataOffset: 128 });
      checkDataSize(h, bytes.length, 'np.npy');
      expect(Array.from(decodeToFloat32(bytes.subarray(h.dataOffset), dtype))).toEqual(values);
      expect(encodeNpy({ shape: [2, 3], values, dtype })).toEqual(bytes);
    }
  });

  it('parses a long version 2.0 header that needs its 32-bit length', () => {
    const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (2,), ${' '.repeat(70000)}}`;
    const bytes = encodeNpy({ shape: [2], dtype: 'float64', values: [1, 2], version: 2, headerText: dict });
    const h = parseNpyHeader(bytes, 'long.npy');
    expect(h.shape).toEqual([2]);
    expect(h.dataOffset).toBeGreaterThan(70000);
    expect(h.dataOffset % 64).toBe(0);
    expect(NPY_HEADER_PROBE_BYTES).toBeGreaterThanOrEqual(10 + 0xffff);
  });

  it('accepts the dict variations numpy and Python produce', () => {
    const variants: [string, number[]][] = [
      [`{"shape": (), "fortran_order": False, "descr": "<f2"}`, []],
      [`{'descr':'<f4','fortran_order':False,'shape':(5,)}`, [5]],
      [`{'descr': '=f8', 'fortran_order': False, 'shape': (2L, 3L), }`, [2, 3]],
      [`{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 0 , 7 ) , }`, [0, 7]],
    ];
    for (const [text, shape] of variants) {
      const h = parseNpyHeader(encodeNpy({ shape: [1], headerText: text }), 'v.npy');
      expect(h.shape).toEqual(shape);
    }
  });

  it('says how many bytes the header needs when given too few', () => {
    const bytes = encodeNpy({ shape: [3, 4], version: 2 });
    const msg = parseError(bytes.subarray(0, 40), 'short.npy');
    expect(msg).toContain('short.npy');
    expect(msg).toContain('128 bytes are needed');
    expect(msg).toContain('only 40 bytes');
  });

  it('rejects an empty file', () => {
    const msg = parseError(new Uint8Array(0), 'empty.npy');
    expect(msg).toContain('empty.npy is empty (0 bytes)');
    expect(msg).toContain('\\x93NUMPY');
  });

  it('rejects a file that is not .npy, naming the bytes it found', () => {
    const msg = parseError(new TextEncoder().encode('hello,world\n1,2\n'), 'data.csv');
    expect(msg).toContain('data.csv is not a .npy file');
    expect(msg).toContain('68 65 6c 6c 6f');
    expect(msg).toContain('expected the magic \\x93NUMPY');
    expect(parseError(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'a.npz')).toContain('.npz archive');
  });

  it('rejects a magic-only stub as too short', () => {
    const msg = parseError(new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1]), 'stub.npy');
    expect(msg).toContain('stub.npy is too short');
    expect(msg).toContain('7 bytes');
  });

  it('rejects unsupported versions', () => {
    const bytes = encodeNpy({ shape: [1] });
    bytes[6] = 4;
    expect(parseError(bytes)).toContain('version 4.0; supported versions are 1.0, 2.0 and 3.0');
  });

  it('rejects big-endian data', () => {
    const msg = parseError(encodeNpy({ shape: [2], descr: '>f4' }), 'be.npy');
    expect(msg).toContain("be.npy is stored big-endian ('>f4')");
    expect(msg).toContain("little-endian ('<f4')");
  });

  it("rejects '|' byte order for multi-byte floats", () => {
    expect(parseError(encodeNpy({ shape: [2], descr: '|f4' }))).toContain("expected little-endian '<f4'");
  });

  it('rejects Fortran order', () => {
    const msg = parseError(encodeNpy({ shape: [2, 2], fortranOrder: true }), 'f.npy');
    expect(msg).toContain('f.npy is stored in Fortran (column-major) order');
    expect(msg).toContain('C (row-major) order');
  });

  it.each([
    ['<i4', 'int32'],
    ['<i8', 'int64'],
    ['|u1', 'uint8'],
    ['|b1', 'bool'],
    ['<c8', 'complex64'],
    ['<f16', 'float128'],
    ['|O', 'object'],
    ['<U10', 'str'],
  ])('rejects non-float dtype %s as %s', (descr, name) => {
    const msg = parseError(encodeNpy({ shape: [2], descr }), 'i.npy');
    expect(msg).toContain(`i.npy has dtype ${name} ('${descr}')`);
    expect(msg).toContain('expected float16, float32 or float64');
  });

  it('rejects structured dtypes', () => {
    const text = `{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (2,), }`;
    expect(parseError(encodeNpy({ shape: [1], headerText: text }))).toContain('structured (record) dtype with 2 field(s)');
  });

  it.each([
    [`{'descr': '<f4', 'fortran_order': False}`, "missing key(s) 'shape'"],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}`, "unexpected key(s) 'x'"],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (2,)`, "expected ',' or '}' where the header ends early"],
    [`{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}`, "expected ',' or '}'"],
    [`{'descr': '<f4', 'fortran_order': Nope, 'shape': (2,)}`, 'unexpected character "N"'],
    [`{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}`, "'fortran_order' is the integer 0, expected True or False"],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}`, 'shape entry the integer -1 is not a non-negative integer'],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': 2}`, "'shape' is the integer 2, expected a tuple"],
    [`['descr', '<f4']`, 'expected a dict'],
    [`{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}`, 'malformed .npy header'],
  ])('rejects the malformed header %s', (text, fragment) => {
    const msg = parseError(encodeNpy({ shape: [1], headerText: text }), 'm.npy');
    expect(msg).toContain('m.npy');
    expect(msg).toContain(fragment);
  });
});

describe('checkDataSize', () => {
  const bytes = encodeNpy({ shape: [3, 4] });
  const h = parseNpyHeader(bytes, 'c.npy');

  it('reports a truncated file with expected and actual sizes', () => {
    expect(() => checkDataSize(h, 170, 'c.npy')).toThrow(NpyFormatError);
    expect(() => checkDataSize(h, 170, 'c.npy')).toThrow(
      'c.npy is truncated: shape (3, 4) float32 needs 48 data bytes after the 128-byte header (176 bytes in all), ' +
        'but the file has 170 bytes (42 data bytes, 6 missing)',
    );
    expect(() => checkDataSize(h, 100, 'c.npy')).toThrow('the file has 100 bytes (0 data bytes, 76 missing)');
  });

  it('reports trailing bytes', () => {
    expect(() => checkDataSize(h, 179, 'c.npy')).toThrow('c.npy has 3 trailing bytes beyond its declared data');
    expect(() => checkDataSize(h, 179, 'c.npy')).toThrow('(176 bytes in all), but the file has 179 bytes');
  });
});

describe('decodeToFloat32', () => {
  const values = [0, -0, 1, -1.5, 0.25, 1000, -2048, 65504, 2 ** -14, 2 ** -24, -(2 ** -20), 3.140625];

  it.each(['float16', 'float32', 'float64'] as const)('round-trips %s values exactly, at any byte offset', (dtype) => {
    const encoded = encodeNpy({ shape: [values.length], values, dtype });
    const h = parseNpyHeader(encoded, 'r.npy');
    const data = encoded.subarray(h.dataOffset);
    expect(Array.from(decodeToFloat32(data, dtype))).toEqual(values);
    // Copy to an odd offset so typed-array views of the source would be misaligned.
    const shifted = new Uint8Array(data.length + 3);
    shifted.set(data, 3);
    expect(Array.from(decodeToFloat32(shifted.subarray(3), dtype))).toEqual(values);
  });

  it('writes into a reusable output buffer and returns a view of the decoded length', () => {
    const out = new Float32Array(10).fill(7);
    const bytes = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const got = decodeToFloat32(bytes, 'float32', out);
    expect(Array.from(got)).toEqual([1, 2, 3]);
    expect(got.buffer).toBe(out.buffer);
    expect(out[3]).toBe(7);
    expect(() => decodeToFloat32(bytes, 'float32', new Float32Array(2))).toThrow(RangeError);
    expect(() => decodeToFloat32(new Uint8Array(5), 'float32')).toThrow('not a whole number of 4-byte float32 values');
  });

  it('decodes float16 subnormals, infinities and NaN', () => {
    const bits = [0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3c00, 0xc000];
    const bytes = new Uint8Array(bits.length * 2);
    bits.forEach((b, i) => {
      bytes[2 * i] = b & 0xff;
      bytes[2 * i + 1] = b >> 8;
    });
    const got = Array.from(decodeToFloat32(bytes, 'float16'));
    expect(got).toEqual([2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, NaN, -0, 1, -2]);
    expect(Object.is(got[7], -0)).toBe(true);
    for (let h = 0; h < 0x10000; h += 97) {
      const v = halfToFloat(h);
      if (!Number.isNaN(v)) expect(floatToHalf(v)).toBe(h);
    }
  });
});

describe('NpyFileEmbeddings', () => {
  async function writeBoth(dir: string, dtype: NpyDtype, version: 1 | 2 | 3): Promise<Record<NpyLayout, string>> {
    const nkd = join(dir, `nkd-${dtype}-${version}.npy`);
    const knd = join(dir, `knd-${dtype}-${version}.npy`);
    await writeNpy(nkd, { shape: [TRAIN.n, TRAIN.k, TRAIN.d], values: TRAIN.emb, dtype, version });
    await writeNpy(knd, { shape: [TRAIN.k, TRAIN.n, TRAIN.d], values: TRAIN.embKND, dtype, version });
    return { NKD: nkd, KND: knd };
  }

  const cases: [NpyDtype, 1 | 2 | 3, NpyLayout][] = [];
  for (const dtype of ['float16', 'float32', 'float64'] as const) {
    for (const version of [1, 2, 3] as const) {
      for (const layout of ['NKD', 'KND'] as const) cases.push([dtype, version, layout]);
    }
  }

  it.each(cases)('%s v%i %s: reads prompt-major rows identical to the source', async (dtype, version, layout) => {
    const dir = await freshDir();
    const paths = await writeBoth(dir, dtype, version);
    const store = await NpyFileEmbeddings.open(paths[layout], layout);
    try {
      expect(store.rows).toBe(TRAIN.n * TRAIN.k);
      expect(store.dim).toBe(TRAIN.d);
      expect(store.prompts).toBe(TRAIN.n);
      expect(store.responsesPerPrompt).toBe(TRAIN.k);
      expect(await store.readRange(0, store.rows)).toEqual(Float32Array.from(TRAIN.emb));
      expect(await store.readRange(4, 11)).toEqual(expectedRows(TRAIN, range(4, 11)));
      expect(await store.readRange(5, 5)).toEqual(new Float32Array(0));
      const rows = Int32Array.from([20, 0, 3, 3, 19, 7, 1]);
      expect(await store.gather(rows)).toEqual(expectedRows(TRAIN, rows));
    } finally {
      await store.close();
    }
  });

  it('gives identical results across chunk boundaries that split rows, in both layouts', async () => {
    const dir = await freshDir();
    const paths = await writeBoth(dir, 'float32', 1);
    // 12-byte chunks hold 3 of a row's 5 floats, so nearly every row straddles two reads.
    const variants: NpyReadOptions[] = [
      { chunkBytes: 12 },
      { chunkBytes: 1 },
      { chunkBytes: 28, coalesceGapBytes: 0 },
      { chunkBytes: 12, coalesceGapBytes: 1 << 20 },
    ];
    const gathers = [
      Int32Array.from([20, 19, 18, 0, 1, 2]),
      Int32Array.from([5, 5, 5, 6, 8, 12, 0]),
      Int32Array.from(range(0, 21).reverse()),
      Int32Array.from([]),
    ];
    for (const layout of ['NKD', 'KND'] as const) {
      for (const options of variants) {
        const store = await NpyFileEmbeddings.open(paths[layout], layout, options);
        try {
          for (let start = 0; start <= store.rows; start += 2) {
            for (const end of [start, start + 1, start + 4, store.rows]) {
              if (end > store.rows) continue;
              expect(await store.readRange(start, end)).toEqual(expectedRows(TRAIN, range(start, end)));
            }
          }
          for (const rows of gathers) expect(await store.gather(rows)).toEqual(expectedRows(TRAIN, rows));
        } finally {
          await store.close();
        }
      }
    }
  });

  it('rejects out-of-range rows, aborted reads and use after close', async () => {
    const dir = await freshDir();
    const paths = await writeBoth(dir, 'float32', 1);
    const store = await NpyFileEmbeddings.open(paths.KND, 'KND', { chunkBytes: 8 });
    await expect(store.readRange(0, store.rows + 1)).rejects.toThrow(RangeError);
    await expect(store.gather(Int32Array.from([0, store.rows]))).rejects.toThrow(RangeError);
    const controller = new AbortController();
    controller.abort();
    await expect(store.readRange(0, 4, controller.signal)).rejects.toThrow();
    await store.close();
    await store.close();
    await expect(store.readRange(0, 1)).rejects.toThrow('has been closed');
  });

  it('rejects embeddings that are not 3-D', async () => {
    const dir = await freshDir();
    const path = join(dir, 'flat.npy');
    await writeNpy(path, { shape: [4, 5] });
    await expect(NpyFileEmbeddings.open(path, 'NKD')).rejects.toThrow(
      'flat.npy: embeddings must be a 3-D array (N, K, D), but its shape is (4, 5)',
    );
  });
});

describe('readRewards', () => {
  it('reads every reward shape into prompt-major order', async () => {
    const dir = await freshDir();
    const cases: [NpyLayout, number[], Float64Array][] = [
      ['NKD', [TRAIN.n, TRAIN.k, 1], TRAIN.rew],
      ['NKD', [TRAIN.n, TRAIN.k], TRAIN.rew],
      ['KND', [TRAIN.k, TRAIN.n], TRAIN.rewKN],
      ['KND', [TRAIN.k, TRAIN.n, 1], TRAIN.rewKN],
    ];
    for (const [i, [layout, shape, values]] of cases.entries()) {
      const path = join(dir, `r${i}.npy`);
      await writeNpy(path, { shape, values, dtype: 'float16' });
      expect(await readRewards(path, layout, { chunkBytes: 6 })).toEqual(Float32Array.from(TRAIN.rew));
    }
  });

  it('rejects a 3-D rewards file whose last axis is not 1', async () => {
    const dir = await freshDir();
    const path = join(dir, 'r.npy');
    await writeNpy(path, { shape: [2, 3, 2] });
    await expect(readRewards(path, 'NKD')).rejects.toThrow('r.npy: rewards must have shape (N, K, 1) or (N, K)');
  });
});

describe('openNpyDataset', () => {
  it('opens the infrastructure layout with metadata from the file names', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir, 'float64');
    const ds = await openNpyDataset(dir);
    try {
      expect(ds.info).toMatchObject({
        id: 'gemma2b_gemma2b_helpful',
        task: 'helpful',
        taskScale: 6,
        synthetic: false,
        generator: 'gemma2b',
        embedder: 'gemma2b',
        goldenRewardModel: 'weqweasdas/RM-Gemma-7B',
      });
      expect(ds.train.prompts).toBe(TRAIN.n);
      expect(ds.train.responsesPerPrompt).toBe(TRAIN.k);
      expect(ds.train.rankSorted).toBe(true);
      expect(ds.test.prompts).toBe(TEST.n);
      expect(ds.test.responsesPerPrompt).toBe(TEST.k);
      expect(ds.test.rankSorted).toBe(false);
      expect(ds.train.rewards).toEqual(Float32Array.from(TRAIN.rew));
      expect(ds.test.rewards).toEqual(Float32Array.from(TEST.rew));
      expect(await ds.train.embeddings.readRange(0, ds.train.embeddings.rows)).toEqual(Float32Array.from(TRAIN.emb));
      expect(await ds.test.embeddings.readRange(0, ds.test.embeddings.rows)).toEqual(Float32Array.from(TEST.emb));
      expect(ds.files.embTrain.layout).toBe('NKD');
    } finally {
      await ds.close();
    }
  });

  it('opens the distributed layout into the same prompt-major rows', async () => {
    const dir = await freshDir();
    await writeDistributedDir(dir, 'float16');
    const ds = await openNpyDataset(dir, { chunkBytes: 14 });
    try {
      expect(ds.info.task).toBe('harmless');
      expect(ds.info.taskScale).toBe(1);
      expect(ds.info.generator).toBeUndefined();
      expect(ds.files.embTrain.layout).toBe('KND');
      expect(ds.train.rankSorted).toBe(true);
      expect(ds.train.rewards).toEqual(Float32Array.from(TRAIN.rew));
      expect(ds.test.rewards).toEqual(Float32Array.from(TEST.rew));
      expect(await ds.train.embeddings.readRange(0, ds.train.embeddings.rows)).toEqual(Float32Array.from(TRAIN.emb));
      expect(await ds.test.embeddings.readRange(0, ds.test.embeddings.rows)).toEqual(Float32Array.from(TEST.emb));
      const rows = Int32Array.from([23, 0, 6, 7, 12, 12]);
      expect(await ds.test.embeddings.gather(rows)).toEqual(expectedRows(TEST, rows));
    } finally {
      await ds.close();
    }
  });

  it('lets the caller override the layout implied by the names', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir);
    const ds = await openNpyDataset(dir, { layout: 'KND' });
    try {
      // Read as (K, N, D) the same file has N and K swapped.
      expect(ds.train.prompts).toBe(TRAIN.k);
      expect(ds.train.responsesPerPrompt).toBe(TRAIN.n);
      expect(ds.files.embTrain.layout).toBe('KND');
    } finally {
      await ds.close();
    }
  });

  it('reports a truncated embeddings file', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir, 'float32', { embTrain: { truncateBytes: 6 } });
    await expectDatasetError(
      dir,
      'embd_gemma2b_gemma2b_helpful_train.npy is truncated',
      `needs ${TRAIN.n * TRAIN.k * TRAIN.d * 4} data bytes`,
      '6 missing',
    );
  });

  it('reports trailing bytes', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir, 'float32', { rewTest: { trailingBytes: 5 } });
    await expectDatasetError(dir, 'reward_gemma2b_rmmistral7b_helpful_test.npy has 5 trailing bytes');
  });

  it('reports big-endian data', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir, 'float32', { embTest: { descr: '>f4' } });
    await expectDatasetError(dir, "embd_gemma2b_gemma2b_helpful_test.npy is stored big-endian ('>f4')");
  });

  it('reports Fortran order', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir, 'float32', { embTrain: { fortranOrder: true } });
    await expectDatasetError(dir, 'embd_gemma2b_gemma2b_helpful_train.npy is stored in Fortran (column-major) order');
  });

  it('reports an integer dtype', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir, 'float32', { rewTrain: { dtype: 'int32' } });
    await expectDatasetError(
      dir,
      "reward_gemma2b_rmmistral7b_helpful_train.npy has dtype int32 ('<i4')",
      'expected float16, float32 or float64',
    );
  });

  it('reports a 0-byte file', async () => {
    const dir = await freshDir();
    const files = await writeInfraDir(dir);
    await writeFile(files.embTest, new Uint8Array(0));
    await expectDatasetError(dir, 'embd_gemma2b_gemma2b_helpful_test.npy is empty (0 bytes)');
  });

  it('reports a file that is not .npy', async () => {
    const dir = await freshDir();
    const files = await writeInfraDir(dir);
    await writeFile(files.rewTest, 'prompt,response,reward\n');
    await expectDatasetError(dir, 'reward_gemma2b_rmmistral7b_helpful_test.npy is not a .npy file', '\\x93NUMPY');
  });

  it('reports rewards whose N and K disagree with the embeddings, naming both files and shapes', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir, 'float32', {
      rewTrain: { shape: [TRAIN.n - 1, TRAIN.k, 1], values: TRAIN.rew.subarray(0, (TRAIN.n - 1) * TRAIN.k) },
    });
    await expectDatasetError(
      dir,
      'train rewards and embeddings disagree',
      'reward_gemma2b_rmmistral7b_helpful_train.npy has shape (6, 3, 1)',
      'embd_gemma2b_gemma2b_helpful_train.npy has shape (7, 3, 5)',
      'N=6 prompts',
      'N=7 prompts',
    );
  });

  it('reports train and test embeddings of different dimension', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir, 'float32', {
      embTest: { shape: [TEST.n, TEST.k, TEST.d + 1], values: new Float64Array(TEST.n * TEST.k * (TEST.d + 1)) },
    });
    await expectDatasetError(
      dir,
      'train and test embeddings differ in dimension',
      'embd_gemma2b_gemma2b_helpful_train.npy has D=5',
      'embd_gemma2b_gemma2b_helpful_test.npy has D=6',
    );
  });

  it('reports NaN rewards with their count and first position', async () => {
    const dir = await freshDir();
    const rew = Float64Array.from(TEST.rew);
    rew[2 * TEST.k + 4] = NaN;
    rew[3 * TEST.k + 1] = Infinity;
    rew[3 * TEST.k + 2] = NaN;
    await writeInfraDir(dir, 'float32', { rewTest: { values: rew } });
    await expectDatasetError(
      dir,
      'reward_gemma2b_rmmistral7b_helpful_test.npy holds 3 non-finite rewards',
      'the first is NaN at prompt 2, response 4 (array index [2, 4])',
    );
  });

  it('reports NaN positions in distributed files by their file index too', async () => {
    const dir = await freshDir();
    await writeDistributedDir(dir);
    const rewKN = Float64Array.from(TRAIN.rewKN);
    rewKN[1 * TRAIN.n + 5] = NaN;
    await writeNpy(join(dir, 'REWARD-TRAIN-gemma2b-harmless.npy'), { shape: [TRAIN.k, TRAIN.n], values: rewKN });
    await expectDatasetError(dir, 'holds 1 non-finite reward ', 'prompt 5, response 1 (array index [1, 5])');
  });

  it('reports a missing partner file, naming what was found and what is missing', async () => {
    const dir = await freshDir();
    const files = await writeInfraDir(dir);
    await rm(files.rewTrain);
    await expectDatasetError(
      dir,
      'is incomplete',
      'embd_gemma2b_gemma2b_helpful_train.npy (train embeddings)',
      'reward_gemma2b_rmmistral7b_helpful_test.npy (test rewards)',
      'no file for the train rewards (reward_*_train.npy or REWARD-TRAIN-*.npy)',
    );
  });

  it('reports several candidates for one role', async () => {
    const dir = await freshDir();
    await writeInfraDir(dir);
    await writeNpy(join(dir, 'EMBD-TRAIN-other.npy'), { shape: [TRAIN.k, TRAIN.n, TRAIN.d] });
    await expectDatasetError(
      dir,
      'holds 2 candidate train embeddings files',
      'EMBD-TRAIN-other.npy, embd_gemma2b_gemma2b_helpful_train.npy',
    );
  });

  it('reports a directory without dataset files, or none at all', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'notes.txt'), 'x');
    await expectDatasetError(dir, 'no .npy dataset files in', 'found: notes.txt');
    await expectDatasetError(join(dir, 'nope'), 'cannot read the dataset directory');
  });
});
