/**
 * The part of the page ↔ worker contract about dataset files the user picked: what the page
 * sends (File handles, never their bytes) and the plain data it gets back (a plan of the
 * files before loading, an inspection of the loaded data, I/O progress, a verification scan).
 */
import type { DatasetInfo, SplitSummary } from '../core/dataset.ts';
import type { DatasetQuestion, LayoutClue, NpyLayout, NpyLayoutChoice } from '../core/npyDataset.ts';
import type { Histogram } from './protocol.ts';

/**
 * Files the user picked. A File crosses postMessage as a handle (structured clone copies no
 * bytes), so the page sends the selection with every call that needs the data and the worker
 * reads it in chunks; a restarted worker simply opens it again.
 */
export interface FileSelection {
  kind: 'files';
  files: File[];
  /** The user's answer or override; a split left out is decided by the files' evidence. */
  layout?: NpyLayoutChoice;
  /** Bytes per embedding read (each read is a buffer this big); default 64 MiB. */
  chunkBytes?: number;
}

export type DatasetFormat = 'npy' | 'arrow';
export type SplitName = 'train' | 'test';

export interface PlannedFile {
  split: SplitName;
  /** 'embeddings' and 'rewards' for .npy pairs; 'split' for one Arrow file holding both. */
  role: 'embeddings' | 'rewards' | 'split';
  name: string;
  bytes: number;
  shape: number[];
  dtype: string;
  /** e.g. ".npy v1.0" or "Arrow IPC stream". */
  container: string;
}

export interface PlannedSplit {
  split: SplitName;
  /** null while a question about it is open; 'rows' for Arrow (prompt-major rows). */
  layout: NpyLayout | 'rows' | null;
  /** "(N, K, D)", "(K, N, D)" or "prompt-major rows". */
  layoutText: string | null;
  decidedBy: 'evidence' | 'override' | 'format' | null;
  reason: string;
  evidence: LayoutClue[];
  prompts: number | null;
  responsesPerPrompt: number | null;
  dim: number;
  /** Bytes of the split's embedding data. */
  embeddingBytes: number;
}

/** What the picked files hold, read from headers (and the small train rewards) before loading. */
export interface FilePlan {
  format: DatasetFormat;
  id: string;
  info: DatasetInfo;
  files: PlannedFile[];
  splits: Record<SplitName, PlannedSplit>;
  questions: DatasetQuestion[];
  /** Picked files that play no role (a folder may hold anything). */
  ignored: string[];
}

/** Throughput of the reads behind a stage or task. */
export interface IoStats {
  bytesRead: number;
  /** null when the stage's total is not known up front. */
  bytesTotal: number | null;
  bytesPerSecond: number | null;
  rowsPerSecond: number | null;
  etaSeconds: number | null;
}

export interface FilesProgress {
  phase: 'open' | 'verify';
  split: SplitName | null;
  message: string;
  io: IoStats;
}

export interface FilesCallbacks {
  onProgress(progress: FilesProgress): void;
}

export interface SplitInspection {
  summary: SplitSummary;
  /** Mean golden reward at each response index 0..K-1, over prompts. */
  meanByRank: number[];
  /** Prompts whose rewards are non-decreasing in response index (all of them: rank-sorted). */
  sortedPrompts: number;
}

export interface LabelErrorRow {
  beta: number;
  /** Expected label error with the per-task constant scale; null when the task has none. */
  task: number | null;
  /** … with s = the standard deviation of the train rewards. */
  std: number;
}

/** Paper target T1 on this data: expected errors of random same-prompt labels. */
export interface LabelErrorTable {
  taskScale: number | null;
  stdScale: number;
  /** Train prompts the rates average over (all of them). */
  prompts: number;
  rows: LabelErrorRow[];
}

/** What the dataset inspector shows; everything is computed from rewards (in memory) and headers. */
export interface DatasetInspection {
  info: DatasetInfo;
  train: SplitInspection;
  test: SplitInspection;
  /** Golden-reward histograms on one shared range, so train and test overlay. */
  trainRewards: Histogram;
  testRewards: Histogram;
  labelErrors: LabelErrorTable;
}

export interface OpenedFiles {
  plan: FilePlan;
  inspection: DatasetInspection;
  openMs: number;
  /** Bytes read to open (headers and rewards; embeddings stay in the files). */
  bytesRead: number;
}

export interface SplitVerification {
  split: SplitName;
  file: string;
  rows: number;
  nonFinite: number;
  firstNonFinite: { prompt: number; response: number; dim: number } | null;
}

export interface EmbeddingVerification {
  splits: SplitVerification[];
  bytesRead: number;
  ms: number;
}

/** Options of a run beyond its spec. */
export interface RunOptions {
  /** Most bytes of embeddings held at once; default 1 GiB. */
  memoryCapBytes?: number;
  /** The files a `kind: 'files'` spec runs on. */
  files?: FileSelection;
}
