import { describe, expect, it } from 'vitest';

import { BLOB_COALESCE_GAP_BYTES, BlobSource, BytesSource } from './bytes.ts';
import type { ByteSource } from './bytes.ts';
import { CancelledError } from './cancel.ts';
import { InMemoryEmbeddings } from './dataset.ts';
import {
  checkDataSize,
  decodeToFloat32,
  halfToFloat,
  NPY_HEADER_PROBE_BYTES,
  NpyFormatError,
  npyHeaderEnd,
  parseNpyHeader,
} from './npy.ts';
import type { NpyDtype } from './npy.ts';
import {
  DatasetError,
  DatasetQuestionError,
  matchNpyRole,
  NpyEmbeddings,
  openNpyDataset,
  planNpyDataset,
  readNpyRewards,
  scanEmbeddings,
  selectNpyDatasetFiles,
} from './npyDataset.ts';
import type { NpyLayout, NpyReadOptions, NpyRole } from './npyDataset.ts';
import { encodeNpy, floatToHalf } from '../testing/writeNpy.ts';
import type { NpyWriteOptions } from '../testing/writeNpy.ts';

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
      // Sorted rewards ascend within each prompt but not across prompts, so only the
      // right reading of the file is rank-sorted.
      const r = sorted ? ((p * 5) % 7) - 3 + j * 0.5 : ((p * 7 + j * 3) % 5) - 2;
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

type FileSpecs = Record<NpyRole, NpyWriteOptions>;
type Overrides = Partial<Record<NpyRole, Partial<NpyWriteOptions>>>;

const INFRA_NAMES: Record<NpyRole, string> = {
  embTrain: 'embd_gemma2b_gemma2b_helpful_train.npy',
  rewTrain: 'reward_gemma2b_rmmistral7b_helpful_train.npy',
  embTest: 'embd_gemma2b_gemma2b_helpful_test.npy',
  rewTest: 'reward_gemma2b_rmmistral7b_helpful_test.npy',
};

// Mixed case on purpose: matching is case-insensitive.
const DIST_NAMES: Record<NpyRole, string> = {
  embTrain: 'EMBD-TRAIN-gemma2b-harmless.npy',
  rewTrain: 'REWARD-TRAIN-gemma2b-harmless.npy',
  embTest: 'embd-test-gemma2b-harmless.npy',
  rewTest: 'Reward-Test-gemma2b-harmless.npy',
};

function withOverrides(specs: FileSpecs, overrides: Overrides): FileSpecs {
  return {
    embTrain: { ...specs.embTrain, ...overrides.embTrain },
    rewTrain: { ...specs.rewTrain, ...overrides.rewTrain },
    embTest: { ...specs.embTest, ...overrides.embTest },
    rewTest: { ...specs.rewTest, ...overrides.rewTest },
  };
}

function infraSpecs(dtype: NpyDtype = 'float32', overrides: Overrides = {}): FileSpecs {
  return withOverrides(
    {
      embTrain: { shape: [TRAIN.n, TRAIN.k, TRAIN.d], values: TRAIN.emb, dtype },
      rewTrain: { shape: [TRAIN.n, TRAIN.k, 1], values: TRAIN.rew, dtype },
      embTest: { shape: [TEST.n, TEST.k, TEST.d], values: TEST.emb, dtype },
      rewTest: { shape: [TEST.n, TEST.k, 1], values: TEST.rew, dtype },
    },
    overrides,
  );
}

function distSpecs(dtype: NpyDtype = 'float32', overrides: Overrides = {}): FileSpecs {
  return withOverrides(
    {
      embTrain: { shape: [TRAIN.k, TRAIN.n, TRAIN.d], values: TRAIN.embKND, dtype },
      rewTrain: { shape: [TRAIN.k, TRAIN.n], values: TRAIN.rewKN, dtype },
      embTest: { shape: [TEST.k, TEST.n, TEST.d], values: TEST.embKND, dtype },
      rewTest: { shape: [TEST.k, TEST.n], values: TEST.rewKN, dtype },
    },
    overrides,
  );
}

function toSources(names: Record<NpyRole, string>, specs: FileSpecs, extra: ByteSource[] = []): ByteSource[] {
  const roles = Object.keys(names) as NpyRole[];
  return [...roles.map((role) => new BytesSource(names[role], encodeNpy(specs[role]))), ...extra];
}

const infra = (dtype?: NpyDtype, overrides?: Overrides): ByteSource[] => toSources(INFRA_NAMES, infraSpecs(dtype, overrides));
const distributed = (dtype?: NpyDtype, overrides?: Overrides): ByteSource[] =>
  toSources(DIST_NAMES, distSpecs(dtype, overrides));

/** Replaces the source named `name` with raw bytes. */
function replaced(sources: ByteSource[], name: string, bytes: Uint8Array): ByteSource[] {
  return sources.map((s) => (s.name === name ? new BytesSource(name, bytes) : s));
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

async function expectDatasetError(
  sources: ByteSource[],
  ...fragments: (string | RegExp)[]
): Promise<DatasetError> {
  const err = await failure(openNpyDataset(sources));
  expect(err).toBeInstanceOf(DatasetError);
  for (const f of fragments) {
    if (typeof f === 'string') expect(err.message).toContain(f);
    else expect(err.message).toMatch(f);
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


function trainEmbeddings(layout: NpyLayout, options: Partial<NpyWriteOptions> = {}, promptMajor = TRAIN.emb): BytesSource {
  const spec: NpyWriteOptions =
    layout === 'NKD'
      ? { shape: [TRAIN.n, TRAIN.k, TRAIN.d], values: promptMajor }
      : { shape: [TRAIN.k, TRAIN.n, TRAIN.d], values: toKND(promptMajor, TRAIN) };
  return new BytesSource(`${layout.toLowerCase()}.npy`, encodeNpy({ ...spec, ...options }));
}

function toKND(promptMajor: Float64Array, { n, k, d }: SplitData): Float64Array {
  const out = new Float64Array(promptMajor.length);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < k; j++) out.set(promptMajor.subarray((p * k + j) * d, (p * k + j + 1) * d), (j * n + p) * d);
  }
  return out;
}

/**
 * A source that records which memory each read was handed (the result's own, or a read buffer), counts
 * reads in flight, and can fail its n-th data read (after a delay) or act when a data read starts.
 */
class RecordingSource implements ByteSource {
  readonly reads: { buffer: ArrayBufferLike | undefined }[] = [];
  inFlight = 0;
  dataReads = 0;
  constructor(
    private readonly inner: ByteSource,
    private readonly failRead: number | null = null,
    private readonly onDataRead: (n: number) => void = () => {},
  ) {}
  get name() {
    return this.inner.name;
  }
  get size() {
    return this.inner.size;
  }
  async read(offset: number, length: number, signal?: AbortSignal, into?: Uint8Array): Promise<Uint8Array> {
    // The header is read at offset 0; data reads start after it.
    const n = offset > 0 ? ++this.dataReads : 0;
    if (n > 0) this.onDataRead(n);
    this.reads.push({ buffer: into?.buffer });
    this.inFlight++;
    try {
      await new Promise((r) => setTimeout(r, 1));
      if (n === this.failRead) throw new Error(`read ${n} failed`);
      return await this.inner.read(offset, length, signal, into);
    } finally {
      this.inFlight--;
    }
  }
}

describe('NpyEmbeddings', () => {
  const cases: [NpyDtype, 1 | 2 | 3, NpyLayout][] = [];
  for (const dtype of ['float16', 'float32', 'float64'] as const) {
    for (const version of [1, 2, 3] as const) {
      for (const layout of ['NKD', 'KND'] as const) cases.push([dtype, version, layout]);
    }
  }

  it.each(cases)('%s v%i %s: reads prompt-major rows identical to the source', async (dtype, version, layout) => {
    const store = await NpyEmbeddings.open(trainEmbeddings(layout, { dtype, version }), layout);
    expect(store.rows).toBe(TRAIN.n * TRAIN.k);
    expect(store.dim).toBe(TRAIN.d);
    expect(store.prompts).toBe(TRAIN.n);
    expect(store.responsesPerPrompt).toBe(TRAIN.k);
    expect(await store.readRange(0, store.rows)).toEqual(Float32Array.from(TRAIN.emb));
    expect(await store.readRange(4, 11)).toEqual(expectedRows(TRAIN, range(4, 11)));
    expect(await store.readRange(5, 5)).toEqual(new Float32Array(0));
    // Into a caller's (dirty) buffer: filled there, and only the rows asked for.
    const into = new Float32Array(store.rows * store.dim).fill(NaN);
    const filled = await store.readRange(4, 11, undefined, into);
    expect(filled.buffer).toBe(into.buffer);
    expect(filled).toEqual(expectedRows(TRAIN, range(4, 11)));
    const rows = Int32Array.from([20, 0, 3, 3, 19, 7, 1]);
    expect(await store.gather(rows)).toEqual(expectedRows(TRAIN, rows));
  });

  it('gives identical results across chunk boundaries that split rows, in both layouts', async () => {
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
        const store = await NpyEmbeddings.open(trainEmbeddings(layout), layout, options);
        for (let start = 0; start <= store.rows; start += 2) {
          for (const end of [start, start + 1, start + 4, store.rows]) {
            if (end > store.rows) continue;
            expect(await store.readRange(start, end)).toEqual(expectedRows(TRAIN, range(start, end)));
          }
        }
        for (const rows of gathers) expect(await store.gather(rows)).toEqual(expectedRows(TRAIN, rows));
      }
    }
  });

  it('counts the data bytes it reads', async () => {
    const store = await NpyEmbeddings.open(trainEmbeddings('KND', { dtype: 'float16' }), 'KND', { chunkBytes: 8 });
    expect(store.bytesRead).toBe(0);
    await store.readRange(0, store.rows);
    expect(store.bytesRead).toBe(store.rows * store.dim * 2);
    await store.gather(Int32Array.from([4]));
    expect(store.bytesRead).toBe((store.rows + 1) * store.dim * 2);
  });

  it('reads a Blob through BlobSource', async () => {
    for (const layout of ['NKD', 'KND'] as const) {
      const bytes = await trainEmbeddings(layout, { dtype: 'float16' }).read(0, trainEmbeddings(layout, { dtype: 'float16' }).size);
      const store = await NpyEmbeddings.open(new BlobSource(new Blob([bytes.slice()]), 'picked.npy'), layout, { chunkBytes: 14 });
      expect(await store.readRange(0, store.rows)).toEqual(Float32Array.from(TRAIN.emb));
      const rows = Int32Array.from([3, 17, 2, 2]);
      expect(await store.gather(rows)).toEqual(expectedRows(TRAIN, rows));
    }
  });

  it('reads through gaps as wide as its source says a read costs (a Blob: 1 MiB), unless told otherwise', async () => {
    // Rows 0, 10 and 20 of 20-byte rows: two gaps of 180 bytes.
    const rows = Int32Array.from([20, 0, 10]);
    const dataReads = async (gap: number | undefined, options: NpyReadOptions = {}) => {
      const inner = trainEmbeddings('NKD');
      let reads = 0;
      const source: ByteSource = {
        name: inner.name,
        size: inner.size,
        coalesceGapBytes: gap,
        read: (offset, length, signal, into) => {
          if (offset > 0) reads++;
          return inner.read(offset, length, signal, into);
        },
      };
      const store = await NpyEmbeddings.open(source, 'NKD', options);
      expect(await store.gather(rows)).toEqual(expectedRows(TRAIN, rows));
      return reads;
    };
    expect(await dataReads(0)).toBe(3);
    expect(await dataReads(1 << 20)).toBe(1);
    expect(await dataReads(1 << 20, { coalesceGapBytes: 0 })).toBe(3);
    expect(await dataReads(undefined, { coalesceGapBytes: 100 })).toBe(3);
    expect(new BlobSource(new Blob([]), 'picked.npy').coalesceGapBytes).toBe(BLOB_COALESCE_GAP_BYTES);
  });

  it('rejects out-of-range rows and cancelled reads', async () => {
    const store = await NpyEmbeddings.open(trainEmbeddings('KND'), 'KND', { chunkBytes: 8 });
    await expect(store.readRange(0, store.rows + 1)).rejects.toThrow(RangeError);
    await expect(store.gather(Int32Array.from([0, store.rows]))).rejects.toThrow(RangeError);
    const controller = new AbortController();
    controller.abort();
    await expect(store.readRange(0, 4, controller.signal)).rejects.toBeInstanceOf(CancelledError);
    await expect(store.gather(Int32Array.from([1]), controller.signal)).rejects.toBeInstanceOf(CancelledError);
  });

  it('reports a failing source as a DatasetError naming it', async () => {
    const good = trainEmbeddings('NKD');
    const flaky: ByteSource = {
      name: 'flaky.npy',
      size: good.size,
      read: (offset, length) => (offset === 0 ? good.read(offset, length) : Promise.reject(new Error('disk on fire'))),
    };
    const store = await NpyEmbeddings.open(flaky, 'NKD');
    const err = await failure(store.readRange(0, 1));
    expect(err).toBeInstanceOf(DatasetError);
    expect(err.message).toBe('cannot read flaky.npy: disk on fire');
  });

  it('reads into a caller\'s buffer chunk by chunk, (N, K, D) float32 straight from the source, every dtype intact', async () => {
    for (const dtype of ['float16', 'float32', 'float64'] as const) {
      for (const layout of ['NKD', 'KND'] as const) {
        const source = new RecordingSource(trainEmbeddings(layout, { dtype }));
        // 12-byte chunks: many reads per range, each read while the one before is decoded.
        const store = await NpyEmbeddings.open(source, layout, { chunkBytes: 12 });
        const into = new Float32Array(store.rows * store.dim).fill(NaN);
        source.reads.length = 0;
        const filled = await store.readRange(3, 17, undefined, into);
        expect(filled.buffer).toBe(into.buffer);
        expect(filled).toEqual(expectedRows(TRAIN, range(3, 17)));
        expect(source.reads.length).toBeGreaterThan(4);
        // (N, K, D) float32 is read into the result itself; other dtypes, and the scattered rows
        // of (K, N, D), into a read buffer first.
        const direct = dtype === 'float32' && layout === 'NKD';
        expect(source.reads.every((r) => (r.buffer === into.buffer) === direct), `${dtype} ${layout}`).toBe(true);
      }
    }
  });

  it('ends a chunked read on a failing chunk or a cancel with that error, with no read left running', async () => {
    const controller = new AbortController();
    const source = new RecordingSource(trainEmbeddings('NKD'), 3, (n) => n === 5 && controller.abort());
    const store = await NpyEmbeddings.open(source, 'NKD', { chunkBytes: 12 });
    for (const into of [undefined, new Float32Array(store.rows * store.dim)]) {
      source.dataReads = 0;
      const err = await failure(store.readRange(0, store.rows, undefined, into));
      expect(err).toBeInstanceOf(DatasetError);
      expect(err.message).toBe('cannot read nkd.npy: read 3 failed');
      expect(source.inFlight).toBe(0);
    }
    // Cancelled while read 5, the one ahead, is under way: it settles before the read ends.
    source.dataReads = 3;
    await expect(store.readRange(0, store.rows, controller.signal)).rejects.toBeInstanceOf(CancelledError);
    expect(source.inFlight).toBe(0);
  });

  it('offers (K, N, D) files\' storage order: contiguous file rows, each mapped to its prompt-major row', async () => {
    expect((await NpyEmbeddings.open(trainEmbeddings('NKD'), 'NKD')).storageOrder).toBeUndefined();
    const source = new RecordingSource(trainEmbeddings('KND'));
    const store = await NpyEmbeddings.open(source, 'KND', { chunkBytes: 12 });
    const order = store.storageOrder!;
    const positions = range(0, store.rows);
    const rows = positions.map((s) => order.rowAt(s));
    expect([...rows].sort((a, b) => a - b)).toEqual(positions);
    // File row j·N + p is response j of prompt p.
    expect(rows.slice(0, 3)).toEqual([0, TRAIN.k, 2 * TRAIN.k]);
    expect(order.rowAt(TRAIN.n)).toBe(1);
    const into = new Float32Array(store.rows * store.dim).fill(NaN);
    source.reads.length = 0;
    const got = await order.readRange(2, 19, undefined, into);
    expect(got.buffer).toBe(into.buffer);
    expect(got).toEqual(expectedRows(TRAIN, rows.slice(2, 19)));
    // Contiguous: read straight into the result, as (N, K, D) ranges are.
    expect(source.reads.every((r) => r.buffer === into.buffer)).toBe(true);
    await expect(order.readRange(0, store.rows + 1)).rejects.toThrow(RangeError);
  });

  it('rejects embeddings that are not 3-D or have no dimensions', async () => {
    const flat = new BytesSource('flat.npy', encodeNpy({ shape: [4, 5] }));
    await expect(NpyEmbeddings.open(flat, 'NKD')).rejects.toThrow(
      'flat.npy: embeddings must be a 3-D array (N, K, D), but its shape is (4, 5)',
    );
    const empty = new BytesSource('d0.npy', encodeNpy({ shape: [4, 5, 0] }));
    await expect(NpyEmbeddings.open(empty, 'KND')).rejects.toThrow('d0.npy: embeddings have dimension D = 0');
  });

  it('rejects a chunk size that is not positive', async () => {
    await expect(NpyEmbeddings.open(trainEmbeddings('NKD'), 'NKD', { chunkBytes: 0 })).rejects.toThrow(RangeError);
  });
});

describe('non-finite embeddings', () => {
  // NaN at (prompt 2, response 1, dim 3), -Infinity at (prompt 5, response 0, dim 0).
  const bad = Float64Array.from(TRAIN.emb);
  bad[(2 * TRAIN.k + 1) * TRAIN.d + 3] = NaN;
  bad[(5 * TRAIN.k + 0) * TRAIN.d + 0] = -Infinity;
  const badRow = 2 * TRAIN.k + 1;
  const total = TRAIN.n * TRAIN.k * TRAIN.d;
  const open = (layout: NpyLayout, options: NpyReadOptions = {}, dtype: NpyDtype = 'float32') =>
    NpyEmbeddings.open(trainEmbeddings(layout, { dtype }, bad), layout, options);

  it.each(['float16', 'float32', 'float64'] as const)('refuses a %s range holding them, with the count and first location', async (dtype) => {
    for (const chunkBytes of [undefined, 12]) {
      const nkd = await open('NKD', { chunkBytes }, dtype);
      const err = await failure(nkd.readRange(0, nkd.rows));
      expect(err).toBeInstanceOf(DatasetError);
      expect(err.message).toBe(
        `nkd.npy: 2 of the ${total} embedding values just read are not finite (NaN or ±Infinity); ` +
          'the first is NaN at prompt 2, response 1, dim 3 (array index [2, 1, 3]). Embeddings must be finite',
      );
      // In file order the (K, N, D) file meets the -Infinity first.
      const knd = await open('KND', { chunkBytes }, dtype);
      await expect(knd.readRange(0, knd.rows)).rejects.toThrow(
        '2 of the 105 embedding values just read are not finite (NaN or ±Infinity); ' +
          'the first is -Infinity at prompt 5, response 0, dim 0 (array index [0, 5, 0])',
      );
    }
  });

  it('finds a lone bad value wherever it sits in a chunk', async () => {
    // Every position against the check's four interleaved sums and its tail, in chunks of 105 and 7 values.
    for (const chunkBytes of [undefined, 28]) {
      for (let at = 0; at < total; at++) {
        const values = Float64Array.from(TRAIN.emb);
        values[at] = at % 2 === 0 ? NaN : Infinity;
        const store = await NpyEmbeddings.open(trainEmbeddings('NKD', {}, values), 'NKD', { chunkBytes });
        await expect(store.readRange(0, store.rows, undefined, new Float32Array(total)), `value ${at}`).rejects.toThrow(
          `1 of the ${total} embedding values just read is not finite`,
        );
      }
    }
  });

  it('refuses only reads that include a bad value, gathers included', async () => {
    for (const layout of ['NKD', 'KND'] as const) {
      const store = await open(layout, { chunkBytes: 12, coalesceGapBytes: 1 << 20 });
      expect(await store.readRange(0, badRow)).toEqual(expectedRows(TRAIN, range(0, badRow)));
      await expect(store.readRange(badRow, badRow + 1)).rejects.toThrow('1 of the 5 embedding values just read is not finite');
      await expect(store.gather(Int32Array.from([0, badRow, badRow]))).rejects.toThrow(
        'the first is NaN at prompt 2, response 1, dim 3',
      );
      // Rows on either side are read through the bad one (coalesced) but it is not delivered, so not refused.
      const neighbours = Int32Array.from([badRow + 1, badRow - 1]);
      expect(await store.gather(neighbours)).toEqual(expectedRows(TRAIN, neighbours));
    }
  });

  it('are refused by storage-order reads too, located in the file', async () => {
    const knd = await open('KND', { chunkBytes: 12 });
    await expect(knd.storageOrder!.readRange(0, knd.rows)).rejects.toThrow(
      '2 of the 105 embedding values just read are not finite (NaN or ±Infinity); ' +
        'the first is -Infinity at prompt 5, response 0, dim 0 (array index [0, 5, 0])',
    );
  });

  it('are counted, not refused, by scanEmbeddings', async () => {
    const firsts = { NKD: { prompt: 2, response: 1, dim: 3 }, KND: { prompt: 5, response: 0, dim: 0 } };
    for (const layout of ['NKD', 'KND'] as const) {
      const store = await open(layout, { chunkBytes: 12 });
      const progress: [number, number][] = [];
      const scan = await scanEmbeddings(store, { chunkRows: 4, onProgress: (done, all) => progress.push([done, all]) });
      expect(scan).toEqual({ rows: 21, nonFinite: 2, firstNonFinite: firsts[layout] });
      expect(progress.map(([done]) => done)).toEqual([80, 160, 240, 320, 400, 420]);
      expect(progress.every(([, all]) => all === 420)).toBe(true);
    }
    const clean = await NpyEmbeddings.open(trainEmbeddings('KND'), 'KND');
    expect(await scanEmbeddings(clean)).toEqual({ rows: 21, nonFinite: 0, firstNonFinite: null });
    expect(clean.bytesRead).toBe(420);
  });

  it('scans any EmbeddingStore, and stops when cancelled', async () => {
    const memory = new InMemoryEmbeddings(Float32Array.from(bad), TRAIN.d);
    expect(await scanEmbeddings(memory, { responsesPerPrompt: TRAIN.k, chunkRows: 5 })).toEqual({
      rows: 21,
      nonFinite: 2,
      firstNonFinite: { prompt: 2, response: 1, dim: 3 },
    });
    const controller = new AbortController();
    controller.abort();
    await expect(scanEmbeddings(memory, { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
    await expect(scanEmbeddings(await open('KND'), { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('readNpyRewards', () => {
  it('reads every reward shape into prompt-major order', async () => {
    const cases: [NpyLayout, number[], Float64Array][] = [
      ['NKD', [TRAIN.n, TRAIN.k, 1], TRAIN.rew],
      ['NKD', [TRAIN.n, TRAIN.k], TRAIN.rew],
      ['KND', [TRAIN.k, TRAIN.n], TRAIN.rewKN],
      ['KND', [TRAIN.k, TRAIN.n, 1], TRAIN.rewKN],
    ];
    for (const [layout, shape, values] of cases) {
      const source = new BytesSource('r.npy', encodeNpy({ shape, values, dtype: 'float16' }));
      expect(await readNpyRewards(source, layout, { chunkBytes: 6 })).toEqual(Float32Array.from(TRAIN.rew));
    }
  });

  it('rejects a 3-D rewards file whose last axis is not 1', async () => {
    const source = new BytesSource('r.npy', encodeNpy({ shape: [2, 3, 2] }));
    await expect(readNpyRewards(source, 'NKD')).rejects.toThrow('r.npy: rewards must have shape (N, K, 1) or (N, K)');
    await expect(readNpyRewards(source, 'KND')).rejects.toThrow('r.npy: rewards must have shape (K, N) or (K, N, 1)');
  });

  it('reports non-finite rewards with their count and first position in both layouts', async () => {
    const rewKN = Float64Array.from(TRAIN.rewKN);
    rewKN[1 * TRAIN.n + 5] = NaN;
    rewKN[2 * TRAIN.n + 0] = Infinity;
    const source = new BytesSource('R.npy', encodeNpy({ shape: [TRAIN.k, TRAIN.n], values: rewKN }));
    await expect(readNpyRewards(source, 'KND')).rejects.toThrow(
      'R.npy holds 2 non-finite rewards (NaN or ±Infinity) of 21; the first is Infinity at prompt 0, response 2 (array index [2, 0])',
    );
  });
});

describe('planNpyDataset: layout detection', () => {
  it('decides (N, K, D) when names, reward shape and rank order agree', async () => {
    const plan = await planNpyDataset(infra());
    expect(plan.questions).toEqual([]);
    expect(plan.splits.train).toMatchObject({
      layout: 'NKD',
      decidedBy: 'evidence',
      reason: 'names, reward shape and rank order agree: (N, K, D)',
      prompts: TRAIN.n,
      responsesPerPrompt: TRAIN.k,
      dim: TRAIN.d,
    });
    expect(plan.splits.train.evidence.map((c) => [c.kind, c.layout])).toEqual([
      ['names', 'NKD'],
      ['reward shape', 'NKD'],
      ['rank order', 'NKD'],
    ]);
    expect(plan.splits.train.evidence[2].detail).toContain('only reading reward_gemma2b_rmmistral7b_helpful_train.npy as (N, K)');
    // Test responses are in generation order, so rank order is no evidence there.
    expect(plan.splits.test).toMatchObject({ layout: 'NKD', reason: 'names and reward shape agree: (N, K, D)' });
    expect(plan.splits.test.evidence).toHaveLength(2);
  });

  it('decides (K, N, D) for the distributed files', async () => {
    const plan = await planNpyDataset(distributed());
    expect(plan.splits.train).toMatchObject({ layout: 'KND', reason: 'names, reward shape and rank order agree: (K, N, D)' });
    expect(plan.splits.test).toMatchObject({ layout: 'KND', prompts: TEST.n, responsesPerPrompt: TEST.k });
    expect(plan.files.embTrain).toMatchObject({ name: 'EMBD-TRAIN-gemma2b-harmless.npy', naming: 'distributed', layout: 'KND' });
  });

  it('asks when names and reward shape conflict, and the layout option answers', async () => {
    const sources = distributed('float32', { rewTest: { shape: [TEST.k, TEST.n, 1] } });
    const plan = await planNpyDataset(sources);
    expect(plan.splits.train.layout).toBe('KND');
    expect(plan.splits.test).toMatchObject({ layout: null, decidedBy: null, prompts: null, responsesPerPrompt: null });
    expect(plan.questions).toEqual([
      {
        split: 'test',
        file: 'embd-test-gemma2b-harmless.npy',
        shape: [TEST.k, TEST.n, TEST.d],
        text: 'is embd-test-gemma2b-harmless.npy (6, 4, 5) laid out (K, N, D) or (N, K, D)?',
        why: expect.stringContaining('the names say (K, N, D) but the reward shape says (N, K, D): ') as unknown,
        choices: [
          { layout: 'KND', label: '(K, N, D): 4 prompts × 6 responses each' },
          { layout: 'NKD', label: '(N, K, D): 6 prompts × 4 responses each' },
        ],
      },
    ]);
    const err = await failure(openNpyDataset(sources));
    expect(err).toBeInstanceOf(DatasetQuestionError);
    expect((err as DatasetQuestionError).questions).toEqual(plan.questions);
    expect(err.message).toContain('is embd-test-gemma2b-harmless.npy (6, 4, 5) laid out (K, N, D) or (N, K, D)?');

    for (const layout of ['KND', { test: 'KND' }] as const) {
      const ds = await openNpyDataset(sources, { layout });
      expect(ds.plan.splits.test).toMatchObject({ layout: 'KND', decidedBy: 'override' });
      expect(ds.plan.splits.test.reason).toMatch(/^set by the caller: \(K, N, D\) \(against the reward shape: /);
      expect(ds.test.rewards).toEqual(Float32Array.from(TEST.rew));
      expect(await ds.test.embeddings.readRange(0, ds.test.embeddings.rows)).toEqual(Float32Array.from(TEST.emb));
    }
  });

  it('asks about squeezed (N, K) rewards beside infrastructure names', async () => {
    const sources = infra('float32', { rewTrain: { shape: [TRAIN.n, TRAIN.k] } });
    const plan = await planNpyDataset(sources);
    expect(plan.questions).toHaveLength(1);
    expect(plan.questions[0].text).toBe('is embd_gemma2b_gemma2b_helpful_train.npy (7, 3, 5) laid out (N, K, D) or (K, N, D)?');
    expect(plan.questions[0].why).toMatch(/^the names and rank order say \(N, K, D\) but the reward shape says \(K, N, D\): /);
    const ds = await openNpyDataset(sources, { layout: { train: 'NKD' } });
    expect(ds.train.rewards).toEqual(Float32Array.from(TRAIN.rew));
  });

  it('asks when rank order contradicts the names and shapes (a mislabelled file)', async () => {
    // (K, N, D) data saved under infrastructure names and a (K, N, 1) reward shape.
    const sources = infra('float32', {
      embTrain: { shape: [TRAIN.k, TRAIN.n, TRAIN.d], values: TRAIN.embKND },
      rewTrain: { shape: [TRAIN.k, TRAIN.n, 1], values: TRAIN.rewKN },
    });
    const plan = await planNpyDataset(sources);
    expect(plan.questions.map((q) => q.split)).toEqual(['train']);
    expect(plan.questions[0].why).toMatch(/^the names and reward shape say \(N, K, D\) but the rank order says \(K, N, D\): /);
    expect(plan.questions[0].choices.map((c) => c.layout)).toEqual(['NKD', 'KND']);
    const ds = await openNpyDataset(sources, { layout: { train: 'KND' } });
    expect(ds.train.rankSorted).toBe(true);
    expect(await ds.train.embeddings.readRange(0, ds.train.embeddings.rows)).toEqual(Float32Array.from(TRAIN.emb));
    expect(ds.plan.splits.test.layout).toBe('NKD');
  });

  it('lets reward shape and rank order decide when the names mix conventions', async () => {
    const names = { ...DIST_NAMES, embTrain: 'embd_gemma2b_train.npy' };
    const plan = await planNpyDataset(toSources(names, distSpecs()));
    expect(plan.splits.train).toMatchObject({ layout: 'KND', reason: 'reward shape and rank order agree: (K, N, D)' });
    expect(plan.splits.train.evidence[0]).toEqual({
      kind: 'names',
      layout: null,
      detail: 'embd_gemma2b_train.npy uses the infrastructure names but REWARD-TRAIN-gemma2b-harmless.npy the distributed ones',
    });
  });

  it('asks when only one clue points (mixed names on the test split)', async () => {
    const names = { ...DIST_NAMES, rewTest: 'reward_gemma2b_test.npy' };
    const plan = await planNpyDataset(toSources(names, distSpecs()));
    expect(plan.questions.map((q) => q.split)).toEqual(['test']);
    expect(plan.questions[0].why).toMatch(/^only the reward shape says \(K, N, D\), which is not enough on its own: /);
    expect(plan.questions[0].choices[0].layout).toBe('KND');
  });

  it('decides from names and reward shape when the train split is not rank-sorted', async () => {
    const shuffled = Float64Array.from(TEST.rew.subarray(0, TRAIN.n * TRAIN.k));
    const plan = await planNpyDataset(infra('float32', { rewTrain: { values: shuffled } }));
    expect(plan.splits.train).toMatchObject({ layout: 'NKD', reason: 'names and reward shape agree: (N, K, D)' });
    expect(plan.splits.train.evidence[2]).toMatchObject({ kind: 'rank order', layout: null });
    expect(plan.splits.train.evidence[2].detail).toContain('ascending in neither reading');
  });

  it('follows an override against agreeing evidence, and says so', async () => {
    const ds = await openNpyDataset(infra(), { layout: 'KND' });
    // Read as (K, N, D) the same file has N and K swapped.
    expect(ds.train.prompts).toBe(TRAIN.k);
    expect(ds.train.responsesPerPrompt).toBe(TRAIN.n);
    expect(ds.plan.splits.train.reason).toMatch(/^set by the caller: \(K, N, D\) \(against the names, reward shape and rank order: /);
    expect(ds.plan.files.embTrain.layout).toBe('KND');
  });

  it('rejects an unknown layout value', async () => {
    const layout = 'NDK' as NpyLayout;
    await expect(planNpyDataset(infra(), { layout })).rejects.toThrow('unknown layout "NDK"; expected NKD (N, K, D) or KND (K, N, D)');
  });
});

describe('planNpyDataset: files', () => {
  it('reports every role from the headers and ignores unrelated sources without reading them', async () => {
    const unreadable = (name: string): ByteSource => ({
      name,
      size: 10,
      read: () => Promise.reject(new Error(`${name} must not be read`)),
    });
    const sources = infra('float16', {}).concat([unreadable('notes.txt'), unreadable('embd_other.npy')]);
    const plan = await planNpyDataset(sources);
    expect(plan.ignored).toEqual(['notes.txt', 'embd_other.npy']);
    expect(plan.files.rewTest).toEqual({
      role: 'rewTest',
      split: 'test',
      name: 'reward_gemma2b_rmmistral7b_helpful_test.npy',
      shape: [TEST.n, TEST.k, 1],
      dtype: 'float16',
      version: '1.0',
      naming: 'infrastructure',
      layout: 'NKD',
      evidence: plan.splits.test.evidence,
    });
    expect(plan.info).toMatchObject({ id: 'gemma2b_gemma2b_helpful', task: 'helpful' });
    expect(plan.info.description).toContain('embd_gemma2b_gemma2b_helpful_train.npy (7, 3, 5) float16 read as (N, K, D)');
  });

  it('matches names of both conventions, case-insensitively', () => {
    expect(matchNpyRole('embd_a_b_helpful_train.npy')).toEqual({ role: 'embTrain', split: 'train', naming: 'infrastructure', stem: 'a_b_helpful' });
    expect(matchNpyRole('Reward-Test-x.NPY')).toEqual({ role: 'rewTest', split: 'test', naming: 'distributed', stem: 'x' });
    expect(matchNpyRole('embd_train.npy')).toBeNull();
    expect(matchNpyRole('train.arrow')).toBeNull();
    expect(selectNpyDatasetFiles(['a.txt', 'EMBD-TEST-x.npy'])).toEqual(['EMBD-TEST-x.npy']);
    expect(() => selectNpyDatasetFiles(['a.txt'], '/data')).toThrow('no .npy dataset files in /data: expected embd_*_train.npy');
  });
});

describe('openNpyDataset', () => {
  it('opens the infrastructure layout with metadata from the file names', async () => {
    const ds = await openNpyDataset(infra('float64'));
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
    expect(ds.train.embeddings.bytesRead).toBe(TRAIN.n * TRAIN.k * TRAIN.d * 8);
  });

  it('opens the distributed layout into the same prompt-major rows', async () => {
    const ds = await openNpyDataset(distributed('float16'), { chunkBytes: 14 });
    expect(ds.info.task).toBe('harmless');
    expect(ds.info.taskScale).toBe(1);
    expect(ds.info.generator).toBeUndefined();
    expect(ds.train.rankSorted).toBe(true);
    expect(ds.train.rewards).toEqual(Float32Array.from(TRAIN.rew));
    expect(ds.test.rewards).toEqual(Float32Array.from(TEST.rew));
    expect(await ds.train.embeddings.readRange(0, ds.train.embeddings.rows)).toEqual(Float32Array.from(TRAIN.emb));
    expect(await ds.test.embeddings.readRange(0, ds.test.embeddings.rows)).toEqual(Float32Array.from(TEST.emb));
    const rows = Int32Array.from([23, 0, 6, 7, 12, 12]);
    expect(await ds.test.embeddings.gather(rows)).toEqual(expectedRows(TEST, rows));
  });

  it('opens picked files (Blobs)', async () => {
    const blobs = await Promise.all(
      distributed().map(async (s) => new BlobSource(new Blob([(await s.read(0, s.size)).slice()]), s.name)),
    );
    const ds = await openNpyDataset(blobs, { chunkBytes: 64 });
    expect(ds.plan.splits.train.layout).toBe('KND');
    const rows = Int32Array.from([20, 1, 9]);
    expect(await ds.train.embeddings.gather(rows)).toEqual(expectedRows(TRAIN, rows));
    expect(ds.test.rewards).toEqual(Float32Array.from(TEST.rew));
  });

  it('closes the sources that can be closed, once', async () => {
    class ClosableSource extends BytesSource {
      closes = 0;
      async close(): Promise<void> {
        this.closes++;
      }
    }
    const [embTrain, rewTrain, ...rest] = infra();
    const closable = await Promise.all([embTrain, rewTrain].map(async (s) => new ClosableSource(s.name, await s.read(0, s.size))));
    const ds = await openNpyDataset([...closable, ...rest]);
    await ds.close();
    await ds.close();
    expect(closable.slice(0, 2).map((s) => s.closes)).toEqual([1, 1]);
  });

  it('reports a truncated embeddings file', async () => {
    await expectDatasetError(
      infra('float32', { embTrain: { truncateBytes: 6 } }),
      'embd_gemma2b_gemma2b_helpful_train.npy is truncated',
      `needs ${TRAIN.n * TRAIN.k * TRAIN.d * 4} data bytes`,
      '6 missing',
    );
  });

  it('reports trailing bytes', async () => {
    await expectDatasetError(infra('float32', { rewTest: { trailingBytes: 5 } }), 'reward_gemma2b_rmmistral7b_helpful_test.npy has 5 trailing bytes');
  });

  it('reports big-endian data', async () => {
    await expectDatasetError(infra('float32', { embTest: { descr: '>f4' } }), "embd_gemma2b_gemma2b_helpful_test.npy is stored big-endian ('>f4')");
  });

  it('reports Fortran order', async () => {
    await expectDatasetError(
      infra('float32', { embTrain: { fortranOrder: true } }),
      'embd_gemma2b_gemma2b_helpful_train.npy is stored in Fortran (column-major) order',
    );
  });

  it('reports an integer dtype', async () => {
    await expectDatasetError(
      infra('float32', { rewTrain: { dtype: 'int32' } }),
      "reward_gemma2b_rmmistral7b_helpful_train.npy has dtype int32 ('<i4')",
      'expected float16, float32 or float64',
    );
  });

  it('reports a 0-byte file', async () => {
    await expectDatasetError(
      replaced(infra(), INFRA_NAMES.embTest, new Uint8Array(0)),
      'embd_gemma2b_gemma2b_helpful_test.npy is empty (0 bytes)',
    );
  });

  it('reports a file that is not .npy', async () => {
    await expectDatasetError(
      replaced(infra(), INFRA_NAMES.rewTest, new TextEncoder().encode('prompt,response,reward\n')),
      'reward_gemma2b_rmmistral7b_helpful_test.npy is not a .npy file',
      '\\x93NUMPY',
    );
  });

  it('reports embeddings that are not 3-D and rewards of the wrong shape', async () => {
    await expectDatasetError(
      infra('float32', { embTest: { shape: [TEST.n * TEST.k, TEST.d] } }),
      'embd_gemma2b_gemma2b_helpful_test.npy: embeddings must be a 3-D array (N, K, D) or (K, N, D), but its shape is (24, 5)',
    );
    await expectDatasetError(
      infra('float32', { rewTest: { shape: [TEST.n * TEST.k] } }),
      'reward_gemma2b_rmmistral7b_helpful_test.npy: rewards must have shape (N, K, 1) or (N, K)',
    );
  });

  it('reports rewards whose N and K disagree with the embeddings, naming both files and shapes', async () => {
    await expectDatasetError(
      infra('float32', { rewTrain: { shape: [TRAIN.n - 1, TRAIN.k, 1], values: TRAIN.rew.subarray(0, (TRAIN.n - 1) * TRAIN.k) } }),
      'train rewards and embeddings disagree',
      'reward_gemma2b_rmmistral7b_helpful_train.npy has shape (6, 3, 1) (N=6 prompts, K=3 responses, read as (N, K, D))',
      'embd_gemma2b_gemma2b_helpful_train.npy has shape (7, 3, 5) (N=7 prompts',
    );
  });

  it('says when the rewards look transposed relative to the embeddings', async () => {
    await expectDatasetError(
      infra('float32', { rewTest: { shape: [TEST.k, TEST.n], values: TEST.rewKN } }),
      'test rewards and embeddings disagree: reward_gemma2b_rmmistral7b_helpful_test.npy has shape (6, 4) ',
      'the rewards look transposed relative to the embeddings',
    );
  });

  it('reports train and test embeddings of different dimension', async () => {
    await expectDatasetError(
      infra('float32', { embTest: { shape: [TEST.n, TEST.k, TEST.d + 1], values: new Float64Array(TEST.n * TEST.k * (TEST.d + 1)) } }),
      'train and test embeddings differ in dimension',
      'embd_gemma2b_gemma2b_helpful_train.npy has D=5',
      'embd_gemma2b_gemma2b_helpful_test.npy has D=6',
    );
  });

  it('accepts a test K different from the train K', async () => {
    expect(TEST.k).not.toBe(TRAIN.k);
    const ds = await openNpyDataset(infra());
    expect([ds.train.responsesPerPrompt, ds.test.responsesPerPrompt]).toEqual([TRAIN.k, TEST.k]);
  });

  it('reports an empty split', async () => {
    await expectDatasetError(
      infra('float32', { embTest: { shape: [0, TEST.k, TEST.d], values: [] }, rewTest: { shape: [0, TEST.k, 1], values: [] } }),
      'embd_gemma2b_gemma2b_helpful_test.npy: the test split is empty (shape (0, 6, 5))',
    );
  });

  it('reports NaN rewards with their count and first position', async () => {
    const rew = Float64Array.from(TEST.rew);
    rew[2 * TEST.k + 4] = NaN;
    rew[3 * TEST.k + 1] = Infinity;
    rew[3 * TEST.k + 2] = NaN;
    await expectDatasetError(
      infra('float32', { rewTest: { values: rew } }),
      'reward_gemma2b_rmmistral7b_helpful_test.npy holds 3 non-finite rewards',
      'the first is NaN at prompt 2, response 4 (array index [2, 4])',
    );
  });

  it('reports NaN positions in distributed files by their file index too', async () => {
    const rewKN = Float64Array.from(TRAIN.rewKN);
    rewKN[1 * TRAIN.n + 5] = NaN;
    await expectDatasetError(distributed('float32', { rewTrain: { values: rewKN } }), 'holds 1 non-finite reward ', 'prompt 5, response 1 (array index [1, 5])');
  });

  it('reports a missing partner file, naming what was found and what is missing', async () => {
    await expectDatasetError(
      infra().filter((s) => s.name !== INFRA_NAMES.rewTrain),
      'the dataset is incomplete',
      'embd_gemma2b_gemma2b_helpful_train.npy (train embeddings)',
      'reward_gemma2b_rmmistral7b_helpful_test.npy (test rewards)',
      'no file for the train rewards (reward_*_train.npy or REWARD-TRAIN-*.npy)',
    );
  });

  it('reports several candidates for one role, and a file given twice', async () => {
    const other = new BytesSource('EMBD-TRAIN-other.npy', encodeNpy({ shape: [TRAIN.k, TRAIN.n, TRAIN.d] }));
    await expectDatasetError([...infra(), other], '2 candidate train embeddings files', 'embd_gemma2b_gemma2b_helpful_train.npy, EMBD-TRAIN-other.npy');
    const sources = infra();
    await expectDatasetError([...sources, sources[3]], '2 candidate test rewards files');
  });

  it('reports sources without dataset files', async () => {
    await expectDatasetError([new BytesSource('notes.txt', new Uint8Array(1))], 'no .npy dataset files: expected', 'found: notes.txt');
    await expectDatasetError([], 'found: (nothing)');
  });
});
