import { trainingWorkloadName } from '../core/benchWorkloads.ts';
import type { Objective } from '../core/train.ts';
import type { Activation, BenchJob, BrowserBackend } from './protocol.ts';

/**
 * How much work one timed run does on each browser backend, sized from environment.md so a run
 * takes seconds, not minutes: webgl (SwiftShader here) is ~6× slower than wasm, a software WebGPU
 * adapter ~36×. A hardware adapter gets enough work to amortise dispatch and readback.
 */
export interface BackendWork {
  steps: number;
  /** Untimed steps before the timed runs (TrainingWorkload.warmupSteps). */
  warmupSteps?: number;
  scoreRows: number;
  chunkRows: number;
  /** Larger training batches are skipped: minutes per step tell nothing a smaller batch does not. */
  maxBatch: number | null;
}

export const OBJECTIVES: readonly Objective[] = ['bt-mlp', 'clf-mlp'];

export function workFor(backend: BrowserBackend, softwareAdapter: boolean): BackendWork {
  switch (backend) {
    case 'wasm':
      return { steps: 4, scoreRows: 16_384, chunkRows: 8192, maxBatch: null };
    case 'webgl':
      return { steps: 2, scoreRows: 8192, chunkRows: 8192, maxBatch: 512 };
    case 'webgpu':
      return softwareAdapter
        ? { steps: 1, scoreRows: 1024, chunkRows: 1024, maxBatch: 512 }
        : { steps: 50, warmupSteps: 3, scoreRows: 262_144, chunkRows: 8192, maxBatch: null };
  }
}

export interface WorkOverride {
  steps?: number;
  scoreRows?: number;
}

/** What to train besides the raw workloads: `--pairs-per-prompt N` (benchWorkloads.ts, TrainingWorkload). */
export interface PlanOptions {
  pairsPerPrompt?: number;
}

export interface BackendPlan {
  jobs: BenchJob[];
  skipped: { backend: BrowserBackend; why: string }[];
  /** Appended to each workload name so a measurement read alone still says what it ran on. */
  workloadSuffix: string;
}

function adapterLabel(activation: Extract<Activation, { ok: true }>): string {
  const a = activation.adapter;
  if (!a) return '';
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

export function planBackend(
  activation: Extract<Activation, { ok: true }>,
  batches: readonly number[],
  override: WorkOverride = {},
  options: PlanOptions = {},
): BackendPlan {
  const { backend } = activation;
  const software = activation.adapter?.software === true;
  const base = workFor(backend, software);
  const steps = override.steps ?? base.steps;
  const scoreRows = override.scoreRows ?? base.scoreRows;
  const jobs: BenchJob[] = [];
  const skipped: BackendPlan['skipped'] = [];
  const slowness = backend === 'webgpu' ? 'a software WebGPU adapter' : 'webgl';
  for (const objective of OBJECTIVES) {
    for (const batch of batches) {
      if (base.maxBatch !== null && batch > base.maxBatch) {
        skipped.push({ backend, why: `${trainingWorkloadName({ objective, batch })}: batches over ${base.maxBatch} take minutes per step on ${slowness}` });
        continue;
      }
      jobs.push({ kind: 'train', workload: { objective, batch, steps, warmupSteps: base.warmupSteps } });
      if (options.pairsPerPrompt !== undefined) {
        jobs.push({ kind: 'train', workload: { objective, batch, steps, warmupSteps: base.warmupSteps, pairsPerPrompt: options.pairsPerPrompt } });
      }
    }
  }
  jobs.push({ kind: 'score', workload: { rows: scoreRows, chunkRows: Math.min(scoreRows, base.chunkRows) } });
  return { jobs, skipped, workloadSuffix: software ? ` [software adapter: ${adapterLabel(activation)}]` : '' };
}
