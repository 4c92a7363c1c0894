import {
  Field,
  Float32,
  Float64,
  FixedSizeList,
  Int32,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  type Data,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';

import { floatToHalf } from '../testing/writeNpy.ts';
import {
  ArrowFormatError,
  float32BitsToHalf,
  openArrowDataset,
  openArrowSplit,
  readArrowSplitMeta,
  writeArrowSplit,
  type ArrowSplitDescription,
  type ArrowWriteOptions,
} from './arrowFormat.ts';
import { BytesSource } from './bytes.ts';
import { CancelledError } from './cancel.ts';
import { makeSplit, InMemoryEmbeddings, type Split } from './dataset.ts';
import { DatasetError } from './datasetError.ts';
import { makeDemoDataset } from './demo.ts';
import { halfToFloat } from './npy.ts';

const demo = makeDemoDataset({ trainPrompts: 37, responsesPerTrainPrompt: 6, testPrompts: 5, responsesPerTestPrompt: 40, dim: 12, seed: 5 });
const TRAIN_DESC: ArrowSplitDescription = {
  split: 'train',
  task: 'helpful',
  generator: 'gemma2b',
  embedder: 'gemma2b',
  goldenRewardModel: 'weqweasdas/RM-Gemma-7B',
  datasetId: 'demo_test',
};
const TEST_DESC: ArrowSplitDescription = { ...TRAIN_DESC, split: 'test' };

async function encode(split: Split, desc: ArrowSplitDescription, options: ArrowWriteOptions = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of writeArrowSplit(split, desc, options)) parts.push(chunk.slice());
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** A one-batch stream (or file) built with apache-arrow directly, for inputs our writer would refuse. */
function arrowBytes(fields: Field[], children: Data[], length: number, meta: Map<string, string>, format: 'stream' | 'file' = 'stream'): Uint8Array {
  const schema = new Schema(fields, meta);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  return tableToIPC(new Table([batch]), format);
}

function goodMeta(prompts: number, k: number, dim: number, extra: Record<string, string> = {}): Map<string, string> {
  return new Map(
    Object.entries({
      'reward_lab.format': 'embedding-split/1',
      task: 'helpful',
      split: 'train',
      rank_sorted: 'false',
      prompts: String(prompts),
      responses_per_prompt: String(k),
      dim: String(dim),
      ...extra,
    }),
  );
}

/** prompt_id/response_id/reward/embedding columns of a prompts × k × dim split, with knobs to break them. */
function columns(prompts: number, k: number, dim: number, tweak: { rewards?: Float32Array; responseIds?: Int32Array } = {}) {
  const n = prompts * k;
  const pid = Int32Array.from({ length: n }, (_, r) => Math.floor(r / k));
  const rid = tweak.responseIds ?? Int32Array.from({ length: n }, (_, r) => r % k);
  const rew = tweak.rewards ?? Float32Array.from({ length: n }, (_, r) => r * 0.25);
  const emb = Float32Array.from({ length: n * dim }, (_, i) => i / 7);
  const listType = new FixedSizeList(dim, new Field('item', new Float32(), false));
  const fields = {
    prompt_id: new Field('prompt_id', new Int32()),
    response_id: new Field('response_id', new Int32()),
    reward: new Field('reward', new Float32()),
    embedding: new Field('embedding', listType),
  };
  const data = {
    prompt_id: makeData({ type: new Int32(), data: pid }),
    response_id: makeData({ type: new Int32(), data: rid }),
    reward: makeData({ type: new Float32(), data: rew }),
    embedding: makeData({ type: listType, length: n, nullCount: 0, child: makeData({ type: new Float32(), data: emb }) }),
  };
  return { fields, data, emb, rew, n };
}

describe('float32 → float16 rounding', () => {
  it('matches a reference round-to-nearest-even conversion, including ties, subnormals and overflow', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const specials = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e6, -1e6, 2 ** -14, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 5.960464477539063e-8];
    const values = [...specials];
    let s = 1;
    for (let i = 0; i < 20000; i++) {
      s = (s * 16807) % 2147483647;
      values.push(((s / 2147483647) * 2 - 1) * 2 ** ((i % 40) - 26));
    }
    for (const v of values) {
      f[0] = v;
      expect(float32BitsToHalf(u[0]), `value ${f[0]}`).toBe(floatToHalf(f[0]));
    }
    f[0] = NaN;
    expect(Number.isNaN(halfToFloat(float32BitsToHalf(u[0])))).toBe(true);
  });
});

describe('Arrow split round trip', () => {
  it('gives back bit-identical float32 embeddings and rewards, and apache-arrow reads the same stream', async () => {
    const split = demo.train;
    const bytes = await encode(split, TRAIN_DESC, { batchRows: 7 });
    const opened = await openArrowSplit(new BytesSource('train.arrow', bytes));
    expect(opened.prompts).toBe(37);
    expect(opened.responsesPerPrompt).toBe(6);
    expect(opened.embeddings.dim).toBe(12);
    expect(opened.embeddings.batchCount).toBe(Math.ceil((37 * 6) / 7));
    expect(opened.rankSorted).toBe(split.rankSorted);
    expect(bits(opened.rewards)).toEqual(bits(split.rewards));
    const all = await split.embeddings.readRange(0, split.embeddings.rows);
    expect(bits(await opened.embeddings.readRange(0, opened.embeddings.rows))).toEqual(bits(all));

    const table = tableFromIPC(bytes);
    expect(table.numRows).toBe(37 * 6);
    const child = table.getChild('embedding')!.data.map((d) => d.children[0].values as Float32Array);
    expect(bits(Float32Array.from(child.flatMap((c) => [...c])))).toEqual(bits(all));
    expect(Array.from(table.getChild('response_id')!.toArray() as Int32Array).slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 0, 1]);
  });

  it('serves readRange and gather across batch boundaries, in any order, with small read chunks', async () => {
    const split = demo.test; // 5 prompts × 40
    const bytes = await encode(split, TEST_DESC, { batchRows: 13 });
    const d = split.embeddings.dim;
    const all = await split.embeddings.readRange(0, split.embeddings.rows);
    for (const options of [{}, { chunkBytes: 3 * d * 4, coalesceGapBytes: 0 }, { chunkBytes: 1 }]) {
      const store = (await openArrowSplit(new BytesSource('test.arrow', bytes), options)).embeddings;
      for (const [a, b] of [[0, 1], [12, 14], [5, 40], [13, 26], [199, 200], [0, 200], [7, 7]]) {
        expect(bits(await store.readRange(a, b)), `[${a}, ${b})`).toEqual(bits(all.subarray(a * d, b * d)));
      }
      // Across batches, into a caller's (dirty) buffer: filled there, and only the rows asked for.
      const into = new Float32Array(60 * d).fill(NaN);
      const filled = await store.readRange(5, 40, undefined, into);
      expect(filled.buffer).toBe(into.buffer);
      expect(bits(filled)).toEqual(bits(all.subarray(5 * d, 40 * d)));
      // Within one batch too.
      const within = await store.readRange(1, 12, undefined, into);
      expect(within.buffer).toBe(into.buffer);
      expect(bits(within)).toEqual(bits(all.subarray(1 * d, 12 * d)));
      const rows = Int32Array.from([199, 0, 12, 13, 12, 77, 26, 25, 100, 101, 102, 150, 3]);
      const got = await store.gather(rows);
      rows.forEach((r, i) => expect(bits(got.subarray(i * d, i * d + d)), `row ${r}`).toEqual(bits(all.subarray(r * d, r * d + d))));
      await expect(store.readRange(0, 201)).rejects.toThrow(RangeError);
      await expect(store.gather(Int32Array.of(200))).rejects.toThrow(RangeError);
    }
  });

  it('rounds to float16 when asked, at half the embedding bytes', async () => {
    const split = demo.train;
    const full = await encode(split, TRAIN_DESC);
    const bytes = await encode(split, TRAIN_DESC, { float16: true, batchRows: 50 });
    const opened = await openArrowSplit(new BytesSource('train.arrow', bytes));
    expect(opened.meta.embeddingDtype).toBe('float16');
    const all = await split.embeddings.readRange(0, split.embeddings.rows);
    const expected = Float32Array.from(all, (v) => halfToFloat(floatToHalf(v)));
    const got = await opened.embeddings.readRange(0, opened.embeddings.rows);
    expect(bits(got)).toEqual(bits(expected));
    expect(Math.max(...got.map((v, i) => Math.abs(v - all[i])))).toBeLessThan(1e-2);
    const rows = Int32Array.of(221, 0, 49, 50, 51);
    const gathered = await opened.embeddings.gather(rows);
    rows.forEach((r, i) => expect(bits(gathered.subarray(i * 12, i * 12 + 12))).toEqual(bits(expected.subarray(r * 12, r * 12 + 12))));
    expect(bits(opened.rewards)).toEqual(bits(split.rewards)); // rewards stay float32
    const embBytes = all.length * 4;
    expect(full.length - bytes.length).toBeGreaterThan(embBytes / 2 - 4096);
  });

  it('round-trips the metadata, prompt ids, subsample and text columns', async () => {
    const k = demo.train.responsesPerPrompt;
    const promptIds = Int32Array.from({ length: 37 }, (_, i) => 3 * i + 1);
    const desc: ArrowSplitDescription = {
      ...TRAIN_DESC,
      promptIds,
      subsample: { prompts: 37, of: 120, seed: 9, method: 'uniform without replacement, ascending prompt order' },
      text: {
        prompts: Array.from({ length: 37 }, (_, p) => `Human: question ${p}?\n\nAssistant:`),
        responses: Array.from({ length: 37 * k }, (_, r) => `answer ${r} — ünïcödé`),
      },
    };
    const source = new BytesSource('train.arrow', await encode(demo.train, desc, { batchRows: 10 }));
    const meta = await readArrowSplitMeta(source);
    expect(meta).toMatchObject({
      format: 'embedding-split/1',
      split: 'train',
      task: 'helpful',
      generator: 'gemma2b',
      embedder: 'gemma2b',
      goldenRewardModel: 'weqweasdas/RM-Gemma-7B',
      datasetId: 'demo_test',
      rankSorted: demo.train.rankSorted,
      producer: expect.stringMatching(/^reward-lab \d+\.\d+\.\d+/),
      prompts: 37,
      responsesPerPrompt: k,
      dim: 12,
      embeddingDtype: 'float32',
      subsample: { prompts: 37, of: 120, seed: 9 },
      textColumns: ['prompt', 'response'],
    });
    expect(meta.metadata['reward_lab.format']).toBe('embedding-split/1');
    const opened = await openArrowSplit(source);
    expect(Array.from(opened.embeddings.promptIds)).toEqual(Array.from(promptIds));
    expect(await opened.embeddings.readText('response', 8, 12)).toEqual(desc.text?.responses?.slice(8, 12));
    expect(await opened.embeddings.readText('prompt', 5, 7)).toEqual([desc.text?.prompts?.[0], desc.text?.prompts?.[1]]);
  });

  it('opens a train/test pair as a Dataset described by its metadata', async () => {
    const ds = await openArrowDataset(
      new BytesSource('train.arrow', await encode(demo.train, TRAIN_DESC)),
      new BytesSource('test.arrow', await encode(demo.test, TEST_DESC)),
    );
    expect(ds.info).toMatchObject({
      id: 'demo_test',
      task: 'helpful',
      taskScale: 6,
      synthetic: false,
      generator: 'gemma2b',
      embedder: 'gemma2b',
      goldenRewardModel: 'weqweasdas/RM-Gemma-7B',
    });
    expect(ds.info.description).toMatch(/train\.arrow 37×6×12 float32/);
    expect(ds.test.prompts).toBe(5);
    expect(ds.test.rankSorted).toBe(false);
  });

  it('reads a stream that another writer laid out differently (extra columns, other column order)', async () => {
    const { fields, data, emb, rew, n } = columns(4, 3, 5);
    const extra = new Field('score_v2', new Float64());
    const extraData = makeData({ type: new Float64(), data: new Float64Array(n).fill(1.5) });
    const bytes = arrowBytes(
      [extra, fields.embedding, fields.response_id, fields.reward, fields.prompt_id],
      [extraData, data.embedding, data.response_id, data.reward, data.prompt_id],
      n,
      goodMeta(4, 3, 5),
    );
    const s = await openArrowSplit(new BytesSource('other.arrow', bytes));
    expect(bits(s.rewards)).toEqual(bits(rew));
    expect(bits(await s.embeddings.readRange(0, n))).toEqual(bits(emb));
  });

  it('honours cancellation while writing and reading', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(encode(demo.train, TRAIN_DESC, { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
    const s = await openArrowSplit(new BytesSource('train.arrow', await encode(demo.train, TRAIN_DESC)));
    await expect(s.embeddings.readRange(0, 10, controller.signal)).rejects.toBeInstanceOf(CancelledError);
    await expect(s.embeddings.gather(Int32Array.of(1), controller.signal)).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('bad Arrow input', () => {
  const open = (name: string, bytes: Uint8Array) => openArrowSplit(new BytesSource(name, bytes));

  it('reports a truncated stream wherever it was cut', async () => {
    const bytes = await encode(demo.train, TRAIN_DESC, { batchRows: 60 });
    for (const cut of [3, 7, 100, Math.floor(bytes.length / 2), bytes.length - 9, bytes.length - 1]) {
      const e = await rejection(open('cut.arrow', bytes.subarray(0, cut)));
      expect(e, `cut at ${cut}`).toBeInstanceOf(ArrowFormatError);
      expect(e.message, `cut at ${cut}`).toMatch(/^cut\.arrow is truncated: /);
    }
    // Cut exactly between two batches: the framing is intact, only the row count gives it away.
    const chunks: Uint8Array[] = [];
    for await (const c of writeArrowSplit(demo.train, TRAIN_DESC, { batchRows: 60 })) chunks.push(c.slice());
    expect(chunks.length).toBe(5); // schema + batch 0, batches 1-3, end-of-stream marker
    const firstThree = new Uint8Array(chunks.slice(0, 3).reduce((s, c) => s + c.length, 0));
    chunks.slice(0, 3).reduce((at, c) => (firstThree.set(c, at), at + c.length), 0);
    await expect(open('cut.arrow', firstThree)).rejects.toThrow(
      'cut.arrow is truncated: it holds 180 rows in 3 record batches before the end of the file, without an end-of-stream marker, ' +
        'but its metadata declares 37 prompts × 6 responses = 222 rows',
    );
    // Without only the end-of-stream marker nothing is missing, as other writers may omit it.
    await expect(open('noeos.arrow', bytes.subarray(0, bytes.length - 8))).resolves.toMatchObject({ prompts: 37 });
  });

  it('says when it is given the Arrow file format instead of a stream', async () => {
    const { fields, data, n } = columns(2, 3, 4);
    const bytes = arrowBytes(Object.values(fields), Object.values(data), n, goodMeta(2, 3, 4), 'file');
    const e = await rejection(open('split.arrow', bytes));
    expect(e).toBeInstanceOf(ArrowFormatError);
    expect(e.message).toMatch(/split\.arrow is an Arrow IPC \*file\*.*not an Arrow IPC \*stream\*/);
  });

  it('names a missing column and a column of the wrong type', async () => {
    const { fields, data, n } = columns(2, 3, 4);
    const missing = await rejection(
      open('m.arrow', arrowBytes([fields.prompt_id, fields.response_id, fields.embedding], [data.prompt_id, data.response_id, data.embedding], n, goodMeta(2, 3, 4))),
    );
    expect(missing.message).toMatch(/^m\.arrow: missing column "reward" \(float32\); its columns are prompt_id: int32, response_id: int32, embedding/);

    const f64 = new Field('reward', new Float64());
    const wrong = await rejection(
      open('w.arrow', arrowBytes([fields.prompt_id, fields.response_id, f64, fields.embedding], [data.prompt_id, data.response_id, makeData({ type: new Float64(), data: new Float64Array(n) }), data.embedding], n, goodMeta(2, 3, 4))),
    );
    expect(wrong.message).toBe('w.arrow: column "reward" has type float64; expected float32');

    const listType = new List(new Field('item', new Float32()));
    const emb = makeData({ type: listType, length: n, nullCount: 0, valueOffsets: Int32Array.from({ length: n + 1 }, (_, i) => i * 4), child: makeData({ type: new Float32(), data: new Float32Array(n * 4) }) });
    const list = await rejection(
      open('l.arrow', arrowBytes([fields.prompt_id, fields.response_id, fields.reward, new Field('embedding', listType)], [data.prompt_id, data.response_id, data.reward, emb], n, goodMeta(2, 3, 4))),
    );
    expect(list.message).toMatch(/column "embedding" has type List<float32>; expected FixedSizeList<float32>\[4\] or FixedSizeList<float16>\[4\]/);
  });

  it('counts NaN/Inf rewards and names the first', async () => {
    const rewards = Float32Array.from({ length: 6 }, (_, i) => i);
    rewards[4] = NaN;
    rewards[5] = Infinity;
    const { fields, data, n } = columns(2, 3, 4, { rewards });
    const e = await rejection(open('nan.arrow', arrowBytes(Object.values(fields), Object.values(data), n, goodMeta(2, 3, 4))));
    expect(e.message).toBe(
      'nan.arrow holds 2 non-finite rewards (NaN or ±Infinity) of 6; the first is NaN at row 4 (prompt_id 1, response_id 1). Rewards must be finite',
    );
    const split = makeSplit(rewards, 2, 3, new InMemoryEmbeddings(new Float32Array(24), 4), false);
    await expect(encode(split, TRAIN_DESC)).rejects.toThrow(/cannot write the train split: 2 of its 6 rewards are NaN or ±Infinity, the first NaN at row 4/);
  });

  it('refuses NaN embeddings and float16 overflow when writing', async () => {
    const emb = new Float32Array(24);
    emb[13] = NaN;
    const split = makeSplit(new Float32Array(6), 2, 3, new InMemoryEmbeddings(emb, 4), false);
    await expect(encode(split, TRAIN_DESC)).rejects.toThrow(/1 embedding value in rows 0\.\.5 cannot be stored; the first, at row 3 \(prompt 1, response 0\), column 1: NaN is not finite/);
    emb[13] = 70000;
    await expect(encode(split, TRAIN_DESC, { float16: true })).rejects.toThrow(/70000 does not fit float16/);
  });

  it('rejects files that are not Arrow streams at all', async () => {
    const enc = new TextEncoder();
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty.arrow', new Uint8Array(0), /empty\.arrow is empty \(0 bytes\)/],
      ['notes.arrow', enc.encode('hello, these are notes'), /notes\.arrow is not an Arrow IPC stream: expected .*first bytes are 68 65 6c 6c/],
      ['x.arrow', Uint8Array.of(0x93, ...enc.encode("NUMPY\x01\x00v\x00{'descr'")), /x\.arrow is a NumPy \.npy file, not an Arrow stream/],
      ['p.arrow', enc.encode('PAR1....'), /p\.arrow is a Parquet file/],
      ['junk.arrow', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 16, 0, 0, 0, ...new Uint8Array(16).fill(0xab)), /junk\.arrow is corrupt: the metadata of message 0 at byte 0 is not a valid Arrow message|junk\.arrow: the stream must start with a schema/],
    ];
    for (const [name, bytes, message] of cases) {
      const e = await rejection(open(name, bytes));
      expect(e, name).toBeInstanceOf(ArrowFormatError);
      expect(e, name).toBeInstanceOf(DatasetError);
      expect(e.message, name).toMatch(message);
    }
  });

  it('checks the metadata against the data', async () => {
    const { fields, data, n } = columns(2, 3, 4);
    const f = Object.values(fields);
    const d = Object.values(data);
    const noFormat = goodMeta(2, 3, 4);
    noFormat.delete('reward_lab.format');
    await expect(open('a.arrow', arrowBytes(f, d, n, noFormat))).rejects.toThrow(
      'a.arrow is an Arrow stream but not a Reward Lab embedding split: its schema metadata has no "reward_lab.format" key (expected "embedding-split/1")',
    );
    await expect(open('b.arrow', arrowBytes(f, d, n, goodMeta(2, 3, 4, { 'reward_lab.format': 'embedding-split/2' })))).rejects.toThrow(/b\.arrow: schema metadata reward_lab\.format is "embedding-split\/2"/);
    await expect(open('c.arrow', arrowBytes(f, d, n, goodMeta(2, 3, 5)))).rejects.toThrow(
      'c.arrow: column "embedding" holds 4 values per row but schema metadata dim is 5; the two must agree',
    );
    await expect(open('d.arrow', arrowBytes(f, d, n, goodMeta(3, 3, 4)))).rejects.toThrow(/d\.arrow is truncated: it holds 6 rows in 1 record batches before the end of the file|d\.arrow is incomplete: it holds 6 rows in 1 record batches before its end-of-stream marker, but its metadata declares 3 prompts × 3 responses = 9 rows/);
    await expect(open('e.arrow', arrowBytes(f, d, n, goodMeta(2, 3, 4, { task: 'honest' })))).rejects.toThrow(/e\.arrow: schema metadata task is "honest"; expected one of helpful, harmless, demo, unknown/);
    const noDim = goodMeta(2, 3, 4);
    noDim.delete('dim');
    await expect(open('f.arrow', arrowBytes(f, d, n, noDim))).rejects.toThrow(/f\.arrow: schema metadata lacks "dim"/);
    await expect(open('g.arrow', arrowBytes(f, d, n, goodMeta(2, 3, 4, { rank_sorted: 'true' })))).resolves.toBeDefined();
    const unsorted = columns(2, 3, 4, { rewards: Float32Array.of(0, 2, 1, 0, 1, 2) });
    await expect(open('h.arrow', arrowBytes(f, Object.values(unsorted.data), n, goodMeta(2, 3, 4, { rank_sorted: 'true' })))).rejects.toThrow(/h\.arrow: its metadata says rank_sorted = true/);
  });

  it('requires complete prompts in prompt-major order', async () => {
    const { fields, data, n } = columns(2, 3, 4, { responseIds: Int32Array.of(0, 1, 2, 0, 2, 1) });
    await expect(open('o.arrow', arrowBytes(Object.values(fields), Object.values(data), n, goodMeta(2, 3, 4)))).rejects.toThrow(
      /o\.arrow: row 4 \(record batch 0 .*\) has response_id 2, expected 1; rows must be prompt-major with response_id 0\.\.2 in order/,
    );
  });

  it('refuses a train/test pair that does not belong together', async () => {
    const train = await encode(demo.train, TRAIN_DESC);
    const test = await encode(demo.test, TEST_DESC);
    await expect(openArrowDataset(new BytesSource('test.arrow', test), new BytesSource('train.arrow', train))).rejects.toThrow(
      /test\.arrow was given as the train split, but its metadata says split = "test"/,
    );
    const other = makeDemoDataset({ trainPrompts: 5, responsesPerTrainPrompt: 4, testPrompts: 5, responsesPerTestPrompt: 4, dim: 8, seed: 1 });
    await expect(openArrowDataset(new BytesSource('train.arrow', train), new BytesSource('test.arrow', await encode(other.test, TEST_DESC)))).rejects.toThrow(
      /train and test embeddings differ in dimension: train\.arrow has D=12, test\.arrow has D=8/,
    );
    await expect(
      openArrowDataset(new BytesSource('train.arrow', train), new BytesSource('test.arrow', await encode(demo.test, { ...TEST_DESC, task: 'harmless' }))),
    ).rejects.toThrow(/describe different datasets: task is "helpful" in one and "harmless" in the other/);
  });
});
