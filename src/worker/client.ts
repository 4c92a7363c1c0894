/**
 * The page's handle on the engine worker. Adds what comlink alone does not give: a cancel that
 * always works (a worker stuck in a long synchronous step is replaced) and rejected calls
 * instead of silent hangs when the worker dies.
 */
import * as Comlink from 'comlink';
import { CancelledError } from '../core/cancel.ts';
import type { ExperimentResult } from '../core/result.ts';
import type { DemoDatasetSpec, ExperimentSpec, ScaleSpec } from '../core/spec.ts';
import type { BackendChoice, BackendReport, BatchCallbacks, BatchOutcome, DatasetDescription, EngineApi, FileSelection, LabelNoise, RunCallbacks, RunOptions } from './protocol.ts';
import type { AnalyticResult, PaperApi } from './paperProtocol.ts';

/** What the engine worker exposes: the engine and the paper targets' analytic calls. */
type WorkerApi = EngineApi & PaperApi;

/** The dataset-file calls, as EngineApi declares them. */
type FilesApi = Pick<EngineApi, 'planFiles' | 'openFiles' | 'verifyFiles' | 'cancelFiles'>;

export interface EngineClient extends FilesApi {
  selectBackend(choice: BackendChoice): Promise<BackendReport>;
  describeDataset(dataset: DemoDatasetSpec): Promise<DatasetDescription>;
  labelNoise(dataset: DemoDatasetSpec | FileSelection, scale: ScaleSpec, betas: number[]): Promise<LabelNoise>;
  run(spec: ExperimentSpec, callbacks: RunCallbacks, options?: RunOptions): Promise<ExperimentResult>;
  passSize(specs: ExperimentSpec[], options?: RunOptions): Promise<number>;
  runBatch(specs: ExperimentSpec[], callbacks: BatchCallbacks, options?: RunOptions): Promise<BatchOutcome>;
  /** Asks the run in flight to stop; the run's own promise reports the outcome. */
  cancel(): void;
}

export class WorkerCrashedError extends Error {
  constructor(detail: string) {
    super(`the engine worker stopped: ${detail}`);
    this.name = 'WorkerCrashedError';
  }
}

/** What the client needs of a worker; tests hand in one backed by a MessageChannel. */
export interface WorkerLike extends Comlink.Endpoint {
  terminate(): void;
}

const spawnEngineWorker = (): WorkerLike =>
  new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'reward-lab-engine' });

interface Live {
  worker: WorkerLike;
  remote: Comlink.Remote<WorkerApi>;
  /** Rejecters of every call still waiting for this worker. */
  pending: Set<(error: Error) => void>;
  /** Rejecter of the run in flight, if any. */
  run: ((error: Error) => void) | null;
  /** The worker has answered a call, i.e. it loaded; only such a worker is worth restarting. */
  answered: boolean;
}

export function createWorkerEngine(options: { forceCancelAfterMs?: number; spawnWorker?: () => WorkerLike } = {}): EngineClient & PaperApi {
  const forceAfter = options.forceCancelAfterMs ?? 3000;
  const spawnWorker = options.spawnWorker ?? spawnEngineWorker;
  let choice: BackendChoice = 'auto';
  /** Set when the worker cannot start at all (e.g. its script fails to load): every call fails with it. */
  let broken: Error | null = null;
  let live = spawn();

  function spawn(): Live {
    const worker = spawnWorker();
    const next: Live = { worker, remote: Comlink.wrap<WorkerApi>(worker), pending: new Set(), run: null, answered: false };
    worker.addEventListener('error', (event: Event) => {
      // Keep the browser from also reporting it as an uncaught error: it is reported here.
      event.preventDefault();
      const detail = 'message' in event && typeof event.message === 'string' && event.message ? event.message : 'its script failed to load or threw';
      const error = new WorkerCrashedError(detail);
      if (live !== next) return;
      if (next.answered) {
        replace(error);
      } else {
        broken = error;
        fail(next, error);
      }
    });
    return next;
  }

  function fail(which: Live, error: Error): void {
    for (const reject of which.pending) reject(error);
    which.pending.clear();
    which.run = null;
  }

  function replace(error: Error): void {
    const old = live;
    fail(old, error);
    old.remote[Comlink.releaseProxy]();
    old.worker.terminate();
    live = spawn();
    // The fresh worker must run on the backend the user had; a failure surfaces on the next call.
    call((remote) => remote.selectBackend(choice)).catch(() => undefined);
  }

  /** One call to the current worker, rejected if that worker dies first. */
  function call<T>(invoke: (remote: Comlink.Remote<WorkerApi>) => Promise<T>, isRun = false): Promise<T> {
    if (broken) return Promise.reject(broken);
    const target = live;
    return new Promise<T>((resolve, reject) => {
      target.pending.add(reject);
      if (isRun) target.run = reject;
      invoke(target.remote)
        .then((value) => {
          target.answered = true;
          resolve(value);
        }, reject)
        .finally(() => {
          target.pending.delete(reject);
          if (target.run === reject) target.run = null;
        });
    });
  }

  return {
    selectBackend(next) {
      choice = next;
      return call((remote) => remote.selectBackend(next));
    },
    describeDataset: (dataset) => call((remote) => remote.describeDataset(dataset)),
    labelNoise: (dataset, scale, betas) => call((remote) => remote.labelNoise(dataset, scale, betas)),
    run: (spec, callbacks, options) => call((remote) => remote.run(spec, Comlink.proxy(callbacks), options), true),
    passSize: (specs, options) => call((remote) => remote.passSize(specs, options)),
    runBatch: (specs, callbacks, options) => call((remote) => remote.runBatch(specs, Comlink.proxy(callbacks), options), true),
    planFiles: (selection) => call((remote) => remote.planFiles(selection)),
    openFiles: (selection, callbacks) => call((remote) => remote.openFiles(selection, Comlink.proxy(callbacks))),
    verifyFiles: (selection, callbacks) => call((remote) => remote.verifyFiles(selection, Comlink.proxy(callbacks))),
    cancelFiles: () => void live.remote.cancelFiles().catch(() => undefined),
    analyticTarget: (id, dataset, opts) => call<AnalyticResult>((remote) => remote.analyticTarget(id, dataset, opts)),
    promptCounts: (dataset) => call((remote) => remote.promptCounts(dataset)),
    cancel() {
      const target = live;
      const run = target.run;
      if (!run) return;
      target.remote.cancel().catch(() => undefined);
      // Cancellation is cooperative (checked between steps); a worker that has not stopped in
      // time is replaced, so Cancel works at any moment.
      setTimeout(() => {
        if (live === target && target.run === run) {
          run(new CancelledError());
          replace(new CancelledError());
        }
      }, forceAfter);
    },
  };
}
