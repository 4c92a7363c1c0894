/**
 * The worker's side of picked dataset files: plans them, keeps the one opened dataset (its
 * rewards in memory, its embeddings in the files), verifies embeddings, and measures the
 * reads of runs on it. Page calls carry the FileSelection, so a fresh worker can always
 * reopen the data; the kept copy only saves reading headers and rewards again.
 */
import { CancelledError } from '../core/cancel.ts';
import type { Progress } from '../core/progress.ts';
import type { ExperimentSpec } from '../core/spec.ts';
import { scanEmbeddings } from '../core/npyDataset.ts';
import { openSelection, planSelection, selectionKey, type OpenedSelection } from './files.ts';
import type {
  EmbeddingVerification,
  FilePlan,
  FileSelection,
  FilesCallbacks,
  FilesProgress,
  OpenedFiles,
  SplitName,
} from './filesProtocol.ts';
import { inspectDataset } from './inspect.ts';
import { ByteCounter, IoMeter } from './ioMeter.ts';
import type { EngineProgress, RunCallbacks } from './protocol.ts';

const PROGRESS_INTERVAL_MS = 200;

export interface OpenedEntry extends OpenedSelection {
  key: string;
  result: OpenedFiles;
}

export class FilesHost {
  private entry: OpenedEntry | null = null;
  private opening: { key: string; promise: Promise<OpenedEntry> } | null = null;
  private readonly controllers = new Set<AbortController>();

  planFiles(selection: FileSelection): Promise<FilePlan> {
    return this.task((signal) => planSelection(selection, signal));
  }

  async openFiles(selection: FileSelection, callbacks?: FilesCallbacks): Promise<OpenedFiles> {
    return (await this.open(selection, callbacks)).result;
  }

  /** The opened dataset for a selection: the kept one when it is the same files, else opened now. */
  async open(selection: FileSelection, callbacks?: FilesCallbacks, signal?: AbortSignal): Promise<OpenedEntry> {
    const key = selectionKey(selection);
    if (this.entry?.key === key) return this.entry;
    if (this.opening?.key !== key) {
      const promise = this.task(async (taskSignal) => {
        const t0 = performance.now();
        const counter = new ByteCounter();
        const meter = new IoMeter(counter, null, null);
        const ticker = callbacks
          ? startTicker(callbacks, () => ({ phase: 'open', split: null, message: 'reading headers and rewards (embeddings stay in the files)', io: meter.stats() }))
          : null;
        try {
          const opened = await openSelection(selection, anySignal(taskSignal, signal), counter);
          const result: OpenedFiles = {
            plan: opened.plan,
            inspection: inspectDataset(opened.dataset),
            openMs: performance.now() - t0,
            bytesRead: opened.counter.bytes,
          };
          this.entry = { ...opened, key, result };
          return this.entry;
        } finally {
          ticker?.stop();
        }
      });
      this.opening = { key, promise };
      promise.then(
        () => this.opening?.promise === promise && (this.opening = null),
        () => this.opening?.promise === promise && (this.opening = null),
      );
    }
    return this.opening.promise;
  }

  /** Reads every embedding value of both splits and counts NaN/±Infinity (it never refuses them). */
  verify(selection: FileSelection, callbacks: FilesCallbacks): Promise<EmbeddingVerification> {
    return this.task(async (signal) => {
      const entry = await this.open(selection, undefined, signal);
      const t0 = performance.now();
      const start = entry.counter.bytes;
      const total = entry.plan.splits.train.embeddingBytes + entry.plan.splits.test.embeddingBytes;
      const meter = new IoMeter(entry.counter, entry.rowBytes.train, total);
      let current: SplitName = 'train';
      const ticker = startTicker(callbacks, () => ({
        phase: 'verify',
        split: current,
        message: `verifying ${current} embeddings`,
        io: meter.stats(),
      }));
      try {
        const splits = [];
        for (const split of ['train', 'test'] as const) {
          current = split;
          const file = entry.plan.files.find((f) => f.split === split && f.role !== 'rewards')?.name ?? split;
          const scan = await scanEmbeddings(entry.dataset[split].embeddings, {
            signal,
            responsesPerPrompt: entry.dataset[split].responsesPerPrompt,
          });
          splits.push({ split, file, ...scan });
        }
        return { splits, bytesRead: entry.counter.bytes - start, ms: performance.now() - t0 };
      } finally {
        ticker.stop();
      }
    });
  }

  /** Aborts every dataset task in flight (planning, opening, verifying); runs have their own cancel. */
  cancel(): void {
    for (const c of this.controllers) c.abort();
  }

  /**
   * Wraps a run's callbacks so every progress event carries the reads of its stage (bytes,
   * rate, rows/s and, while scoring, the time left), re-sent while a long read makes no
   * other progress. `stop()` when the run is over.
   */
  meterRun(entry: OpenedEntry, spec: ExperimentSpec, callbacks: RunCallbacks): { callbacks: RunCallbacks; stop(): void } {
    const test = entry.dataset.test;
    const sub = spec.dataset.kind === 'files' ? spec.dataset.subsample : undefined;
    const scoreBytes = (sub?.testPrompts ?? test.prompts) * test.responsesPerPrompt * entry.rowBytes.test;
    let meter: IoMeter | null = null;
    let stage: Progress['stage'] | null = null;
    let last: Progress | null = null;
    let lastBytes = -1;
    const withIo = (p: Progress): EngineProgress => {
      if (p.stage !== stage) {
        stage = p.stage;
        meter =
          p.stage === 'load' ? new IoMeter(entry.counter, entry.rowBytes.train, null)
          : p.stage === 'score' ? new IoMeter(entry.counter, entry.rowBytes.test, scoreBytes)
          : null;
      }
      last = p;
      lastBytes = entry.counter.bytes;
      return meter ? { ...p, io: meter.stats() } : p;
    };
    const timer = setInterval(() => {
      if (last === null || meter === null || entry.counter.bytes === lastBytes) return;
      void callbacks.onProgress(withIo(last));
    }, PROGRESS_INTERVAL_MS);
    return {
      callbacks: { onProgress: (p) => void callbacks.onProgress(withIo(p)), onEpoch: (e) => void callbacks.onEpoch(e) },
      stop: () => clearInterval(timer),
    };
  }

  /** A cancellable dataset task: `cancel()` aborts it, and it then rejects with a CancelledError. */
  private async task<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.controllers.add(controller);
    try {
      return await work(controller.signal);
    } catch (error) {
      if (controller.signal.aborted) throw new CancelledError();
      throw error;
    } finally {
      this.controllers.delete(controller);
    }
  }
}

function anySignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  return b ? AbortSignal.any([a, b]) : a;
}

function startTicker(callbacks: FilesCallbacks, make: () => FilesProgress): { stop(): void } {
  void callbacks.onProgress(make());
  const timer = setInterval(() => void callbacks.onProgress(make()), PROGRESS_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      void callbacks.onProgress(make());
    },
  };
}
