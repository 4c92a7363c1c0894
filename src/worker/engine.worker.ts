/**
 * The engine worker: owns tfjs, the demo dataset and every tensor. The page reaches it only
 * through the typed EngineApi (comlink), so a long run never blocks the UI thread.
 */
import '../zodConfig.ts';
import * as Comlink from 'comlink';
import { CancelledError } from '../core/cancel.ts';
import type { Dataset } from '../core/dataset.ts';
import { makeDemoDataset } from '../core/demo.ts';
import { ExperimentFailedError, firstPassSize, runExperiment, runExperiments, type RunOptions as CoreRunOptions } from '../core/experiment.ts';
import { expectedSamePromptError, resolveScale } from '../core/labeler.ts';
import type { EpochEvent, Progress } from '../core/progress.ts';
import type { ExperimentResult } from '../core/result.ts';
import type { DemoDatasetSpec, ExperimentSpec, ScaleSpec } from '../core/spec.ts';
import { engineBackendInfo, selectBackend } from './backend.ts';
import { describeDataset } from './describe.ts';
import { FilesHost } from './filesHost.ts';
import { analyticTarget } from './paperHost.ts';
import type { AnalyticOptions, AnalyticTargetId, PaperApi, PaperDataset } from './paperProtocol.ts';
import type { BackendChoice, BackendReport, BatchCallbacks, BatchOutcome, DatasetDescription, EngineApi, FileSelection, FilesCallbacks, LabelNoise, RunCallbacks, RunOptions } from './protocol.ts';
import { assertWebGpuKernelsValid } from '../kernels/webgpu/index.ts';

/** Progress events are throttled: each one is a message the page must render. */
const PROGRESS_INTERVAL_MS = 100;

class Engine implements EngineApi, PaperApi {
  private backend: Promise<BackendReport> | null = null;
  private cached: { key: string; dataset: Dataset; buildMs: number } | null = null;
  private description: { key: string; value: DatasetDescription } | null = null;
  private controller: AbortController | null = null;
  /** Dataset files the page picked: planned, opened and verified here. */
  private readonly files = new FilesHost();

  selectBackend(choice: BackendChoice): Promise<BackendReport> {
    if (this.controller) return Promise.reject(new Error('cannot switch backends while a run is in progress'));
    this.backend = selectBackend(choice);
    return this.backend;
  }

  async describeDataset(spec: DemoDatasetSpec): Promise<DatasetDescription> {
    const { key, dataset, buildMs } = this.dataset(spec);
    if (this.description?.key !== key) this.description = { key, value: describeDataset(dataset, buildMs) };
    return this.description.value;
  }

  async labelNoise(spec: DemoDatasetSpec | FileSelection, scaleSpec: ScaleSpec, betas: number[]): Promise<LabelNoise> {
    const { dataset } = spec.kind === 'files' ? await this.files.open(spec) : this.dataset(spec);
    const { train, info } = dataset;
    const scale = resolveScale(scaleSpec, info, train.rewards).value;
    return {
      scale,
      points: betas.map((beta) => ({
        beta,
        errorRate: expectedSamePromptError(train.rewards, train.prompts, train.responsesPerPrompt, beta, scale),
      })),
    };
  }

  run(spec: ExperimentSpec, callbacks: RunCallbacks, options: RunOptions = {}): Promise<ExperimentResult> {
    return this.running(spec, callbacks, options, (dataset, runOptions) => runExperiment(spec, dataset, runOptions));
  }

  async passSize(specs: ExperimentSpec[], options: RunOptions = {}): Promise<number> {
    if (specs.length === 0) return 0;
    const dataset = await this.runDataset(specs[0], options);
    return firstPassSize(specs, dataset, options.memoryCapBytes);
  }

  async runBatch(specs: ExperimentSpec[], callbacks: BatchCallbacks, options: RunOptions = {}): Promise<BatchOutcome> {
    if (specs.length === 0) return { failure: null };
    try {
      await this.running(specs[0], callbacks, options, (dataset, runOptions) =>
        runExperiments(specs, dataset, { ...runOptions, onResult: (index, result) => callbacks.onResult(index, result) }),
      );
      return { failure: null };
    } catch (error) {
      // comlink carries an error's message but not its fields: the failing index travels as data.
      if (error instanceof ExperimentFailedError) return { failure: { index: error.experimentIndex, message: error.message } };
      throw error;
    }
  }

  /** Runs `work` as the one run in progress: on the chosen backend, on the spec's dataset, cancellable. */
  private async running<T>(spec: ExperimentSpec, callbacks: RunCallbacks, options: RunOptions, work: (dataset: Dataset, runOptions: CoreRunOptions) => Promise<T>): Promise<T> {
    if (this.controller) throw new Error('a run is already in progress');
    const controller = new AbortController();
    this.controller = controller;
    let metered: ReturnType<FilesHost['meterRun']> | null = null;
    try {
      const backend = await (this.backend ?? this.selectBackend('auto'));
      const files = spec.dataset.kind === 'files' ? await this.files.open(this.filesOf(spec, options), undefined, controller.signal) : null;
      const dataset = files?.dataset ?? this.dataset(spec.dataset as DemoDatasetSpec).dataset;
      if (files) metered = this.files.meterRun(files, spec, callbacks);
      const reporter = metered?.callbacks ?? callbacks;
      if (controller.signal.aborted) throw new CancelledError();
      const result = await work(dataset, {
        signal: controller.signal,
        backend: engineBackendInfo(backend),
        ...(options.memoryCapBytes !== undefined ? { memoryCapBytes: options.memoryCapBytes } : {}),
        onProgress: throttle(reporter),
        onEpoch: (event: EpochEvent) => void reporter.onEpoch(event),
      });
      assertWebGpuKernelsValid();
      return result;
    } finally {
      metered?.stop();
      this.controller = null;
      // comlink hands the callbacks over as a proxy; release its port once the run is over.
      (callbacks as Partial<Comlink.Remote<RunCallbacks>>)[Comlink.releaseProxy]?.();
    }
  }

  /** The dataset a spec runs on, outside a run (files opened once and kept, like a run's). */
  private async runDataset(spec: ExperimentSpec, options: RunOptions): Promise<Dataset> {
    return spec.dataset.kind === 'files' ? (await this.files.open(this.filesOf(spec, options))).dataset : this.dataset(spec.dataset).dataset;
  }

  private filesOf(spec: ExperimentSpec, options: RunOptions): FileSelection {
    if (!options.files) throw new Error(`the files of dataset "${spec.dataset.kind === 'files' ? spec.dataset.id : ''}" were not given: pick them again`);
    return options.files;
  }

  cancel(): void {
    this.controller?.abort();
  }

  planFiles(selection: FileSelection) {
    return this.files.planFiles(selection);
  }

  async openFiles(selection: FileSelection, callbacks: FilesCallbacks) {
    try {
      return await this.files.openFiles(selection, callbacks);
    } finally {
      (callbacks as Partial<Comlink.Remote<FilesCallbacks>>)[Comlink.releaseProxy]?.();
    }
  }

  async verifyFiles(selection: FileSelection, callbacks: FilesCallbacks) {
    try {
      return await this.files.verify(selection, callbacks);
    } finally {
      (callbacks as Partial<Comlink.Remote<FilesCallbacks>>)[Comlink.releaseProxy]?.();
    }
  }

  cancelFiles(): void {
    this.files.cancel();
  }

  /** Paper targets T1, T6, T7: computed from the rewards, no training (paperHost.ts). */
  async analyticTarget(id: AnalyticTargetId, spec: PaperDataset | null, options: AnalyticOptions) {
    return analyticTarget(id, spec && (await this.anyDataset(spec)), options);
  }

  async promptCounts(spec: PaperDataset) {
    const { train, test } = await this.anyDataset(spec);
    return { train: train.prompts, test: test.prompts };
  }

  private async anyDataset(spec: PaperDataset): Promise<Dataset> {
    return spec.kind === 'files' ? (await this.files.open(spec)).dataset : this.dataset(spec).dataset;
  }

  /** The demo dataset is deterministic in its parameters, so one cached copy serves every call. */
  private dataset(spec: DemoDatasetSpec): { key: string; dataset: Dataset; buildMs: number } {
    const key = JSON.stringify(spec);
    if (this.cached?.key !== key) {
      const t0 = performance.now();
      const dataset = makeDemoDataset(spec);
      this.cached = { key, dataset, buildMs: performance.now() - t0 };
    }
    return this.cached;
  }
}

function throttle(callbacks: RunCallbacks): (p: Progress) => void {
  let last = 0;
  let lastStage = '';
  return (p) => {
    const now = performance.now();
    if (p.stage === lastStage && p.stage !== 'done' && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    lastStage = p.stage;
    // Fire and forget: the page's answer is not needed, and awaiting it would stall training.
    void callbacks.onProgress(p);
  };
}

Comlink.expose(new Engine());
