/**
 * What the UI keeps of a finished run: a few kilobytes of numbers for charts, cards and
 * comparison. The full ExperimentResult stays in IndexedDB for export.
 */
import { histogram, meanStd, type MeanStd } from '../core/metrics.ts';
import type { BackendInfo, ExperimentResult } from '../core/result.ts';
import type { ExperimentSpec } from '../core/spec.ts';
import type { EpochRecord } from '../core/train.ts';
import type { Histogram } from '../worker/protocol.ts';

/** Bump when RunSummary changes shape: stored summaries of older versions are rebuilt from their results. */
export const SUMMARY_VERSION = 2;

export interface MemberTraining {
  seed: number;
  member: number;
  epochsRun: number;
  stoppedEarly: boolean;
  finalEpoch: number;
  bestEpoch: number;
  curve: EpochRecord[];
}

export interface RunMetrics {
  improvement: MeanStd;
  spearman: MeanStd;
  /** Median of the per-prompt Spearman values pooled over seeds. */
  spearmanMedian: number;
  labelErrorRate: MeanStd;
  expectedLabelErrorRate: MeanStd;
  heldOutAccuracy: MeanStd;
  heldOutGoldenAccuracy: MeanStd;
  topHalfRate: MeanStd;
  pickQuantile: MeanStd;
  bestOfAllReward: MeanStd;
  baseReward: number;
}

/** Best-of-N per N: the engine's mean over seeds, with the spread over repeats the band shows. */
export interface BonSummary {
  n: number[];
  mean: number[];
  /** Std over the random subsets (repeats) of the evaluation; with several seeds, the root mean square of each seed's. */
  std: number[];
  /** Std over seeds of the seeds' means (0 with one seed). */
  seedStd: number[];
  oracle: number[];
  random: number[];
}

export type Aggregation = 'first' | 'mean' | 'min';

/** An ensemble's members read one way: BoN per N (mean over seeds; band: spread over repeats) and its improvement. */
export interface AggregationSummary {
  n: number[];
  mean: number[];
  std: number[];
  improvement: MeanStd;
}

export interface RunSummary {
  version: number;
  id: string;
  label: string;
  createdAt: string;
  engineVersion: string;
  spec: ExperimentSpec;
  deviations: string[];
  backend: BackendInfo;
  dataset: {
    id: string;
    description: string;
    synthetic: boolean;
    trainPrompts: number;
    trainResponses: number;
    testPrompts: number;
    testResponses: number;
    dim: number;
  };
  metrics: RunMetrics;
  bon: BonSummary;
  /** Ensembles (2+ members): the same members evaluated as first / mean / min (paper target T8); null for one model. */
  aggregations: Record<Aggregation, AggregationSummary> | null;
  spearmanHistogram: Histogram;
  training: MemberTraining[];
  timings: { totalMs: number; stagesMs: Record<string, number> };
}

const SPEARMAN_BINS = 20;

export function summarizeRun(result: ExperimentResult, id: string): RunSummary {
  const { spec, summary, seeds, dataset } = result;
  const pooled: number[] = [];
  for (const s of seeds) for (const v of s.metrics.spearman.perPrompt) if (v !== null) pooled.push(v);
  return {
    version: SUMMARY_VERSION,
    id,
    label: runLabel(spec),
    createdAt: result.timings.startedAt,
    engineVersion: result.engineVersion,
    spec,
    deviations: result.deviations,
    backend: result.backend,
    dataset: {
      id: dataset.info.id,
      description: dataset.info.description,
      synthetic: dataset.info.synthetic,
      trainPrompts: dataset.train.prompts,
      trainResponses: dataset.train.responsesPerPrompt,
      testPrompts: dataset.test.prompts,
      testResponses: dataset.test.responsesPerPrompt,
      dim: dataset.train.dim,
    },
    metrics: {
      improvement: summary.improvement,
      spearman: summary.spearman,
      spearmanMedian: median(pooled),
      labelErrorRate: summary.labelErrorRate,
      expectedLabelErrorRate: meanStd(seeds.map((s) => s.annotation.expectedLabelErrorRate)),
      heldOutAccuracy: summary.heldOutAccuracy,
      heldOutGoldenAccuracy: summary.heldOutGoldenAccuracy,
      topHalfRate: summary.topHalfRate,
      pickQuantile: summary.pickQuantile,
      bestOfAllReward: meanStd(seeds.map((s) => s.metrics.bestOfAllReward)),
      baseReward: summary.baseReward,
    },
    bon: bonSummary(result),
    aggregations: aggregationSummary(result),
    spearmanHistogram: histogram(pooled, SPEARMAN_BINS, -1, 1),
    training: seeds.flatMap((s) =>
      s.members.map((m, member) => ({
        seed: s.seed,
        member,
        epochsRun: m.epochsRun,
        stoppedEarly: m.stoppedEarly,
        finalEpoch: m.finalEpoch,
        bestEpoch: m.bestEpoch,
        curve: m.curve,
      })),
    ),
    timings: { totalMs: result.timings.totalMs, stagesMs: result.timings.stagesMs },
  };
}

function bonSummary({ summary }: ExperimentResult): BonSummary {
  const { n, mean, std: seedStd, repeatStd, oracle, random } = summary.bon;
  return { n, mean, std: repeatStd, seedStd, oracle, random };
}

function aggregationSummary({ seeds }: ExperimentResult): Record<Aggregation, AggregationSummary> | null {
  if (seeds.length === 0 || !seeds.every((s) => s.aggregations)) return null;
  const of = (agg: Aggregation): AggregationSummary => {
    const bons = seeds.map((s) => s.aggregations![agg].bon);
    const n = bons[0].n;
    return {
      n,
      mean: n.map((_, i) => bons.reduce((a, b) => a + b.mean[i], 0) / bons.length),
      std: n.map((_, i) => Math.sqrt(bons.reduce((a, b) => a + b.std[i] ** 2, 0) / bons.length)),
      improvement: meanStd(seeds.map((s) => s.aggregations![agg].improvement)),
    };
  };
  return { first: of('first'), mean: of('mean'), min: of('min') };
}

const OBJECTIVE_LABELS: Record<ExperimentSpec['model']['objective'], string> = { 'bt-mlp': 'BT-MLP', 'clf-mlp': 'CLF-MLP', 'clf-gbdt': 'CLF-GBDT' };

function objectiveLabel(objective: ExperimentSpec['model']['objective']): string {
  return OBJECTIVE_LABELS[objective];
}

/** A short name that says what the run varied most often: objective, annotation quality, budget. */
export function runLabel(spec: ExperimentSpec): string {
  const beta = spec.annotation.beta < 0 ? 'perfect labels' : `β ${spec.annotation.beta}`;
  const ensemble = spec.model.ensemble.size > 1 ? ` · ×${spec.model.ensemble.size} ${spec.model.ensemble.aggregation}` : '';
  return `${objectiveLabel(spec.model.objective)} · ${beta} · ${spec.annotation.budget.toLocaleString('en-US')} pairs${ensemble}`;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
