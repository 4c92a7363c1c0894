import * as tf from '@tensorflow/tfjs';
import { annotate, labelPairs, type AnnotationStats } from './annotate.ts';
import { throwIfCancelled } from './cancel.ts';
import { summarizeSplit, type Dataset, type Split } from './dataset.ts';
import { makeDemoDataset } from './demo.ts';
import { resolveScale, type ResolvedScale } from './labeler.ts';
import {
  bestOfN,
  bonImprovement,
  meanStd,
  pairwiseAccuracy,
  perPromptSpearman,
  pickQuantiles,
  summarizeSpearman,
  topHalfRate,
} from './metrics.ts';
import { etaSeconds, overallFraction, type Progress, type ProgressListener, type SeedGroup, type Stage } from './progress.ts';
import type { BackendInfo, ExperimentResult, ResultSummary, ScoreMetrics, SeedResult } from './result.ts';
import { Rng } from './rng.ts';
import { aggregateScores, DEFAULT_SCORE_CHUNK_ROWS, scoreRows } from './score.ts';
import { deviationsOf, type ExperimentSpec } from './spec.ts';
import { applySubsample, type SubsampleRecord } from './subsample.ts';
import { gatherTrainingRows } from './train.ts';
import { disposeModel, trainEnsemble, type TrainedEnsemble } from './members.ts';
import { ENGINE_VERSION, RESULT_FORMAT } from './version.ts';

export interface RunOptions extends ProgressListener {
  signal?: AbortSignal;
  /** Recorded in the result; defaults to tfjs's active backend name. */
  backend?: BackendInfo;
  scoreChunkRows?: number;
  /** Most bytes of embeddings held at once (training rows, one scoring chunk). Default 1 GiB. */
  memoryCapBytes?: number;
}

export const DEFAULT_MEMORY_CAP_BYTES = 1 << 30;

/** The dataset a spec names when it is self-contained (the demo); file datasets come from the host. */
export function datasetFromSpec(spec: ExperimentSpec): Dataset | null {
  return spec.dataset.kind === 'demo' ? makeDemoDataset(spec.dataset) : null;
}

/** Runs annotate → train → score → evaluate for every seed of the spec. */
export async function runExperiment(spec: ExperimentSpec, fullDataset: Dataset, options: RunOptions = {}): Promise<ExperimentResult> {
  await tf.ready();
  const { dataset, records: subsample } =
    spec.dataset.kind === 'files' && spec.dataset.subsample ? applySubsample(fullDataset, spec.dataset.subsample) : { dataset: fullDataset, records: [] };
  const memoryCap = options.memoryCapBytes ?? DEFAULT_MEMORY_CAP_BYTES;
  const rowBytes = dataset.test.embeddings.dim * 4;
  // Scoring holds two chunks: the one being scored and the next one being read.
  const scoreChunkRows = Math.min(options.scoreChunkRows ?? DEFAULT_SCORE_CHUNK_ROWS, Math.floor(memoryCap / rowBytes / 2));
  if (scoreChunkRows < 1) throw new RangeError(`the memory cap of ${memoryCap} bytes cannot hold two ${rowBytes}-byte embedding rows (one being scored, the next being read)`);
  const started = Date.now();
  const stagesMs: Record<string, number> = {};
  const timed = async <T>(stage: Stage, work: () => Promise<T>): Promise<T> => {
    const t0 = performanceNow();
    try {
      return await work();
    } finally {
      stagesMs[stage] = (stagesMs[stage] ?? 0) + performanceNow() - t0;
    }
  };
  if (dataset.train.embeddings.dim !== dataset.test.embeddings.dim) {
    throw new RangeError(
      `train embeddings are ${dataset.train.embeddings.dim}-d but test embeddings ${dataset.test.embeddings.dim}-d`,
    );
  }
  const scale = resolveScale(spec.annotation.scale, dataset.info, dataset.train.rewards);
  const members = spec.model.ensemble.size;
  const groups = seedGroups(spec.seeds.length, bytesPerSeed(spec, dataset), memoryCap / MODEL_SHARE_OF_CAP);
  // Every group but the last has the first one's size.
  const groupOf = (seedIndex: number): SeedGroup => groups[Math.floor(seedIndex / groups[0].size)];
  const report = (stage: Stage, seedIndex: number, within: number, extra: { member?: number; epoch?: number; epochs?: number; step?: number; steps?: number; rows?: Progress['rows']; message: string }) => {
    if (!options.onProgress) return;
    const group = groupOf(seedIndex);
    const fraction = overallFraction(stage, seedIndex, group, spec.seeds.length, within);
    options.onProgress({
      stage,
      seedIndex,
      seeds: spec.seeds.length,
      ...(stage === 'score' && group.size > 1 ? { seedCount: group.size } : {}),
      member: extra.member ?? 0,
      members,
      epoch: extra.epoch,
      epochs: extra.epochs,
      step: extra.step,
      steps: extra.steps,
      rows: extra.rows,
      fraction,
      etaSeconds: etaSeconds(Date.now() - started, fraction),
      message: extra.message,
    });
  };

  type TrainedSeed = { seed: number; rng: Rng; stats: AnnotationStats; ensemble: TrainedEnsemble };

  const trainSeed = async (s: number): Promise<TrainedSeed> => {
    const seed = spec.seeds[s];
    const rng = Rng.fromSeed(seed);
    throwIfCancelled(options.signal);
    report('annotate', s, 0, { message: `seed ${seed}: annotating ${spec.annotation.budget} pairs` });
    const { annotations, stats } = await timed('annotate', async () => annotate(dataset.train, spec.annotation, scale, rng.fork('annotation')));

    report('load', s, 0, { message: `seed ${seed}: reading the embeddings of the annotated rows` });
    const rows = await timed('load', () => gatherTrainingRows(dataset.train.embeddings, annotations, { signal: options.signal, maxBytes: memoryCap }));
    const ensemble = await timed('train', () =>
      trainEnsemble(spec, rows, seed, {
        signal: options.signal,
        onProgress: (m, within, detail) =>
          report('train', s, (m + within) / members, { ...detail, member: m, message: `seed ${seed}: ${detail.message}` }),
        onEpoch: (member, record) => options.onEpoch?.({ seedIndex: s, member, record }),
      }),
    );
    return { seed, rng, stats, ensemble };
  };

  const evaluateSeed = (s: number, t: TrainedSeed, memberScores: Float32Array[]): Promise<SeedResult> => {
    report('evaluate', s, 0, { message: `seed ${t.seed}: evaluating` });
    const evalRng = t.rng.fork('evaluation');
    return timed('evaluate', async () => {
      const heldOut = heldOutPairs(dataset.test, spec, scale, evalRng.fork('held-out'));
      const evaluateScores = (scores: Float32Array) => evaluate(scores, dataset.test, spec, heldOut, evalRng.fork('bon'));
      const seedResult: SeedResult = {
        seed: t.seed,
        annotation: t.stats,
        members: t.ensemble.reports,
        metrics: evaluateScores(aggregateScores(memberScores, spec.model.ensemble.aggregation)),
      };
      if (members > 1) {
        seedResult.aggregations = {
          first: evaluateScores(aggregateScores(memberScores, 'first')),
          mean: evaluateScores(aggregateScores(memberScores, 'mean')),
          min: evaluateScores(aggregateScores(memberScores, 'min')),
        };
      }
      return seedResult;
    });
  };

  const seedResults: SeedResult[] = [];
  for (const group of groups) {
    const trained: TrainedSeed[] = [];
    try {
      for (let s = group.first; s < group.first + group.size; s++) trained.push(await trainSeed(s));
      // One pass over the test split for every model of the group: the split is read once, not
      // once per seed (on a GPU or from a browser's files, reading is most of scoring's time).
      const seedsNamed = group.size > 1 ? `seeds ${trained[0].seed}…${trained.at(-1)!.seed}` : `seed ${trained[0].seed}`;
      report('score', group.first, 0, { message: `${seedsNamed}: scoring ${dataset.test.embeddings.rows} test responses` });
      const allScores = await timed('score', () =>
        scoreRows(
          dataset.test.embeddings,
          trained.flatMap((t) => t.ensemble.models),
          {
            chunkRows: scoreChunkRows,
            signal: options.signal,
            onChunk: (done, total) => report('score', group.first, done / total, { rows: { done, total }, message: `${seedsNamed}: scored ${done}/${total} test responses` }),
          },
        ),
      );
      for (const [i, t] of trained.entries()) seedResults.push(await evaluateSeed(group.first + i, t, allScores.slice(i * members, (i + 1) * members)));
    } finally {
      for (const t of trained) t.ensemble.models.forEach(disposeModel);
    }
  }
  report('done', spec.seeds.length - 1, 1, { message: 'done' });

  return {
    format: RESULT_FORMAT,
    engineVersion: ENGINE_VERSION,
    spec,
    deviations: [...deviationsOf(spec), ...[...(dataset.info.subsample ?? []), ...subsample].map(describeSubsample)],
    dataset: { info: dataset.info, train: summarizeSplit(dataset.train), test: summarizeSplit(dataset.test), subsample },
    backend: options.backend ?? { name: tf.getBackend() },
    seeds: seedResults,
    summary: summarize(seedResults),
    timings: { startedAt: new Date(started).toISOString(), totalMs: Date.now() - started, stagesMs },
  };
}

/**
 * The models of one group's seeds and their scores of the test split are held at once: at most
 * this fraction of the memory cap (default 1 GiB: 256 MB, some 17 seeds of the paper's MLP and a
 * 1M-row test split); a seed that alone exceeds it is a group of its own.
 */
const MODEL_SHARE_OF_CAP = 4;

/** Bytes one seed's models and test scores take: float32 MLP weights (trees count as none) and scores. */
function bytesPerSeed(spec: ExperimentSpec, dataset: Dataset): number {
  const widths = [dataset.test.embeddings.dim, ...spec.model.hidden, 1];
  let params = 0;
  for (let l = 0; l + 1 < widths.length; l++) params += (widths[l] + 1) * widths[l + 1];
  const modelBytes = spec.model.objective === 'clf-gbdt' ? 0 : 4 * params;
  return spec.model.ensemble.size * (modelBytes + 4 * dataset.test.embeddings.rows);
}

/** Consecutive seeds grouped so that each group's models and scores fit `budget` bytes. */
export function seedGroups(seeds: number, bytesPerSeed: number, budget: number): SeedGroup[] {
  const size = Math.max(1, Math.floor(budget / bytesPerSeed));
  const groups: SeedGroup[] = [];
  for (let first = 0; first < seeds; first += size) groups.push({ first, size: Math.min(size, seeds - first) });
  return groups;
}

interface HeldOutPairs {
  a: Int32Array;
  b: Int32Array;
  aPreferred: Uint8Array;
}

/** Random same-prompt test pairs, labelled by the run's annotator: never seen in training. */
function heldOutPairs(test: Split, spec: ExperimentSpec, scale: ResolvedScale, rng: Rng): HeldOutPairs {
  const n = spec.evaluation.heldOutPairs;
  const k = test.responsesPerPrompt;
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const draw = rng.fork('pairs');
  for (let i = 0; i < n; i++) {
    const p = draw.int(test.prompts);
    const [x, y] = draw.sample(k, 2);
    a[i] = p * k + x;
    b[i] = p * k + y;
  }
  return labelPairs(test, a, b, spec.annotation.beta, scale.value, rng.fork('labels'));
}

function evaluate(scores: Float32Array, test: Split, spec: ExperimentSpec, heldOut: HeldOutPairs, rng: Rng): ScoreMetrics {
  const { prompts, responsesPerPrompt: L, rewards } = test;
  const ev = spec.evaluation;
  const improvement = bonImprovement(scores, rewards, prompts, L);
  const quantiles = pickQuantiles(scores, rewards, prompts, L);
  const pick = (idx: Int32Array) => Float32Array.from(idx, (i) => scores[i]);
  const golden = new Uint8Array(heldOut.a.length);
  heldOut.a.forEach((a, i) => (golden[i] = rewards[a] > rewards[heldOut.b[i]] ? 1 : 0));
  return {
    bon: bestOfN(scores, rewards, prompts, L, ev.bonN, ev.repeats, ev.protocol, rng),
    baseReward: improvement.base,
    bestOfAllReward: improvement.best,
    improvement: improvement.improvement,
    spearman: summarizeSpearman(perPromptSpearman(scores, rewards, prompts, L)),
    pickQuantile: meanStd(quantiles).mean,
    topHalfRate: topHalfRate(quantiles),
    heldOut: {
      pairs: heldOut.a.length,
      accuracy: heldOut.a.length ? pairwiseAccuracy(pick(heldOut.a), pick(heldOut.b), heldOut.aPreferred) : NaN,
      goldenAccuracy: heldOut.a.length ? pairwiseAccuracy(pick(heldOut.a), pick(heldOut.b), golden) : NaN,
    },
  };
}

function summarize(seeds: SeedResult[]): ResultSummary {
  const of = (f: (s: SeedResult) => number) => meanStd(seeds.map(f));
  const first = seeds[0].metrics.bon;
  const across = (pick: (s: SeedResult) => number[]) => first.n.map((_, i) => meanStd(seeds.map((s) => pick(s)[i])));
  const bonMean = across((s) => s.metrics.bon.mean);
  return {
    improvement: of((s) => s.metrics.improvement),
    spearman: of((s) => s.metrics.spearman.mean),
    labelErrorRate: of((s) => s.annotation.labelErrorRate),
    meanAbsRewardGap: of((s) => s.annotation.meanAbsRewardGap),
    heldOutAccuracy: of((s) => s.metrics.heldOut.accuracy),
    heldOutGoldenAccuracy: of((s) => s.metrics.heldOut.goldenAccuracy),
    pickQuantile: of((s) => s.metrics.pickQuantile),
    topHalfRate: of((s) => s.metrics.topHalfRate),
    bon: {
      n: first.n,
      mean: bonMean.map((m) => m.mean),
      std: bonMean.map((m) => m.std),
      repeatStd: first.n.map((_, i) => Math.sqrt(meanStd(seeds.map((s) => s.metrics.bon.std[i] ** 2)).mean)),
      oracle: across((s) => s.metrics.bon.oracle).map((m) => m.mean),
      random: across((s) => s.metrics.bon.random).map((m) => m.mean),
    },
    baseReward: of((s) => s.metrics.baseReward).mean,
  };
}

function describeSubsample(r: SubsampleRecord): string {
  return `subsample: ${r.prompts.toLocaleString('en-US')} of ${r.of.toLocaleString('en-US')} ${r.split} prompts (seed ${r.seed})`;
}

function performanceNow(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
