import * as tf from '@tensorflow/tfjs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { InMemoryEmbeddings } from '../core/dataset.ts';
import { meanStd } from '../core/metrics.ts';
import { disposeMlp, initMlp } from '../core/mlp.ts';
import { Rng } from '../core/rng.ts';
import { scoreRows } from '../core/score.ts';
import { parseSpec } from '../core/spec.ts';
import { makeOptimizer, trainingStep, type Objective, type TrainingRows } from '../core/train.ts';
import { NODE_BACKENDS, UsageError, activateBackend, type NodeBackend } from './backend.ts';

/**
 * `npm run bench`: training and scoring throughput of the paper's MLP (2048 → 1024 → 512 → 1)
 * through the engine's own code paths, on each Node backend. Medians of ≥ 3 timed runs after a
 * warm-up. Not a test: absolute times on a shared machine drift; compare ratios within one run.
 */

const DIM = 2048;
const HIDDEN = [1024, 512];

interface Measurement {
  backend: NodeBackend;
  workload: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number[];
}

/** How much work one timed run does per backend: cpu is ~40× slower than wasm. */
const WORK: Record<NodeBackend, { trainSteps: number; scoreRows: number }> = {
  wasm: { trainSteps: 4, scoreRows: 16_384 },
  cpu: { trainSteps: 1, scoreRows: 1024 },
};

export async function runBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'string' },
      backends: { type: 'string', default: NODE_BACKENDS.join(',') },
      runs: { type: 'string', default: '3' },
      batches: { type: 'string', default: '512,10240' },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 3) throw new UsageError('--runs must be an integer ≥ 3 (medians need at least 3)');
  const backends = values.backends.split(',').map((b) => b.trim()) as NodeBackend[];
  for (const b of backends) if (!NODE_BACKENDS.includes(b)) throw new UsageError(`unknown backend "${b}"`);
  const batches = values.batches.split(',').map(Number);

  const results: Measurement[] = [];
  for (const backend of backends) {
    await activateBackend(backend);
    for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
      for (const batch of batches) {
        if (backend === 'cpu' && batch > 512) continue; // minutes per step: not informative
        results.push(await benchTraining(backend, objective, batch, runs));
        print(results.at(-1)!);
      }
    }
    results.push(await benchScoring(backend, runs));
    print(results.at(-1)!);
  }
  if (values.json) {
    const report = { date: new Date().toISOString(), node: process.version, dim: DIM, hidden: HIDDEN, results };
    await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`wrote ${values.json}\n`);
  }
  return 0;
}

function print(m: Measurement): void {
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  process.stdout.write(
    `${m.backend.padEnd(5)} ${m.workload.padEnd(28)} ${f(m.median).padStart(9)} ${m.unit.padEnd(10)} (min ${f(m.min)}, max ${f(m.max)}, ${m.runs.length} runs)\n`,
  );
}

function summarize(backend: NodeBackend, workload: string, unit: string, rates: number[]): Measurement {
  const sorted = [...rates].sort((a, b) => a - b);
  return { backend, workload, unit, median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1)!, runs: rates };
}

function randomRows(rows: number, rng: Rng): Float32Array {
  const x = new Float32Array(rows * DIM);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

async function benchTraining(backend: NodeBackend, objective: Objective, batch: number, runs: number): Promise<Measurement> {
  const rng = new Rng('bench');
  // BT reads 2 rows per pair: enough distinct rows that gathers are realistic, small enough to build fast.
  const pairs = Math.max(batch, 2048);
  const uniqueRows = 4096;
  const winners = Int32Array.from({ length: pairs }, () => rng.int(uniqueRows));
  const losers = Int32Array.from({ length: pairs }, () => rng.int(uniqueRows));
  const data: TrainingRows = { embeddings: tf.tensor2d(randomRows(uniqueRows, rng), [uniqueRows, DIM]), winners, losers };
  const spec = parseSpec({ model: { objective, hidden: HIDDEN, training: { batchSize: batch } } });
  const params = initMlp(DIM, HIDDEN, 'pytorch', rng.fork('init'));
  const optimizer = makeOptimizer(spec.model.training);
  const step = async () => {
    const ids = rng.sample(2 * pairs, batch);
    const loss = trainingStep(objective, params, data, optimizer, ids);
    await loss.data();
    loss.dispose();
  };
  const rates: number[] = [];
  try {
    await step(); // warm-up: kernel compilation and allocation
    for (let r = 0; r < runs; r++) {
      const steps = WORK[backend].trainSteps;
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) await step();
      const seconds = (performance.now() - t0) / 1000;
      // A BT row is one pair; a CLF row is one response, so a pair is two rows.
      rates.push((steps * (objective === 'bt-mlp' ? batch : batch / 2)) / seconds);
    }
  } finally {
    optimizer.dispose();
    disposeMlp(params);
    data.embeddings.dispose();
  }
  const m = summarize(backend, `train ${objective} batch ${batch}`, 'pairs/s', rates);
  const stepsPerSecond = meanStd(rates.map((r) => r / (objective === 'bt-mlp' ? batch : batch / 2))).mean;
  m.workload += ` (${stepsPerSecond.toFixed(2)} steps/s)`;
  return m;
}

async function benchScoring(backend: NodeBackend, runs: number): Promise<Measurement> {
  const rng = new Rng('bench-score');
  const rows = WORK[backend].scoreRows;
  const store = new InMemoryEmbeddings(randomRows(rows, rng), DIM);
  const params = initMlp(DIM, HIDDEN, 'pytorch', rng.fork('init'));
  const rates: number[] = [];
  try {
    await scoreRows(store, [{ kind: 'mlp', params }], { chunkRows: Math.min(rows, 8192) });
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await scoreRows(store, [{ kind: 'mlp', params }], { chunkRows: Math.min(rows, 8192) });
      rates.push(rows / ((performance.now() - t0) / 1000));
    }
  } finally {
    disposeMlp(params);
  }
  return summarize(backend, 'score (forward, 8k-row chunks)', 'rows/s', rates);
}
