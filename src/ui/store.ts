/**
 * The app state: the spec being edited, its validation, backend and run status, live curves,
 * and the finished runs as small summaries. No tensors, no embeddings, no full results.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { isCancelled } from '../core/cancel.ts';
import { PRESETS, type PresetName } from '../core/presets.ts';
import type { EpochEvent } from '../core/progress.ts';
import type { ExperimentResult } from '../core/result.ts';
import { safeParseSpec, type ExperimentSpec, type SpecIssue } from '../core/spec.ts';
import type { EpochRecord } from '../core/train.ts';
import type { EngineClient } from '../worker/client.ts';
import type { BackendChoice, BackendReport, DatasetDescription, EngineProgress, LabelNoise } from '../worker/protocol.ts';
import { createFilesActions, initialFilesState, loadedShape, runOptionsFor, type FilesActions, type FilesState } from './filesSlice.ts';
import type { RunRepository } from './runRepository.ts';
import { runLabel, summarizeRun, type RunSummary } from './runSummary.ts';
import { crossFieldIssues } from './specEdit.ts';

/** The explainer's points, each tied to the chart that shows it. */
export type Topic = 'bt' | 'clf' | 'beta' | 'bon' | 'compare';

export type Validation = { ok: true; spec: ExperimentSpec; issues: SpecIssue[] } | { ok: false; issues: SpecIssue[] };

export interface LinkProblem {
  issues: SpecIssue[];
  /** The link's other fields were loaded (the problem fields keep the paper's values); false: the link was not used at all. */
  partial: boolean;
}

export interface AsyncValue<T> {
  status: 'idle' | 'loading' | 'ready' | 'error';
  value: T | null;
  error: string | null;
}

export type RunStatus = 'idle' | 'running' | 'cancelling' | 'finished' | 'cancelled' | 'failed';

export interface RunState {
  status: RunStatus;
  /** The spec being (or last) run, which the form may since have moved away from. */
  spec: ExperimentSpec | null;
  label: string | null;
  progress: EngineProgress | null;
  message: string | null;
  startedAt: number | null;
}

export interface LiveSeries {
  seedIndex: number;
  member: number;
  points: EpochRecord[];
}

export interface BackendState {
  choice: BackendChoice;
  status: 'detecting' | 'ready' | 'error';
  report: BackendReport | null;
  error: string | null;
}

export interface LabState {
  draft: ExperimentSpec;
  /** Bumped whenever the draft is replaced from outside the form (preset, link, past run), so fields drop their local text. */
  revision: number;
  /** Field path → message for text the form could not read as a value (the draft keeps the last good value). */
  textErrors: Record<string, string>;
  validation: Validation;
  /** Problems of a shared link that could not be opened as given. */
  linkProblem: LinkProblem | null;
  dataset: AsyncValue<DatasetDescription>;
  /** Dataset files the user picked and opened (see filesSlice.ts). */
  files: FilesState;
  labelNoise: AsyncValue<LabelNoise & { beta: number }>;
  backend: BackendState;
  run: RunState;
  live: LiveSeries[];
  runs: RunSummary[];
  activeRunId: string | null;
  compareIds: string[];
  highlight: Topic | null;
  explainerShown: boolean;
  /** Set when finished runs could not be stored (e.g. IndexedDB unavailable). */
  storageError: string | null;
  actions: LabActions;
}

export interface LabActions extends FilesActions {
  /** Picks the backend and reads past runs; failures land in the state, never in a rejection. */
  init(): Promise<void>;
  editSpec(edit: (spec: ExperimentSpec) => ExperimentSpec): void;
  setTextError(path: string, message: string | null): void;
  applyPreset(name: PresetName): void;
  loadSpec(spec: ExperimentSpec): void;
  showLinkProblem(problem: LinkProblem): void;
  dismissLinkProblem(): void;
  chooseBackend(choice: BackendChoice): Promise<void>;
  startRun(): Promise<void>;
  cancelRun(): void;
  viewRun(id: string): void;
  toggleCompare(id: string): void;
  clearCompare(): void;
  deleteRun(id: string): Promise<void>;
  /** The full result of a finished run, for export. */
  result(id: string): Promise<ExperimentResult | undefined>;
  setHighlight(topic: Topic | null): void;
  showExplainer(shown: boolean): void;
}

export interface LabDeps {
  engine: EngineClient;
  repo: RunRepository;
  newId?: () => string;
}

export interface LabInit {
  spec?: ExperimentSpec;
  linkProblem?: LinkProblem | null;
  explainerShown?: boolean;
}

export type LabStore = StoreApi<LabState>;

function validate(draft: ExperimentSpec, textErrors: Record<string, string>, files: FilesState | null): Validation {
  const unreadable = Object.entries(textErrors).map(([path, message]) => ({ path, message }));
  const parsed = safeParseSpec(draft);
  const schema = parsed.ok ? crossFieldIssues(parsed.spec, files && loadedShape(files)) : parsed.issues;
  const issues = [...unreadable, ...schema.filter((i) => !(i.path in textErrors))];
  return parsed.ok && issues.length === 0 ? { ok: true, spec: parsed.spec, issues } : { ok: false, issues };
}

/** The first issue for a field: an issue at the field's path or inside it (e.g. one list entry). */
export function issueAt(issues: readonly SpecIssue[], path: string): string | null {
  return issues.find((i) => i.path === path || i.path.startsWith(`${path}.`))?.message ?? null;
}

const idle = <T>(): AsyncValue<T> => ({ status: 'idle', value: null, error: null });
const isBusy = (status: RunStatus) => status === 'running' || status === 'cancelling';

export function createLabStore(deps: LabDeps, init: LabInit = {}): LabStore {
  const { engine, repo } = deps;
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const draft = init.spec ?? PRESETS['quick-demo']();
  // Results whose storage failed: kept for this session so their export still works.
  const unsaved = new Map<string, ExperimentResult>();
  let runToken = 0;

  return createStore<LabState>()((set, get) => {
    const replaceDraft = (spec: ExperimentSpec) =>
      set((s) => ({ draft: spec, revision: s.revision + 1, textErrors: {}, validation: validate(spec, {}, s.files), linkProblem: null }));

    const actions: LabActions = {
      ...createFilesActions({ set, get, engine, revalidate: (s, files, next = s.draft) => ({ validation: validate(next, s.textErrors, files) }) }),
      async init() {
        const [, runs] = await Promise.allSettled([actions.chooseBackend('auto'), repo.list()]);
        if (runs.status === 'fulfilled') {
          set((s) => {
            const known = new Set(s.runs.map((r) => r.id));
            return { runs: [...s.runs, ...runs.value.filter((r) => !known.has(r.id))], activeRunId: s.activeRunId ?? runs.value[0]?.id ?? null };
          });
        } else {
          set({ storageError: `past runs could not be read: ${messageOf(runs.reason)}` });
        }
      },

      editSpec(edit) {
        set((s) => {
          const next = edit(s.draft);
          return { draft: next, validation: validate(next, s.textErrors, s.files) };
        });
      },

      setTextError(path, message) {
        set((s) => {
          if ((s.textErrors[path] ?? null) === message) return {};
          const textErrors = { ...s.textErrors };
          if (message === null) delete textErrors[path];
          else textErrors[path] = message;
          return { textErrors, validation: validate(s.draft, textErrors, s.files) };
        });
      },

      applyPreset: (name) => replaceDraft(PRESETS[name]()),
      loadSpec: replaceDraft,
      showLinkProblem: (problem) => set({ linkProblem: problem }),
      dismissLinkProblem: () => set({ linkProblem: null }),

      async chooseBackend(choice) {
        if (isBusy(get().run.status)) return;
        set((s) => ({ backend: { ...s.backend, choice, status: 'detecting', error: null } }));
        try {
          const report = await engine.selectBackend(choice);
          if (get().backend.choice === choice) set({ backend: { choice, status: 'ready', report, error: null } });
        } catch (error) {
          if (get().backend.choice === choice) set((s) => ({ backend: { ...s.backend, status: 'error', error: messageOf(error) } }));
        }
      },

      async startRun() {
        const { validation, run } = get();
        if (!validation.ok || isBusy(run.status)) return;
        const spec = validation.spec;
        const token = ++runToken;
        const isCurrent = () => token === runToken;
        const label = runLabel(spec);
        set({ run: { status: 'running', spec, label, progress: null, message: `Starting ${label}`, startedAt: Date.now() }, live: [] });
        try {
          const result = await engine.run(spec, {
            onProgress: (progress) => {
              if (isCurrent() && get().run.status === 'running') set((s) => ({ run: { ...s.run, progress, message: progress.message } }));
            },
            onEpoch: (event) => {
              if (isCurrent()) set((s) => ({ live: appendEpoch(s.live, event) }));
            },
          }, runOptionsFor(get().files, spec));
          if (!isCurrent()) return;
          const summary = summarizeRun(result, newId());
          set((s) => ({
            runs: [summary, ...s.runs],
            activeRunId: summary.id,
            run: { ...s.run, status: 'finished', message: `Finished in ${(result.timings.totalMs / 1000).toFixed(1)} s` },
          }));
          try {
            await repo.save(summary, result);
          } catch (error) {
            unsaved.set(summary.id, result);
            set({ storageError: `the run could not be stored and will be gone after a reload: ${messageOf(error)}` });
          }
        } catch (error) {
          if (!isCurrent()) return;
          const cancelled = isCancelled(error);
          set((s) => ({
            run: {
              ...s.run,
              status: cancelled ? 'cancelled' : 'failed',
              message: cancelled ? 'Cancelled. Nothing was recorded.' : messageOf(error),
            },
          }));
        }
      },

      cancelRun() {
        if (get().run.status !== 'running') return;
        set((s) => ({ run: { ...s.run, status: 'cancelling', message: 'Cancelling…' } }));
        engine.cancel();
      },

      viewRun: (id) => set({ activeRunId: id }),

      toggleCompare(id) {
        set((s) => ({ compareIds: s.compareIds.includes(id) ? s.compareIds.filter((x) => x !== id) : [...s.compareIds, id] }));
      },

      clearCompare: () => set({ compareIds: [] }),

      async deleteRun(id) {
        await repo.remove(id);
        unsaved.delete(id);
        set((s) => {
          const runs = s.runs.filter((r) => r.id !== id);
          return {
            runs,
            compareIds: s.compareIds.filter((x) => x !== id),
            activeRunId: s.activeRunId === id ? (runs[0]?.id ?? null) : s.activeRunId,
          };
        });
      },

      async result(id) {
        return unsaved.get(id) ?? (await repo.result(id));
      },

      setHighlight: (topic) => set({ highlight: topic }),
      showExplainer: (shown) => set({ explainerShown: shown }),
    };

    return {
      draft,
      revision: 0,
      textErrors: {},
      validation: validate(draft, {}, null),
      linkProblem: init.linkProblem ?? null,
      dataset: idle(),
      files: initialFilesState(),
      labelNoise: idle(),
      backend: { choice: 'auto', status: 'detecting', report: null, error: null },
      run: { status: 'idle', spec: null, label: null, progress: null, message: null, startedAt: null },
      live: [],
      runs: [],
      activeRunId: null,
      compareIds: [],
      highlight: null,
      explainerShown: init.explainerShown ?? true,
      storageError: null,
      actions,
    };
  });
}

function appendEpoch(live: LiveSeries[], event: EpochEvent): LiveSeries[] {
  const i = live.findIndex((s) => s.seedIndex === event.seedIndex && s.member === event.member);
  if (i < 0) return [...live, { seedIndex: event.seedIndex, member: event.member, points: [event.record] }];
  return live.map((s, j) => (j === i ? { ...s, points: [...s.points, event.record] } : s));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
