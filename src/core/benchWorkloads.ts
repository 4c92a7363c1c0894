import * as tf from '@tensorflow/tfjs';
import type { Dataset } from './dataset.ts';
import type { WasmGemmChoice } from './result.ts';
import { runExperiment, type RunOptions } from './experiment.ts';
import { disposeMlp, initMlp, mlpForward } from './mlp.ts';
import { Rng } from './rng.ts';
import { parseSpec, type ExperimentSpec } from './spec.ts';
import { makeOptimizer, trainingStep, type Objective, type TrainingRows } from './train.ts';

/**
 * The benchmark workloads, shared by every host (Node on wasm/cpu/webgpu, the bench page in
 * headless Chromium) and mirrored by the PyTorch reference (src/cli/bench/torch_reference.py).
 * They run the engine's own training step and forward pass on the active tfjs backend, the way a
 * run does: no loss readback per step, one synchronisation at the end of each timed run.
 * Not tests: they time, they do not assert.
 */

export const BENCH_DIM = 2048;
export const BENCH_HIDDEN = [1024, 512] as const;

export interface Measurement {
  host: string;
  backend: string;
  workload: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export interface TrainingWorkload {
  objective: Objective;
  /** Rows per optimiser step, as in the spec's batchSize: BT rows are pairs, CLF rows are responses. */
  batch: number;
  /** Steps per timed run. */
  steps: number;
  /**
   * Untimed steps first (default 1: kernel compilation). On a GPU, 3: tfjs's buffer pool needs
   * two steps' worth of buffers (one step's are returned only at the next submit), and the first
   * timed run otherwise allocated the rest — 1.0M against 1.5M pairs/s for BT at batch 10,240 on
   * an H200.
   */
  warmupSteps?: number;
  /**
   * Absent: raw throughput, every pair with two responses of its own. Set: prompts of
   * SHARED_RESPONSES responses with this many distinct pairs each, batches drawn from the 2P
   * symmetrised rows as the paper does: the case where responses recur within a batch.
   */
  pairsPerPrompt?: number;
}

/** Responses per prompt in the shared-responses workloads (the paper's train split: K = 10). */
export const SHARED_RESPONSES = 10;

export interface ScoringWorkload {
  /** Rows scored per timed run; the rows sit on the device, as the test split's chunks do once uploaded. */
  rows: number;
  chunkRows: number;
}

export function trainingWorkloadName(w: Pick<TrainingWorkload, 'objective' | 'batch' | 'pairsPerPrompt'>): string {
  const shared = w.pairsPerPrompt === undefined ? '' : `, ${w.pairsPerPrompt} pairs/prompt`;
  return `train ${w.objective} batch ${w.batch}${shared}`;
}

export const SCORING_WORKLOAD_NAME = 'score (forward, device-resident rows)';

/** A wasm backend as the bench reports it: its threads and what ran its matrix products, both part of what was measured. */
export function wasmLabel(threads: number, gemm: WasmGemmChoice): string {
  return `wasm (${threads} thread${threads === 1 ? '' : 's'}, ${gemm})`;
}

/** Pairs per step: a BT row is one pair; a CLF row is one response, so half a pair. */
export function pairsPerStep(w: Pick<TrainingWorkload, 'objective' | 'batch'>): number {
  return w.objective === 'bt-mlp' ? w.batch : w.batch / 2;
}

export function summarize(host: string, backend: string, workload: string, unit: string, rates: number[]): Measurement {
  if (rates.length === 0) throw new RangeError(`no timed runs for ${workload}`);
  const sorted = [...rates].sort((a, b) => a - b);
  return { host, backend, workload, unit, median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1)!, runs: rates };
}

function randomRows(rows: number, rng: Rng): Float32Array {
  const x = new Float32Array(rows * BENCH_DIM);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

interface BenchPairs {
  rows: number;
  winners: Int32Array;
  losers: Int32Array;
}

/** Raw throughput: every pair has two responses of its own, so no row is shared by two pairs. */
function ownResponses(pairs: number): BenchPairs {
  return {
    rows: 2 * pairs,
    winners: Int32Array.from({ length: pairs }, (_, p) => 2 * p),
    losers: Int32Array.from({ length: pairs }, (_, p) => 2 * p + 1),
  };
}

/** `perPrompt` distinct pairs (of the K·(K−1)/2) per prompt of K = SHARED_RESPONSES responses. */
function sharedResponses(pairs: number, perPrompt: number, rng: Rng): BenchPairs {
  const k = SHARED_RESPONSES;
  const candidates: [number, number][] = [];
  for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) candidates.push([a, b]);
  if (perPrompt > candidates.length) throw new RangeError(`at most ${candidates.length} distinct pairs per prompt of ${k} responses, got ${perPrompt}`);
  const prompts = Math.ceil(pairs / perPrompt);
  const winners = new Int32Array(pairs);
  const losers = new Int32Array(pairs);
  for (let p = 0; p < pairs; ) {
    const prompt = Math.floor(p / perPrompt);
    for (const c of rng.sample(candidates.length, perPrompt)) {
      if (p === pairs) break;
      winners[p] = prompt * k + candidates[c][0];
      losers[p] = prompt * k + candidates[c][1];
      p++;
    }
  }
  return { rows: prompts * k, winners, losers };
}

/** Training throughput in pairs/s, one entry per timed run after the warm-up steps. */
export async function timeTraining(w: TrainingWorkload, runs: number): Promise<number[]> {
  const rng = new Rng('bench');
  const pairs = Math.max(w.batch, 2048);
  const { rows, winners, losers } = w.pairsPerPrompt === undefined ? ownResponses(pairs) : sharedResponses(pairs, w.pairsPerPrompt, rng);
  const data: TrainingRows = { embeddings: tf.tensor2d(randomRows(rows, rng), [rows, BENCH_DIM]), winners, losers };
  const spec = parseSpec({ model: { objective: w.objective, hidden: [...BENCH_HIDDEN], training: { batchSize: w.batch } } });
  const params = initMlp(BENCH_DIM, BENCH_HIDDEN, 'pytorch', rng.fork('init'));
  const optimizer = makeOptimizer(spec.model.training);
  const steps = async (n: number) => {
    let last: tf.Scalar | null = null;
    for (let s = 0; s < n; s++) {
      last?.dispose();
      // Raw: BT distinct pairs, each once (no mirrored duplicates to skip); CLF distinct responses,
      // labelled by their side of the pair. Shared: a random subset of the symmetrised rows.
      const raw = w.pairsPerPrompt === undefined && w.objective === 'bt-mlp';
      const batchRows = raw ? rng.sample(pairs, w.batch).map((p) => 2 * p) : rng.sample(2 * pairs, w.batch);
      last = trainingStep(w.objective, params, data, optimizer, batchRows);
    }
    await last?.data(); // one sync per timed run, as runEpoch does per epoch
    last?.dispose();
  };
  const rates: number[] = [];
  try {
    await steps(w.warmupSteps ?? 1);
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await steps(w.steps);
      rates.push((w.steps * pairsPerStep(w)) / ((performance.now() - t0) / 1000));
    }
  } finally {
    optimizer.dispose();
    disposeMlp(params);
    data.embeddings.dispose();
  }
  return rates;
}

/** Scoring throughput in rows/s: the engine's forward pass over device-resident chunks, scores read back. */
export async function timeScoring(w: ScoringWorkload, runs: number): Promise<number[]> {
  const rng = new Rng('bench-score');
  const chunk = Math.min(w.rows, w.chunkRows);
  const x = tf.tensor2d(randomRows(chunk, rng), [chunk, BENCH_DIM]);
  const params = initMlp(BENCH_DIM, BENCH_HIDDEN, 'pytorch', rng.fork('init'));
  const chunks = Math.ceil(w.rows / chunk);
  const pass = async () => {
    const pending: Promise<unknown>[] = [];
    for (let c = 0; c < chunks; c++) {
      const y = tf.tidy(() => mlpForward(params, x));
      pending.push(y.data().finally(() => y.dispose()));
    }
    await Promise.all(pending);
  };
  const rates: number[] = [];
  try {
    await pass();
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await pass();
      rates.push((chunks * chunk) / ((performance.now() - t0) / 1000));
    }
  } finally {
    disposeMlp(params);
    x.dispose();
  }
  return rates;
}

export interface EndToEnd {
  seconds: number;
  stagesMs: Record<string, number>;
  epochsRun: number;
  stoppedEarly: boolean;
  testRows: number;
  improvement: number;
  spearman: number;
}

/**
 * Time to result for the paper's default experiment (method.md defaults: 10k pairs, BT-MLP,
 * batch 10,240, 30 epochs with early stopping) for one seed, on the given dataset — with
 * `paperSizeDataset()`, scoring 1,000,000 test rows.
 */
export async function timeEndToEnd(
  dataset: Dataset,
  onProgress?: RunOptions['onProgress'],
  spec: ExperimentSpec = parseSpec({ seeds: [0] }),
): Promise<EndToEnd> {
  const t0 = performance.now();
  const result = await runExperiment(spec, dataset, { onProgress });
  const seconds = (performance.now() - t0) / 1000;
  const member = result.seeds[0].members[0];
  return {
    seconds,
    stagesMs: result.timings.stagesMs,
    epochsRun: member.epochsRun,
    stoppedEarly: member.stoppedEarly,
    testRows: dataset.test.embeddings.rows,
    improvement: result.summary.improvement.mean,
    spearman: result.summary.spearman.mean,
  };
}
