import type { AnnotationStats } from './annotate.ts';
import type { DatasetInfo, SplitSummary } from './dataset.ts';
import type { BonCurve, MeanStd, SpearmanSummary } from './metrics.ts';
import type { ExperimentSpec } from './spec.ts';
import type { SubsampleRecord } from './subsample.ts';
import type { EpochRecord } from './train.ts';

/** The result of one experiment: plain JSON, self-describing, comparable across runs. */

export interface BackendInfo {
  name: string;
  /** Adapter description for GPU backends, e.g. "google / swiftshader". */
  adapter?: string;
  /**
   * wasm: the thread count. Results are bit-identical across thread counts (both GEMMs split
   * output tiles, never a sum); recorded because it explains the speed.
   */
  threads?: number;
  /**
   * wasm: what ran the matrix products. 'relaxed-simd': Reward Lab's FMA GEMM
   * (src/kernels/wasm/wasmGemm.ts); 'xnnpack': tfjs's own, where the engine lacks relaxed SIMD
   * or it was turned off. The two round differently (a fused multiply-add rounds once), so
   * numbers agree to float32 rounding, not bit for bit.
   */
  gemm?: WasmGemmChoice;
}

export type WasmGemmChoice = 'relaxed-simd' | 'xnnpack';

export interface MemberReport {
  /** The member's own seed: spec seed · 42 + member index (method.md §4). */
  seed: number;
  epochsRun: number;
  stoppedEarly: boolean;
  finalEpoch: number;
  bestEpoch: number;
  curve: EpochRecord[];
}

export interface ScoreMetrics {
  bon: BonCurve;
  /** Mean golden reward of all test responses (the base policy). */
  baseReward: number;
  /** Mean golden reward of the best-scored response over all L (BoN-L). */
  bestOfAllReward: number;
  /** BoN-L improvement over the base policy: the paper's headline metric. */
  improvement: number;
  spearman: SpearmanSummary;
  /** Mean fraction of a prompt's responses whose golden reward is ≤ the pick's (at N = L). */
  pickQuantile: number;
  /** Fraction of prompts whose pick lands in the top half (the original's "binary accuracy" counted the bottom half). */
  topHalfRate: number;
  heldOut: {
    pairs: number;
    /** Agreement with the simulated annotator's labels on held-out test pairs. */
    accuracy: number;
    /** Agreement with the golden reward order on the same pairs. */
    goldenAccuracy: number;
  };
}

export interface SeedResult {
  seed: number;
  annotation: AnnotationStats;
  members: MemberReport[];
  /** Metrics of the ensemble under the spec's aggregation. */
  metrics: ScoreMetrics;
  /** For ensembles of 2+ members: the same evaluation under each aggregation (paper target T8). */
  aggregations?: Record<'first' | 'mean' | 'min', ScoreMetrics>;
}

export interface ResultSummary {
  improvement: MeanStd;
  spearman: MeanStd;
  labelErrorRate: MeanStd;
  meanAbsRewardGap: MeanStd;
  heldOutAccuracy: MeanStd;
  heldOutGoldenAccuracy: MeanStd;
  pickQuantile: MeanStd;
  topHalfRate: MeanStd;
  /**
   * BoN curve across seeds: the mean and the std over seeds of each seed's mean over repeats;
   * `repeatStd` is the spread over repeats (root mean square of the seeds' repeat stds).
   */
  bon: { n: number[]; mean: number[]; std: number[]; repeatStd: number[]; oracle: number[]; random: number[] };
  baseReward: number;
}

export interface ExperimentResult {
  format: string;
  engineVersion: string;
  spec: ExperimentSpec;
  /** Named deviations from the paper-faithful settings in effect (empty = paper-faithful). */
  deviations: string[];
  /** The data the run used (after any subsample; `subsample` lists what was drawn). */
  dataset: { info: DatasetInfo; train: SplitSummary; test: SplitSummary; subsample: SubsampleRecord[] };
  backend: BackendInfo;
  seeds: SeedResult[];
  summary: ResultSummary;
  /**
   * Wall-clock facts: the only fields that differ between two runs of the same spec. In a batch
   * of `batchOf` experiments run together (a sweep's cells), totalMs is the sum of this
   * experiment's stages, and a scoring pass they shared counts its share by models.
   */
  timings: { startedAt: string; totalMs: number; stagesMs: Record<string, number>; batchOf?: number };
}
