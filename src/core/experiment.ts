import * as tf from '@tensorflow/tfjs';
import { annotate, labelPairs, type AnnotationStats } from './annotate.ts';
import { isCancelled, throwIfCancelled } from './cancel.ts';
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
import { canonicalJson } from './sweep.ts';
import { RepeatGatherStore } from './repeatGather.ts';
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
  const [result] = await runExperiments([spec], fullDataset, options);
  return result;
}

export interface BatchOptions extends RunOptions {
  /** Each experiment's result as soon as its last seed is evaluated; awaited before the run goes on (to store it, say). */
  onResult?: (index: number, result: ExperimentResult) => void | Promise<void>;
}

/** One experiment of a batch failed (not cancelled); `experimentIndex` says which. */
export class ExperimentFailedError extends Error {
  constructor(
    readonly experimentIndex: number,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'ExperimentFailedError';
  }
}

/** A seed of one experiment of a batch: the unit that is trained, scored and evaluated. */
interface Unit {
  experiment: number;
  seedIndex: number;
}

/**
 * Runs several experiments on one dataset (a sweep's cells, say) as if each ran alone: every
 * result equals that of `runExperiment` on its spec, timings aside. What they share is the pass
 * over the test split: the seeds of consecutive experiments are trained one after another and
 * then all their models score each chunk of the split as it is read, so the split is read once
 * per group of seeds (up to MAX_SEEDS_PER_PASS, whose models and scores fit a quarter of the
 * memory cap), not once per seed.
 * All specs must name the same dataset (and subsample).
 */
export async function runExperiments(specs: readonly ExperimentSpec[], fullDataset: Dataset, options: BatchOptions = {}): Promise<ExperimentResult[]> {
  if (specs.length === 0) return [];
  await tf.ready();
  const batch = specs.length > 1;
  const { dataset, subsample } = sharedDataset(specs, fullDataset);
  const memoryCap = options.memoryCapBytes ?? DEFAULT_MEMORY_CAP_BYTES;
  const rowBytes = dataset.test.embeddings.dim * 4;
  // Scoring holds two chunks: the one being scored and the next one being read.
  const scoreChunkRows = Math.min(options.scoreChunkRows ?? DEFAULT_SCORE_CHUNK_ROWS, Math.floor(memoryCap / rowBytes / 2));
  if (scoreChunkRows < 1) throw new RangeError(`the memory cap of ${memoryCap} bytes cannot hold two ${rowBytes}-byte embedding rows (one being scored, the next being read)`);
  const started = Date.now();
  const experiments = specs.map((spec) => ({
    spec,
    scale: resolveScale(spec.annotation.scale, dataset.info, dataset.train.rewards),
    startedAt: started,
    stagesMs: {} as Record<string, number>,
    /** By seed index: seeds may be evaluated in another order (those with the same pairs together). */
    seeds: new Array<SeedResult>(spec.seeds.length),
    evaluated: 0,
  }));
  const units: Unit[] = specs.flatMap((spec, experiment) => spec.seeds.map((_, seedIndex) => ({ experiment, seedIndex })));
  const groups = passGroups(units.map((u) => bytesPerSeed(specs[u.experiment], dataset)), memoryCap / MODEL_SHARE_OF_CAP);
  const groupOf = (unit: number): SeedGroup => groups.find((g) => unit < g.first + g.size)!;
  // Seeds that annotate the same pairs train one after another, so the rows they gather are read once.
  const trainRows = new RepeatGatherStore(dataset.train.embeddings, memoryCap / 2);
  /** Where each unit is in its group's order of work, for the progress bar (identity where nothing moved). */
  const slotOf = new Map<number, number>();
  const results: ExperimentResult[] = [];

  const timed = async <T>(stage: Stage, experiment: number, work: () => Promise<T>): Promise<T> => {
    const t0 = performanceNow();
    try {
      return await work();
    } finally {
      const stages = experiments[experiment].stagesMs;
      stages[stage] = (stages[stage] ?? 0) + performanceNow() - t0;
    }
  };
  /** Names the failing experiment of a batch; a lone experiment's errors pass as they are. */
  const failing = async <T>(unit: number, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw batch && !isCancelled(error) ? new ExperimentFailedError(units[unit].experiment, error) : error;
    }
  };
  const report = (stage: Stage, unit: number, within: number, extra: { member?: number; epoch?: number; epochs?: number; step?: number; steps?: number; rows?: Progress['rows']; message: string }) => {
    if (!options.onProgress) return;
    const { experiment, seedIndex } = units[unit];
    const group = groupOf(unit);
    const fraction = overallFraction(stage, slotOf.get(unit) ?? unit, group, units.length, within);
    const passExperiments = units[group.first + group.size - 1].experiment - units[group.first].experiment + 1;
    options.onProgress({
      stage,
      seedIndex,
      seeds: specs[experiment].seeds.length,
      ...(batch ? { experimentIndex: experiment, experiments: specs.length } : {}),
      ...(stage === 'score' && group.size > 1 ? { seedCount: group.size } : {}),
      ...(stage === 'score' && passExperiments > 1 ? { experimentCount: passExperiments } : {}),
      member: extra.member ?? 0,
      members: specs[experiment].model.ensemble.size,
      epoch: extra.epoch,
      epochs: extra.epochs,
      step: extra.step,
      steps: extra.steps,
      rows: extra.rows,
      fraction,
      etaSeconds: etaSeconds(Date.now() - started, fraction),
      // A scoring pass names its experiments itself.
      message: batch && stage !== 'score' && stage !== 'done' ? `experiment ${experiment + 1}/${specs.length}, ${extra.message}` : extra.message,
    });
  };

  type TrainedSeed = { unit: number; seed: number; rng: Rng; stats: AnnotationStats; ensemble: TrainedEnsemble };

  const trainSeed = async (unit: number): Promise<TrainedSeed> => {
    const { experiment: e, seedIndex } = units[unit];
    const { spec, scale } = experiments[e];
    const seed = spec.seeds[seedIndex];
    const members = spec.model.ensemble.size;
    const rng = Rng.fromSeed(seed);
    if (batch && seedIndex === 0) experiments[e].startedAt = Date.now();
    throwIfCancelled(options.signal);
    report('annotate', unit, 0, { message: `seed ${seed}: annotating ${spec.annotation.budget} pairs` });
    const { annotations, stats } = await timed('annotate', e, async () => annotate(dataset.train, spec.annotation, scale, rng.fork('annotation')));

    report('load', unit, 0, { message: `seed ${seed}: reading the embeddings of the annotated rows` });
    const rows = await timed('load', e, () => gatherTrainingRows(trainRows, annotations, { signal: options.signal, maxBytes: memoryCap }));
    const ensemble = await timed('train', e, () =>
      trainEnsemble(spec, rows, seed, {
        signal: options.signal,
        onProgress: (m, within, detail) =>
          report('train', unit, (m + within) / members, { ...detail, member: m, message: `seed ${seed}: ${detail.message}` }),
        onEpoch: (member, record) => options.onEpoch?.({ seedIndex, member, record, ...(batch ? { experimentIndex: e } : {}) }),
      }),
    );
    return { unit, seed, rng, stats, ensemble };
  };

  const evaluateSeed = (t: TrainedSeed, memberScores: Float32Array[]): Promise<SeedResult> => {
    const e = units[t.unit].experiment;
    const { spec, scale } = experiments[e];
    report('evaluate', t.unit, 0, { message: `seed ${t.seed}: evaluating` });
    const evalRng = t.rng.fork('evaluation');
    return timed('evaluate', e, async () => {
      const heldOut = heldOutPairs(dataset.test, spec, scale, evalRng.fork('held-out'));
      const evaluateScores = (scores: Float32Array) => evaluate(scores, dataset.test, spec, heldOut, evalRng.fork('bon'));
      const seedResult: SeedResult = {
        seed: t.seed,
        annotation: t.stats,
        members: t.ensemble.reports,
        metrics: evaluateScores(aggregateScores(memberScores, spec.model.ensemble.aggregation)),
      };
      if (spec.model.ensemble.size > 1) {
        seedResult.aggregations = {
          first: evaluateScores(aggregateScores(memberScores, 'first')),
          mean: evaluateScores(aggregateScores(memberScores, 'mean')),
          min: evaluateScores(aggregateScores(memberScores, 'min')),
        };
      }
      return seedResult;
    });
  };

  const finish = (e: number): ExperimentResult => {
    const { spec, stagesMs, startedAt, seeds } = experiments[e];
    const stageSum = Object.values(stagesMs).reduce((a, b) => a + b, 0);
    return {
      format: RESULT_FORMAT,
      engineVersion: ENGINE_VERSION,
      spec,
      deviations: [...deviationsOf(spec), ...[...(dataset.info.subsample ?? []), ...subsample].map(describeSubsample)],
      dataset: { info: dataset.info, train: summarizeSplit(dataset.train), test: summarizeSplit(dataset.test), subsample },
      backend: options.backend ?? { name: tf.getBackend() },
      seeds,
      summary: summarize(seeds),
      timings: {
        startedAt: new Date(startedAt).toISOString(),
        totalMs: batch ? stageSum : Date.now() - started,
        stagesMs,
        ...(batch ? { batchOf: specs.length } : {}),
      },
    };
  };

  for (const group of groups) {
    const trained: TrainedSeed[] = [];
    let failure: ExperimentFailedError | null = null;
    try {
      const keyOf = (u: number) => pairsKey(specs[units[u].experiment], units[u].seedIndex);
      const order = byPairs(group, keyOf);
      order.forEach((u, i) => slotOf.set(u, group.first + i));
      for (const [i, u] of order.entries()) {
        // Rows held for seeds with other pairs are of no more use.
        if (i > 0 && keyOf(u) !== keyOf(order[i - 1])) trainRows.forget();
        try {
          trained.push(await failing(u, () => trainSeed(u)));
        } catch (error) {
          if (!(error instanceof ExperimentFailedError)) throw error;
          failure = error;
          break;
        }
      }
      trainRows.forget();
      // The other experiments trained so far are finished and reported before the failure is.
      const scored = failure ? trained.filter((t) => units[t.unit].experiment !== failure!.experimentIndex) : trained;
      if (failure && scored.length === 0) throw failure;
      // One pass over the test split for every model of the group: the split is read once, not
      // once per seed (on a GPU or from a browser's files, reading is most of scoring's time).
      const models = scored.flatMap((t) => t.ensemble.models);
      const named = passName(scored.map((t) => ({ ...units[t.unit], seed: t.seed })), batch);
      const firstScored = Math.min(...scored.map((t) => t.unit));
      report('score', firstScored, 0, { message: `${named}: scoring ${dataset.test.embeddings.rows} test responses` });
      const t0 = performanceNow();
      const allScores = await scoreRows(dataset.test.embeddings, models, {
        chunkRows: scoreChunkRows,
        signal: options.signal,
        onChunk: (done, total) => report('score', firstScored, done / total, { rows: { done, total }, message: `${named}: scored ${done}/${total} test responses` }),
      });
      // A shared pass's time is split among the experiments by their number of models in it.
      const passMs = performanceNow() - t0;
      let offset = 0;
      for (const t of scored) {
        const e = units[t.unit].experiment;
        const count = t.ensemble.models.length;
        const stages = experiments[e].stagesMs;
        stages.score = (stages.score ?? 0) + (passMs * count) / models.length;
        const seedResult = await failing(t.unit, () => evaluateSeed(t, allScores.slice(offset, offset + count)));
        offset += count;
        experiments[e].seeds[units[t.unit].seedIndex] = seedResult;
        if (++experiments[e].evaluated === specs[e].seeds.length) {
          results[e] = finish(e);
          await options.onResult?.(e, results[e]);
        }
      }
      if (failure) throw failure;
    } finally {
      for (const t of trained) t.ensemble.models.forEach(disposeModel);
    }
  }
  report('done', units.length - 1, 1, { message: 'done' });
  return results;
}

/** What decides the pairs a seed annotates (pairing.ts): seeds with equal keys gather the same rows. */
function pairsKey(spec: ExperimentSpec, seedIndex: number): string {
  return canonicalJson([spec.seeds[seedIndex], spec.annotation.budget, spec.annotation.pairing]);
}

/** A group's units with those of equal keys next to each other, in the order the keys first appear. */
function byPairs(group: SeedGroup, keyOf: (unit: number) => string): number[] {
  const byKey = new Map<string, number[]>();
  for (let u = group.first; u < group.first + group.size; u++) {
    const key = keyOf(u);
    byKey.set(key, [...(byKey.get(key) ?? []), u]);
  }
  return [...byKey.values()].flat();
}

/** How the progress line names the seeds of a scoring pass. */
function passName(seeds: readonly (Unit & { seed: number })[], batch: boolean): string {
  const sorted = [...seeds].sort((x, y) => x.experiment - y.experiment || x.seedIndex - y.seedIndex);
  const [first, last] = [sorted[0], sorted.at(-1)!];
  if (!batch) return seeds.length > 1 ? `seeds ${first.seed}…${last.seed}` : `seed ${first.seed}`;
  return first.experiment === last.experiment ? `seeds of experiment ${first.experiment + 1}` : `experiments ${first.experiment + 1}…${last.experiment + 1}`;
}

/** The dataset every spec of a batch runs on: the full one with their (one) subsample applied. */
function sharedDataset(specs: readonly ExperimentSpec[], fullDataset: Dataset): { dataset: Dataset; subsample: SubsampleRecord[] } {
  const first = specs[0].dataset;
  const key = canonicalJson(first);
  const other = specs.findIndex((s) => canonicalJson(s.dataset) !== key);
  if (other >= 0) throw new RangeError(`experiments run together must name the same dataset: experiment ${other + 1} differs from the first in "dataset"`);
  const { dataset, records } = first.kind === 'files' && first.subsample ? applySubsample(fullDataset, first.subsample) : { dataset: fullDataset, records: [] };
  if (dataset.train.embeddings.dim !== dataset.test.embeddings.dim) {
    throw new RangeError(`train embeddings are ${dataset.train.embeddings.dim}-d but test embeddings ${dataset.test.embeddings.dim}-d`);
  }
  return { dataset, subsample: records };
}

/**
 * How many of the leading experiments share the first scoring pass of `runExperiments` (at least
 * one): a runner that stores results between passes runs these, then asks again for the rest.
 */
export function firstPassSize(specs: readonly ExperimentSpec[], fullDataset: Dataset, memoryCapBytes = DEFAULT_MEMORY_CAP_BYTES): number {
  if (specs.length === 0) return 0;
  const { dataset } = sharedDataset(specs, fullDataset);
  const bytes = specs.flatMap((spec) => spec.seeds.map(() => bytesPerSeed(spec, dataset)));
  let seeds = passGroups(bytes, memoryCapBytes / MODEL_SHARE_OF_CAP)[0].size;
  let experiments = 0;
  while (experiments < specs.length && specs[experiments].seeds.length <= seeds) seeds -= specs[experiments++].seeds.length;
  return Math.max(1, experiments);
}

/**
 * The models of one group's seeds and their scores of the test split are held at once: at most
 * this fraction of the memory cap (default 1 GiB: 256 MB, some 17 seeds of the paper's MLP and a
 * 1M-row test split); a seed that alone exceeds it is a group of its own.
 */
const MODEL_SHARE_OF_CAP = 4;

/** Bytes one seed's models and test scores take: float32 MLP weights (trees count as none) and scores. */
export function bytesPerSeed(spec: ExperimentSpec, dataset: Dataset): number {
  const widths = [dataset.test.embeddings.dim, ...spec.model.hidden, 1];
  let params = 0;
  for (let l = 0; l + 1 < widths.length; l++) params += (widths[l] + 1) * widths[l + 1];
  const modelBytes = spec.model.objective === 'clf-gbdt' ? 0 : 4 * params;
  return spec.model.ensemble.size * (modelBytes + 4 * dataset.test.embeddings.rows);
}

/**
 * Most seeds one pass scores. Eight passes' reads in one is most of the gain; a cap bounds the
 * training a cancel or a failure throws away, and how long a sweep's finished cells wait.
 */
export const MAX_SEEDS_PER_PASS = 8;

/**
 * Consecutive seeds grouped so that each group's models and scores fit `budget` bytes (a seed
 * over it alone), at most `maxSeeds` to a group.
 */
export function passGroups(bytesPerSeed: readonly number[], budget: number, maxSeeds = MAX_SEEDS_PER_PASS): SeedGroup[] {
  const groups: SeedGroup[] = [];
  let held = 0;
  for (const [i, bytes] of bytesPerSeed.entries()) {
    if (groups.length === 0 || held + bytes > budget || groups.at(-1)!.size === maxSeeds) {
      groups.push({ first: i, size: 0 });
      held = 0;
    }
    groups.at(-1)!.size++;
    held += bytes;
  }
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
