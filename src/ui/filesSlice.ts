/**
 * The store's part about dataset files: the files the user picked (File handles only — their
 * bytes are read in the worker, never on the page), the plan of what they hold, the layout
 * answers, the opened dataset's inspection, loading and verification progress, the memory cap.
 */
import { isCancelled } from '../core/cancel.ts';
import type { NpyLayout } from '../core/npyDataset.ts';
import { PRESETS } from '../core/presets.ts';
import { bindFilesDataset, type ExperimentSpec } from '../core/spec.ts';
import type { EngineClient } from '../worker/client.ts';
import { readChunkBytes } from '../worker/readChunk.ts';
import type { EmbeddingVerification, FilePlan, FileSelection, FilesProgress, OpenedFiles, RunOptions, SplitName } from '../worker/protocol.ts';
import type { LoadedFilesShape } from './specEdit.ts';
import type { AsyncValue, LabState } from './store.ts';

export const DEFAULT_MEMORY_CAP_BYTES = 1 << 30;
/** The cap must hold at least one batch of rows; below this the engine would crawl. */
export const MIN_MEMORY_CAP_BYTES = 16 << 20;

export interface OpenedDataset {
  selection: FileSelection;
  value: OpenedFiles;
}

export interface FilesTask {
  kind: 'open' | 'verify';
  progress: FilesProgress | null;
}

export interface Verification {
  status: 'done' | 'cancelled' | 'error';
  value: EmbeddingVerification | null;
  error: string | null;
}

export interface FilesState {
  /** The picked files and the user's layout answers; null before the first pick. */
  selection: FileSelection | null;
  /** What the picked files hold, read before loading. */
  plan: AsyncValue<FilePlan>;
  /** The dataset experiments run on, once loaded. */
  opened: OpenedDataset | null;
  /** Loading or verifying in progress. */
  task: FilesTask | null;
  /** Why the last load failed, or that it was cancelled. */
  openError: string | null;
  verification: Verification | null;
  /** Most bytes of embeddings a run may hold at once. */
  memoryCapBytes: number;
}

export interface FilesActions {
  /** Reads the plan of newly picked files (a new pick drops earlier layout answers). */
  pickFiles(files: File[]): Promise<void>;
  /** Answers or overrides one split's layout (null: as the files' evidence says) and re-plans. */
  setLayout(split: SplitName, layout: NpyLayout | null): Promise<void>;
  /** Opens the planned files; the experiment then runs on them. */
  openFiles(): Promise<void>;
  /** Reads every embedding value of the opened files, counting NaN/±Infinity. */
  verifyEmbeddings(): Promise<void>;
  /** Stops loading or verifying. */
  cancelFilesTask(): void;
  /** Makes the opened files the experiment's dataset again (e.g. after a preset chose the demo). */
  runOnOpenedFiles(): void;
  /** Forgets the opened files; the experiment goes back to the demo dataset. */
  closeFiles(): void;
  setMemoryCap(bytes: number): void;
}

export function initialFilesState(): FilesState {
  return {
    selection: null,
    plan: { status: 'idle', value: null, error: null },
    opened: null,
    task: null,
    openError: null,
    verification: null,
    memoryCapBytes: DEFAULT_MEMORY_CAP_BYTES,
  };
}

/** The opened dataset as spec checks see it. */
export function loadedShape(files: FilesState): LoadedFilesShape | null {
  const opened = files.opened?.value;
  if (!opened) return null;
  const { train, test } = opened.inspection;
  return {
    id: opened.plan.id,
    trainPrompts: train.summary.prompts,
    responsesPerTrainPrompt: train.summary.responsesPerPrompt,
    testPrompts: test.summary.prompts,
    taskScale: opened.inspection.info.taskScale,
  };
}

/** What a run of `spec` needs besides the spec: the memory cap and, for a file dataset, its files. */
export function runOptionsFor(files: FilesState, spec: ExperimentSpec): RunOptions {
  const options: RunOptions = { memoryCapBytes: files.memoryCapBytes };
  if (spec.dataset.kind === 'files' && files.opened?.value.plan.id === spec.dataset.id) options.files = files.opened.selection;
  return options;
}

type Set = (partial: Partial<LabState> | ((s: LabState) => Partial<LabState>)) => void;

export interface FilesDeps {
  set: Set;
  get: () => LabState;
  engine: EngineClient;
  /** The state's validation after the files or the draft changed. */
  revalidate: (s: LabState, files: FilesState, draft?: ExperimentSpec) => Pick<LabState, 'validation'>;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createFilesActions({ set, get, engine, revalidate }: FilesDeps): FilesActions {
  let planToken = 0;
  const patch = (s: LabState, change: Partial<FilesState>): FilesState => ({ ...s.files, ...change });

  const plan = async (selection: FileSelection) => {
    const token = ++planToken;
    set((s) => ({ files: patch(s, { selection, plan: { status: 'loading', value: s.files.plan.value, error: null }, openError: null }) }));
    try {
      const value = await engine.planFiles(selection);
      if (token === planToken) set((s) => ({ files: patch(s, { plan: { status: 'ready', value, error: null } }) }));
    } catch (error) {
      if (token === planToken) set((s) => ({ files: patch(s, { plan: { status: 'error', value: null, error: message(error) } }) }));
    }
  };

  const busy = () => get().files.task !== null;

  /** The opened files replace the dataset (a files spec keeps its subsample); the form starts afresh. */
  const bindOpened = (s: LabState, files: FilesState): Partial<LabState> => {
    if (!files.opened) return { files };
    const draft = bindFilesDataset(s.draft, files.opened.value.plan.id);
    return { files, draft, revision: s.revision + 1, textErrors: {}, ...revalidate({ ...s, textErrors: {} }, files, draft) };
  };

  return {
    async pickFiles(files) {
      if (busy()) return;
      await plan({ kind: 'files', files, chunkBytes: readChunkBytes(get().files.memoryCapBytes) });
    },

    async setLayout(split, layout) {
      const { selection } = get().files;
      if (!selection || busy()) return;
      const current = typeof selection.layout === 'string' ? { train: selection.layout, test: selection.layout } : { ...selection.layout };
      if (layout === null) delete current[split];
      else current[split] = layout;
      const next: FileSelection = { kind: 'files', files: selection.files, chunkBytes: readChunkBytes(get().files.memoryCapBytes) };
      if (Object.keys(current).length > 0) next.layout = current;
      await plan(next);
    },

    async openFiles() {
      const { selection, plan: planned } = get().files;
      if (!selection || busy() || planned.status !== 'ready' || (planned.value?.questions.length ?? 0) > 0) return;
      set((s) => ({ files: patch(s, { task: { kind: 'open', progress: null }, openError: null }) }));
      try {
        const value = await engine.openFiles(selection, {
          onProgress: (progress) => {
            if (get().files.task?.kind === 'open') set((s) => ({ files: patch(s, { task: { kind: 'open', progress } }) }));
          },
        });
        set((s) => bindOpened(s, patch(s, { task: null, opened: { selection, value }, verification: null })));
      } catch (error) {
        set((s) => ({ files: patch(s, { task: null, openError: isCancelled(error) ? 'Loading was cancelled.' : message(error) }) }));
      }
    },

    async verifyEmbeddings() {
      const opened = get().files.opened;
      if (!opened || busy()) return;
      set((s) => ({ files: patch(s, { task: { kind: 'verify', progress: null }, verification: null }) }));
      try {
        const value = await engine.verifyFiles(opened.selection, {
          onProgress: (progress) => {
            if (get().files.task?.kind === 'verify') set((s) => ({ files: patch(s, { task: { kind: 'verify', progress } }) }));
          },
        });
        set((s) => ({ files: patch(s, { task: null, verification: { status: 'done', value, error: null } }) }));
      } catch (error) {
        const cancelled = isCancelled(error);
        set((s) => ({ files: patch(s, { task: null, verification: { status: cancelled ? 'cancelled' : 'error', value: null, error: cancelled ? null : message(error) } }) }));
      }
    },

    cancelFilesTask() {
      if (busy()) engine.cancelFiles();
    },

    runOnOpenedFiles() {
      set((s) => (s.files.opened ? bindOpened(s, s.files) : {}));
    },

    closeFiles() {
      if (busy()) return;
      set((s) => {
        const files = patch(s, { opened: null, verification: null });
        if (s.draft.dataset.kind !== 'files') return { files, ...revalidate(s, files) };
        const draft: ExperimentSpec = { ...s.draft, dataset: PRESETS['quick-demo']().dataset };
        return { files, draft, revision: s.revision + 1, textErrors: {}, ...revalidate({ ...s, textErrors: {} }, files, draft) };
      });
    },

    setMemoryCap(bytes) {
      if (!(Number.isFinite(bytes) && bytes >= MIN_MEMORY_CAP_BYTES)) return;
      const memoryCapBytes = Math.round(bytes);
      const chunkBytes = readChunkBytes(memoryCapBytes);
      // Reads are buffers of a size set by the cap: the next run reopens the files with it.
      const resize = (sel: FileSelection | null) => (sel && sel.chunkBytes !== chunkBytes ? { ...sel, chunkBytes } : sel);
      set((s) => ({
        files: patch(s, {
          memoryCapBytes,
          selection: resize(s.files.selection),
          opened: s.files.opened && { ...s.files.opened, selection: resize(s.files.opened.selection) as FileSelection },
        }),
      }));
    },
  };
}
