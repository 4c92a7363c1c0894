/**
 * The part of the page ↔ worker contract about the paper targets (paper-targets.md): the
 * analytic ones (T1, T6, T7) are computed in the worker from the open dataset's rewards, and
 * the page asks for the prompt counts it sizes the training grids (T2–T5, T8) with.
 */
import type { LabelErrorRow, QRow, RewardGapRow, Verdict } from '../core/paperTargets.ts';
import type { DemoDatasetSpec } from '../core/spec.ts';
import type { FileSelection } from './filesProtocol.ts';

export type AnalyticTargetId = 'T1' | 'T6' | 'T7';

/** The dataset a paper call reads: a demo by its parameters, or picked files by handle. */
export type PaperDataset = DemoDatasetSpec | FileSelection;

export interface AnalyticOptions {
  /** T6: pairs annotated per pairing mode (clamped to the train prompts). */
  budget: number;
  /** T6: the seed of the pair draws. */
  seed: number;
}

interface AnalyticBase {
  /** The dataset the numbers were computed on (its id), and how long they took. */
  datasetId: string | null;
  ms: number;
  verdicts: Verdict[];
}

export type AnalyticResult =
  | (AnalyticBase & { id: 'T1'; rows: LabelErrorRow[] })
  | (AnalyticBase & { id: 'T6'; rows: RewardGapRow[]; budget: number; seed: number })
  | (AnalyticBase & { id: 'T7'; rows: QRow[] });

export interface PromptCounts {
  train: number;
  test: number;
}

/** What the engine worker answers about paper targets, beside EngineApi. */
export interface PaperApi {
  /** T1, T6 or T7 on the dataset (T7 needs none): tables and verdicts, no training. */
  analyticTarget(id: AnalyticTargetId, dataset: PaperDataset | null, options: AnalyticOptions): Promise<AnalyticResult>;
  /** Prompts of the dataset's splits, which the grids of the sweep targets are sized by. */
  promptCounts(dataset: PaperDataset): Promise<PromptCounts>;
}
