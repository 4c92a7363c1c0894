/**
 * The browser's door to dataset files: picked `File`s become ByteSources for the core readers
 * (src/core/npyDataset.ts, src/core/arrowFormat.ts), which do all matching, validation and
 * reading. This module only tells the two formats apart, counts the bytes read, and turns
 * what the readers report into the plain data the page shows.
 */
import { openArrowDataset, readArrowSplitMeta, type ArrowSplitMeta } from '../core/arrowFormat.ts';
import { BlobSource, type ByteSource } from '../core/bytes.ts';
import { TASK_SCALES, type Dataset, type DatasetInfo } from '../core/dataset.ts';
import { DatasetError } from '../core/datasetError.ts';
import { NPY_DTYPE_BYTES } from '../core/npy.ts';
import { matchNpyRole, NPY_LAYOUT_SHAPES, openNpyDataset, planNpyDataset, type NpyDatasetPlan, type NpyRole } from '../core/npyDataset.ts';
import type { FilePlan, FileSelection, PlannedFile, PlannedSplit, SplitName } from './filesProtocol.ts';
import { ByteCounter, CountingSource } from './ioMeter.ts';
import { READ_CHUNK_BYTES } from './readChunk.ts';

export const ARROW_TRAIN_FILE = 'train.arrow';
export const ARROW_TEST_FILE = 'test.arrow';


/** Identifies a selection across postMessage (Files arrive as new objects each time). */
export function selectionKey(selection: FileSelection): string {
  const files = selection.files.map((f) => [f.name, f.size, f.lastModified]);
  return JSON.stringify({ files, layout: selection.layout ?? null, chunkBytes: selection.chunkBytes ?? null });
}

/** Which reader the picked files are for: a packed Arrow pair or the published .npy files. */
export function detectFormat(names: readonly string[]): FilePlan['format'] {
  if (names.length === 0) throw new DatasetError('no files were picked');
  const lower = names.map((n) => n.toLowerCase());
  const hasTrain = lower.includes(ARROW_TRAIN_FILE);
  const hasTest = lower.includes(ARROW_TEST_FILE);
  if (!hasTrain && !hasTest) return 'npy';
  if (!(hasTrain && hasTest)) {
    const [has, lacks] = hasTrain ? [ARROW_TRAIN_FILE, ARROW_TEST_FILE] : [ARROW_TEST_FILE, ARROW_TRAIN_FILE];
    throw new DatasetError(`the picked files hold ${has} but no ${lacks}; a packed dataset has both (see \`reward-lab pack\`)`);
  }
  const npy = names.filter((n) => matchNpyRole(n) !== null);
  if (npy.length > 0) {
    throw new DatasetError(
      `the picked files hold both a packed dataset (${ARROW_TRAIN_FILE}, ${ARROW_TEST_FILE}) and .npy dataset files ` +
        `(${npy.slice(0, 4).join(', ')}${npy.length > 4 ? ', …' : ''}); which one is meant is unclear: pick one of them`,
    );
  }
  return 'arrow';
}

function sourcesOf(files: readonly File[], counter: ByteCounter | null): ByteSource[] {
  return files.map((f) => {
    const blob = new BlobSource(f, f.name);
    return counter ? new CountingSource(blob, counter) : blob;
  });
}

function arrowPair<T extends { name: string }>(items: readonly T[]): { train: T; test: T; ignored: string[] } {
  const find = (name: string) => items.find((s) => s.name.toLowerCase() === name) as T;
  const train = find(ARROW_TRAIN_FILE);
  const test = find(ARROW_TEST_FILE);
  return { train, test, ignored: items.filter((s) => s !== train && s !== test).map((s) => s.name) };
}

const prod = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

const NPY_ROLES: readonly { role: NpyRole; split: SplitName; kind: 'embeddings' | 'rewards' }[] = [
  { role: 'embTrain', split: 'train', kind: 'embeddings' },
  { role: 'rewTrain', split: 'train', kind: 'rewards' },
  { role: 'embTest', split: 'test', kind: 'embeddings' },
  { role: 'rewTest', split: 'test', kind: 'rewards' },
];

/** The core's .npy plan as the page shows it. */
export function npyFilePlan(plan: NpyDatasetPlan, files: readonly File[]): FilePlan {
  const size = (name: string) => files.find((f) => f.name === name)?.size ?? 0;
  const planned: PlannedFile[] = NPY_ROLES.map(({ role, split, kind }) => {
    const f = plan.files[role];
    return { split, role: kind, name: f.name, bytes: size(f.name), shape: [...f.shape], dtype: f.dtype, container: `.npy v${f.version}` };
  });
  const split = (name: SplitName): PlannedSplit => {
    const s = plan.splits[name];
    const emb = plan.files[name === 'train' ? 'embTrain' : 'embTest'];
    return {
      split: name,
      layout: s.layout,
      layoutText: s.layout === null ? null : NPY_LAYOUT_SHAPES[s.layout],
      decidedBy: s.decidedBy,
      reason: s.reason,
      evidence: [...s.evidence],
      prompts: s.prompts,
      responsesPerPrompt: s.responsesPerPrompt,
      dim: s.dim,
      embeddingBytes: prod(emb.shape) * NPY_DTYPE_BYTES[emb.dtype],
    };
  };
  return {
    format: 'npy',
    id: plan.info.id,
    info: plan.info,
    files: planned,
    splits: { train: split('train'), test: split('test') },
    questions: [...plan.questions],
    ignored: [...plan.ignored],
  };
}

function arrowInfo(train: ArrowSplitMeta): DatasetInfo {
  const id = train.datasetId ?? [train.generator, train.embedder, train.task].filter((x) => x !== undefined).join('_');
  return {
    id,
    description: `Arrow dataset ${id}`,
    task: train.task,
    synthetic: train.task === 'demo',
    taskScale: TASK_SCALES[train.task],
    ...(train.generator !== undefined ? { generator: train.generator } : {}),
    ...(train.embedder !== undefined ? { embedder: train.embedder } : {}),
    ...(train.goldenRewardModel !== undefined ? { goldenRewardModel: train.goldenRewardModel } : {}),
  };
}

/** An Arrow pair as the page shows it, from the two schemas alone. */
export function arrowFilePlan(metas: Record<SplitName, ArrowSplitMeta>, files: Record<SplitName, File>, ignored: string[], info?: DatasetInfo): FilePlan {
  const split = (name: SplitName): PlannedSplit => {
    const m = metas[name];
    const sub = m.subsample ? ` (a subsample of ${m.subsample.prompts} of ${m.subsample.of} prompts, seed ${m.subsample.seed})` : '';
    return {
      split: name,
      layout: 'rows',
      layoutText: 'prompt-major rows',
      decidedBy: 'format',
      reason: `an Arrow split file: one row per response, prompt-major, K = ${m.responsesPerPrompt}${sub}; rank-sorted flag: ${m.rankSorted}`,
      evidence: [],
      prompts: m.prompts,
      responsesPerPrompt: m.responsesPerPrompt,
      dim: m.dim,
      embeddingBytes: m.prompts * m.responsesPerPrompt * m.dim * (m.embeddingDtype === 'float16' ? 2 : 4),
    };
  };
  const planned = (['train', 'test'] as const).map(
    (name): PlannedFile => ({
      split: name,
      role: 'split',
      name: files[name].name,
      bytes: files[name].size,
      shape: [metas[name].prompts, metas[name].responsesPerPrompt, metas[name].dim],
      dtype: metas[name].embeddingDtype,
      container: 'Arrow IPC stream',
    }),
  );
  const resolved = info ?? arrowInfo(metas.train);
  return { format: 'arrow', id: resolved.id, info: resolved, files: planned, splits: { train: split('train'), test: split('test') }, questions: [], ignored };
}

/** Reads what the picked files hold, without loading them; throws DatasetError on bad input. */
export async function planSelection(selection: FileSelection, signal?: AbortSignal): Promise<FilePlan> {
  const { files } = selection;
  if (detectFormat(files.map((f) => f.name)) === 'arrow') {
    const { train, test, ignored } = arrowPair(files);
    const [trainMeta, testMeta] = [await readArrowSplitMeta(new BlobSource(train, train.name), signal), await readArrowSplitMeta(new BlobSource(test, test.name), signal)];
    return arrowFilePlan({ train: trainMeta, test: testMeta }, { train, test }, ignored);
  }
  const plan = await planNpyDataset(sourcesOf(files, null), { ...(selection.layout !== undefined ? { layout: selection.layout } : {}), ...(signal ? { signal } : {}) });
  return npyFilePlan(plan, files);
}

export interface OpenedSelection {
  dataset: Dataset;
  plan: FilePlan;
  /** Bytes read through the dataset's sources so far. */
  counter: ByteCounter;
  /** Stored bytes of one embedding row, per split. */
  rowBytes: Record<SplitName, number>;
}

/**
 * Opens the selection as a Dataset: embeddings stay in the files (read in chunks on demand),
 * rewards are read into memory. Throws DatasetError on bad input, DatasetQuestionError when
 * the layout needs the user's answer.
 */
export async function openSelection(selection: FileSelection, signal?: AbortSignal, counter = new ByteCounter()): Promise<OpenedSelection> {
  const { files } = selection;
  const chunkBytes = selection.chunkBytes ?? READ_CHUNK_BYTES;
  if (detectFormat(files.map((f) => f.name)) === 'arrow') {
    const pair = arrowPair(files);
    const [train, test] = sourcesOf([pair.train, pair.test], counter);
    const dataset = await openArrowDataset(train, test, { chunkBytes, ...(signal ? { signal } : {}) });
    const plan = arrowFilePlan({ train: dataset.train.meta, test: dataset.test.meta }, pair, pair.ignored, dataset.info);
    const rowBytes = (s: SplitName) => plan.splits[s].embeddingBytes / Math.max(1, (plan.splits[s].prompts ?? 0) * (plan.splits[s].responsesPerPrompt ?? 0));
    return { dataset, plan, counter, rowBytes: { train: rowBytes('train'), test: rowBytes('test') } };
  }
  const dataset = await openNpyDataset(sourcesOf(files, counter), { chunkBytes, ...(selection.layout !== undefined ? { layout: selection.layout } : {}), ...(signal ? { signal } : {}) });
  const plan = npyFilePlan(dataset.plan, files);
  const rowBytes = (s: SplitName) => dataset[s].embeddings.dim * dataset[s].embeddings.header.bytesPerElement;
  return { dataset, plan, counter, rowBytes: { train: rowBytes('train'), test: rowBytes('test') } };
}
