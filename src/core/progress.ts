import type { EpochRecord } from './train.ts';

export type Stage = 'annotate' | 'load' | 'train' | 'score' | 'evaluate' | 'done';

export interface Progress {
  stage: Stage;
  /** 0-based index of the seed being run, of `seeds`. */
  seedIndex: number;
  seeds: number;
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

export function overallFraction(stage: Stage, seedIndex: number, seeds: number, withinStage: number): number {
  if (stage === 'done') return 1;
  const [lo, hi] = STAGE_WEIGHTS[stage];
  const clamped = Math.min(1, Math.max(0, withinStage));
  return (seedIndex + lo + (hi - lo) * clamped) / seeds;
}

export function etaSeconds(elapsedMs: number, fraction: number): number | null {
  if (fraction <= 0.01 || elapsedMs < 500) return null;
  return ((elapsedMs / fraction) * (1 - fraction)) / 1000;
}
