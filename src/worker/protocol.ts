/**
 * The typed contract between the page and the engine worker. Everything that crosses it is
 * structured-clonable plain data: specs in, summaries and results out, never tensors.
 */
import type { DatasetInfo, SplitSummary } from '../core/dataset.ts';
import type { EpochEvent, Progress } from '../core/progress.ts';
import type { ExperimentResult } from '../core/result.ts';
import type { DemoDatasetSpec, ExperimentSpec, ScaleSpec } from '../core/spec.ts';
import type { DatasetInspection, EmbeddingVerification, FilePlan, FileSelection, FilesCallbacks, IoStats, OpenedFiles, RunOptions } from './filesProtocol.ts';

export type * from './filesProtocol.ts';

export const BACKEND_NAMES = ['webgpu', 'wasm', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = 'auto' | BackendName;

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** A CPU-emulated adapter (e.g. SwiftShader): correct but far slower than wasm. */
  software: boolean;
}

export interface BackendCandidate {
  name: BackendName;
  /** 'skipped': usable but passed over by the automatic choice (see note). */
  status: 'active' | 'available' | 'skipped' | 'unavailable' | 'untried';
  note: string;
}

export interface BackendReport {
  /** The backend tfjs is running on now. */
  name: BackendName;
  choice: BackendChoice;
  adapter: AdapterInfo | null;
  /** wasm only: whether the SIMD binary is in use. */
  simd: boolean | null;
  /** Why this backend: the fallback story in one sentence. */
  reason: string;
  candidates: BackendCandidate[];
}

export interface Histogram {
  edges: number[];
  counts: number[];
}

export interface DatasetDescription {
  info: DatasetInfo;
  train: SplitSummary;
  test: SplitSummary;
  /** Golden-reward histograms on one shared range, so train and test overlay. */
  trainRewards: Histogram;
  testRewards: Histogram;
  buildMs: number;
  /** What the dataset inspector shows (mean reward by rank, label errors per β, …). */
  inspection: DatasetInspection;
}

export interface LabelNoisePoint {
  beta: number;
  /** Expected fraction of random same-prompt labels that contradict the golden order. */
  errorRate: number;
}

export interface LabelNoise {
  /** The resolved reward scale s the rates were computed with. */
  scale: number;
  points: LabelNoisePoint[];
}

/** Progress of a run; on dataset files, with the reads of the stage (bytes, rows/s). */
export interface EngineProgress extends Progress {
  io?: IoStats;
}

export interface RunCallbacks {
  onProgress(progress: EngineProgress): void;
  onEpoch(event: EpochEvent): void;
}

/** A batch's callbacks: a run's, and each experiment's result as soon as it is done. */
export interface BatchCallbacks extends RunCallbacks {
  onResult(index: number, result: ExperimentResult): void | Promise<void>;
}

/** How a batch ended when it was not cancelled: every result was delivered, or one experiment failed. */
export interface BatchOutcome {
  failure: { index: number; message: string } | null;
}

export interface EngineApi {
  selectBackend(choice: BackendChoice): Promise<BackendReport>;
  describeDataset(dataset: DemoDatasetSpec): Promise<DatasetDescription>;
  labelNoise(dataset: DemoDatasetSpec | FileSelection, scale: ScaleSpec, betas: number[]): Promise<LabelNoise>;
  run(spec: ExperimentSpec, callbacks: RunCallbacks, options?: RunOptions): Promise<ExperimentResult>;
  /** How many of the leading specs (all on one dataset) one scoring pass covers: the batch to run next. */
  passSize(specs: ExperimentSpec[], options?: RunOptions): Promise<number>;
  /**
   * Runs experiments on one dataset together (a sweep's cells: core runExperiments), sharing passes
   * over the test split. Results go to `onResult` as they finish; after a failure, those finished
   * before it have been delivered. Cancelled like a run.
   */
  runBatch(specs: ExperimentSpec[], callbacks: BatchCallbacks, options?: RunOptions): Promise<BatchOutcome>;
  /** Aborts the run in progress, if any; the run's promise then rejects with a CancelledError. */
  cancel(): void;
  /** Reads what picked files hold (headers, train rewards) without loading them. */
  planFiles(selection: FileSelection): Promise<FilePlan>;
  /** Opens picked files (rewards into memory, embeddings left in the files) and inspects them. */
  openFiles(selection: FileSelection, callbacks: FilesCallbacks): Promise<OpenedFiles>;
  /** Reads every embedding value of the files and counts NaN/±Infinity. */
  verifyFiles(selection: FileSelection, callbacks: FilesCallbacks): Promise<EmbeddingVerification>;
  /** Aborts planning, opening or verifying files; their promises reject with a CancelledError. */
  cancelFiles(): void;
}
