/**
 * File-backed datasets from the published NumPy files (method.md §1), for Node hosts.
 *
 * A split can be several GB, so embeddings are never read whole: `NpyFileEmbeddings`
 * keeps a file handle open and serves row ranges and gathers with positional reads of at
 * most `chunkBytes` at a time. Rewards are small and are read fully.
 *
 * Two layouts exist:
 * - 'NKD' (the infrastructure files `embd_*_{split}.npy`): shape (N, K, D), prompt-major,
 *   so row r = p*K + j is contiguous in the file.
 * - 'KND' (the files as distributed, `EMBD-TRAIN-*.npy`): shape (K, N, D), response-major,
 *   so row (p, j) lives at file row j*N + p. Reads are reordered to prompt-major.
 */
import { open, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { checkRange, makeSplit, TASK_SCALES } from '../core/dataset.ts';
import type { Dataset, DatasetInfo, EmbeddingStore, Split, Task } from '../core/dataset.ts';
import {
  checkDataSize,
  decodeToFloat32,
  formatShape,
  NPY_HEADER_PROBE_BYTES,
  NpyFormatError,
  npyHeaderEnd,
  parseNpyHeader,
} from '../core/npy.ts';
import type { NpyHeader } from '../core/npy.ts';

/** 'NKD': (N, K, D) prompt-major infrastructure files; 'KND': (K, N, D) distributed files. */
export type NpyLayout = 'NKD' | 'KND';

export class DatasetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
  }
}

export interface NpyReadOptions {
  /** Upper bound on one positional read (and its scratch buffer). Default 4 MiB. */
  chunkBytes?: number;
  /**
   * `gather` reads through gaps of unrequested rows up to this many bytes rather than
   * issuing a separate read, since one larger read is cheaper than two syscalls.
   * Default 64 KiB; 0 reads only runs of adjacent rows.
   */
  coalesceGapBytes?: number;
}

export const DEFAULT_CHUNK_BYTES = 4 << 20;
export const DEFAULT_COALESCE_GAP_BYTES = 64 << 10;

const LAYOUT_SHAPE: Record<NpyLayout, string> = { NKD: '(N, K, D)', KND: '(K, N, D)' };

async function readExactly(fh: FileHandle, into: Uint8Array, position: number, fileName: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await fh.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) {
      // The size was checked when the file was opened, so it shrank since then.
      throw new NpyFormatError(
        `${fileName} ended at byte ${position + done} while reading ${into.length} bytes at ${position}; ` +
          `was the file changed after it was opened?`,
      );
    }
    done += bytesRead;
  }
}

/** Reads and validates the header (including the file size) of an open .npy file. */
async function readHeader(fh: FileHandle, fileName: string): Promise<NpyHeader> {
  const { size } = await fh.stat();
  let bytes = new Uint8Array(Math.min(NPY_HEADER_PROBE_BYTES, size));
  await readExactly(fh, bytes, 0, fileName);
  const end = npyHeaderEnd(bytes, fileName);
  if (end > bytes.length && end <= size) {
    bytes = new Uint8Array(end);
    await readExactly(fh, bytes, 0, fileName);
  }
  const header = parseNpyHeader(bytes, fileName);
  checkDataSize(header, size, fileName);
  return header;
}

/** The header of a .npy file, validated against the file's size. */
export async function readNpyFileHeader(path: string): Promise<NpyHeader> {
  const fh = await open(path, 'r');
  try {
    return await readHeader(fh, basename(path));
  } finally {
    await fh.close();
  }
}

/**
 * Streams `count` elements from `firstElem` on, decoded to float32, in chunks of at most
 * `chunkElems`. Each chunk goes to `into` (contiguous destination) or to `onChunk`.
 */
async function streamElements(
  fh: FileHandle,
  header: NpyHeader,
  fileName: string,
  chunkElems: number,
  firstElem: number,
  count: number,
  signal: AbortSignal | undefined,
  sink: Float32Array | ((firstElem: number, values: Float32Array) => void),
): Promise<void> {
  const bpe = header.bytesPerElement;
  const per = Math.max(1, Math.min(chunkElems, count));
  const buf = new Uint8Array(per * bpe);
  const scratch = typeof sink === 'function' ? new Float32Array(per) : null;
  for (let done = 0; done < count; ) {
    signal?.throwIfAborted();
    const n = Math.min(per, count - done);
    const bytes = buf.subarray(0, n * bpe);
    await readExactly(fh, bytes, header.dataOffset + (firstElem + done) * bpe, fileName);
    if (scratch === null) {
      decodeToFloat32(bytes, header.dtype, (sink as Float32Array).subarray(done, done + n));
    } else {
      (sink as (e: number, v: Float32Array) => void)(firstElem + done, decodeToFloat32(bytes, header.dtype, scratch));
    }
    done += n;
  }
}

/** A streamed, file-backed EmbeddingStore over a 3-D .npy file in either layout. */
export class NpyFileEmbeddings implements EmbeddingStore {
  readonly rows: number;
  readonly dim: number;
  readonly prompts: number;
  readonly responsesPerPrompt: number;
  private readonly fileName: string;
  private readonly chunkElems: number;
  private readonly gapRows: number;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    readonly header: NpyHeader,
    readonly layout: NpyLayout,
    options: NpyReadOptions,
  ) {
    this.fileName = basename(path);
    const [a, b, d] = header.shape;
    this.prompts = layout === 'NKD' ? a : b;
    this.responsesPerPrompt = layout === 'NKD' ? b : a;
    this.dim = d;
    this.rows = a * b;
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.chunkElems = Math.max(1, Math.floor(chunkBytes / header.bytesPerElement));
    const gapBytes = options.coalesceGapBytes ?? DEFAULT_COALESCE_GAP_BYTES;
    this.gapRows = Math.floor(gapBytes / (d * header.bytesPerElement));
  }

  static async open(path: string, layout: NpyLayout, options: NpyReadOptions = {}): Promise<NpyFileEmbeddings> {
    const fileName = basename(path);
    const fh = await open(path, 'r');
    try {
      const header = await readHeader(fh, fileName);
      if (header.shape.length !== 3) {
        throw new DatasetError(
          `${fileName}: embeddings must be a 3-D array ${LAYOUT_SHAPE[layout]}, but its shape is ${formatShape(header.shape)}`,
        );
      }
      if (header.shape[2] === 0) {
        throw new DatasetError(`${fileName}: embeddings have dimension D = 0 (shape ${formatShape(header.shape)})`);
      }
      return new NpyFileEmbeddings(fh, path, header, layout, options);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`${this.fileName} has been closed`);
  }

  /** File row of prompt-major row r. */
  private fileRow(r: number): number {
    if (this.layout === 'NKD') return r;
    const k = this.responsesPerPrompt;
    const p = Math.floor(r / k);
    return (r - p * k) * this.prompts + p;
  }

  /**
   * Streams file rows [fileRow0, fileRow0 + count) and hands each piece of a row to
   * `place(fileRow, column, values)`; chunks may end mid-row, so a row can come in pieces.
   */
  private async streamRows(
    fileRow0: number,
    count: number,
    signal: AbortSignal | undefined,
    place: (fileRow: number, col: number, values: Float32Array) => void,
  ): Promise<void> {
    const d = this.dim;
    await streamElements(this.fh, this.header, this.fileName, this.chunkElems, fileRow0 * d, count * d, signal, (e0, v) => {
      let i = 0;
      while (i < v.length) {
        const e = e0 + i;
        const row = Math.floor(e / d);
        const col = e - row * d;
        const len = Math.min(d - col, v.length - i);
        place(row, col, v.subarray(i, i + len));
        i += len;
      }
    });
  }

  async readRange(start: number, end: number, signal?: AbortSignal): Promise<Float32Array> {
    checkRange(start, end, this.rows);
    this.ensureOpen();
    const d = this.dim;
    const out = new Float32Array((end - start) * d);
    if (end === start) return out;
    if (this.layout === 'NKD') {
      await streamElements(this.fh, this.header, this.fileName, this.chunkElems, start * d, (end - start) * d, signal, out);
      return out;
    }
    // Response-major: for each response j the wanted prompts are one contiguous run of
    // the j-th slab, so K reads cover any range.
    const k = this.responsesPerPrompt;
    const n = this.prompts;
    for (let j = 0; j < k; j++) {
      const r0 = start + ((((j - start) % k) + k) % k);
      if (r0 >= end) continue;
      const r1 = end - 1 - (((((end - 1 - j) % k) + k) % k));
      const p0 = (r0 - j) / k;
      const p1 = (r1 - j) / k;
      const slab = j * n;
      await this.streamRows(slab + p0, p1 - p0 + 1, signal, (fileRow, col, v) => {
        const dest = (fileRow - slab) * k + j - start;
        out.set(v, dest * d + col);
      });
    }
    return out;
  }

  async gather(rows: Int32Array, signal?: AbortSignal): Promise<Float32Array> {
    this.ensureOpen();
    const d = this.dim;
    const m = rows.length;
    const out = new Float32Array(m * d);
    if (m === 0) return out;
    const src = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      checkRange(rows[i], rows[i] + 1, this.rows);
      src[i] = this.fileRow(rows[i]);
    }
    // Requests sorted by file position, so each run of nearby rows is one streamed read.
    const order = Int32Array.from({ length: m }, (_, i) => i).sort((a, b) => src[a] - src[b] || a - b);
    let i = 0;
    while (i < m) {
      let last = i;
      while (last + 1 < m && src[order[last + 1]] - src[order[last]] <= 1 + this.gapRows) last++;
      const first = src[order[i]];
      let ptr = i;
      await this.streamRows(first, src[order[last]] - first + 1, signal, (fileRow, col, v) => {
        while (src[order[ptr]] < fileRow) ptr++;
        for (let q = ptr; q <= last && src[order[q]] === fileRow; q++) out.set(v, order[q] * d + col);
      });
      i = last + 1;
    }
    return out;
  }
}

/** (N, K) of a rewards array: (N, K) or (N, K, 1) for 'NKD', (K, N) or (K, N, 1) for 'KND'. */
function rewardDims(header: NpyHeader, layout: NpyLayout, fileName: string): { prompts: number; responses: number } {
  const s = header.shape;
  if (!(s.length === 2 || (s.length === 3 && s[2] === 1))) {
    const expected = layout === 'NKD' ? '(N, K, 1) or (N, K)' : '(K, N) or (K, N, 1)';
    throw new DatasetError(
      `${fileName}: rewards must have shape ${expected}, one value per response, but its shape is ${formatShape(s)}`,
    );
  }
  return layout === 'NKD' ? { prompts: s[0], responses: s[1] } : { prompts: s[1], responses: s[0] };
}

/** Golden rewards as N*K float32 values, prompt-major; throws on NaN or ±Infinity. */
export async function readRewards(path: string, layout: NpyLayout, options: NpyReadOptions = {}): Promise<Float32Array> {
  const fileName = basename(path);
  const fh = await open(path, 'r');
  try {
    const header = await readHeader(fh, fileName);
    const { prompts: n, responses: k } = rewardDims(header, layout, fileName);
    const total = n * k;
    const chunkElems = Math.max(1, Math.floor((options.chunkBytes ?? DEFAULT_CHUNK_BYTES) / header.bytesPerElement));
    let out = new Float32Array(total);
    await streamElements(fh, header, fileName, chunkElems, 0, total, undefined, out);
    if (layout === 'KND') {
      const fileOrder = out;
      out = new Float32Array(total);
      for (let j = 0; j < k; j++) {
        for (let p = 0; p < n; p++) out[p * k + j] = fileOrder[j * n + p];
      }
    }
    let bad = 0;
    let firstBad = -1;
    for (let i = 0; i < total; i++) {
      if (!Number.isFinite(out[i])) {
        if (bad === 0) firstBad = i;
        bad++;
      }
    }
    if (bad > 0) {
      const p = Math.floor(firstBad / k);
      const j = firstBad - p * k;
      const fileIndex = layout === 'NKD' ? `[${p}, ${j}]` : `[${j}, ${p}]`;
      throw new DatasetError(
        `${fileName} holds ${bad} non-finite reward${bad === 1 ? '' : 's'} (NaN or ±Infinity) of ${total}; ` +
          `the first is ${out[firstBad]} at prompt ${p}, response ${j} (array index ${fileIndex}). Rewards must be finite`,
      );
    }
    return out;
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------
// Dataset directories.

type Role = 'embTrain' | 'rewTrain' | 'embTest' | 'rewTest';

const ROLES: { role: Role; what: string; infra: RegExp; distributed: RegExp; infraPattern: string; distPattern: string }[] = [
  {
    role: 'embTrain',
    what: 'train embeddings',
    infra: /^embd_(.+)_train\.npy$/i,
    distributed: /^embd-train-(.*)\.npy$/i,
    infraPattern: 'embd_*_train.npy',
    distPattern: 'EMBD-TRAIN-*.npy',
  },
  {
    role: 'rewTrain',
    what: 'train rewards',
    infra: /^reward_(.+)_train\.npy$/i,
    distributed: /^reward-train-(.*)\.npy$/i,
    infraPattern: 'reward_*_train.npy',
    distPattern: 'REWARD-TRAIN-*.npy',
  },
  {
    role: 'embTest',
    what: 'test embeddings',
    infra: /^embd_(.+)_test\.npy$/i,
    distributed: /^embd-test-(.*)\.npy$/i,
    infraPattern: 'embd_*_test.npy',
    distPattern: 'EMBD-TEST-*.npy',
  },
  {
    role: 'rewTest',
    what: 'test rewards',
    infra: /^reward_(.+)_test\.npy$/i,
    distributed: /^reward-test-(.*)\.npy$/i,
    infraPattern: 'reward_*_test.npy',
    distPattern: 'REWARD-TEST-*.npy',
  },
];

interface FoundFile {
  name: string;
  path: string;
  /** The layout its name implies (or the caller's override). */
  layout: NpyLayout;
  /** The '*' part of the name pattern. */
  stem: string;
}

export interface NpyDatasetOptions extends NpyReadOptions {
  /** Overrides the layout implied by the file names, for all four files. */
  layout?: NpyLayout;
}

export interface NpyDataset extends Dataset {
  readonly files: Readonly<Record<Role, { path: string; layout: NpyLayout; shape: number[] }>>;
  close(): Promise<void>;
}

const GOLDEN_RM_TAGS: [string, string][] = [
  ['rmmistral7b', 'weqweasdas/RM-Gemma-7B'],
  ['rayharmless', 'Ray2333/gpt2-large-harmless-reward_model'],
];

function listNames(names: string[]): string {
  const shown = names.slice(0, 20).join(', ');
  return names.length > 20 ? `${shown}, … (${names.length} in all)` : shown || '(nothing)';
}

async function findFiles(dir: string, layoutOverride: NpyLayout | undefined): Promise<Record<Role, FoundFile>> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name).sort();
  } catch (cause) {
    throw new DatasetError(`cannot read the dataset directory ${dir}: ${(cause as Error).message}`, { cause });
  }
  const candidates = new Map<Role, FoundFile[]>(ROLES.map((r) => [r.role, []]));
  for (const name of names) {
    for (const r of ROLES) {
      const infra = r.infra.exec(name);
      const dist = infra === null ? r.distributed.exec(name) : null;
      const match = infra ?? dist;
      if (match === null) continue;
      const layout: NpyLayout = layoutOverride ?? (infra !== null ? 'NKD' : 'KND');
      candidates.get(r.role)?.push({ name, path: join(dir, name), layout, stem: match[1] });
    }
  }
  const allFound = ROLES.flatMap((r) => candidates.get(r.role) ?? []);
  if (allFound.length === 0) {
    throw new DatasetError(
      `no .npy dataset files in ${dir}: expected embd_*_train.npy, reward_*_train.npy, embd_*_test.npy and ` +
        `reward_*_test.npy (layout (N, K, D)) or EMBD-TRAIN-*.npy, REWARD-TRAIN-*.npy, EMBD-TEST-*.npy and ` +
        `REWARD-TEST-*.npy (layout (K, N, D)); found: ${listNames(names)}`,
    );
  }
  for (const r of ROLES) {
    const c = candidates.get(r.role) ?? [];
    if (c.length > 1) {
      throw new DatasetError(
        `${dir} holds ${c.length} candidate ${r.what} files: ${c.map((f) => f.name).join(', ')}; ` +
          `expected exactly one (put each dataset in its own directory)`,
      );
    }
  }
  const missing = ROLES.filter((r) => (candidates.get(r.role) ?? []).length === 0);
  if (missing.length > 0) {
    const found = allFound.map((f) => `${f.name} (${ROLES.find((r) => r.infra.test(f.name) || r.distributed.test(f.name))?.what})`);
    const wanted = missing.map((r) => `the ${r.what} (${r.infraPattern} or ${r.distPattern})`);
    throw new DatasetError(
      `${dir} is incomplete: found ${found.join(', ')}, but no file for ${wanted.join(', ')}`,
    );
  }
  const pick = (role: Role): FoundFile => (candidates.get(role) ?? [])[0];
  return { embTrain: pick('embTrain'), rewTrain: pick('rewTrain'), embTest: pick('embTest'), rewTest: pick('rewTest') };
}

function describeDataset(
  files: Record<Role, FoundFile>,
  headers: Record<Role, NpyHeader>,
  dir: string,
): DatasetInfo {
  const names = ROLES.map((r) => files[r.role].name.toLowerCase());
  const hasHelpful = names.some((n) => n.includes('helpful'));
  const hasHarmless = names.some((n) => n.includes('harmless'));
  const task: Task = hasHelpful && !hasHarmless ? 'helpful' : hasHarmless && !hasHelpful ? 'harmless' : 'unknown';
  const emb = files.embTrain;
  const id = emb.stem || basename(dir);
  let generator: string | undefined;
  let embedder: string | undefined;
  if (ROLES[0].infra.test(emb.name)) {
    // embd_{generator}_{embedder}_{task}_{split}.npy; only unambiguous with exactly 3 parts.
    const parts = emb.stem.split('_');
    if (parts.length === 3 && /helpful|harmless/i.test(parts[2])) [generator, embedder] = parts;
  }
  const goldenRewardModel = GOLDEN_RM_TAGS.find(([tag]) => names.some((n) => n.includes(tag)))?.[1];
  const info: DatasetInfo = {
    id,
    description:
      `.npy dataset ${id} in ${dir}: ` +
      (['embTrain', 'embTest'] as const)
        .map((r) => `${files[r].name} ${formatShape(headers[r].shape)} ${headers[r].dtype} read as ${LAYOUT_SHAPE[files[r].layout]}`)
        .join(', '),
    task,
    synthetic: false,
    taskScale: TASK_SCALES[task],
    ...(generator !== undefined ? { generator } : {}),
    ...(embedder !== undefined ? { embedder } : {}),
    ...(goldenRewardModel !== undefined ? { goldenRewardModel } : {}),
  };
  return info;
}

async function header(file: FoundFile): Promise<NpyHeader> {
  try {
    return await readNpyFileHeader(file.path);
  } catch (cause) {
    if (cause instanceof NpyFormatError) throw new DatasetError(cause.message, { cause });
    throw new DatasetError(`cannot read ${file.path}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Opens the four .npy files of a dataset directory: embeddings streamed from disk,
 * rewards in memory. Layout comes from the names (or `options.layout`) and every shape is
 * validated before any data is read. The caller must `close()` the result.
 */
export async function openNpyDataset(dir: string, options: NpyDatasetOptions = {}): Promise<NpyDataset> {
  const files = await findFiles(dir, options.layout);
  const headers = {
    embTrain: await header(files.embTrain),
    rewTrain: await header(files.rewTrain),
    embTest: await header(files.embTest),
    rewTest: await header(files.rewTest),
  };

  const dims: Record<'train' | 'test', { prompts: number; responses: number; dim: number }> = {
    train: { prompts: 0, responses: 0, dim: 0 },
    test: { prompts: 0, responses: 0, dim: 0 },
  };
  for (const split of ['train', 'test'] as const) {
    const embRole: Role = split === 'train' ? 'embTrain' : 'embTest';
    const rewRole: Role = split === 'train' ? 'rewTrain' : 'rewTest';
    const ef = files[embRole];
    const rf = files[rewRole];
    const eh = headers[embRole];
    const rh = headers[rewRole];
    if (eh.shape.length !== 3) {
      throw new DatasetError(
        `${ef.name}: ${split} embeddings must be a 3-D array ${LAYOUT_SHAPE[ef.layout]}, but its shape is ${formatShape(eh.shape)}`,
      );
    }
    const en = ef.layout === 'NKD' ? eh.shape[0] : eh.shape[1];
    const ek = ef.layout === 'NKD' ? eh.shape[1] : eh.shape[0];
    const r = rewardDims(rh, rf.layout, rf.name);
    if (r.prompts !== en || r.responses !== ek) {
      throw new DatasetError(
        `${split} rewards and embeddings disagree: ${rf.name} has shape ${formatShape(rh.shape)} ` +
          `(N=${r.prompts} prompts, K=${r.responses} responses) but ${ef.name} has shape ${formatShape(eh.shape)} ` +
          `(N=${en} prompts, K=${ek} responses, read as ${LAYOUT_SHAPE[ef.layout]}); the two must agree on N and K`,
      );
    }
    if (en * ek === 0) {
      throw new DatasetError(`${ef.name}: the ${split} split is empty (shape ${formatShape(eh.shape)})`);
    }
    dims[split] = { prompts: en, responses: ek, dim: eh.shape[2] };
  }
  if (dims.train.dim !== dims.test.dim) {
    throw new DatasetError(
      `train and test embeddings differ in dimension: ${files.embTrain.name} has D=${dims.train.dim} ` +
        `(shape ${formatShape(headers.embTrain.shape)}) but ${files.embTest.name} has D=${dims.test.dim} ` +
        `(shape ${formatShape(headers.embTest.shape)}); both splits must come from the same embedding model`,
    );
  }

  const opened: NpyFileEmbeddings[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(opened.map((s) => s.close()));
  };
  try {
    const load = async (split: 'train' | 'test'): Promise<Split> => {
      const ef = split === 'train' ? files.embTrain : files.embTest;
      const rf = split === 'train' ? files.rewTrain : files.rewTest;
      const rewards = await readRewards(rf.path, rf.layout, options);
      const store = await NpyFileEmbeddings.open(ef.path, ef.layout, options);
      opened.push(store);
      return makeSplit(rewards, dims[split].prompts, dims[split].responses, store);
    };
    const train = await load('train');
    const test = await load('test');
    const fileInfo = (role: Role) => ({ path: files[role].path, layout: files[role].layout, shape: headers[role].shape });
    return {
      info: describeDataset(files, headers, dir),
      train,
      test,
      files: {
        embTrain: fileInfo('embTrain'),
        rewTrain: fileInfo('rewTrain'),
        embTest: fileInfo('embTest'),
        rewTest: fileInfo('rewTest'),
      },
      close: closeAll,
    };
  } catch (cause) {
    await closeAll();
    if (cause instanceof DatasetError) throw cause;
    if (cause instanceof NpyFormatError) throw new DatasetError(cause.message, { cause });
    throw new DatasetError(`cannot open the dataset in ${dir}: ${(cause as Error).message}`, { cause });
  }
}
