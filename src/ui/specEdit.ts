/**
 * Typed, immutable edits of one section of the spec: the form changes the spec only through
 * these, so every edit keeps the ExperimentSpec shape the schema then validates.
 */
import type {
  AnnotationSpec,
  DemoDatasetSpec,
  EvaluationSpec,
  ExperimentSpec,
  ModelSpec,
  PairingSpec,
  ScaleSpec,
  SpecIssue,
  TrainingSpec,
} from '../core/spec.ts';
import { pairingIssues } from '../core/pairing.ts';

export type FilesDatasetSpec = Extract<ExperimentSpec['dataset'], { kind: 'files' }>;

export const withDataset = (s: ExperimentSpec, patch: Partial<Omit<DemoDatasetSpec, 'kind'>>): ExperimentSpec =>
  s.dataset.kind === 'demo' ? { ...s, dataset: { ...s.dataset, ...patch } } : s;

export const withAnnotation = (s: ExperimentSpec, patch: Partial<Omit<AnnotationSpec, 'pairing' | 'scale'>>): ExperimentSpec => ({
  ...s,
  annotation: { ...s.annotation, ...patch },
});

export const withScale = (s: ExperimentSpec, scale: ScaleSpec): ExperimentSpec => ({ ...s, annotation: { ...s.annotation, scale } });

export const withPairing = (s: ExperimentSpec, patch: Partial<PairingSpec>): ExperimentSpec => ({
  ...s,
  annotation: { ...s.annotation, pairing: { ...s.annotation.pairing, ...patch } },
});

export const withModel = (s: ExperimentSpec, patch: Partial<Omit<ModelSpec, 'training' | 'ensemble'>>): ExperimentSpec => ({
  ...s,
  model: { ...s.model, ...patch },
});

export const withTraining = (s: ExperimentSpec, patch: Partial<TrainingSpec>): ExperimentSpec => ({
  ...s,
  model: { ...s.model, training: { ...s.model.training, ...patch } },
});

export const withEnsemble = (s: ExperimentSpec, patch: Partial<ModelSpec['ensemble']>): ExperimentSpec => ({
  ...s,
  model: { ...s.model, ensemble: { ...s.model.ensemble, ...patch } },
});

export const withEvaluation = (s: ExperimentSpec, patch: Partial<EvaluationSpec>): ExperimentSpec => ({
  ...s,
  evaluation: { ...s.evaluation, ...patch },
});

export const withSeeds = (s: ExperimentSpec, seeds: number[]): ExperimentSpec => ({ ...s, seeds });

export type FilesSubsample = NonNullable<FilesDatasetSpec['subsample']>;

/**
 * Sets (or with `null`, removes) a file dataset's prompt subsample; a count set to
 * `undefined` means all of that split's prompts. A demo spec is returned as is.
 */
export function withSubsample(s: ExperimentSpec, patch: Partial<FilesSubsample> | null): ExperimentSpec {
  if (s.dataset.kind !== 'files') return s;
  const { subsample: current, ...rest } = s.dataset;
  if (patch === null) return { ...s, dataset: rest };
  const merged: FilesSubsample = { seed: 0, ...current, ...patch };
  for (const key of ['trainPrompts', 'testPrompts'] as const) if (merged[key] === undefined) delete merged[key];
  return { ...s, dataset: { ...rest, subsample: merged } };
}

/** The opened file dataset, as far as checks of a spec need it. */
export interface LoadedFilesShape {
  id: string;
  trainPrompts: number;
  responsesPerTrainPrompt: number;
  testPrompts: number;
  /** The per-task reward scale; null when the files name no task. */
  taskScale: number | null;
}

/** The demo keeps a 16-d latent per response in memory; past this many responses a browser tab runs out. */
export const DEMO_MAX_RESPONSES = 2_000_000;

/** Why the demo dataset of these sizes cannot be built in the browser, or null when it can. */
export function demoSizeIssue(dataset: Pick<DemoDatasetSpec, 'trainPrompts' | 'responsesPerTrainPrompt' | 'testPrompts' | 'responsesPerTestPrompt'>): SpecIssue | null {
  const responses = dataset.trainPrompts * dataset.responsesPerTrainPrompt + dataset.testPrompts * dataset.responsesPerTestPrompt;
  if (responses <= DEMO_MAX_RESPONSES) return null;
  return {
    path: 'dataset.trainPrompts',
    message: `the demo would hold ${responses.toLocaleString('en-US')} responses; the browser lab allows up to ${DEMO_MAX_RESPONSES.toLocaleString('en-US')}`,
  };
}

/**
 * Checks that need two fields at once, which the schema cannot express per field: the same
 * conditions under which the engine's pairing refuses to start, caught before Run. A file
 * dataset is checked against the opened files (`files`), and needs them open.
 */
export function crossFieldIssues(spec: ExperimentSpec, files: LoadedFilesShape | null = null): SpecIssue[] {
  if (spec.dataset.kind === 'files') return filesIssues(spec, spec.dataset, files);
  const issues: SpecIssue[] = [];
  const size = demoSizeIssue(spec.dataset);
  if (size) issues.push(size);
  issues.push(...pairingIssues(spec.annotation.pairing, spec.annotation.budget, spec.dataset.trainPrompts, spec.dataset.responsesPerTrainPrompt));
  return issues;
}

function filesIssues(spec: ExperimentSpec, dataset: FilesDatasetSpec, files: LoadedFilesShape | null): SpecIssue[] {
  if (files === null || files.id !== dataset.id) {
    return [
      {
        path: 'dataset.id',
        message: `the files of dataset "${dataset.id}" are not open in this tab: pick them under Dataset files (links and past runs carry the settings, never the data)`,
      },
    ];
  }
  const issues: SpecIssue[] = [];
  const sub = dataset.subsample;
  const fmt = (n: number) => n.toLocaleString('en-US');
  if (sub?.trainPrompts !== undefined && sub.trainPrompts > files.trainPrompts) {
    issues.push({ path: 'dataset.subsample.trainPrompts', message: `the train split has only ${fmt(files.trainPrompts)} prompts` });
  }
  if (sub?.testPrompts !== undefined && sub.testPrompts > files.testPrompts) {
    issues.push({ path: 'dataset.subsample.testPrompts', message: `the test split has only ${fmt(files.testPrompts)} prompts` });
  }
  if (spec.annotation.scale.kind === 'task' && files.taskScale === null) {
    issues.push({
      path: 'annotation.scale.kind',
      message: `dataset "${files.id}" names no task (helpful or harmless), so it has no per-task reward scale; choose "std of rewards" or a custom scale`,
    });
  }
  const prompts = Math.min(sub?.trainPrompts ?? files.trainPrompts, files.trainPrompts);
  issues.push(...pairingIssues(spec.annotation.pairing, spec.annotation.budget, prompts, files.responsesPerTrainPrompt));
  return issues;
}
