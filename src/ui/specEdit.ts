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
 * conditions under which the engine's pairing refuses to start, caught before Run.
 */
export function crossFieldIssues(spec: ExperimentSpec): SpecIssue[] {
  if (spec.dataset.kind !== 'demo') {
    return [{ path: 'dataset.kind', message: 'the browser lab runs the synthetic demo dataset; run dataset files with the CLI' }];
  }
  const issues: SpecIssue[] = [];
  const size = demoSizeIssue(spec.dataset);
  if (size) issues.push(size);
  issues.push(...pairingIssues(spec.annotation.pairing, spec.annotation.budget, spec.dataset.trainPrompts, spec.dataset.responsesPerTrainPrompt));
  return issues;
}
