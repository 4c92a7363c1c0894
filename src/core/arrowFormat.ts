/**
 * Reward Lab's own dataset format (method.md §1): one Arrow IPC *stream* per split.
 *
 * Columns: `prompt_id` int32, `response_id` int32, `reward` float32, `embedding`
 * FixedSizeList<float32>[D] (or <float16>[D]), optional `prompt` / `response` utf8. Rows are
 * prompt-major; every prompt has exactly K rows with response_id 0..K-1 in order, and
 * prompt_id is strictly increasing across prompts (it is the prompt's index in the data the
 * file was packed from, so a subsample keeps its provenance). Schema metadata holds
 * `reward_lab.format` = "embedding-split/1" and the dataset description (see `ArrowSplitMeta`).
 *
 * A split is several GB, so the reader never loads the file: one scan over the message
 * framing indexes the record batches and reads only the id and reward buffers; embeddings are
 * then read per request from the byte ranges of the embedding buffer alone. Buffer positions
 * come from the batch's own metadata (decoded by apache-arrow), so any conforming writer's
 * layout works, not only ours.
 */
import {
  DataType,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Int32,
  makeData,
  Message,
  MessageHeader,
  MetadataVersion,
  Precision,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Utf8,
  type Data,
} from 'apache-arrow';

import type { ByteSource } from './bytes.ts';
import { throwIfCancelled } from './cancel.ts';
import { checkRange, isRankSorted, makeSplit, resultArray, TASK_SCALES } from './dataset.ts';
import type { Dataset, DatasetInfo, EmbeddingStore, Split, Task } from './dataset.ts';
import { DatasetError } from './datasetError.ts';
import { decodeToFloat32, LITTLE_ENDIAN_HOST } from './npy.ts';
import { ENGINE_VERSION } from './version.ts';

export const ARROW_SPLIT_FORMAT = 'embedding-split/1';
export const FORMAT_KEY = 'reward_lab.format';

/**
 * Thrown for any file that is not a valid Reward Lab Arrow split; the message names the file.
 * A DatasetError, so hosts show it as a problem with the user's input.
 */
export class ArrowFormatError extends DatasetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArrowFormatError';
  }
}

/** How a split's prompts were drawn from a larger one (recorded as JSON in `subsample`). */
export interface ArrowSubsample {
  /** Prompts kept. */
  prompts: number;
  /** Prompts in the split they were drawn from. */
  of: number;
  seed: number;
  /** e.g. "uniform without replacement, ascending prompt order". */
  method: string;
  [extra: string]: unknown;
}

export type EmbeddingDtype = 'float32' | 'float16';
export type TextColumn = 'prompt' | 'response';

/** What the writer needs besides the split itself. */
export interface ArrowSplitDescription {
  split: 'train' | 'test';
  task: Task;
  generator?: string;
  embedder?: string;
  goldenRewardModel?: string;
  /** The dataset's id (DatasetInfo.id), so results name the same data whichever format it came in. */
  datasetId?: string;
  subsample?: ArrowSubsample;
  /** `prompt_id` of each of the split's prompts, strictly increasing; default 0..N-1. */
  promptIds?: Int32Array;
  /** Optional text columns: one prompt per prompt, one response per row. */
  text?: { prompts?: readonly string[]; responses?: readonly string[] };
}

/** Everything the schema of a split file says. */
export interface ArrowSplitMeta {
  format: string;
  split: 'train' | 'test';
  task: Task;
  generator?: string;
  embedder?: string;
  goldenRewardModel?: string;
  datasetId?: string;
  rankSorted: boolean;
  producer?: string;
  prompts: number;
  responsesPerPrompt: number;
  dim: number;
  embeddingDtype: EmbeddingDtype;
  subsample?: ArrowSubsample;
  textColumns: TextColumn[];
  /** The schema metadata exactly as stored. */
  metadata: Readonly<Record<string, string>>;
}

export interface ArrowWriteProgress {
  rows: number;
  totalRows: number;
  /** Bytes yielded so far. */
  bytes: number;
}

export interface ArrowWriteOptions {
  /** Store embeddings as float16 (round to nearest even): half the size, ~3 significant digits. */
  float16?: boolean;
  /** Rows per record batch; default whole prompts totalling about 16 MiB of embeddings. */
  batchRows?: number;
  signal?: AbortSignal;
  onProgress?: (p: ArrowWriteProgress) => void;
}

export interface ArrowReadOptions {
  /** Upper bound on one embedding read (and its scratch buffer). Default 4 MiB. */
  chunkBytes?: number;
  /** `gather` reads through gaps of unrequested rows up to this many bytes. Default: the source's own, else 64 KiB. */
  coalesceGapBytes?: number;
}

const DEFAULT_BATCH_BYTES = 16 << 20;
const DEFAULT_CHUNK_BYTES = 4 << 20;
const DEFAULT_COALESCE_GAP_BYTES = 64 << 10;
/** First read at each message: the prefix plus, nearly always, all of its metadata. */
const PROBE_BYTES = 4096;
const CONTINUATION = 0xffffffff;
const TASKS: readonly Task[] = ['helpful', 'harmless', 'demo', 'unknown'];
const REQUIRED_KEYS = [FORMAT_KEY, 'split', 'task', 'rank_sorted', 'prompts', 'responses_per_prompt', 'dim'] as const;

// ---------------------------------------------------------------------------------------
// Writing.

/** Rounds float32 bits to IEEE binary16 bits, to nearest even (as numpy's astype does). */
export function float32BitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (h & 1) !== 0)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++;
  return sign | h;
}

/**
 * Collects what apache-arrow's stream writer emits instead of queueing it, so the caller can
 * hand bytes on batch by batch with its own backpressure.
 */
class CollectingStreamWriter extends RecordBatchStreamWriter {
  private pending: Uint8Array[] = [];

  protected override _write(chunk: ArrayBufferView): this {
    if (this._started && chunk.byteLength > 0) {
      this.pending.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this._position += chunk.byteLength;
    }
    return this;
  }

  /** The bytes written since the last call; runs of small pieces are joined to spare the sink many tiny writes. */
  take(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let run: Uint8Array[] = [];
    const flush = (): void => {
      if (run.length === 1) out.push(run[0]);
      else if (run.length > 1) {
        const joined = new Uint8Array(run.reduce((s, c) => s + c.byteLength, 0));
        let at = 0;
        for (const c of run) {
          joined.set(c, at);
          at += c.byteLength;
        }
        out.push(joined);
      }
      run = [];
    };
    for (const c of this.pending) {
      if (c.byteLength >= 64 << 10) {
        flush();
        out.push(c);
      } else run.push(c);
    }
    flush();
    this.pending = [];
    return out;
  }
}

function splitSchema(desc: ArrowSplitDescription, split: Split, float16: boolean): Schema {
  const d = split.embeddings.dim;
  const meta = new Map<string, string>([
    [FORMAT_KEY, ARROW_SPLIT_FORMAT],
    ['task', desc.task],
    ['split', desc.split],
    ['rank_sorted', String(split.rankSorted)],
    ['producer', `reward-lab ${ENGINE_VERSION}`],
    ['prompts', String(split.prompts)],
    ['responses_per_prompt', String(split.responsesPerPrompt)],
    ['dim', String(d)],
  ]);
  if (desc.generator !== undefined) meta.set('generator', desc.generator);
  if (desc.embedder !== undefined) meta.set('embedder', desc.embedder);
  if (desc.goldenRewardModel !== undefined) meta.set('golden_rm', desc.goldenRewardModel);
  if (desc.datasetId !== undefined) meta.set('dataset_id', desc.datasetId);
  if (desc.subsample !== undefined) meta.set('subsample', JSON.stringify(desc.subsample));
  const fields: Field[] = [
    new Field('prompt_id', new Int32(), false),
    new Field('response_id', new Int32(), false),
    new Field('reward', new Float32(), false),
    new Field('embedding', new FixedSizeList(d, new Field('item', float16 ? new Float16() : new Float32(), false)), false),
  ];
  if (desc.text?.prompts) fields.push(new Field('prompt', new Utf8(), false));
  if (desc.text?.responses) fields.push(new Field('response', new Utf8(), false));
  return new Schema(fields, meta);
}

function utf8Data(strings: readonly string[], pick: (row: number) => number, start: number, end: number): Data<Utf8> {
  const enc = new TextEncoder();
  const parts = [];
  const offsets = new Int32Array(end - start + 1);
  let total = 0;
  for (let r = start; r < end; r++) {
    const b = enc.encode(strings[pick(r)]);
    parts.push(b);
    total += b.byteLength;
    if (total > 0x7fffffff) throw new RangeError('text of one record batch exceeds 2 GiB; use a smaller batchRows');
    offsets[r - start + 1] = total;
  }
  const data = new Uint8Array(total);
  parts.forEach((b, i) => data.set(b, offsets[i]));
  return makeData({ type: new Utf8(), length: end - start, nullCount: 0, valueOffsets: offsets, data });
}

function describeRow(row: number, k: number): string {
  const p = Math.floor(row / k);
  return `row ${row} (prompt ${p}, response ${row - p * k})`;
}

/**
 * Encodes a split as an Arrow IPC stream, yielding the bytes as they are produced: the schema,
 * then each record batch, then the end-of-stream marker. Embeddings are read from the split's
 * store one batch at a time, so memory stays at about one batch whatever the split's size.
 */
export async function* writeArrowSplit(
  split: Split,
  desc: ArrowSplitDescription,
  options: ArrowWriteOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const { prompts: n, responsesPerPrompt: k, rewards } = split;
  const d = split.embeddings.dim;
  const rows = n * k;
  const what = `the ${desc.split} split`;
  if (!(n > 0 && k > 0 && d > 0)) {
    throw new ArrowFormatError(`cannot write ${what}: it has ${n} prompts × ${k} responses × ${d} dims; all three must be positive`);
  }
  if (rewards.length !== rows || split.embeddings.rows !== rows) {
    throw new ArrowFormatError(
      `cannot write ${what}: ${rewards.length} rewards and ${split.embeddings.rows} embedding rows for ${n} × ${k} responses`,
    );
  }
  let badRewards = 0;
  let firstBad = -1;
  for (let i = 0; i < rows; i++) {
    if (!Number.isFinite(rewards[i])) {
      if (badRewards++ === 0) firstBad = i;
    }
  }
  if (badRewards > 0) {
    throw new ArrowFormatError(
      `cannot write ${what}: ${badRewards} of its ${rows} rewards are NaN or ±Infinity, the first ${rewards[firstBad]} at ${describeRow(firstBad, k)}`,
    );
  }
  const ids = desc.promptIds ?? null;
  if (ids !== null) {
    if (ids.length !== n) throw new ArrowFormatError(`cannot write ${what}: ${ids.length} prompt ids for ${n} prompts`);
    for (let p = 1; p < n; p++) {
      if (!(ids[p] > ids[p - 1])) throw new ArrowFormatError(`cannot write ${what}: prompt ids must be strictly increasing, but id ${ids[p]} follows ${ids[p - 1]}`);
    }
  }
  const texts = desc.text;
  if (texts?.prompts && texts.prompts.length !== n) throw new ArrowFormatError(`cannot write ${what}: ${texts.prompts.length} prompt texts for ${n} prompts`);
  if (texts?.responses && texts.responses.length !== rows) {
    throw new ArrowFormatError(`cannot write ${what}: ${texts.responses.length} response texts for ${rows} rows`);
  }

  const float16 = options.float16 ?? false;
  const bytesPerValue = float16 ? 2 : 4;
  const batchRows =
    options.batchRows ?? Math.max(k, Math.floor(DEFAULT_BATCH_BYTES / (d * bytesPerValue) / k) * k);
  if (!(Number.isInteger(batchRows) && batchRows > 0)) throw new RangeError(`batchRows must be a positive integer, got ${batchRows}`);
  // FixedSizeList child offsets are int32 in apache-arrow's assembler.
  if (batchRows * d > 0x7fffffff) throw new RangeError(`batchRows ${batchRows} × D ${d} exceeds 2^31 values per batch`);

  const schema = splitSchema(desc, split, float16);
  const structType = new Struct(schema.fields);
  const writer = new CollectingStreamWriter();
  let bytes = 0;
  for (let start = 0; start < rows; start += batchRows) {
    throwIfCancelled(options.signal);
    const end = Math.min(rows, start + batchRows);
    const m = end - start;
    const values = await split.embeddings.readRange(start, end, options.signal);
    if (values.length !== m * d) throw new ArrowFormatError(`cannot write ${what}: the store returned ${values.length} values for ${m} rows of ${d}`);
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    let half: Uint16Array | null = null;
    let bad = 0;
    let firstBadAt = -1;
    if (float16) {
      half = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const h = float32BitsToHalf(bits[i]);
        half[i] = h;
        // Non-finite after rounding: either non-finite before, or beyond ±65504.
        if ((h & 0x7c00) === 0x7c00 && bad++ === 0) firstBadAt = i;
      }
    } else {
      for (let i = 0; i < values.length; i++) {
        if ((bits[i] & 0x7f800000) === 0x7f800000 && bad++ === 0) firstBadAt = i;
      }
    }
    if (bad > 0) {
      const row = start + Math.floor(firstBadAt / d);
      const v = values[firstBadAt];
      const why = Number.isFinite(v) ? `${v} does not fit float16 (largest finite 65504); pack without float16` : `${v} is not finite; embeddings must be`;
      throw new ArrowFormatError(
        `cannot write ${what}: ${bad} embedding value${bad === 1 ? '' : 's'} in rows ${start}..${end - 1} cannot be stored; ` +
          `the first, at ${describeRow(row, k)}, column ${firstBadAt % d}: ${why}`,
      );
    }
    const promptId = new Int32Array(m);
    const responseId = new Int32Array(m);
    for (let r = start; r < end; r++) {
      const p = Math.floor(r / k);
      promptId[r - start] = ids === null ? p : ids[p];
      responseId[r - start] = r - p * k;
    }
    const child = half !== null ? makeData({ type: new Float16(), length: m * d, nullCount: 0, data: half }) : makeData({ type: new Float32(), length: m * d, nullCount: 0, data: values });
    const children: Data[] = [
      makeData({ type: new Int32(), length: m, nullCount: 0, data: promptId }),
      makeData({ type: new Int32(), length: m, nullCount: 0, data: responseId }),
      makeData({ type: new Float32(), length: m, nullCount: 0, data: rewards.subarray(start, end) }),
      makeData({ type: schema.fields[3].type as FixedSizeList, length: m, nullCount: 0, child }),
    ];
    if (texts?.prompts) children.push(utf8Data(texts.prompts, (r) => Math.floor(r / k), start, end));
    if (texts?.responses) children.push(utf8Data(texts.responses, (r) => r, start, end));
    writer.write(new RecordBatch(schema, makeData({ type: structType, length: m, nullCount: 0, children })));
    for (const chunk of writer.take()) {
      bytes += chunk.byteLength;
      yield chunk;
    }
    options.onProgress?.({ rows: end, totalRows: rows, bytes });
  }
  writer.close();
  for (const chunk of writer.take()) {
    bytes += chunk.byteLength;
    yield chunk;
  }
  options.onProgress?.({ rows, totalRows: rows, bytes });
}

// ---------------------------------------------------------------------------------------
// Reading: message framing.

interface Frame {
  /** Byte offset of the message's continuation marker. */
  offset: number;
  message: Message;
  bodyOffset: number;
  bodyLength: number;
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** Names what a file that is not an Arrow stream probably is, for the error message. */
function notAStream(name: string, head: Uint8Array): ArrowFormatError {
  const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
  const expected = 'expected an Arrow IPC stream (it starts with the continuation marker 0xFFFFFFFF)';
  if (startsWith(head, ascii('ARROW1'))) {
    return new ArrowFormatError(
      `${name} is an Arrow IPC *file* (random-access format, starting with the ARROW1 magic), not an Arrow IPC *stream*; ` +
        `Reward Lab reads the stream format so a split can be read front to back. Convert it (pyarrow: ` +
        `pa.ipc.new_stream(sink, table.schema).write_table(table)) or repack with \`reward-lab pack\``,
    );
  }
  if (startsWith(head, [0x93, ...ascii('NUMPY')])) return new ArrowFormatError(`${name} is a NumPy .npy file, not an Arrow stream; ${expected}`);
  if (startsWith(head, ascii('PAR1'))) return new ArrowFormatError(`${name} is a Parquet file, not an Arrow stream; ${expected}`);
  return new ArrowFormatError(`${name} is not an Arrow IPC stream: ${expected}, but its first bytes are ${hex(head.subarray(0, 8))}`);
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ') || '(none)';
}

/**
 * Reads the message starting at `pos`: its 8-byte prefix and metadata, never its body.
 * Returns null at the end-of-stream marker or the end of the file.
 */
async function readFrame(source: ByteSource, pos: number, index: number, signal?: AbortSignal): Promise<Frame | null> {
  const { name, size } = source;
  if (pos === size) return null;
  const where = `message ${index} at byte ${pos}`;
  throwIfCancelled(signal);
  const probe = await source.read(pos, Math.min(PROBE_BYTES, size - pos));
  const view = new DataView(probe.buffer, probe.byteOffset, probe.byteLength);
  if (probe.length < 4) {
    throw new ArrowFormatError(`${name} is truncated: it ends ${probe.length} bytes into ${where}, inside its 8-byte length prefix`);
  }
  if (view.getUint32(0, true) !== CONTINUATION) {
    if (pos === 0) throw notAStream(name, probe);
    throw new ArrowFormatError(`${name} is corrupt: ${where} should start with the continuation marker 0xFFFFFFFF, found ${hex(probe.subarray(0, 4))}`);
  }
  if (probe.length < 8) {
    throw new ArrowFormatError(`${name} is truncated: it ends ${probe.length} bytes into ${where}, inside its 8-byte length prefix`);
  }
  const metaLength = view.getInt32(4, true);
  if (metaLength === 0) return null;
  if (metaLength < 0) throw new ArrowFormatError(`${name} is corrupt: ${where} declares a negative metadata length ${metaLength}`);
  if (pos + 8 + metaLength > size) {
    throw new ArrowFormatError(
      `${name} is truncated: ${where} declares ${metaLength} bytes of metadata, but the file ends ${size - pos - 8} bytes after its prefix`,
    );
  }
  const metaBytes = 8 + metaLength <= probe.length ? probe.subarray(8, 8 + metaLength) : await source.read(pos + 8, metaLength);
  let message: Message;
  let bodyLength: number;
  try {
    message = Message.decode(metaBytes);
    bodyLength = message.bodyLength;
  } catch (cause) {
    throw new ArrowFormatError(`${name} is corrupt: the metadata of ${where} is not a valid Arrow message (${(cause as Error).message})`, { cause });
  }
  if (!(Number.isSafeInteger(bodyLength) && bodyLength >= 0)) {
    throw new ArrowFormatError(`${name} is corrupt: ${where} declares a body of ${bodyLength} bytes`);
  }
  const bodyOffset = pos + 8 + metaLength;
  if (bodyOffset + bodyLength > size) {
    throw new ArrowFormatError(
      `${name} is truncated: ${where} has a ${bodyLength}-byte body ending at byte ${bodyOffset + bodyLength}, but the file ends at byte ${size}`,
    );
  }
  return { offset: pos, message, bodyOffset, bodyLength };
}

// ---------------------------------------------------------------------------------------
// Reading: schema and metadata.

interface ColumnSlots {
  /** Index of the column's first field node (its own). */
  node: number;
  /** Index of the column's first buffer. */
  buffer: number;
}

interface SchemaLayout {
  meta: ArrowSplitMeta;
  slots: Record<'prompt_id' | 'response_id' | 'reward' | 'embedding', ColumnSlots> & Partial<Record<TextColumn, ColumnSlots>>;
  nodeCount: number;
  bufferCount: number;
}

function typeName(t: DataType): string {
  if (DataType.isInt(t)) return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
  if (DataType.isFloat(t)) return t.precision === Precision.HALF ? 'float16' : t.precision === Precision.SINGLE ? 'float32' : 'float64';
  if (DataType.isUtf8(t)) return 'utf8';
  if (DataType.isLargeUtf8(t)) return 'large_utf8';
  if (DataType.isFixedSizeList(t)) return `FixedSizeList<${typeName(t.children[0].type)}>[${t.listSize}]`;
  if (DataType.isList(t)) return `List<${typeName(t.children[0].type)}>`;
  if (DataType.isDictionary(t)) return `dictionary<${typeName(t.dictionary)}>`;
  return String(t);
}

/** Field nodes and buffers a column of this type takes in a record batch (Arrow columnar format, V5). */
function footprint(t: DataType): { nodes: number; buffers: number } | null {
  const children = (own: number): { nodes: number; buffers: number } | null => {
    let nodes = 1;
    let buffers = own;
    for (const c of t.children ?? []) {
      const f = footprint(c.type);
      if (f === null) return null;
      nodes += f.nodes;
      buffers += f.buffers;
    }
    return { nodes, buffers };
  };
  if (DataType.isNull(t)) return { nodes: 1, buffers: 0 };
  if (DataType.isDictionary(t)) return { nodes: 1, buffers: 2 };
  if (
    DataType.isInt(t) || DataType.isFloat(t) || DataType.isBool(t) || DataType.isDecimal(t) || DataType.isDate(t) ||
    DataType.isTime(t) || DataType.isTimestamp(t) || DataType.isInterval(t) || DataType.isDuration(t) || DataType.isFixedSizeBinary(t)
  ) {
    return { nodes: 1, buffers: 2 };
  }
  if (DataType.isUtf8(t) || DataType.isBinary(t) || DataType.isLargeUtf8(t) || DataType.isLargeBinary(t)) return { nodes: 1, buffers: 3 };
  if (DataType.isList(t) || DataType.isLargeList(t) || DataType.isMap(t)) return children(2);
  if (DataType.isFixedSizeList(t) || DataType.isStruct(t)) return children(1);
  return null; // unions, views: not expected in a split file
}

function parseCount(name: string, key: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new ArrowFormatError(`${name}: schema metadata "${key}" is "${value}"; expected a positive integer`);
  }
  return Number(value);
}

function parseSubsample(name: string, text: string): ArrowSubsample {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ArrowFormatError(`${name}: schema metadata "subsample" is not JSON (${text.slice(0, 80)}); expected {"prompts", "of", "seed", "method"}`);
  }
  const o = v as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || typeof o.prompts !== 'number' || typeof o.of !== 'number' || typeof o.seed !== 'number' || typeof o.method !== 'string') {
    throw new ArrowFormatError(`${name}: schema metadata "subsample" is ${text.slice(0, 120)}; expected an object with numbers "prompts", "of", "seed" and a string "method"`);
  }
  return o as ArrowSubsample;
}

function readSchemaLayout(name: string, frame: Frame): SchemaLayout {
  const msg = frame.message;
  if (!msg.isSchema()) {
    throw new ArrowFormatError(`${name}: the stream must start with a schema message, but its first message is a ${MessageHeader[msg.headerType] ?? msg.headerType}`);
  }
  if (msg.version < MetadataVersion.V4) {
    throw new ArrowFormatError(`${name}: Arrow metadata version ${MetadataVersion[msg.version]} is too old; expected V4 or V5 (Arrow ≥ 0.15)`);
  }
  let schema: Schema;
  try {
    schema = msg.header();
  } catch (cause) {
    throw new ArrowFormatError(`${name}: its schema cannot be decoded (${(cause as Error).message})`, { cause });
  }
  const md = Object.fromEntries(schema.metadata);
  const format = md[FORMAT_KEY];
  if (format === undefined) {
    throw new ArrowFormatError(
      `${name} is an Arrow stream but not a Reward Lab embedding split: its schema metadata has no "${FORMAT_KEY}" key (expected "${ARROW_SPLIT_FORMAT}")`,
    );
  }
  if (format !== ARROW_SPLIT_FORMAT) {
    throw new ArrowFormatError(`${name}: schema metadata ${FORMAT_KEY} is "${format}"; this version of Reward Lab reads "${ARROW_SPLIT_FORMAT}"`);
  }
  const missing = REQUIRED_KEYS.filter((k) => md[k] === undefined);
  if (missing.length > 0) {
    throw new ArrowFormatError(`${name}: schema metadata lacks ${missing.map((k) => `"${k}"`).join(', ')}; a ${ARROW_SPLIT_FORMAT} file has all of ${REQUIRED_KEYS.join(', ')}`);
  }
  if (md.split !== 'train' && md.split !== 'test') throw new ArrowFormatError(`${name}: schema metadata split is "${md.split}"; expected "train" or "test"`);
  if (!TASKS.includes(md.task as Task)) throw new ArrowFormatError(`${name}: schema metadata task is "${md.task}"; expected one of ${TASKS.join(', ')}`);
  if (md.rank_sorted !== 'true' && md.rank_sorted !== 'false') {
    throw new ArrowFormatError(`${name}: schema metadata rank_sorted is "${md.rank_sorted}"; expected "true" or "false"`);
  }
  const dim = parseCount(name, 'dim', md.dim);

  const fields = new Map(schema.fields.map((f, i) => [f.name, { f, i }]));
  const want = (col: string, ok: (t: DataType) => boolean, expected: string): void => {
    const hit = fields.get(col);
    if (hit === undefined) {
      throw new ArrowFormatError(`${name}: missing column "${col}" (${expected}); its columns are ${schema.fields.map((f) => `${f.name}: ${typeName(f.type)}`).join(', ')}`);
    }
    if (!ok(hit.f.type)) throw new ArrowFormatError(`${name}: column "${col}" has type ${typeName(hit.f.type)}; expected ${expected}`);
  };
  const isInt32 = (t: DataType): boolean => DataType.isInt(t) && t.isSigned && t.bitWidth === 32;
  want('prompt_id', isInt32, 'int32');
  want('response_id', isInt32, 'int32');
  want('reward', (t) => DataType.isFloat(t) && t.precision === Precision.SINGLE, 'float32');
  const embExpected = `FixedSizeList<float32>[${dim}] or FixedSizeList<float16>[${dim}]`;
  want(
    'embedding',
    (t) => DataType.isFixedSizeList(t) && DataType.isFloat(t.children[0].type) && t.children[0].type.precision !== Precision.DOUBLE,
    embExpected,
  );
  const emb = schema.fields[fields.get('embedding')?.i ?? 0].type as FixedSizeList;
  if (emb.listSize !== dim) {
    throw new ArrowFormatError(`${name}: column "embedding" holds ${emb.listSize} values per row but schema metadata dim is ${dim}; the two must agree`);
  }
  const textColumns: TextColumn[] = [];
  for (const col of ['prompt', 'response'] as const) {
    if (fields.has(col)) {
      want(col, (t) => DataType.isUtf8(t), 'utf8');
      textColumns.push(col);
    }
  }

  // Buffer and node positions of the columns we read; other columns are skipped over.
  const slots: Partial<Record<string, ColumnSlots>> = {};
  const needed = new Set(['prompt_id', 'response_id', 'reward', 'embedding', ...textColumns]);
  let node = 0;
  let buffer = 0;
  for (const f of schema.fields) {
    if (needed.has(f.name)) slots[f.name] = { node, buffer };
    const fp = footprint(f.type);
    if (fp === null) {
      if ([...needed].every((c) => slots[c] !== undefined)) break;
      throw new ArrowFormatError(`${name}: column "${f.name}" has type ${typeName(f.type)}, which this reader cannot skip; remove it or move it after the split's columns`);
    }
    node += fp.nodes;
    buffer += fp.buffers;
  }

  const meta: ArrowSplitMeta = {
    format,
    split: md.split,
    task: md.task as Task,
    rankSorted: md.rank_sorted === 'true',
    prompts: parseCount(name, 'prompts', md.prompts),
    responsesPerPrompt: parseCount(name, 'responses_per_prompt', md.responses_per_prompt),
    dim,
    embeddingDtype: (emb.children[0].type as DataType & { precision: Precision }).precision === Precision.HALF ? 'float16' : 'float32',
    textColumns,
    metadata: md,
  };
  if (md.generator !== undefined) meta.generator = md.generator;
  if (md.embedder !== undefined) meta.embedder = md.embedder;
  if (md.golden_rm !== undefined) meta.goldenRewardModel = md.golden_rm;
  if (md.dataset_id !== undefined) meta.datasetId = md.dataset_id;
  if (md.producer !== undefined) meta.producer = md.producer;
  if (md.subsample !== undefined) meta.subsample = parseSubsample(name, md.subsample);
  return { meta, slots: slots as SchemaLayout['slots'], nodeCount: node, bufferCount: buffer };
}

/** The metadata of a split file, from its schema message alone (no record batch is read). */
export async function readArrowSplitMeta(source: ByteSource, signal?: AbortSignal): Promise<ArrowSplitMeta> {
  if (source.size === 0) throw new ArrowFormatError(`${source.name} is empty (0 bytes); expected an Arrow IPC stream`);
  const frame = await readFrame(source, 0, 0, signal);
  if (frame === null) throw new ArrowFormatError(`${source.name} is an empty Arrow stream: it ends before its schema`);
  return readSchemaLayout(source.name, frame).meta;
}

// ---------------------------------------------------------------------------------------
// Reading: the batch index, ids and rewards.

interface BatchEntry {
  rowStart: number;
  rows: number;
  /** Absolute byte offset of the embedding values (row `rowStart`, column 0). */
  embOffset: number;
  /** Per text column: absolute offsets of validity (or -1), value offsets and value data. */
  text: Partial<Record<TextColumn, { validity: number; offsets: number; data: number; dataLength: number }>>;
}

interface Region {
  offset: number;
  length: number;
}

/** Reads several byte regions, merging those less than `gap` bytes apart into one read. */
async function readRegions(source: ByteSource, regions: Region[], gap: number, signal?: AbortSignal): Promise<Uint8Array[]> {
  const order = regions.map((_, i) => i).sort((a, b) => regions[a].offset - regions[b].offset);
  const out: Uint8Array[] = new Array<Uint8Array>(regions.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    let end = regions[order[i]].offset + regions[order[i]].length;
    while (j + 1 < order.length && regions[order[j + 1]].offset <= end + gap) {
      j++;
      end = Math.max(end, regions[order[j]].offset + regions[order[j]].length);
    }
    const start = regions[order[i]].offset;
    throwIfCancelled(signal);
    const bytes = await source.read(start, end - start);
    for (let q = i; q <= j; q++) {
      const r = regions[order[q]];
      out[order[q]] = bytes.subarray(r.offset - start, r.offset - start + r.length);
    }
    i = j + 1;
  }
  return out;
}

function int32s(bytes: Uint8Array, count: number): Int32Array {
  if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, count);
  return new Int32Array(bytes.slice(0, count * 4).buffer);
}

/** A split file's embeddings: streamed from the ByteSource, one batch's byte range at a time. */
export class ArrowEmbeddings implements EmbeddingStore {
  readonly rows: number;
  readonly dim: number;
  private readonly bytesPerValue: number;
  private readonly chunkRows: number;
  private readonly gapRows: number;

  constructor(
    private readonly source: ByteSource,
    readonly meta: ArrowSplitMeta,
    private readonly batches: readonly BatchEntry[],
    /** The prompt_id of each prompt, in file order. */
    readonly promptIds: Int32Array,
    options: ArrowReadOptions = {},
  ) {
    this.rows = meta.prompts * meta.responsesPerPrompt;
    this.dim = meta.dim;
    this.bytesPerValue = meta.embeddingDtype === 'float16' ? 2 : 4;
    const rowBytes = this.dim * this.bytesPerValue;
    this.chunkRows = Math.max(1, Math.floor((options.chunkBytes ?? DEFAULT_CHUNK_BYTES) / rowBytes));
    this.gapRows = Math.floor((options.coalesceGapBytes ?? source.coalesceGapBytes ?? DEFAULT_COALESCE_GAP_BYTES) / rowBytes);
  }

  get batchCount(): number {
    return this.batches.length;
  }

  /** Index of the batch holding `row`. */
  private batchOf(row: number): number {
    let lo = 0;
    let hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.batches[mid].rowStart <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Rows [a, b) of one batch, decoded. Float32 lands straight in `into` when given, else the
   * result is a view of the read bytes when they are aligned: no second copy either way.
   */
  private async readRows(b: BatchEntry, a: number, end: number, into?: Float32Array): Promise<Float32Array> {
    const rowBytes = this.dim * this.bytesPerValue;
    const offset = b.embOffset + (a - b.rowStart) * rowBytes;
    const values = (end - a) * this.dim;
    if (into !== undefined && this.bytesPerValue === 4 && LITTLE_ENDIAN_HOST) {
      const out = resultArray(values, into);
      await this.source.read(offset, values * 4, undefined, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      return out;
    }
    const bytes = await this.source.read(offset, (end - a) * rowBytes);
    if (into === undefined && this.bytesPerValue === 4 && bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN_HOST) {
      return new Float32Array(bytes.buffer, bytes.byteOffset, values);
    }
    return decodeToFloat32(bytes, this.bytesPerValue === 2 ? 'float16' : 'float32', into);
  }

  async readRange(start: number, end: number, signal?: AbortSignal, into?: Float32Array): Promise<Float32Array> {
    checkRange(start, end, this.rows);
    const d = this.dim;
    if (start === end) return new Float32Array(0);
    throwIfCancelled(signal);
    const first = this.batches[this.batchOf(start)];
    // Within one batch, one read makes the result: into `into`, or a view of the read bytes.
    if (end <= first.rowStart + first.rows && this.bytesPerValue === 4) return this.readRows(first, start, end, into);
    const out = resultArray((end - start) * d, into);
    for (let r = start; r < end; ) {
      throwIfCancelled(signal);
      const b = this.batches[this.batchOf(r)];
      const stop = Math.min(end, b.rowStart + b.rows, r + this.chunkRows);
      await this.readRows(b, r, stop, out.subarray((r - start) * d, (stop - start) * d));
      r = stop;
    }
    return out;
  }

  async gather(rows: Int32Array, signal?: AbortSignal): Promise<Float32Array> {
    const d = this.dim;
    const m = rows.length;
    const out = new Float32Array(m * d);
    for (let i = 0; i < m; i++) checkRange(rows[i], rows[i] + 1, this.rows);
    // Sorted by position, so each run of nearby rows within one batch is a single read.
    const order = Int32Array.from({ length: m }, (_, i) => i).sort((a, b) => rows[a] - rows[b] || a - b);
    let i = 0;
    while (i < m) {
      throwIfCancelled(signal);
      const first = rows[order[i]];
      const b = this.batches[this.batchOf(first)];
      const batchEnd = b.rowStart + b.rows;
      let last = i;
      while (last + 1 < m) {
        const next = rows[order[last + 1]];
        if (next >= batchEnd || next - rows[order[last]] > 1 + this.gapRows || next - first >= this.chunkRows) break;
        last++;
      }
      const values = await this.readRows(b, first, rows[order[last]] + 1);
      for (let q = i; q <= last; q++) {
        const off = (rows[order[q]] - first) * d;
        out.set(values.subarray(off, off + d), order[q] * d);
      }
      i = last + 1;
    }
    return out;
  }

  /** The `prompt` or `response` text of rows [start, end) (a prompt's text repeats on each of its rows). */
  async readText(column: TextColumn, start: number, end: number, signal?: AbortSignal): Promise<(string | null)[]> {
    checkRange(start, end, this.rows);
    if (!this.meta.textColumns.includes(column)) throw new ArrowFormatError(`${this.source.name} has no "${column}" column`);
    const dec = new TextDecoder('utf-8', { fatal: true });
    const out: (string | null)[] = [];
    for (let r = start; r < end; ) {
      throwIfCancelled(signal);
      const b = this.batches[this.batchOf(r)];
      const stop = Math.min(end, b.rowStart + b.rows);
      const t = b.text[column];
      if (t === undefined) throw new ArrowFormatError(`${this.source.name}: batch at row ${b.rowStart} lacks the "${column}" buffers`);
      const a = r - b.rowStart;
      const n = stop - r;
      const offsets = int32s(await this.source.read(t.offsets + a * 4, (n + 1) * 4), n + 1);
      const base = offsets[0];
      if (base < 0 || offsets[n] > t.dataLength || offsets[n] < base) {
        throw new ArrowFormatError(`${this.source.name} is corrupt: "${column}" offsets of rows ${r}..${stop - 1} point outside its data`);
      }
      const data = await this.source.read(t.data + base, offsets[n] - base);
      const validity = t.validity >= 0 ? await this.source.read(t.validity, Math.ceil(b.rows / 8)) : null;
      for (let q = 0; q < n; q++) {
        const row = a + q;
        if (validity !== null && (validity[row >> 3] & (1 << (row & 7))) === 0) out.push(null);
        else out.push(dec.decode(data.subarray(offsets[q] - base, offsets[q + 1] - base)));
      }
      r = stop;
    }
    return out;
  }
}

export interface ArrowSplit extends Split {
  readonly embeddings: ArrowEmbeddings;
  readonly meta: ArrowSplitMeta;
}

/**
 * Opens one split file: indexes its record batches and reads its ids and rewards (a few bytes
 * per row), validating structure, types, metadata and row order. Embeddings stay in the file.
 */
export async function openArrowSplit(source: ByteSource, options: ArrowReadOptions & { signal?: AbortSignal } = {}): Promise<ArrowSplit> {
  const { name, size } = source;
  const signal = options.signal;
  if (size === 0) throw new ArrowFormatError(`${name} is empty (0 bytes); expected an Arrow IPC stream`);
  const head = await readFrame(source, 0, 0, signal);
  if (head === null) throw new ArrowFormatError(`${name} is an empty Arrow stream: it ends before its schema`);
  const layout = readSchemaLayout(name, head);
  const { meta, slots } = layout;
  const k = meta.responsesPerPrompt;
  const d = meta.dim;
  const total = meta.prompts * k;
  const bytesPerValue = meta.embeddingDtype === 'float16' ? 2 : 4;
  const rewards = new Float32Array(total);
  const promptIds = new Int32Array(meta.prompts);
  const batches: BatchEntry[] = [];
  let row = 0;
  let pos = head.bodyOffset + head.bodyLength;
  let index = 1;
  let sawEnd: boolean;
  for (;;) {
    const frame = await readFrame(source, pos, index, signal);
    if (frame === null) {
      sawEnd = pos < size;
      break;
    }
    const msg = frame.message;
    const where = `record batch ${batches.length} (message ${index}, byte ${frame.offset})`;
    pos = frame.bodyOffset + frame.bodyLength;
    index++;
    if (msg.isDictionaryBatch()) continue; // only columns we do not read can be dictionary-encoded
    if (msg.isSchema()) throw new ArrowFormatError(`${name}: a second schema message at byte ${frame.offset}; a split file is one stream with one schema`);
    if (!msg.isRecordBatch()) throw new ArrowFormatError(`${name}: unexpected ${MessageHeader[msg.headerType] ?? msg.headerType} message at byte ${frame.offset}`);
    const rb = msg.header();
    if (rb.compression !== null) {
      throw new ArrowFormatError(`${name}: ${where} is compressed; Reward Lab reads uncompressed streams (write without compression, or repack with \`reward-lab pack\`)`);
    }
    const m = rb.length;
    if (rb.nodes.length < layout.nodeCount || rb.buffers.length < layout.bufferCount) {
      throw new ArrowFormatError(
        `${name} is corrupt: ${where} has ${rb.nodes.length} field nodes and ${rb.buffers.length} buffers; its schema needs at least ${layout.nodeCount} and ${layout.bufferCount}`,
      );
    }
    if (m === 0) continue;
    if (row + m > total) {
      throw new ArrowFormatError(
        `${name}: holds more than the ${total} rows its metadata declares (${meta.prompts} prompts × ${k} responses); ${where} ends at row ${row + m}`,
      );
    }
    const buffer = (col: string, i: number, minBytes: number): Region => {
      const r = rb.buffers[i];
      if (r.offset < 0 || r.length < minBytes || r.offset + r.length > frame.bodyLength) {
        throw new ArrowFormatError(
          `${name} is corrupt: in ${where}, column "${col}" has a ${r.length}-byte buffer at body offset ${r.offset}; ` +
            `expected at least ${minBytes} bytes within the ${frame.bodyLength}-byte body`,
        );
      }
      return { offset: frame.bodyOffset + r.offset, length: minBytes };
    };
    const noNulls = (col: string, nodeIndex: number, length: number): void => {
      const node = rb.nodes[nodeIndex];
      if (node.length !== length) throw new ArrowFormatError(`${name} is corrupt: in ${where}, column "${col}" has ${node.length} values; expected ${length}`);
      if (node.nullCount !== 0) throw new ArrowFormatError(`${name}: in ${where}, column "${col}" has ${node.nullCount} nulls; it must have none`);
    };
    noNulls('prompt_id', slots.prompt_id.node, m);
    noNulls('response_id', slots.response_id.node, m);
    noNulls('reward', slots.reward.node, m);
    noNulls('embedding', slots.embedding.node, m);
    noNulls('embedding', slots.embedding.node + 1, m * d);
    const [pidBytes, ridBytes, rewBytes] = await readRegions(
      source,
      [buffer('prompt_id', slots.prompt_id.buffer + 1, m * 4), buffer('response_id', slots.response_id.buffer + 1, m * 4), buffer('reward', slots.reward.buffer + 1, m * 4)],
      DEFAULT_COALESCE_GAP_BYTES,
      signal,
    );
    const emb = buffer('embedding', slots.embedding.buffer + 2, m * d * bytesPerValue);
    const pid = int32s(pidBytes, m);
    const rid = int32s(ridBytes, m);
    for (let i = 0; i < m; i++) {
      const r = row + i;
      const p = Math.floor(r / k);
      const j = r - p * k;
      if (rid[i] !== j) {
        throw new ArrowFormatError(
          `${name}: row ${r} (${where}) has response_id ${rid[i]}, expected ${j}; rows must be prompt-major with response_id 0..${k - 1} in order ` +
            `(responses_per_prompt = ${k})`,
        );
      }
      if (j === 0) {
        if (p > 0 && !(pid[i] > promptIds[p - 1])) {
          throw new ArrowFormatError(`${name}: row ${r} starts a prompt with prompt_id ${pid[i]} after prompt_id ${promptIds[p - 1]}; prompt ids must be strictly increasing`);
        }
        promptIds[p] = pid[i];
      } else if (pid[i] !== promptIds[p]) {
        throw new ArrowFormatError(
          `${name}: row ${r} has prompt_id ${pid[i]}, but its prompt (response_id 0 at row ${p * k}) has prompt_id ${promptIds[p]}; each prompt's ${k} rows must be consecutive`,
        );
      }
    }
    decodeToFloat32(rewBytes, 'float32', rewards.subarray(row, row + m));
    const text: BatchEntry['text'] = {};
    for (const col of meta.textColumns) {
      const s = slots[col];
      if (s === undefined) continue;
      const node = rb.nodes[s.node];
      if (node.length !== m) throw new ArrowFormatError(`${name} is corrupt: in ${where}, column "${col}" has ${node.length} values; expected ${m}`);
      const offsets = buffer(col, s.buffer + 1, (m + 1) * 4);
      const dataRegion = rb.buffers[s.buffer + 2];
      const data = buffer(col, s.buffer + 2, 0);
      text[col] = {
        validity: node.nullCount > 0 ? buffer(col, s.buffer, Math.ceil(m / 8)).offset : -1,
        offsets: offsets.offset,
        data: data.offset,
        dataLength: dataRegion.length,
      };
    }
    batches.push({ rowStart: row, rows: m, embOffset: emb.offset, text });
    row += m;
  }
  if (row !== total) {
    const ending = sawEnd ? 'its end-of-stream marker' : 'the end of the file, without an end-of-stream marker';
    throw new ArrowFormatError(
      `${name} is ${sawEnd ? 'incomplete' : 'truncated'}: it holds ${row} rows in ${batches.length} record batches before ${ending}, ` +
        `but its metadata declares ${meta.prompts} prompts × ${k} responses = ${total} rows`,
    );
  }
  let bad = 0;
  let firstBad = -1;
  for (let i = 0; i < total; i++) {
    if (!Number.isFinite(rewards[i]) && bad++ === 0) firstBad = i;
  }
  if (bad > 0) {
    const p = Math.floor(firstBad / k);
    throw new ArrowFormatError(
      `${name} holds ${bad} non-finite reward${bad === 1 ? '' : 's'} (NaN or ±Infinity) of ${total}; the first is ${rewards[firstBad]} at row ${firstBad} ` +
        `(prompt_id ${promptIds[p]}, response_id ${firstBad - p * k}). Rewards must be finite`,
    );
  }
  if (meta.rankSorted && !isRankSorted(rewards, meta.prompts, k)) {
    throw new ArrowFormatError(`${name}: its metadata says rank_sorted = true, but some prompt's rewards are not in ascending order`);
  }
  const store = new ArrowEmbeddings(source, meta, batches, promptIds, options);
  return { ...makeSplit(rewards, meta.prompts, k, store, meta.rankSorted), embeddings: store, meta };
}

export interface ArrowDataset extends Dataset {
  readonly train: ArrowSplit;
  readonly test: ArrowSplit;
}

function describeSplit(s: ArrowSplit, source: ByteSource): string {
  const sub = s.meta.subsample;
  return (
    `${source.name} ${s.prompts}×${s.responsesPerPrompt}×${s.embeddings.dim} ${s.meta.embeddingDtype} in ${s.embeddings.batchCount} batches` +
    (sub ? ` (a subsample of ${sub.prompts} of ${sub.of} prompts, seed ${sub.seed})` : '')
  );
}

/** Opens a train and a test split file as one Dataset, checking that they belong together. */
export async function openArrowDataset(train: ByteSource, test: ByteSource, options: ArrowReadOptions & { signal?: AbortSignal } = {}): Promise<ArrowDataset> {
  const tr = await openArrowSplit(train, options);
  const te = await openArrowSplit(test, options);
  for (const [s, src, role] of [[tr, train, 'train'], [te, test, 'test']] as const) {
    if (s.meta.split !== role) throw new ArrowFormatError(`${src.name} was given as the ${role} split, but its metadata says split = "${s.meta.split}"`);
  }
  if (tr.meta.dim !== te.meta.dim) {
    throw new ArrowFormatError(
      `train and test embeddings differ in dimension: ${train.name} has D=${tr.meta.dim}, ${test.name} has D=${te.meta.dim}; both splits must come from the same embedding model`,
    );
  }
  for (const key of ['task', 'generator', 'embedder', 'goldenRewardModel', 'datasetId'] as const) {
    if (tr.meta[key] !== te.meta[key]) {
      throw new ArrowFormatError(
        `${train.name} and ${test.name} describe different datasets: ${key} is ${JSON.stringify(tr.meta[key])} in one and ${JSON.stringify(te.meta[key])} in the other`,
      );
    }
  }
  const m = tr.meta;
  const id = m.datasetId ?? [m.generator, m.embedder, m.task].filter((x) => x !== undefined).join('_');
  const info: DatasetInfo = {
    id,
    description: `Arrow dataset ${id}: ${describeSplit(tr, train)}, ${describeSplit(te, test)}${m.producer ? `; written by ${m.producer}` : ''}`,
    task: m.task,
    synthetic: m.task === 'demo',
    taskScale: TASK_SCALES[m.task],
    ...(m.generator !== undefined ? { generator: m.generator } : {}),
    ...(m.embedder !== undefined ? { embedder: m.embedder } : {}),
    ...(m.goldenRewardModel !== undefined ? { goldenRewardModel: m.goldenRewardModel } : {}),
  };
  const packedSubsample = [tr, te].flatMap((s) =>
    s.meta.subsample ? [{ split: s.meta.split, prompts: s.meta.subsample.prompts, of: s.meta.subsample.of, seed: s.meta.subsample.seed }] : [],
  );
  if (packedSubsample.length) info.subsample = packedSubsample;
  return { info, train: tr, test: te };
}
