import type { EpochRecord } from './train.ts';

export type Stage = 'annotate' | 'load' | 'train' | 'score' | 'evaluate' | 'done';

export interface Progress {
  stage: Stage;
  /** 0-based index of the seed being run, of `seeds`. */
  seedIndex: number;
  seeds: number;
  /** Seeds this stage covers at once, from `seedIndex` (scoring several seeds' models in one pass); 1 when absent. */
  seedCount?: number;
  /** In a batch of experiments (runExperiments): the 0-based experiment whose seed this is, of `experiments`. */
  experimentIndex?: number;
  experiments?: number;
  /** Experiments this stage covers at once, from `experimentIndex` (a scoring pass shared by several); 1 when absent. */
  experimentCount?: number;
  /** 0-based ensemble member being trained or scored, of `members`. */
  member: number;
  members: number;
  epoch?: number;
  epochs?: number;
  step?: number;
  steps?: number;
  /** Rows handled so far in a streaming stage (scoring), for throughput displays. */
  rows?: { done: number; total: number };
  /** Overall completion estimate in [0, 1]. */
  fraction: number;
  /** Remaining time extrapolated from the elapsed time; null until there is a basis. */
  etaSeconds: number | null;
  message: string;
}

export interface EpochEvent {
  /** In a batch of experiments: the experiment of the seed. */
  experimentIndex?: number;
  seedIndex: number;
  member: number;
  record: EpochRecord;
}

export interface ProgressListener {
  onProgress?: (p: Progress) => void;
  onEpoch?: (e: EpochEvent) => void;
}

/** Share of one seed's work each stage is expected to take; only shapes the progress bar. */
const STAGE_WEIGHTS: Record<Exclude<Stage, 'done'>, [number, number]> = {
  annotate: [0, 0.02],
  load: [0.02, 0.1],
  train: [0.1, 0.8],
  score: [0.8, 0.95],
  evaluate: [0.95, 1],
};

/** Consecutive seeds (of one experiment, or of a batch's) trained one after another, then scored in one pass. */
export interface SeedGroup {
  first: number;
  size: number;
}

/**
 * Overall completion when seeds run in groups: each seed of a group is annotated, loaded and
 * trained, the group is scored in one pass, then each seed is evaluated. Each seed's share of the
 * stages is as in STAGE_WEIGHTS, so a group of one is a seed's stages in order.
 */
export function overallFraction(stage: Stage, seedIndex: number, group: SeedGroup, seeds: number, withinStage: number): number {
  if (stage === 'done') return 1;
  const [lo, hi] = STAGE_WEIGHTS[stage];
  const w = Math.min(1, Math.max(0, withinStage));
  const position = seedIndex - group.first;
  const [trained, scored] = [STAGE_WEIGHTS.train[1], STAGE_WEIGHTS.score[1]];
  const done =
    stage === 'score'
      ? group.size * (lo + (hi - lo) * w)
      : stage === 'evaluate'
        ? group.size * scored + position * (1 - scored) + (hi - lo) * w
        : position * trained + lo + (hi - lo) * w;
  return (group.first + done) / seeds;
}

export function etaSeconds(elapsedMs: number, fraction: number): number | null {
  if (fraction <= 0.01 || elapsedMs < 500) return null;
  return ((elapsedMs / fraction) * (1 - fraction)) / 1000;
}
