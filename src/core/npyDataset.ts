/**
 * The published embedding datasets (method.md §1) as .npy files, read from any ByteSource:
 * a browser `File`, a Node file handle or bytes in memory. Hosts only supply the sources.
 *
 * A split can be several GB, so embeddings are never read whole: `NpyEmbeddings` serves
 * row ranges and gathers with reads of at most `chunkBytes` each. Rewards are small and
 * are read fully.
 *
 * Two layouts exist:
 * - 'NKD' (the infrastructure files `embd_*_{split}.npy`): shape (N, K, D), prompt-major,
 *   so row r = p*K + j is contiguous in the file.
 * - 'KND' (the files as distributed, `EMBD-TRAIN-*.npy`): shape (K, N, D), response-major,
 *   so row (p, j) lives at file row j*N + p. Reads are reordered to prompt-major.
 * The two are told apart by evidence (names, reward shape, rank order), never by a guess:
 * `planNpyDataset` reports what it found and asks when the evidence does not settle it.
 */
import type { ByteSource } from './bytes.ts';
import { CancelledError, isCancelled, throwIfCancelled } from './cancel.ts';
import { checkRange, makeSplit, resultArray, TASK_SCALES } from './dataset.ts';
import type { Dataset, DatasetInfo, EmbeddingStore, Split, StorageOrder, Task } from './dataset.ts';
import { DatasetError } from './datasetError.ts';
import {
  checkDataSize,
  decodeToFloat32,
  formatShape,
  LITTLE_ENDIAN_HOST,
  NPY_HEADER_PROBE_BYTES,
  NpyFormatError,
  npyHeaderEnd,
  parseNpyHeader,
} from './npy.ts';
import type { NpyDtype, NpyHeader } from './npy.ts';

export { DatasetError };

/** 'NKD': (N, K, D) prompt-major infrastructure files; 'KND': (K, N, D) distributed files. */
export type NpyLayout = 'NKD' | 'KND';
export type NpySplitName = 'train' | 'test';
/** One layout for both splits, or one per split (a split left out is decided by evidence). */
export type NpyLayoutChoice = NpyLayout | Partial<Record<NpySplitName, NpyLayout>>;

export const NPY_LAYOUT_SHAPES: Readonly<Record<NpyLayout, string>> = { NKD: '(N, K, D)', KND: '(K, N, D)' };

export interface NpyReadOptions {
  /** Upper bound on one read (and on the memory it takes). Default 4 MiB. */
  chunkBytes?: number;
  /**
   * `gather` reads through gaps of unrequested rows up to this many bytes rather than
   * issuing a separate read, since one larger read is cheaper than two. Default: the source's
   * own (ByteSource.coalesceGapBytes: 1 MiB for a Blob), else 64 KiB; 0 reads only runs of
   * adjacent rows.
   */
  coalesceGapBytes?: number;
}

export const DEFAULT_CHUNK_BYTES = 4 << 20;
export const DEFAULT_COALESCE_GAP_BYTES = 64 << 10;

// ---------------------------------------------------------------------------------------
// Reading bytes.

/** Turns format and I/O failures into DatasetErrors naming the source; cancellation stays cancellation. */
function asDatasetError(cause: unknown, name: string, signal: AbortSignal | undefined): Error {
  if (cause instanceof DatasetError || isCancelled(cause)) return cause;
  // A source may reject with its own abort error; hosts only know CancelledError.
  if (signal?.aborted) return new CancelledError();
  if (cause instanceof NpyFormatError) return new DatasetError(cause.message, { cause });
  const message = cause instanceof Error ? cause.message : String(cause);
  return new DatasetError(`cannot read ${name}: ${message}`, { cause });
}

async function guarded<T>(name: string, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (cause) {
    throw asDatasetError(cause, name, signal);
  }
}

/** The header of a .npy source, validated against the source's size. */
export function readNpyHeader(source: ByteSource, signal?: AbortSignal): Promise<NpyHeader> {
  return guarded(source.name, signal, async () => {
    let bytes = await source.read(0, Math.min(NPY_HEADER_PROBE_BYTES, source.size), signal);
    const end = npyHeaderEnd(bytes, source.name);
    if (end > bytes.length && end <= source.size) bytes = await source.read(0, end, signal);
    const header = parseNpyHeader(bytes, source.name);
    checkDataSize(header, source.size, source.name);
    return header;
  });
}

function chunkElements(chunkBytes: number | undefined, header: NpyHeader): number {
  const bytes = chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!(bytes > 0)) throw new RangeError(`chunkBytes must be positive, got ${bytes}`);
  return Math.max(1, Math.floor(bytes / header.bytesPerElement));
}

/** Decoded data of one .npy source, streamed in bounded chunks. */
class ChunkStream {
  bytesRead = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly header: NpyHeader,
    readonly chunkElems: number,
  ) {}

  /**
   * Decodes elements [first, first + count) chunk by chunk and hands each chunk to `visit`
   * with the element index of its first value. Chunks land in `into` (at their offset)
   * when given, else in one reused scratch array, so memory stays at one chunk. Little-endian
   * float32 (the common case) is read straight into `into`: no read buffer and no copy.
   */
  async stream(
    first: number,
    count: number,
    signal: AbortSignal | undefined,
    visit: (firstElem: number, values: Float32Array) => void,
    into?: Float32Array,
  ): Promise<void> {
    const { bytesPerElement: bpe, dataOffset, dtype } = this.header;
    const per = Math.max(1, Math.min(this.chunkElems, count));
    const chunks = Math.ceil(count / per);
    const direct = into !== undefined && dtype === 'float32' && LITTLE_ENDIAN_HOST;
    const scratch = new Float32Array(into === undefined ? per : 0);
    // Two read buffers, reused: allocating one per read costs more than the read itself.
    const readBuffers = direct ? [] : Array.from({ length: Math.min(2, chunks) }, () => new Uint8Array(per * bpe));
    const target = (k: number) => into?.subarray(k * per, Math.min(count, (k + 1) * per)) ?? scratch.subarray(0, Math.min(per, count - k * per));
    const read = (k: number) => {
      const n = Math.min(per, count - k * per);
      const t = target(k);
      const bytes = this.source.read(dataOffset + (first + k * per) * bpe, n * bpe, signal, direct ? new Uint8Array(t.buffer, t.byteOffset, t.byteLength) : readBuffers[k % 2]);
      // Awaited in the loop; failing while the chunk before is visited is not an unhandled rejection.
      bytes.catch(() => {});
      return bytes;
    };
    // Chunk k + 1 is read while chunk k is decoded and visited (the non-finite check costs as much as the read).
    let next: Promise<Uint8Array> | null = chunks > 0 ? read(0) : null;
    try {
      for (let k = 0; k < chunks; k++) {
        throwIfCancelled(signal);
        const bytes = await next!;
        next = k + 1 < chunks ? read(k + 1) : null;
        this.bytesRead += bytes.length;
        visit(first + k * per, direct ? target(k) : decodeToFloat32(bytes, dtype, target(k)));
      }
    } finally {
      // A read still under way writes into `into`: the caller may reuse or free it only after.
      await next?.catch(() => {});
    }
  }
}

/** Every value of a .npy source in file order. */
async function readAllValues(
  source: ByteSource,
  header: NpyHeader,
  options: { chunkBytes?: number; signal?: AbortSignal },
): Promise<Float32Array> {
  const out = new Float32Array(header.elementCount);
  const chunks = new ChunkStream(source, header, chunkElements(options.chunkBytes, header));
  await guarded(source.name, options.signal, () => chunks.stream(0, out.length, options.signal, () => {}, out));
  return out;
}

/** Counts NaN/±Infinity values and remembers the first one seen. */
class NonFiniteTally {
  checked = 0;
  count = 0;
  firstElem = -1;
  firstValue = NaN;

  add(values: Float32Array, firstElem: number): void {
    this.checked += values.length;
    // v * 0 is ±0 for every finite v and NaN otherwise, so one branch-free pass clears a clean
    // chunk. Four sums, not one: each add waits for the one before it, four chains run at once
    // (about twice the throughput here, which matters at GBs per run).
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    let p3 = 0;
    let i = 0;
    for (; i + 4 <= values.length; i += 4) {
      p0 += values[i] * 0;
      p1 += values[i + 1] * 0;
      p2 += values[i + 2] * 0;
      p3 += values[i + 3] * 0;
    }
    for (; i < values.length; i++) p0 += values[i] * 0;
    if (p0 + p1 + p2 + p3 === 0) return;
    for (let i = 0; i < values.length; i++) {
      if (Number.isFinite(values[i])) continue;
      if (this.count === 0) {
        this.firstElem = firstElem + i;
        this.firstValue = values[i];
      }
      this.count++;
    }
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------
// Embeddings.

export interface EmbeddingLocation {
  prompt: number;
  response: number;
  dim: number;
}

export interface ScanOptions {
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Rows per read (and per progress report). Default: what fits in one 4 MiB chunk. */
  chunkRows?: number;
  /**
   * Responses per prompt, to locate bad values in stores that do not know their prompts.
   * NpyEmbeddings knows; for other stores the default 1 reports rows as prompts.
   */
  responsesPerPrompt?: number;
}

export interface EmbeddingScan {
  rows: number;
  nonFinite: number;
  firstNonFinite: EmbeddingLocation | null;
}

function checkEmbeddingHeader(header: NpyHeader, name: string, layout: NpyLayout | null): void {
  if (header.shape.length !== 3) {
    const expected = layout === null ? '(N, K, D) or (K, N, D)' : NPY_LAYOUT_SHAPES[layout];
    throw new DatasetError(
      `${name}: embeddings must be a 3-D array ${expected}, but its shape is ${formatShape(header.shape)}`,
    );
  }
  if (header.shape[2] === 0) {
    throw new DatasetError(`${name}: embeddings have dimension D = 0 (shape ${formatShape(header.shape)})`);
  }
}

/** A streamed EmbeddingStore over a 3-D .npy source in either layout; refuses non-finite values. */
export class NpyEmbeddings implements EmbeddingStore {
  readonly rows: number;
  readonly dim: number;
  readonly prompts: number;
  readonly responsesPerPrompt: number;
  readonly storageOrder?: StorageOrder;
  private readonly chunks: ChunkStream;
  private readonly gapRows: number;

  private constructor(
    readonly source: ByteSource,
    readonly header: NpyHeader,
    readonly layout: NpyLayout,
    options: NpyReadOptions,
  ) {
    const [a, b, d] = header.shape;
    this.prompts = layout === 'NKD' ? a : b;
    this.responsesPerPrompt = layout === 'NKD' ? b : a;
    this.dim = d;
    this.rows = a * b;
    this.chunks = new ChunkStream(source, header, chunkElements(options.chunkBytes, header));
    const gapBytes = options.coalesceGapBytes ?? source.coalesceGapBytes ?? DEFAULT_COALESCE_GAP_BYTES;
    this.gapRows = Math.floor(gapBytes / (d * header.bytesPerElement));
    if (layout === 'KND') {
      // File row j·N + p holds response j of prompt p.
      const n = this.prompts;
      const k = this.responsesPerPrompt;
      this.storageOrder = {
        rowAt: (position) => (position % n) * k + Math.floor(position / n),
        readRange: (start, end, signal, into) => this.readFileRows(start, end, signal, into),
      };
    }
  }

  static async open(source: ByteSource, layout: NpyLayout, options: NpyReadOptions = {}): Promise<NpyEmbeddings> {
    const header = await readNpyHeader(source);
    checkEmbeddingHeader(header, source.name, layout);
    return new NpyEmbeddings(source, header, layout, options);
  }

  /** Data bytes read from the source so far, for throughput displays. */
  get bytesRead(): number {
    return this.chunks.bytesRead;
  }

  async readRange(start: number, end: number, signal?: AbortSignal, into?: Float32Array): Promise<Float32Array> {
    if (this.layout === 'NKD') return this.readFileRows(start, end, signal, into);
    checkRange(start, end, this.rows);
    return this.checked(signal, (tally) => this.fillResponseMajor(start, end, signal, tally, into));
  }

  /** File rows [start, end) in file order: (N, K, D)'s prompt-major ranges, (K, N, D)'s storage order. */
  private async readFileRows(start: number, end: number, signal?: AbortSignal, into?: Float32Array): Promise<Float32Array> {
    checkRange(start, end, this.rows);
    const d = this.dim;
    const out = resultArray((end - start) * d, into);
    return this.checked(signal, async (tally) => {
      await this.chunks.stream(start * d, (end - start) * d, signal, (e, v) => tally.add(v, e), out);
      return out;
    });
  }

  async gather(rows: Int32Array, signal?: AbortSignal): Promise<Float32Array> {
    const fileRows = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      checkRange(rows[i], rows[i] + 1, this.rows);
      fileRows[i] = this.fileRow(rows[i]);
    }
    return this.checked(signal, (tally) => this.fillGather(fileRows, signal, tally));
  }

  /** A read that names this file when it fails and refuses non-finite values it delivers. */
  private async checked(signal: AbortSignal | undefined, read: (tally: NonFiniteTally) => Promise<Float32Array>): Promise<Float32Array> {
    const tally = new NonFiniteTally();
    const out = await guarded(this.source.name, signal, () => read(tally));
    this.refuseNonFinite(tally);
    return out;
  }

  /**
   * Counts non-finite values over the whole file instead of refusing them: a verification
   * pass in file order, so every read is sequential whatever the layout.
   */
  async scan(options: ScanOptions = {}): Promise<EmbeddingScan> {
    const { signal, onProgress } = options;
    const d = this.dim;
    const step = Math.max(1, options.chunkRows ?? Math.floor(this.chunks.chunkElems / d));
    const tally = new NonFiniteTally();
    for (let row = 0; row < this.rows; row += step) {
      const n = Math.min(step, this.rows - row);
      await guarded(this.source.name, signal, () =>
        this.chunks.stream(row * d, n * d, signal, (e, v) => tally.add(v, e)),
      );
      onProgress?.((row + n) * d * this.header.bytesPerElement, this.header.dataBytes);
    }
    const first = tally.count > 0 ? this.locate(tally.firstElem) : null;
    return {
      rows: this.rows,
      nonFinite: tally.count,
      firstNonFinite: first === null ? null : { prompt: first.prompt, response: first.response, dim: first.dim },
    };
  }

  /** File row of prompt-major row r. */
  private fileRow(r: number): number {
    if (this.layout === 'NKD') return r;
    const k = this.responsesPerPrompt;
    const p = Math.floor(r / k);
    return (r - p * k) * this.prompts + p;
  }

  /** Where file element `elem` sits, as (prompt, response, dim) and as an index into the array. */
  private locate(elem: number): EmbeddingLocation & { index: number[] } {
    const d = this.dim;
    const fileRow = Math.floor(elem / d);
    const inner = this.header.shape[1];
    const outer = Math.floor(fileRow / inner);
    const index = [outer, fileRow - outer * inner, elem - fileRow * d];
    const [prompt, response] = this.layout === 'NKD' ? [index[0], index[1]] : [index[1], index[0]];
    return { prompt, response, dim: index[2], index };
  }

  private refuseNonFinite(tally: NonFiniteTally): void {
    if (tally.count === 0) return;
    const at = this.locate(tally.firstElem);
    throw new DatasetError(
      `${this.source.name}: ${tally.count} of the ${tally.checked} embedding values just read ` +
        `${tally.count === 1 ? 'is' : 'are'} not finite (NaN or ±Infinity); the first is ${tally.firstValue} ` +
        `at prompt ${at.prompt}, response ${at.response}, dim ${at.dim} (array index [${at.index.join(', ')}]). ` +
        `Embeddings must be finite`,
    );
  }

  /**
   * Streams file rows [fileRow0, fileRow0 + count) and hands each piece of a row to
   * `place(fileRow, column, values)`; chunks may end mid-row, so a row can come in pieces.
   */
  private streamRows(
    fileRow0: number,
    count: number,
    signal: AbortSignal | undefined,
    place: (fileRow: number, col: number, values: Float32Array) => void,
  ): Promise<void> {
    const d = this.dim;
    return this.chunks.stream(fileRow0 * d, count * d, signal, (e0, v) => {
      for (let i = 0; i < v.length; ) {
        const e = e0 + i;
        const row = Math.floor(e / d);
        const col = e - row * d;
        const len = Math.min(d - col, v.length - i);
        place(row, col, v.subarray(i, i + len));
        i += len;
      }
    });
  }

  /** Prompt-major rows [start, end) of a (K, N, D) file. */
  private async fillResponseMajor(
    start: number,
    end: number,
    signal: AbortSignal | undefined,
    tally: NonFiniteTally,
    into: Float32Array | undefined,
  ): Promise<Float32Array> {
    const d = this.dim;
    const out = resultArray((end - start) * d, into);
    // The wanted prompts of each response j are one contiguous run of the j-th slab, so K
    // reads cover any range.
    const k = this.responsesPerPrompt;
    for (let j = 0; j < k; j++) {
      const p0 = Math.max(0, Math.ceil((start - j) / k));
      const p1 = Math.floor((end - 1 - j) / k);
      if (p1 < p0) continue;
      const slab = j * this.prompts;
      await this.streamRows(slab + p0, p1 - p0 + 1, signal, (fileRow, col, v) => {
        tally.add(v, fileRow * d + col);
        out.set(v, ((fileRow - slab) * k + j - start) * d + col);
      });
    }
    return out;
  }

  private async fillGather(fileRows: Float64Array, signal: AbortSignal | undefined, tally: NonFiniteTally): Promise<Float32Array> {
    const d = this.dim;
    const m = fileRows.length;
    const out = new Float32Array(m * d);
    // Requests sorted by file position, so each run of nearby rows is one streamed read.
    const order = Int32Array.from({ length: m }, (_, i) => i).sort((a, b) => fileRows[a] - fileRows[b] || a - b);
    for (let i = 0; i < m; ) {
      let last = i;
      while (last + 1 < m && fileRows[order[last + 1]] - fileRows[order[last]] <= 1 + this.gapRows) last++;
      const first = fileRows[order[i]];
      let ptr = i;
      await this.streamRows(first, fileRows[order[last]] - first + 1, signal, (fileRow, col, v) => {
        while (fileRows[order[ptr]] < fileRow) ptr++;
        // Gap rows are read through but not requested: they are neither delivered nor checked.
        if (fileRows[order[ptr]] !== fileRow) return;
        tally.add(v, fileRow * d + col);
        for (let q = ptr; q <= last && fileRows[order[q]] === fileRow; q++) out.set(v, order[q] * d + col);
      });
      i = last + 1;
    }
    return out;
  }
}

/**
 * A full verification pass: counts non-finite values (it never throws on them) and
 * reports the first one's location. NpyEmbeddings are scanned in file order.
 */
export async function scanEmbeddings(store: EmbeddingStore, options: ScanOptions = {}): Promise<EmbeddingScan> {
  if (store instanceof NpyEmbeddings) return store.scan(options);
  const { signal, onProgress } = options;
  const d = store.dim;
  const k = options.responsesPerPrompt ?? 1;
  const step = Math.max(1, options.chunkRows ?? Math.floor(DEFAULT_CHUNK_BYTES / (4 * d)));
  const tally = new NonFiniteTally();
  for (let row = 0; row < store.rows; row += step) {
    throwIfCancelled(signal);
    const end = Math.min(store.rows, row + step);
    tally.add(await store.readRange(row, end, signal), row * d);
    onProgress?.(end * d * 4, store.rows * d * 4);
  }
  if (tally.count === 0) return { rows: store.rows, nonFinite: 0, firstNonFinite: null };
  const firstRow = Math.floor(tally.firstElem / d);
  const prompt = Math.floor(firstRow / k);
  return {
    rows: store.rows,
    nonFinite: tally.count,
    firstNonFinite: { prompt, response: firstRow - prompt * k, dim: tally.firstElem - firstRow * d },
  };
}

// ---------------------------------------------------------------------------------------
// Rewards.

function checkRewardHeader(header: NpyHeader, name: string, layout: NpyLayout | null): void {
  const s = header.shape;
  if (s.length === 2 || (s.length === 3 && s[2] === 1)) return;
  const expected = layout === 'KND' ? '(K, N) or (K, N, 1)' : '(N, K, 1) or (N, K)';
  throw new DatasetError(
    `${name}: rewards must have shape ${expected}, one value per response, but its shape is ${formatShape(s)}`,
  );
}

/** (N, K) of a 3-D embeddings or a rewards array read in `layout`. */
function promptsAndResponses(shape: readonly number[], layout: NpyLayout): { prompts: number; responses: number } {
  return layout === 'NKD' ? { prompts: shape[0], responses: shape[1] } : { prompts: shape[1], responses: shape[0] };
}

function refuseNonFiniteRewards(rewards: Float32Array, k: number, layout: NpyLayout, name: string): void {
  const tally = new NonFiniteTally();
  tally.add(rewards, 0);
  if (tally.count === 0) return;
  const p = Math.floor(tally.firstElem / k);
  const j = tally.firstElem - p * k;
  const fileIndex = layout === 'NKD' ? `[${p}, ${j}]` : `[${j}, ${p}]`;
  throw new DatasetError(
    `${name} holds ${plural(tally.count, 'non-finite reward')} (NaN or ±Infinity) of ${rewards.length}; ` +
      `the first is ${tally.firstValue} at prompt ${p}, response ${j} (array index ${fileIndex}). Rewards must be finite`,
  );
}

/** Golden rewards as N*K float32 values, prompt-major; throws on NaN or ±Infinity. */
export async function readNpyRewards(
  source: ByteSource,
  layout: NpyLayout,
  options: { chunkBytes?: number; signal?: AbortSignal } = {},
): Promise<Float32Array> {
  const header = await readNpyHeader(source, options.signal);
  checkRewardHeader(header, source.name, layout);
  const { prompts: n, responses: k } = promptsAndResponses(header.shape, layout);
  const fileOrder = await readAllValues(source, header, options);
  let rewards = fileOrder;
  if (layout === 'KND') {
    rewards = new Float32Array(n * k);
    for (let j = 0; j < k; j++) {
      for (let p = 0; p < n; p++) rewards[p * k + j] = fileOrder[j * n + p];
    }
  }
  refuseNonFiniteRewards(rewards, k, layout, source.name);
  return rewards;
}

// ---------------------------------------------------------------------------------------
// Matching files to roles.

export type NpyRole = 'embTrain' | 'rewTrain' | 'embTest' | 'rewTest';
/** Which published naming convention a file name follows. */
export type NpyNaming = 'infrastructure' | 'distributed';

interface RoleSpec {
  role: NpyRole;
  split: NpySplitName;
  what: string;
  infra: RegExp;
  distributed: RegExp;
  patterns: string;
}

function roleSpec(role: NpyRole, split: NpySplitName, prefix: 'embd' | 'reward'): RoleSpec {
  return {
    role,
    split,
    what: `${split} ${prefix === 'embd' ? 'embeddings' : 'rewards'}`,
    infra: new RegExp(`^${prefix}_(.+)_${split}\\.npy$`, 'i'),
    distributed: new RegExp(`^${prefix}-${split}-(.*)\\.npy$`, 'i'),
    patterns: `${prefix}_*_${split}.npy or ${prefix.toUpperCase()}-${split.toUpperCase()}-*.npy`,
  };
}

const ROLES: readonly RoleSpec[] = [
  roleSpec('embTrain', 'train', 'embd'),
  roleSpec('rewTrain', 'train', 'reward'),
  roleSpec('embTest', 'test', 'embd'),
  roleSpec('rewTest', 'test', 'reward'),
];

const EXPECTED_NAMES =
  'embd_*_train.npy, reward_*_train.npy, embd_*_test.npy and reward_*_test.npy (layout (N, K, D)) or ' +
  'EMBD-TRAIN-*.npy, REWARD-TRAIN-*.npy, EMBD-TEST-*.npy and REWARD-TEST-*.npy (layout (K, N, D))';

export interface NpyRoleMatch {
  role: NpyRole;
  split: NpySplitName;
  naming: NpyNaming;
  /** The '*' part of the name pattern. */
  stem: string;
}

/** The dataset role a file name plays, by either naming convention (case-insensitive). */
export function matchNpyRole(name: string): NpyRoleMatch | null {
  for (const r of ROLES) {
    const infra = r.infra.exec(name);
    if (infra !== null) return { role: r.role, split: r.split, naming: 'infrastructure', stem: infra[1] };
    const dist = r.distributed.exec(name);
    if (dist !== null) return { role: r.role, split: r.split, naming: 'distributed', stem: dist[1] };
  }
  return null;
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 20).join(', ');
  return names.length > 20 ? `${shown}, … (${names.length} in all)` : shown || '(nothing)';
}

/**
 * The names that play a dataset role, so hosts can skip the rest (a folder may hold
 * anything); throws when none does, listing what was there.
 */
export function selectNpyDatasetFiles(names: readonly string[], where?: string): string[] {
  const matched = names.filter((n) => matchNpyRole(n) !== null);
  if (matched.length === 0) {
    throw new DatasetError(
      `no .npy dataset files${where === undefined ? '' : ` in ${where}`}: expected ${EXPECTED_NAMES}; found: ${listNames(names)}`,
    );
  }
  return matched;
}

interface RoleFile extends NpyRoleMatch {
  source: ByteSource;
}

function assignRoles(sources: readonly ByteSource[]): { files: Record<NpyRole, RoleFile>; ignored: string[] } {
  selectNpyDatasetFiles(sources.map((s) => s.name));
  const candidates = new Map<NpyRole, RoleFile[]>(ROLES.map((r) => [r.role, []]));
  const ignored: string[] = [];
  for (const source of sources) {
    const match = matchNpyRole(source.name);
    if (match === null) ignored.push(source.name);
    else candidates.get(match.role)?.push({ ...match, source });
  }
  for (const r of ROLES) {
    const c = candidates.get(r.role) ?? [];
    if (c.length > 1) {
      throw new DatasetError(
        `${c.length} candidate ${r.what} files: ${c.map((f) => f.source.name).join(', ')}; ` +
          `expected exactly one (put each dataset in its own folder)`,
      );
    }
  }
  const missing = ROLES.filter((r) => (candidates.get(r.role) ?? []).length === 0);
  if (missing.length > 0) {
    const found = ROLES.flatMap((r) => (candidates.get(r.role) ?? []).map((f) => `${f.source.name} (${r.what})`));
    const wanted = missing.map((r) => `the ${r.what} (${r.patterns})`);
    throw new DatasetError(`the dataset is incomplete: found ${found.join(', ')}, but no file for ${wanted.join(', ')}`);
  }
  const pick = (role: NpyRole): RoleFile => (candidates.get(role) ?? [])[0];
  return {
    files: { embTrain: pick('embTrain'), rewTrain: pick('rewTrain'), embTest: pick('embTest'), rewTest: pick('rewTest') },
    ignored,
  };
}

// ---------------------------------------------------------------------------------------
// Deciding the layout.

/** One piece of evidence about a split's layout. */
export interface LayoutClue {
  kind: 'names' | 'reward shape' | 'rank order';
  /** The layout it points to; null when it points to neither. */
  layout: NpyLayout | null;
  detail: string;
}

export interface DatasetQuestion {
  split: NpySplitName;
  /** The embeddings file the question is about. */
  file: string;
  shape: readonly number[];
  /** E.g. "is EMBD-TRAIN-x.npy (10, 40000, 2048) laid out (K, N, D) or (N, K, D)?" */
  text: string;
  /** What the evidence said. */
  why: string;
  /** The likelier answer first. */
  choices: readonly { layout: NpyLayout; label: string }[];
}

export interface NpySplitPlan {
  /** null while a question is open. */
  layout: NpyLayout | null;
  decidedBy: 'evidence' | 'override' | null;
  /** Why it was decided, or why it could not be. */
  reason: string;
  evidence: readonly LayoutClue[];
  /** null while the layout is open (N and K depend on it). */
  prompts: number | null;
  responsesPerPrompt: number | null;
  dim: number;
}

export interface NpyFilePlan {
  role: NpyRole;
  split: NpySplitName;
  name: string;
  shape: readonly number[];
  dtype: NpyDtype;
  version: string;
  naming: NpyNaming;
  /** The layout of its split, and the evidence for it. */
  layout: NpyLayout | null;
  evidence: readonly LayoutClue[];
}

/** What a set of sources holds, from headers (and the small train rewards), before loading anything. */
export interface NpyDatasetPlan {
  files: Readonly<Record<NpyRole, NpyFilePlan>>;
  splits: Readonly<Record<NpySplitName, NpySplitPlan>>;
  questions: readonly DatasetQuestion[];
  /** Sources that play no role. */
  ignored: readonly string[];
  info: DatasetInfo;
}

/** The plan has questions only the user can answer (the `layout` option does). */
export class DatasetQuestionError extends DatasetError {
  readonly questions: readonly DatasetQuestion[];

  constructor(readonly plan: NpyDatasetPlan) {
    super(
      `the dataset's layout is ambiguous: ` +
        plan.questions.map((q) => `${q.text} (${q.why})`).join('; ') +
        '; choose it with the layout option',
    );
    this.name = 'DatasetQuestionError';
    this.questions = plan.questions;
  }
}

interface Located extends RoleFile {
  header: NpyHeader;
}

const NAMING_LAYOUT: Record<NpyNaming, NpyLayout> = { infrastructure: 'NKD', distributed: 'KND' };

function namesClue(emb: Located, rew: Located): LayoutClue {
  const [e, r] = [emb.source.name, rew.source.name];
  if (emb.naming !== rew.naming) {
    return { kind: 'names', layout: null, detail: `${e} uses the ${emb.naming} names but ${r} the ${rew.naming} ones` };
  }
  const layout = NAMING_LAYOUT[emb.naming];
  const prefixes = emb.naming === 'infrastructure' ? 'embd_/reward_' : 'EMBD-/REWARD-';
  return {
    kind: 'names',
    layout,
    detail: `${e} and ${r} use the ${emb.naming} names (${prefixes}), which are ${NPY_LAYOUT_SHAPES[layout]}`,
  };
}

function rewardShapeClue(rew: Located): LayoutClue {
  const shape = formatShape(rew.header.shape);
  return rew.header.shape.length === 3
    ? { kind: 'reward shape', layout: 'NKD', detail: `${rew.source.name} has shape ${shape}, the infrastructure rewards' (N, K, 1)` }
    : { kind: 'reward shape', layout: 'KND', detail: `${rew.source.name} has shape ${shape}, the distributed rewards' (K, N)` };
}

/** True when each of `rows` runs of `len` values (at `rowStride`, stepping `step`) is non-decreasing. */
function runsAscending(values: Float32Array, rows: number, len: number, rowStride: number, step: number): boolean {
  for (let r = 0; r < rows; r++) {
    for (let i = 1; i < len; i++) {
      if (values[r * rowStride + i * step] < values[r * rowStride + (i - 1) * step]) return false;
    }
  }
  return true;
}

/** The published train split is rank-sorted, so only the right reading has ascending rows. */
async function rankOrderClue(rew: Located, signal: AbortSignal | undefined): Promise<LayoutClue> {
  const [a, b] = rew.header.shape;
  const values = await readAllValues(rew.source, rew.header, { signal });
  const asNK = runsAscending(values, a, b, b, 1);
  const asKN = runsAscending(values, b, a, 1, b);
  const name = rew.source.name;
  if (asNK !== asKN) {
    const layout: NpyLayout = asNK ? 'NKD' : 'KND';
    return {
      kind: 'rank order',
      layout,
      detail:
        `only reading ${name} as ${asNK ? '(N, K)' : '(K, N)'} makes every prompt's rewards ascending, ` +
        'as in a rank-sorted train split',
    };
  }
  const detail = asNK
    ? `${name} is ascending in either reading, so rank order does not tell`
    : `${name} is ascending in neither reading (not rank-sorted), so rank order does not tell`;
  return { kind: 'rank order', layout: null, detail };
}

function joinWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function choiceLabel(shape: readonly number[], layout: NpyLayout): string {
  const { prompts, responses } = promptsAndResponses(shape, layout);
  return `${NPY_LAYOUT_SHAPES[layout]}: ${plural(prompts, 'prompt')} × ${plural(responses, 'response')} each`;
}

/** "the names say (K, N, D) but the reward shape says (N, K, D): …details" */
function conflictText(pointing: readonly LayoutClue[], order: readonly NpyLayout[]): string {
  const sides = order.map((layout) => {
    const kinds = pointing.filter((c) => c.layout === layout).map((c) => c.kind);
    const verb = kinds.length > 1 || kinds[0] === 'names' ? 'say' : 'says';
    return `the ${joinWords(kinds)} ${verb} ${NPY_LAYOUT_SHAPES[layout]}`;
  });
  return `${sides.join(' but ')}: ${pointing.map((c) => c.detail).join('; ')}`;
}

/**
 * "only the reward shape says (K, N, D), which is not enough on its own: …details". The
 * reward shape always points somewhere, so falling short means exactly one clue points.
 */
function insufficientText(clues: readonly LayoutClue[], lone: LayoutClue): string {
  const says = `only the ${lone.kind} says ${NPY_LAYOUT_SHAPES[lone.layout as NpyLayout]}`;
  return `${says}, which is not enough on its own: ${clues.map((c) => c.detail).join('; ')}`;
}

interface Decision {
  layout: NpyLayout | null;
  decidedBy: NpySplitPlan['decidedBy'];
  reason: string;
  question: DatasetQuestion | null;
}

function decideLayout(split: NpySplitName, emb: Located, clues: readonly LayoutClue[], override: NpyLayout | undefined): Decision {
  const pointing = clues.filter((c) => c.layout !== null);
  if (override !== undefined) {
    const against = pointing.filter((c) => c.layout !== override);
    const note =
      against.length === 0
        ? ''
        : ` (against the ${joinWords(against.map((c) => c.kind))}: ${against.map((c) => c.detail).join('; ')})`;
    const reason = `set by the caller: ${NPY_LAYOUT_SHAPES[override]}${note}`;
    return { layout: override, decidedBy: 'override', reason, question: null };
  }
  const layouts = new Set(pointing.map((c) => c.layout));
  // One clue alone is a guess (a squeezed reward file, a renamed one); two that agree are not.
  if (layouts.size === 1 && pointing.length >= 2) {
    const layout = pointing[0].layout as NpyLayout;
    const reason = `${joinWords(pointing.map((c) => c.kind))} agree: ${NPY_LAYOUT_SHAPES[layout]}`;
    return { layout, decidedBy: 'evidence', reason, question: null };
  }
  const first = clues.find((c) => c.kind === 'names')?.layout ?? pointing[0].layout;
  const order: NpyLayout[] = first === 'NKD' ? ['NKD', 'KND'] : ['KND', 'NKD'];
  const why = layouts.size > 1 ? conflictText(pointing, order) : insufficientText(clues, pointing[0]);
  const shape = emb.header.shape;
  const question: DatasetQuestion = {
    split,
    file: emb.source.name,
    shape,
    text: `is ${emb.source.name} ${formatShape(shape)} laid out ${NPY_LAYOUT_SHAPES[order[0]]} or ${NPY_LAYOUT_SHAPES[order[1]]}?`,
    why,
    choices: order.map((layout) => ({ layout, label: choiceLabel(shape, layout) })),
  };
  return { layout: null, decidedBy: null, reason: `ambiguous: ${why}`, question };
}

function overrideFor(choice: NpyLayoutChoice | undefined, split: NpySplitName): NpyLayout | undefined {
  const layout = typeof choice === 'string' ? choice : choice?.[split];
  if (layout !== undefined && layout !== 'NKD' && layout !== 'KND') {
    throw new DatasetError(`unknown layout "${String(layout)}"; expected NKD (N, K, D) or KND (K, N, D)`);
  }
  return layout;
}

// ---------------------------------------------------------------------------------------
// Validating and planning.

function checkPartners(split: NpySplitName, emb: Located, rew: Located, layout: NpyLayout | null): void {
  const es = emb.header.shape;
  const rs = rew.header.shape;
  if (rs[0] === es[0] && rs[1] === es[1]) return;
  const read = (shape: readonly number[]): string => {
    if (layout === null) return '';
    const { prompts, responses } = promptsAndResponses(shape, layout);
    return ` (N=${prompts} prompts, K=${responses} responses, read as ${NPY_LAYOUT_SHAPES[layout]})`;
  };
  const transposed = rs[0] === es[1] && rs[1] === es[0] ? '; the rewards look transposed relative to the embeddings' : '';
  throw new DatasetError(
    `${split} rewards and embeddings disagree: ${rew.source.name} has shape ${formatShape(rs)}${read(rs)} ` +
      `but ${emb.source.name} has shape ${formatShape(es)}${read(es)}; the two must agree on N and K${transposed}`,
  );
}

function checkSameDim(train: Located, test: Located): void {
  const [dTrain, dTest] = [train.header.shape[2], test.header.shape[2]];
  if (dTrain === dTest) return;
  throw new DatasetError(
    `train and test embeddings differ in dimension: ${train.source.name} has D=${dTrain} ` +
      `(shape ${formatShape(train.header.shape)}) but ${test.source.name} has D=${dTest} ` +
      `(shape ${formatShape(test.header.shape)}); both splits must come from the same embedding model`,
  );
}

async function planSplit(
  split: NpySplitName,
  emb: Located,
  rew: Located,
  override: NpyLayout | undefined,
  signal: AbortSignal | undefined,
): Promise<NpySplitPlan & { question: DatasetQuestion | null }> {
  const clues = [namesClue(emb, rew), rewardShapeClue(rew)];
  if (split === 'train') clues.push(await rankOrderClue(rew, signal));
  const decision = decideLayout(split, emb, clues, override);
  checkPartners(split, emb, rew, decision.layout);
  const shape = emb.header.shape;
  if (shape[0] * shape[1] === 0) {
    throw new DatasetError(`${emb.source.name}: the ${split} split is empty (shape ${formatShape(shape)})`);
  }
  const dims = decision.layout === null ? null : promptsAndResponses(shape, decision.layout);
  return {
    layout: decision.layout,
    decidedBy: decision.decidedBy,
    reason: decision.reason,
    evidence: clues,
    prompts: dims?.prompts ?? null,
    responsesPerPrompt: dims?.responses ?? null,
    dim: shape[2],
    question: decision.question,
  };
}

async function readHeaders(files: Record<NpyRole, RoleFile>, signal: AbortSignal | undefined): Promise<Record<NpyRole, Located>> {
  const withHeader = async (f: RoleFile): Promise<Located> => ({ ...f, header: await readNpyHeader(f.source, signal) });
  const located = {
    embTrain: await withHeader(files.embTrain),
    rewTrain: await withHeader(files.rewTrain),
    embTest: await withHeader(files.embTest),
    rewTest: await withHeader(files.rewTest),
  };
  for (const role of ['embTrain', 'embTest'] as const) checkEmbeddingHeader(located[role].header, located[role].source.name, null);
  for (const role of ['rewTrain', 'rewTest'] as const) checkRewardHeader(located[role].header, located[role].source.name, null);
  return located;
}

const GOLDEN_RM_TAGS: [string, string][] = [
  ['rmmistral7b', 'weqweasdas/RM-Gemma-7B'],
  ['rayharmless', 'Ray2333/gpt2-large-harmless-reward_model'],
];

function describeDataset(files: Record<NpyRole, Located>, splits: Record<NpySplitName, NpySplitPlan>): DatasetInfo {
  const names = ROLES.map((r) => files[r.role].source.name.toLowerCase());
  const hasHelpful = names.some((n) => n.includes('helpful'));
  const hasHarmless = names.some((n) => n.includes('harmless'));
  const task: Task = hasHelpful && !hasHarmless ? 'helpful' : hasHarmless && !hasHelpful ? 'harmless' : 'unknown';
  const emb = files.embTrain;
  const id = emb.stem || emb.source.name.replace(/\.npy$/i, '');
  let generator: string | undefined;
  let embedder: string | undefined;
  // embd_{generator}_{embedder}_{task}_{split}.npy is only unambiguous with exactly 3 parts.
  const parts = emb.stem.split('_');
  if (emb.naming === 'infrastructure' && parts.length === 3 && /helpful|harmless/i.test(parts[2])) [generator, embedder] = parts;
  const goldenRewardModel = GOLDEN_RM_TAGS.find(([tag]) => names.some((n) => n.includes(tag)))?.[1];
  const describe = (f: Located, s: NpySplitPlan): string =>
    `${f.source.name} ${formatShape(f.header.shape)} ${f.header.dtype} ` +
    (s.layout === null ? 'with its layout undecided' : `read as ${NPY_LAYOUT_SHAPES[s.layout]}`);
  return {
    id,
    description: `.npy dataset ${id}: ${describe(files.embTrain, splits.train)}, ${describe(files.embTest, splits.test)}`,
    task,
    synthetic: false,
    taskScale: TASK_SCALES[task],
    ...(generator !== undefined ? { generator } : {}),
    ...(embedder !== undefined ? { embedder } : {}),
    ...(goldenRewardModel !== undefined ? { goldenRewardModel } : {}),
  };
}

function filePlan(f: Located, split: NpySplitPlan): NpyFilePlan {
  return {
    role: f.role,
    split: f.split,
    name: f.source.name,
    shape: f.header.shape,
    dtype: f.header.dtype,
    version: f.header.version,
    naming: f.naming,
    layout: split.layout,
    evidence: split.evidence,
  };
}

export interface PlanNpyOptions {
  layout?: NpyLayoutChoice;
  signal?: AbortSignal;
}

async function buildPlan(
  sources: readonly ByteSource[],
  options: PlanNpyOptions,
): Promise<{ plan: NpyDatasetPlan; files: Record<NpyRole, Located> }> {
  const { files: matched, ignored } = assignRoles(sources);
  const files = await readHeaders(matched, options.signal);
  checkSameDim(files.embTrain, files.embTest);
  const { question: trainQuestion, ...train } = await planSplit(
    'train', files.embTrain, files.rewTrain, overrideFor(options.layout, 'train'), options.signal,
  );
  const { question: testQuestion, ...test } = await planSplit(
    'test', files.embTest, files.rewTest, overrideFor(options.layout, 'test'), options.signal,
  );
  const splits = { train, test };
  const plan: NpyDatasetPlan = {
    files: {
      embTrain: filePlan(files.embTrain, train),
      rewTrain: filePlan(files.rewTrain, train),
      embTest: filePlan(files.embTest, test),
      rewTest: filePlan(files.rewTest, test),
    },
    splits,
    questions: [trainQuestion, testQuestion].filter((q): q is DatasetQuestion => q !== null),
    ignored,
    info: describeDataset(files, splits),
  };
  return { plan, files };
}

/**
 * Matches the sources to the four roles, reads their headers (and the small train
 * rewards, for rank-order evidence) and validates everything that can be checked before
 * loading. Throws DatasetError on bad input; an undecidable layout is a question in the
 * plan, not an error.
 */
export async function planNpyDataset(sources: readonly ByteSource[], options: PlanNpyOptions = {}): Promise<NpyDatasetPlan> {
  return (await buildPlan(sources, options)).plan;
}

// ---------------------------------------------------------------------------------------
// Opening.

export interface NpySplit extends Split {
  readonly embeddings: NpyEmbeddings;
}

export interface NpyDataset extends Dataset {
  readonly plan: NpyDatasetPlan;
  readonly train: NpySplit;
  readonly test: NpySplit;
  /** Closes every source that can be closed; safe to call more than once. */
  close(): Promise<void>;
}

export interface OpenNpyOptions extends NpyReadOptions, PlanNpyOptions {}

type Closable = ByteSource & { close(): unknown };

function isClosable(source: ByteSource): source is Closable {
  return typeof (source as Partial<Closable>).close === 'function';
}

function closerOf(sources: readonly ByteSource[]): () => Promise<void> {
  let closing: Promise<void> | null = null;
  const closable = [...new Set(sources)].filter(isClosable);
  return () => (closing ??= Promise.all(closable.map((s) => s.close())).then(() => undefined));
}

async function openSplit(plan: NpySplitPlan, emb: Located, rew: Located, options: OpenNpyOptions): Promise<NpySplit> {
  const layout = plan.layout as NpyLayout;
  const rewards = await readNpyRewards(rew.source, layout, options);
  const store = await NpyEmbeddings.open(emb.source, layout, options);
  return { ...makeSplit(rewards, store.prompts, store.responsesPerPrompt, store), embeddings: store };
}

/**
 * Opens a dataset from its sources: embeddings streamed, rewards in memory. Throws
 * DatasetQuestionError when the layout needs an answer (pass it as `options.layout`).
 * On success the dataset owns every source given (its `close()` closes them); on failure
 * they stay the caller's to close.
 */
export async function openNpyDataset(sources: readonly ByteSource[], options: OpenNpyOptions = {}): Promise<NpyDataset> {
  const { plan, files } = await buildPlan(sources, options);
  if (plan.questions.length > 0) throw new DatasetQuestionError(plan);
  return {
    info: plan.info,
    plan,
    train: await openSplit(plan.splits.train, files.embTrain, files.rewTrain, options),
    test: await openSplit(plan.splits.test, files.embTest, files.rewTest, options),
    close: closerOf(sources),
  };
}
