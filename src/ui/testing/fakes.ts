/**
 * Test doubles for the UI: an engine that answers like the worker without tfjs, and results
 * shaped exactly like the engine's (the compiler checks the shape against ExperimentResult).
 */
import { CancelledError } from '../../core/cancel.ts';
import { summarizeSplit } from '../../core/dataset.ts';
import { makeDemoDataset } from '../../core/demo.ts';
import type { EpochEvent, Progress } from '../../core/progress.ts';
import type { ExperimentResult, ScoreMetrics } from '../../core/result.ts';
import { deviationsOf, type ExperimentSpec } from '../../core/spec.ts';
import type { EngineClient } from '../../worker/client.ts';
import { describeDataset } from '../../worker/describe.ts';
import { FilesHost } from '../../worker/filesHost.ts';
import type { BackendReport, BatchOutcome, DatasetDescription, FileSelection, FilesCallbacks, LabelNoise, RunCallbacks, RunOptions } from '../../worker/protocol.ts';

export function fakeResult(spec: ExperimentSpec, overrides: { improvement?: number; startedAt?: string } = {}): ExperimentResult {
  const improvement = overrides.improvement ?? 1.5;
  const n = [1, 2, 5, 10];
  const metrics: ScoreMetrics = {
    bon: { n, mean: [0, 0.5, 1, improvement], std: [0.05, 0.05, 0.04, 0.03], oracle: [0, 1, 2, 3], random: [0, 0, 0, 0] },
    baseReward: 0,
    bestOfAllReward: improvement,
    improvement,
    spearman: { mean: 0.5, median: 0.55, valid: 4, perPrompt: [0.2, 0.5, 0.6, null, 0.7] },
    pickQuantile: 0.9,
    topHalfRate: 0.95,
    heldOut: { pairs: 100, accuracy: 0.6, goldenAccuracy: 0.75 },
  };
  const info = { id: 'demo(seed=0)', description: 'test', task: 'demo' as const, synthetic: true, taskScale: 1 };
  const split = { prompts: 10, responsesPerPrompt: 4, dim: 8, rankSorted: true, rewardMean: 0, rewardStd: 1, rewardMin: -2, rewardMax: 2, withinPromptVariance: 0.5, betweenPromptVariance: 0.5 };
  return {
    format: 'reward-lab.result/1',
    engineVersion: '0.0.0-test',
    spec,
    deviations: deviationsOf(spec),
    dataset: { info, train: split, test: split, subsample: [] },
    backend: { name: 'wasm', adapter: 'SIMD' },
    seeds: spec.seeds.map((seed) => ({
      seed,
      annotation: {
        pairs: spec.annotation.budget,
        promptsUsed: spec.annotation.budget,
        scale: { kind: 'task', value: 1 },
        labelErrorRate: 0.38,
        expectedLabelErrorRate: 0.381,
        meanAbsRewardGap: 1.2,
      },
      members: [{ seed: seed * 42, epochsRun: 2, stoppedEarly: false, finalEpoch: 2, bestEpoch: 2, curve: [
        { epoch: 1, trainLoss: 0.69, valLoss: 0.68, valAccuracy: 0.55 },
        { epoch: 2, trainLoss: 0.66, valLoss: 0.67, valAccuracy: 0.58 },
      ] }],
      metrics,
    })),
    summary: {
      improvement: { mean: improvement, std: 0 },
      spearman: { mean: 0.5, std: 0 },
      labelErrorRate: { mean: 0.38, std: 0 },
      meanAbsRewardGap: { mean: 1.2, std: 0 },
      heldOutAccuracy: { mean: 0.6, std: 0 },
      heldOutGoldenAccuracy: { mean: 0.75, std: 0 },
      pickQuantile: { mean: 0.9, std: 0 },
      topHalfRate: { mean: 0.95, std: 0 },
      bon: { n, mean: metrics.bon.mean, std: n.map(() => 0), repeatStd: metrics.bon.std, oracle: metrics.bon.oracle, random: metrics.bon.random },
      baseReward: 0,
    },
    timings: { startedAt: overrides.startedAt ?? new Date().toISOString(), totalMs: 1234, stagesMs: { annotate: 10, train: 1000, score: 200 } },
  };
}

export const FAKE_BACKEND: BackendReport = {
  name: 'wasm',
  choice: 'auto',
  adapter: null,
  simd: true,
  reason: 'Chosen automatically: wasm.',
  candidates: [
    { name: 'webgpu', status: 'unavailable', note: 'no adapter' },
    { name: 'wasm', status: 'active', note: 'SIMD binary' },
    { name: 'webgl', status: 'untried', note: '' },
    { name: 'cpu', status: 'untried', note: '' },
  ],
};

interface PendingRun {
  spec: ExperimentSpec;
  callbacks: RunCallbacks;
  options?: RunOptions;
  resolve: (result: ExperimentResult) => void;
  reject: (error: Error) => void;
}

/** An engine whose runs finish only when the test says so: every step of a run can be observed. */
export class FakeEngine implements EngineClient {
  runs: PendingRun[] = [];
  cancels = 0;
  backendChoices: string[] = [];

  async selectBackend(choice: BackendReport['choice']): Promise<BackendReport> {
    this.backendChoices.push(choice);
    return { ...FAKE_BACKEND, choice };
  }

  async describeDataset(dataset: Parameters<EngineClient['describeDataset']>[0]): Promise<DatasetDescription> {
    const d = makeDemoDataset({ ...dataset, trainPrompts: Math.min(dataset.trainPrompts, 50), testPrompts: Math.min(dataset.testPrompts, 5) });
    return {
      ...describeDataset(d, 5),
      info: d.info,
      train: { ...summarizeSplit(d.train), prompts: dataset.trainPrompts },
      test: { ...summarizeSplit(d.test), prompts: dataset.testPrompts },
      trainRewards: { edges: [0, 1, 2], counts: [3, 1] },
      testRewards: { edges: [0, 1, 2], counts: [1, 1] },
      buildMs: 5,
    };
  }

  /** A closed form in place of the worker's computation: error falls with β. */
  async labelNoise(_dataset: unknown, _scale: unknown, betas: number[]): Promise<LabelNoise> {
    return { scale: 1, points: betas.map((beta) => ({ beta, errorRate: 0.5 / (1 + beta) })) };
  }

  run(spec: ExperimentSpec, callbacks: RunCallbacks, options?: RunOptions): Promise<ExperimentResult> {
    return new Promise((resolve, reject) => this.runs.push({ spec, callbacks, options, resolve, reject }));
  }

  /** The lab runs one experiment at a time; batches are the sweeps' (FakeSweepEngine). */
  passSize(): Promise<number> {
    return Promise.reject(new Error('the lab store does not run batches'));
  }
  runBatch(): Promise<BatchOutcome> {
    return Promise.reject(new Error('the lab store does not run batches'));
  }

  /** Dataset files are handled by the worker's real host: it needs no tfjs, and Node has File. */
  readonly files = new FilesHost();
  filesCancels = 0;
  planFiles = (selection: FileSelection) => this.files.planFiles(selection);
  openFiles = (selection: FileSelection, callbacks: FilesCallbacks) => this.files.openFiles(selection, callbacks);
  verifyFiles = (selection: FileSelection, callbacks: FilesCallbacks) => this.files.verify(selection, callbacks);
  cancelFiles(): void {
    this.filesCancels++;
    this.files.cancel();
  }

  cancel(): void {
    this.cancels++;
    this.current().reject(new CancelledError());
  }

  current(): PendingRun {
    const run = this.runs[this.runs.length - 1];
    if (!run) throw new Error('no run started');
    return run;
  }

  progress(patch: Partial<Progress> = {}): void {
    this.current().callbacks.onProgress({
      stage: 'train', seedIndex: 0, seeds: 1, member: 0, members: 1, epoch: 1, epochs: 2, fraction: 0.5, etaSeconds: 3, message: 'training', ...patch,
    });
  }

  epoch(event: Partial<EpochEvent> & Pick<EpochEvent, 'record'>): void {
    this.current().callbacks.onEpoch({ seedIndex: 0, member: 0, ...event });
  }

  finish(result?: ExperimentResult): void {
    const run = this.current();
    run.resolve(result ?? fakeResult(run.spec));
  }
}

/** Lets promise callbacks queued by the code under test run. */
export const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
