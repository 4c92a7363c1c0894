/**
 * Sweeps and paper targets in the app: a store of its own beside the lab store. It runs a
 * grid in the engine worker in batches of cells that share a pass over the test split, stores
 * each finished cell at once (so a cancel or a reload keeps it), and resumes with the cells not
 * yet finished, identified by their key.
 * The paper targets set up their grid on the open dataset and run through the same runner; the
 * analytic ones (T1, T6, T7) are computed by the worker directly.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { isCancelled } from '../../core/cancel.ts';
import { paperTarget, targetSweep, type TargetId, type TargetSize } from '../../core/paperTargets.ts';
import type { ExperimentResult } from '../../core/result.ts';
import type { ExperimentSpec } from '../../core/spec.ts';
import { SpecError } from '../../core/spec.ts';
import { canonicalJson, expandSweep, mergeCellResults, parseSweep, type CellResult, type SweepCell, type SweepResultSet, type SweepSpec } from '../../core/sweep.ts';
import type { EngineClient } from '../../worker/client.ts';
import type { AnalyticResult, AnalyticTargetId, PaperApi, PaperDataset, PromptCounts } from '../../worker/paperProtocol.ts';
import type { BatchOutcome, EngineProgress, FileSelection, RunOptions } from '../../worker/protocol.ts';
import type { LoadedFilesShape } from '../specEdit.ts';
import { messageOf, type AsyncValue, type LabStore } from '../store.ts';
import { checkGrid, sweepId, type SweepDraft } from './sweepData.ts';
import type { StoredSweepStatus, SweepRecord, SweepRepository } from './sweepRepository.ts';

export type SweepStatus = 'running' | 'pausing' | 'cancelling' | 'paused' | 'cancelled' | 'interrupted' | 'finished' | 'failed' | 'imported';

/** The cells the engine runs now: one batch, sharing passes over the test split. */
export interface RunningCells {
  keys: string[];
  startedAt: number;
  progress: EngineProgress | null;
}

export interface ActiveSweep {
  record: SweepRecord;
  cells: SweepCell[];
  /** Finished cells, in the order they finished (or were stored). */
  results: CellResult[];
  status: SweepStatus;
  running: RunningCells | null;
  message: string | null;
}

export type SweepTab = 'targets' | 'editor' | 'stored';

export interface PaperState {
  size: TargetSize;
  /** The target whose reproduction is shown. */
  selected: TargetId | null;
  analytic: Partial<Record<AnalyticTargetId, AsyncValue<AnalyticResult>>>;
  /** Prompt counts of the open dataset, which size the grids; `key` names the dataset they belong to. */
  counts: AsyncValue<PromptCounts> & { key: string | null };
}

export interface SweepState {
  draft: SweepDraft;
  active: ActiveSweep | null;
  stored: SweepRecord[];
  tab: SweepTab;
  paper: PaperState;
  /** Why the last action could not be done (a busy engine, a bad file, a grid that does not expand). */
  error: string | null;
  storageError: string | null;
  actions: SweepActions;
}

export interface SweepActions {
  /** Reads stored sweeps and reopens the latest one (a sweep cut off by a reload comes back as "interrupted"). */
  init(): Promise<void>;
  setTab(tab: SweepTab): void;
  editDraft(edit: (draft: SweepDraft) => SweepDraft): void;
  /** Runs a grid: a stored sweep with the same grid continues where it stopped. */
  begin(spec: SweepSpec, options?: { target?: TargetId | null }): Promise<void>;
  /** Finishes the running cells, then stops. */
  pause(): void;
  /** Stops now: the running cells' work is dropped, finished cells stay. */
  cancel(): void;
  /** Runs the cells not finished yet. */
  resume(): Promise<void>;
  open(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  close(): void;
  /** Opens a merged result set (`reward-lab merge`, or an export of this app). */
  importResult(text: string): Promise<void>;
  /** The active sweep's finished cells as a result set ('reward-lab.sweep/1'). */
  resultSet(): SweepResultSet | null;
  setSize(size: TargetSize): void;
  /** Sets up a paper target on the open dataset and runs it. */
  runTarget(id: TargetId): Promise<void>;
  /** Asks the worker for the open dataset's prompt counts (once per dataset). */
  loadCounts(): Promise<void>;
  dismissError(): void;
  /** The dataset files open in this tab, for checking grids on them. */
  openFiles(): OpenFiles | null;
}

/** What the sweep runner needs of the engine: batches, cancel, and the paper calls. */
export type SweepEngine = Pick<EngineClient, 'passSize' | 'runBatch' | 'cancel'> & PaperApi;

/** Picked dataset files, as far as sweeps need them. */
export interface OpenFiles {
  selection: FileSelection;
  shape: LoadedFilesShape;
  /** Most bytes of embeddings a run may hold at once (the lab's setting). */
  memoryCapBytes?: number;
}

export interface SweepDeps {
  engine: SweepEngine;
  repo: SweepRepository;
  lab: LabStore;
  /** The dataset files open in this tab, if any (runs on file datasets need them). */
  files?: () => OpenFiles | null;
  now?: () => number;
  clock?: () => Date;
}

export type SweepStore = StoreApi<SweepState>;

export const ANALYTIC_TARGETS: readonly TargetId[] = ['T1', 'T6', 'T7'];
export const isAnalytic = (id: TargetId): id is AnalyticTargetId => ANALYTIC_TARGETS.includes(id);

const BUSY: readonly SweepStatus[] = ['running', 'pausing', 'cancelling'];
export const isSweepBusy = (status: SweepStatus | undefined): boolean => status !== undefined && BUSY.includes(status);
/** A sweep with cells left that may be run (again). */
export const canResume = (a: ActiveSweep | null): boolean => a !== null && !isSweepBusy(a.status) && a.results.length < a.cells.length;

const fromStored: Record<StoredSweepStatus, SweepStatus> = {
  running: 'interrupted',
  paused: 'paused',
  cancelled: 'cancelled',
  finished: 'finished',
  failed: 'failed',
  imported: 'imported',
};

function toStored(status: SweepStatus): StoredSweepStatus {
  switch (status) {
    case 'running':
    case 'pausing':
    case 'cancelling':
      return 'running';
    case 'interrupted':
      return 'paused';
    default:
      return status;
  }
}

export const DEFAULT_DRAFT: SweepDraft = {
  name: 'sweep',
  axes: [
    { path: 'model.objective', values: ['bt-mlp', 'clf-mlp'] },
    { path: 'annotation.beta', values: [0.5, 10] },
  ],
  seeds: [0, 1],
};

const idle = <T>(): AsyncValue<T> => ({ status: 'idle', value: null, error: null });

/** The paper target a grid reproduces, read from the name targetSweep gives it ("T3 (small)"). */
export function targetOfName(name: string): TargetId | null {
  const m = /^(T[1-8]) \((small|full)\)$/.exec(name);
  return m ? (m[1] as TargetId) : null;
}

export function createSweepStore(deps: SweepDeps): SweepStore {
  const { engine, repo, lab } = deps;
  const now = deps.now ?? (() => performance.now());
  const clock = deps.clock ?? (() => new Date());
  let loopToken = 0;
  /** A grid is being read from storage to start: a second start must wait. */
  let starting = false;

  return createStore<SweepState>()((set, get) => {
    const patchActive = (patch: Partial<ActiveSweep> | ((a: ActiveSweep) => Partial<ActiveSweep>)) =>
      set((s) => (s.active ? { active: { ...s.active, ...(typeof patch === 'function' ? patch(s.active) : patch) } } : {}));

    const listStored = async () => {
      try {
        set({ stored: await repo.list() });
      } catch (error) {
        set({ storageError: `stored sweeps could not be read: ${messageOf(error)}` });
      }
    };

    const saveRecord = async (record: SweepRecord) => {
      try {
        await repo.saveRecord(record);
      } catch (error) {
        set({ storageError: `the sweep could not be stored: ${messageOf(error)}` });
      }
      void listStored();
    };

    const record = (a: ActiveSweep, status: SweepStatus, message: string | null): SweepRecord => ({
      ...a.record,
      status: toStored(status),
      done: a.results.length,
      total: a.cells.length,
      message,
      updatedAt: clock().toISOString(),
    });

    /** Ends the loop in a resting state and stores it. */
    const settle = (status: SweepStatus, message: string | null) => {
      const a = get().active;
      if (!a) return;
      const next = record(a, status, message);
      set({ active: { ...a, status, message, running: null, record: next } });
      void saveRecord(next);
    };

    /** Files for a spec on a file dataset; demo specs need none. */
    const runOptions = (spec: ExperimentSpec): RunOptions | undefined => {
      if (spec.dataset.kind !== 'files') return undefined;
      const open = deps.files?.();
      if (!open || open.shape.id !== spec.dataset.id) throw new Error(`the files of dataset "${spec.dataset.id}" are not open in this tab: pick them first`);
      return { files: open.selection, ...(open.memoryCapBytes !== undefined ? { memoryCapBytes: open.memoryCapBytes } : {}) };
    };

    const labBusy = () => {
      const status = lab.getState().run.status;
      return status === 'running' || status === 'cancelling';
    };

    /** Stores a finished cell before anything else happens: a reload from then on keeps it. */
    const keep = async (token: number, cell: SweepCell, result: ExperimentResult) => {
      if (token !== loopToken) return;
      const finished: CellResult = { cellKey: cell.key, axes: cell.axes, seed: cell.seed, result };
      const before = get().active;
      if (!before) return;
      const next = record({ ...before, results: [...before.results, finished] }, before.status, before.message);
      try {
        await repo.saveCells(next, [finished]);
      } catch (error) {
        set({ storageError: `finished cells could not be stored and will be gone after a reload: ${messageOf(error)}` });
      }
      if (token !== loopToken) return;
      set((s) => (s.active ? { active: { ...s.active, results: [...s.active.results, finished], record: next } } : {}));
      void listStored();
    };

    async function loop(token: number): Promise<void> {
      for (;;) {
        const a = get().active;
        if (!a || token !== loopToken) return;
        const done = new Set(a.results.map((r) => r.cellKey));
        const todo = a.cells.filter((c) => !done.has(c.key));
        if (todo.length === 0) return settle('finished', `Finished: ${a.cells.length} cells.`);
        if (a.status === 'pausing') return settle('paused', `Paused: ${a.results.length} of ${a.cells.length} cells done. Resume runs the rest.`);
        if (a.status === 'cancelling') return settle('cancelled', cancelledMessage(a));
        if (labBusy()) return settle('paused', 'Paused: a single run is using the engine. Resume when it is done.');
        // The next batch: cells on the first one's dataset, as many as share one pass over its
        // test split (the engine knows how many models fit its memory).
        const dataset = canonicalJson(todo[0].spec.dataset);
        const candidates = todo.filter((c) => canonicalJson(c.spec.dataset) === dataset);
        let batch: SweepCell[] = candidates.slice(0, 1);
        let outcome: BatchOutcome;
        try {
          const options = runOptions(todo[0].spec);
          batch = candidates.slice(0, Math.max(1, await engine.passSize(candidates.map((c) => c.spec), options)));
          if (token !== loopToken) return;
          // Paused or cancelled while the batch was planned: the top of the loop settles it.
          if (get().active?.status !== 'running') continue;
          patchActive({ running: { keys: batch.map((c) => c.key), startedAt: now(), progress: null } });
          outcome = await engine.runBatch(
            batch.map((c) => c.spec),
            {
              onProgress: (progress) => {
                if (token === loopToken) patchActive((x) => (x.running ? { running: { ...x.running, progress } } : {}));
              },
              onEpoch: () => undefined,
              onResult: (i, result) => keep(token, batch[i], result),
            },
            options,
          );
        } catch (error) {
          if (token !== loopToken) return;
          const current = get().active;
          if (isCancelled(error) || current?.status === 'cancelling') return settle('cancelled', cancelledMessage(current ?? a));
          const which = batch.length === 1 ? `Cell ${batch[0].index + 1}` : `A batch of ${batch.length} cells (from cell ${batch[0].index + 1})`;
          return settle('failed', `${which} of ${a.cells.length} failed: ${messageOf(error)}. Finished cells are kept; Resume retries the rest.`);
        }
        if (token !== loopToken) return;
        patchActive({ running: null });
        if (outcome.failure) {
          const cell = batch[outcome.failure.index];
          return settle('failed', `Cell ${cell.index + 1} of ${a.cells.length} failed: ${outcome.failure.message}. Finished cells are kept; Resume retries it.`);
        }
      }
    }

    const startLoop = (message: string | null) => {
      const a = get().active;
      if (!a) return;
      const token = ++loopToken;
      const next = record(a, 'running', message);
      set({ active: { ...a, status: 'running', message, running: null, record: next } });
      void saveRecord(next);
      void loop(token);
    };

    /** Makes a stored (or new) sweep the active one, with its finished cells. */
    const activate = async (spec: SweepSpec, defaults: Pick<SweepRecord, 'target' | 'origin'>): Promise<ActiveSweep> => {
      const cells = expandSweep(spec);
      const id = sweepId(spec);
      let stored: Awaited<ReturnType<SweepRepository['load']>>;
      try {
        stored = await repo.load(id);
      } catch (error) {
        set({ storageError: `stored sweeps could not be read: ${messageOf(error)}` });
      }
      const keys = new Set(cells.map((c) => c.key));
      const results = (stored?.cells ?? []).filter((c) => keys.has(c.cellKey));
      const stamp = clock().toISOString();
      const rec: SweepRecord = stored?.record ?? {
        id,
        name: spec.name,
        spec,
        ...defaults,
        createdAt: stamp,
        updatedAt: stamp,
        status: 'paused',
        total: cells.length,
        done: 0,
        message: null,
      };
      const status = stored ? fromStored[stored.record.status] : 'paused';
      return { record: { ...rec, target: rec.target ?? defaults.target }, cells, results, status, running: null, message: stored?.record.message ?? null };
    };

    const guardIdle = (): boolean => {
      if (isSweepBusy(get().active?.status)) {
        set({ error: 'A sweep is running: pause or cancel it first.' });
        return false;
      }
      return true;
    };

    /** The dataset the paper calls read: the spec's demo, or the open files it names. */
    const paperDataset = (): { arg: PaperDataset; dataset: ExperimentSpec['dataset']; key: string } => {
      const { validation, draft } = lab.getState();
      const spec = validation.ok ? validation.spec : draft;
      const dataset = spec.dataset;
      if (dataset.kind === 'demo') return { arg: dataset, dataset, key: canonicalJson(dataset) };
      const open = deps.files?.();
      if (!open || open.shape.id !== dataset.id) throw new Error(`the files of dataset "${dataset.id}" are not open in this tab: pick them first`);
      return { arg: open.selection, dataset, key: canonicalJson(dataset) };
    };

    /** Train/test prompts a grid may use: the files' counts, capped by the spec's subsample. */
    const usableCounts = (dataset: ExperimentSpec['dataset'], counts: PromptCounts): PromptCounts => {
      if (dataset.kind !== 'files' || !dataset.subsample) return counts;
      return { train: Math.min(counts.train, dataset.subsample.trainPrompts ?? Infinity), test: Math.min(counts.test, dataset.subsample.testPrompts ?? Infinity) };
    };

    const actions: SweepActions = {
      async init() {
        await listStored();
        const latest = get().stored[0];
        if (latest && !get().active) await actions.open(latest.id);
      },

      setTab: (tab) => set({ tab }),
      editDraft: (edit) => set((s) => ({ draft: edit(s.draft) })),

      async begin(spec, options = {}) {
        if (starting || !guardIdle()) return;
        if (labBusy()) {
          set({ error: 'A single run is using the engine: wait for it or cancel it first.' });
          return;
        }
        loopToken++;
        let active: ActiveSweep;
        starting = true;
        try {
          active = await activate(spec, { target: options.target ?? targetOfName(spec.name), origin: 'app' });
        } catch (error) {
          set({ error: error instanceof SpecError ? error.message : messageOf(error) });
          return;
        } finally {
          starting = false;
        }
        set({ active, error: null });
        const kept = active.results.length;
        startLoop(kept ? `Continuing: ${kept} of ${active.cells.length} cells were already done.` : null);
      },

      pause() {
        const a = get().active;
        if (a?.status !== 'running') return;
        patchActive({ status: 'pausing', message: `Pausing after the ${a.running && a.running.keys.length > 1 ? `${a.running.keys.length} cells` : 'cell'} in progress…` });
      },

      cancel() {
        const a = get().active;
        if (!a || (a.status !== 'running' && a.status !== 'pausing')) return;
        patchActive({ status: 'cancelling', message: 'Cancelling…' });
        if (a.running) engine.cancel();
      },

      async resume() {
        const a = get().active;
        if (!canResume(a) || labBusy()) return;
        try {
          if (a && a.cells.some((c) => c.spec.dataset.kind === 'files')) runOptions(a.cells[0].spec);
        } catch (error) {
          patchActive({ message: messageOf(error) });
          return;
        }
        startLoop(null);
      },

      async open(id) {
        if (isSweepBusy(get().active?.status)) return;
        const stored = await repo.load(id).catch((error: unknown) => {
          set({ storageError: `the sweep could not be read: ${messageOf(error)}` });
          return undefined;
        });
        if (!stored) return;
        loopToken++;
        try {
          const cells = expandSweep(stored.record.spec);
          const keys = new Set(cells.map((c) => c.key));
          set({
            active: {
              record: stored.record,
              cells,
              results: stored.cells.filter((c) => keys.has(c.cellKey)),
              status: fromStored[stored.record.status],
              running: null,
              message: stored.record.status === 'running' ? 'Interrupted (the page was reloaded or closed). Finished cells were kept: Resume runs the rest.' : stored.record.message,
            },
          });
        } catch (error) {
          set({ storageError: `the stored sweep "${stored.record.name}" no longer expands: ${messageOf(error)}` });
        }
      },

      async remove(id) {
        if (get().active?.record.id === id) {
          if (isSweepBusy(get().active?.status)) return;
          loopToken++;
          set({ active: null });
        }
        try {
          await repo.remove(id);
        } catch (error) {
          set({ storageError: `the sweep could not be deleted: ${messageOf(error)}` });
        }
        await listStored();
      },

      close() {
        if (isSweepBusy(get().active?.status)) return;
        loopToken++;
        set({ active: null });
      },

      async importResult(text) {
        if (!guardIdle()) return;
        let spec: SweepSpec;
        let parts: CellResult[];
        try {
          const parsed: unknown = JSON.parse(text);
          const obj = parsed as Partial<SweepResultSet> | null;
          if (!obj || typeof obj !== 'object' || obj.format !== 'reward-lab.sweep/1') {
            throw new Error(`not a merged sweep result (format "reward-lab.sweep/1"): found ${obj && typeof obj === 'object' ? `format ${JSON.stringify(obj.format ?? null)}` : 'no object'}`);
          }
          if (!Array.isArray(obj.cells)) throw new Error('the file has no list of cells');
          spec = parseSweep(obj.sweep);
          parts = obj.cells;
          mergeCellResults(spec, parts);
        } catch (error) {
          set({ error: `The file could not be opened: ${error instanceof SyntaxError ? `not JSON (${error.message})` : messageOf(error)}` });
          return;
        }
        loopToken++;
        const active = await activate(spec, { target: targetOfName(spec.name), origin: 'file' });
        const byKey = new Map(active.results.map((c) => [c.cellKey, c]));
        for (const c of parts) byKey.set(c.cellKey, c);
        const results = active.cells.flatMap((c) => (byKey.has(c.key) ? [byKey.get(c.key)!] : []));
        const missing = active.cells.length - results.length;
        const status: SweepStatus = missing ? 'imported' : 'finished';
        const message = missing ? `Opened: ${results.length} of ${active.cells.length} cells; Resume runs the ${missing} missing here.` : `Opened: all ${results.length} cells.`;
        const withCells = { ...active, results, status, message };
        const rec = record(withCells, status, message);
        set((s) => ({ active: { ...withCells, record: rec }, error: null, paper: { ...s.paper, selected: rec.target ?? s.paper.selected } }));
        try {
          await repo.saveCells(rec, parts);
        } catch (error) {
          set({ storageError: `the opened sweep could not be stored: ${messageOf(error)}` });
        }
        await listStored();
      },

      resultSet() {
        const a = get().active;
        return a ? mergeCellResults(a.record.spec, a.results).set : null;
      },

      setSize: (size) => set((s) => ({ paper: { ...s.paper, size } })),

      async runTarget(id) {
        set((s) => ({ paper: { ...s.paper, selected: id }, error: null }));
        let ds: ReturnType<typeof paperDataset> | null = null;
        if (id !== 'T7') {
          try {
            ds = paperDataset();
          } catch (error) {
            set({ error: messageOf(error) });
            return;
          }
        }
        if (isAnalytic(id)) {
          const setValue = (value: AsyncValue<AnalyticResult>) => set((s) => ({ paper: { ...s.paper, analytic: { ...s.paper.analytic, [id]: value } } }));
          setValue({ status: 'loading', value: get().paper.analytic[id]?.value ?? null, error: null });
          const { draft } = lab.getState();
          try {
            const value = await engine.analyticTarget(id, ds?.arg ?? null, { budget: draft.annotation.budget, seed: draft.seeds[0] ?? 0 });
            setValue({ status: 'ready', value, error: null });
          } catch (error) {
            setValue({ status: 'error', value: null, error: messageOf(error) });
          }
          return;
        }
        if (!ds || !guardIdle()) return;
        try {
          const counts = usableCounts(ds.dataset, await engine.promptCounts(ds.arg));
          const size = get().paper.size;
          const plan = targetPlan(id, ds.dataset, counts, size, deps.files?.()?.shape ?? null);
          if (plan.problem) {
            set({ error: `${id} (${size}) cannot run on this dataset: ${plan.problem}` });
            return;
          }
          await actions.begin(targetSweep(id, ds.dataset, counts.train, counts.test, size), { target: id });
        } catch (error) {
          set({ error: `${id} could not be set up: ${messageOf(error)}` });
        }
      },

      async loadCounts() {
        let ds: ReturnType<typeof paperDataset>;
        try {
          ds = paperDataset();
        } catch (error) {
          set((s) => ({ paper: { ...s.paper, counts: { status: 'error', value: null, error: messageOf(error), key: null } } }));
          return;
        }
        const current = get().paper.counts;
        if (current.key === ds.key && current.status !== 'error') return;
        set((s) => ({ paper: { ...s.paper, counts: { status: 'loading', value: null, error: null, key: ds.key } } }));
        try {
          const counts = usableCounts(ds.dataset, await engine.promptCounts(ds.arg));
          if (get().paper.counts.key === ds.key) set((s) => ({ paper: { ...s.paper, counts: { status: 'ready', value: counts, error: null, key: ds.key } } }));
        } catch (error) {
          if (get().paper.counts.key === ds.key) set((s) => ({ paper: { ...s.paper, counts: { status: 'error', value: null, error: messageOf(error), key: ds.key } } }));
        }
      },

      dismissError: () => set({ error: null, storageError: null }),
      openFiles: () => deps.files?.() ?? null,
    };

    return {
      draft: DEFAULT_DRAFT,
      active: null,
      stored: [],
      tab: 'targets',
      paper: { size: 'small', selected: null, analytic: {}, counts: { ...idle<PromptCounts>(), key: null } },
      error: null,
      storageError: null,
      actions,
    };
  });
}

function cancelledMessage(a: ActiveSweep): string {
  return `Cancelled: ${a.results.length} of ${a.cells.length} cells kept. Resume runs the rest.`;
}

/** A paper target's grid on a dataset with these prompt counts: its size, and why it cannot run there (if so). */
export function targetPlan(id: TargetId, dataset: ExperimentSpec['dataset'], counts: PromptCounts, size: TargetSize, files: LoadedFilesShape | null = null): { cells: number; problem: string | null } {
  if (paperTarget(id).kind === 'analytic') return { cells: 0, problem: null };
  const spec = targetSweep(id, dataset, counts.train, counts.test, size);
  const check = checkGrid(spec, files);
  const cells = check.ok ? check.cells.length : check.cellCount;
  if (check.ok) return { cells, problem: null };
  if (cells === 0) return { cells, problem: `the train split has ${counts.train.toLocaleString('en-US')} prompts, fewer than any budget of the grid` };
  const first = check.issues[0];
  return { cells, problem: `${first.message}${check.issues.length > 1 ? ` (and ${check.issues.length - 1} more)` : ''}` };
}
