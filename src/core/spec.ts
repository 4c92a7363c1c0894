import { z } from 'zod';

/**
 * The ExperimentSpec: one validated, serializable object that drives the UI form, the URL,
 * the CLI and sweeps, and is embedded in every result. Defaults are the paper's settings
 * (method.md); every deviation from them is a named option recorded in the result.
 */

const positiveInt = (what: string) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).positive(`${what} must be at least 1`);

export const demoDatasetSchema = z.strictObject({
  kind: z.literal('demo'),
  seed: z.number().int().default(0),
  trainPrompts: positiveInt('trainPrompts').default(10_000),
  responsesPerTrainPrompt: positiveInt('responsesPerTrainPrompt').min(2).default(10),
  testPrompts: positiveInt('testPrompts').default(300),
  responsesPerTestPrompt: positiveInt('responsesPerTestPrompt').min(2).default(100),
  dim: positiveInt('dim').default(256),
});

export const filesDatasetSchema = z.strictObject({
  kind: z.literal('files'),
  /** A label for the opened files, recorded in the result (the data itself is not in the spec). */
  id: z.string().min(1),
  /** A seeded uniform subsample of prompts: a deviation from the full data, recorded in the result. */
  subsample: z
    .strictObject({
      trainPrompts: positiveInt('subsample.trainPrompts').optional(),
      testPrompts: positiveInt('subsample.testPrompts').optional(),
      seed: z.number().int().default(0),
    })
    .optional(),
});

export const scaleSchema = z.discriminatedUnion('kind', [
  /** The per-task constant of the paper (helpful 6, harmless 1). */
  z.strictObject({ kind: z.literal('task') }),
  /** The standard deviation of all train rewards (the other published variant). */
  z.strictObject({ kind: z.literal('std') }),
  z.strictObject({ kind: z.literal('custom'), value: z.number().positive('custom scale must be > 0') }),
]);

export const pairingSchema = z.strictObject({
  /** Which responses of a prompt are candidates: 2 random, ranks K/2-1,K/2 (similar) or 0,K-1 (diversified). */
  candidates: z.enum(['random', 'similar', 'diversified']).default('random'),
  /** Both responses from one prompt, or the second from a different, uniformly drawn prompt. */
  scope: z.enum(['same-prompt', 'cross-prompt']).default('same-prompt'),
  /** Paper 1: one pair per prompt. Infrastructure: `pairsPerPrompt` distinct pairs per prompt. */
  convention: z.enum(['one-per-prompt', 'multi-per-prompt']).default('one-per-prompt'),
  pairsPerPrompt: positiveInt('pairsPerPrompt').default(10),
  /** Randomly swap the two sides of each pair (the infrastructure convention does). */
  orderFlip: z.boolean().default(false),
});

export const annotationSchema = z.strictObject({
  /** Annotation quality β; β < 0 is a perfect annotator. */
  beta: z.number().refine((b) => b !== 0, 'beta must be non-zero (β < 0 means a perfect annotator)').default(10),
  scale: scaleSchema.default({ kind: 'task' }),
  budget: positiveInt('budget').default(10_000),
  pairing: pairingSchema.default(() => pairingSchema.parse({})),
});

export const trainingSchema = z.strictObject({
  lr: z.number().positive('lr must be > 0').default(1e-3),
  epochs: positiveInt('epochs').default(30),
  batchSize: positiveInt('batchSize').default(10_240),
  validationFraction: z.number().gt(0).lt(1, 'validationFraction must be in (0, 1)').default(0.2),
  patience: positiveInt('patience').default(3),
  /** 'rows' (paper): split the (symmetrised) rows 80/20; 'pairs' (corrected): keep a pair's rows together. */
  split: z.enum(['rows', 'pairs']).default('rows'),
  /** 'random-subsets' (paper): ⌈rows/batch⌉ steps on fresh random subsets; 'passes' (corrected): shuffled passes. */
  epochMode: z.enum(['random-subsets', 'passes']).default('random-subsets'),
  /** Restore the weights of the best validation epoch at the end (corrected option). */
  rollback: z.boolean().default(false),
});

/** LightGBM's defaults (the paper used LightGBM with default settings). */
export const gbdtSchema = z.strictObject({
  trees: positiveInt('gbdt.trees').max(10_000).default(100),
  leaves: positiveInt('gbdt.leaves').min(2, 'gbdt.leaves must be at least 2').max(4096).default(31),
  learningRate: z.number().positive('gbdt.learningRate must be > 0').default(0.1),
  minDataInLeaf: positiveInt('gbdt.minDataInLeaf').default(20),
  minSumHessianInLeaf: z.number().nonnegative().default(1e-3),
  lambdaL2: z.number().nonnegative().default(0),
  maxBin: positiveInt('gbdt.maxBin').min(2, 'gbdt.maxBin must be 2…255').max(255, 'gbdt.maxBin must be 2…255').default(255),
  binSampleCount: positiveInt('gbdt.binSampleCount').default(200_000),
});

export const modelSchema = z.strictObject({
  /** BT-MLP (Bradley–Terry), CLF-MLP (classification, the paper's proposal) or CLF-GBDT (boosted trees on the same rows). */
  objective: z.enum(['bt-mlp', 'clf-mlp', 'clf-gbdt']).default('bt-mlp'),
  hidden: z.array(positiveInt('hidden width')).max(8, 'at most 8 hidden layers').default([1024, 512]),
  /** 'pytorch': nn.Linear's default (the reference); 'glorot': tfjs's default (uniform weights, zero bias). */
  init: z.enum(['pytorch', 'glorot']).default('pytorch'),
  training: trainingSchema.default(() => trainingSchema.parse({})),
  /** Used by clf-gbdt only. */
  gbdt: gbdtSchema.default(() => gbdtSchema.parse({})),
  ensemble: z
    .object({
      size: positiveInt('ensemble size').max(100).default(1),
      aggregation: z.enum(['mean', 'min', 'first']).default('mean'),
    })
    .default({ size: 1, aggregation: 'mean' }),
});

export const evaluationSchema = z.strictObject({
  bonN: z.array(positiveInt('N')).min(1).default([1, 2, 5, 10, 30, 50, 100, 300, 500]),
  repeats: positiveInt('repeats').max(10_000).default(100),
  protocol: z.enum(['nested', 'independent']).default('nested'),
  /** Random same-prompt test pairs labelled by the same annotator, for held-out pairwise accuracy. */
  heldOutPairs: z.number().int().nonnegative().default(2000),
});

export const experimentSpecSchema = z.strictObject({
  dataset: z.discriminatedUnion('kind', [demoDatasetSchema, filesDatasetSchema]).default(() => demoDatasetSchema.parse({ kind: 'demo' })),
  annotation: annotationSchema.default(() => annotationSchema.parse({})),
  model: modelSchema.default(() => modelSchema.parse({})),
  evaluation: evaluationSchema.default(() => evaluationSchema.parse({})),
  /** One full repetition (annotation, training, evaluation) per seed; results give mean ± std over seeds. */
  seeds: z.array(z.number().int('seeds must be whole numbers')).min(1, 'give at least one seed').default([0, 1, 2, 3, 4]),
});

export type ExperimentSpec = z.infer<typeof experimentSpecSchema>;
export type ExperimentSpecInput = z.input<typeof experimentSpecSchema>;
export type DemoDatasetSpec = z.infer<typeof demoDatasetSchema>;
export type AnnotationSpec = z.infer<typeof annotationSchema>;
export type PairingSpec = z.infer<typeof pairingSchema>;
export type ModelSpec = z.infer<typeof modelSchema>;
export type TrainingSpec = z.infer<typeof trainingSchema>;
export type GbdtSpec = z.infer<typeof gbdtSchema>;
export type EvaluationSpec = z.infer<typeof evaluationSchema>;
export type ScaleSpec = z.infer<typeof scaleSchema>;

export interface SpecIssue {
  /** Dotted path of the offending field, e.g. "annotation.beta". */
  path: string;
  message: string;
}

export class SpecError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(`invalid experiment spec:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'SpecError';
  }
}

export type SpecParse = { ok: true; spec: ExperimentSpec } | { ok: false; issues: SpecIssue[] };

/** Validates and fills defaults. Unknown keys are rejected (strict objects) so a misspelt option never falls back to a default silently. */
export function safeParseSpec(input: unknown): SpecParse {
  const result = experimentSpecSchema.safeParse(input);
  if (result.success) return { ok: true, spec: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  };
}

export function parseSpec(input: unknown): ExperimentSpec {
  const r = safeParseSpec(input);
  if (!r.ok) throw new SpecError(r.issues);
  return r.spec;
}

export function defaultSpec(): ExperimentSpec {
  return parseSpec({});
}

/**
 * The spec of a run on opened files: the files (named by `id`) replace a demo dataset, and a
 * files spec keeps its subsample settings.
 */
export function bindFilesDataset(spec: ExperimentSpec, id: string): ExperimentSpec {
  const dataset = spec.dataset.kind === 'files' ? { ...spec.dataset, id } : ({ kind: 'files', id } as const);
  return { ...spec, dataset };
}

/**
 * Named deviations from the paper-faithful defaults in effect for a spec. Recorded in every
 * result so that numbers compared with the papers say how they were made.
 */
export function deviationsOf(spec: ExperimentSpec): string[] {
  const d: string[] = [];
  const t = spec.model.training;
  if (t.split === 'pairs') d.push('split-by-pair: validation split keeps each pair (and its mirror) on one side');
  if (t.epochMode === 'passes') d.push('true-epochs: each epoch is one shuffled pass over the training rows');
  if (t.rollback) d.push('rollback: the best validation epoch\'s weights are restored');
  if (spec.model.init === 'glorot') d.push('glorot-init: tfjs default initialisation instead of PyTorch nn.Linear');
  if (spec.model.ensemble.size > 1) d.push(`real-ensemble: ${spec.model.ensemble.size} members evaluated (${spec.model.ensemble.aggregation}); the original evaluated one`);
  if (spec.evaluation.protocol === 'independent') d.push('independent-subsets: BoN from one independent subset per N (active-learning paper protocol)');
  return d;
}
