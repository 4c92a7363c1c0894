import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import {
  BENCH_DIM,
  BENCH_HIDDEN,
  SCORING_WORKLOAD_NAME,
  SHARED_RESPONSES,
  summarize,
  timeEndToEnd,
  timeScoring,
  timeTraining,
  trainingWorkloadName,
  wasmLabel,
  type EndToEnd,
  type Measurement,
} from '../core/benchWorkloads.ts';
import { paperSizeDataset } from '../core/benchDataset.ts';
import { ENGINE_VERSION } from '../core/version.ts';
import { UsageError, activateBackend, prepareWebGpu, type NodeBackend } from './backend.ts';
import type { BrowserBackend } from './benchBrowser.ts';
import { runTorchReference, type TorchReport } from './benchTorch.ts';
import { parseGemmTile } from '../kernels/webgpu/config.ts';
import { kernelErrors, setWebGpuKernelConfig } from '../kernels/webgpu/index.ts';

/**
 * `npm run bench`: training and scoring throughput of the paper's MLP (2048 → 1024 → 512 → 1)
 * through the engine's own code paths, on every backend available — Node (wasm, cpu, and webgpu
 * through Dawn where a GPU driver exists) and headless Chromium (wasm, webgl, webgpu) — with
 * `--compare-torch`, the same workloads in PyTorch in the same run, and the ratios.
 * Medians of ≥ 3 timed runs after a warm-up. Not a test: absolute times on a shared machine
 * drift; compare ratios within one run.
 */

const TARGETS = ['node:wasm', 'node:cpu', 'node:webgpu', 'chromium:wasm', 'chromium:webgl', 'chromium:webgpu'] as const;
type Target = (typeof TARGETS)[number];

/** Work per timed run: enough to dwarf timer noise, little enough that slow backends finish. */
interface Work {
  steps: number;
  scoreRows: number;
  /** Largest batch worth timing: minutes per step above it on the slow backends. */
  maxBatch: number;
}
const NODE_WORK: Record<NodeBackend | 'webgpu-software', Work> = {
  wasm: { steps: 4, scoreRows: 16_384, maxBatch: Infinity },
  cpu: { steps: 1, scoreRows: 1024, maxBatch: 512 },
  webgpu: { steps: 20, scoreRows: 262_144, maxBatch: Infinity },
  'webgpu-software': { steps: 1, scoreRows: 1024, maxBatch: 512 },
};

export interface BenchReport {
  date: string;
  engine: string;
  node: string;
  cpus: { model: string; count: number };
  dim: number;
  hidden: readonly number[];
  results: Measurement[];
  skipped: { target: string; why: string }[];
  kernelErrors?: string[];
  /** Time to result of the paper's default experiment (one seed, 1M test rows), `--e2e`. */
  e2e?: ({ host: string; backend: string } & EndToEnd)[];
  torch?: TorchReport[];
  /** ours ÷ PyTorch for each of our measurements that has a reference. */
  ratios?: { host: string; backend: string; workload: string; reference: string; ratio: number }[];
}

export async function runBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'string' },
      backends: { type: 'string', default: 'auto' },
      runs: { type: 'string', default: '3' },
      batches: { type: 'string', default: '512,10240' },
      'pairs-per-prompt': { type: 'string' },
      'compare-torch': { type: 'boolean', default: false },
      e2e: { type: 'boolean', default: false },
      python: { type: 'string' },
      'webgpu-kernels': { type: 'string', default: 'fused' },
      'torch-script': { type: 'string' },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 3) throw new UsageError('--runs must be an integer ≥ 3 (medians need at least 3)');
  const batches = values.batches.split(',').map(Number);
  if (batches.some((b) => !Number.isInteger(b) || b < 2)) throw new UsageError(`--batches must list integers ≥ 2, got "${values.batches}"`);
  const pairsPerPrompt = parsePairsPerPrompt(values['pairs-per-prompt']);
  const kernelVariants = values['webgpu-kernels'].split(',').map((v) => v.trim());
  for (const v of kernelVariants) parseKernelVariant(v);
  const explicit = values.backends !== 'auto';
  const targets = explicit ? parseTargets(values.backends) : [...TARGETS];

  const report: BenchReport = {
    date: new Date().toISOString(),
    engine: ENGINE_VERSION,
    node: process.version,
    cpus: { model: cpus()[0]?.model ?? 'unknown', count: cpus().length },
    dim: BENCH_DIM,
    hidden: BENCH_HIDDEN,
    results: [],
    skipped: [],
  };
  const record = (m: Measurement) => {
    report.results.push(m);
    process.stdout.write(`${formatMeasurement(m)}\n`);
  };
  const skip = (target: string, why: string) => {
    report.skipped.push({ target, why });
    process.stdout.write(`${target.padEnd(16)} skipped: ${why}\n`);
  };

  let gpuSeen = false;
  let cpuSeen = false;
  for (const target of targets.filter((t) => t.startsWith('node:'))) {
    const backend = target.slice('node:'.length) as NodeBackend;
    let work = NODE_WORK[backend];
    let label: string = backend;
    if (backend === 'webgpu') {
      const adapter = await prepareWebGpu().catch((error: unknown) => error as Error);
      if (adapter instanceof Error) {
        skip(target, adapter.message);
        continue;
      }
      if (adapter.software && !explicit) {
        skip(target, `only a software adapter (${adapter.label}): name node:webgpu in --backends to time it anyway`);
        continue;
      }
      if (adapter.software) work = NODE_WORK['webgpu-software'];
      else gpuSeen = true;
      label = `webgpu (${adapter.label})`;
    }
    if (backend !== 'webgpu') cpuSeen = true;
    const info = await activateBackend(backend);
    if (info.threads) label = wasmLabel(info.threads, info.gemm ?? 'xnnpack');
    for (const variant of backend === 'webgpu' ? kernelVariants : [null]) {
      const variantLabel = variant ? label.replace('webgpu', `webgpu[${variant}]`) : label;
      if (variant) applyKernelVariant(variant);
      for (const m of await benchHere('node', variantLabel, work, batches, pairsPerPrompt, runs, (why) => skip(target, why))) record(m);
    }
    if (backend === 'webgpu') applyKernelVariant(kernelVariants[0]);
    if (values.e2e && backend !== 'cpu') {
      const e2e = await timeEndToEnd(paperSizeDataset(), (p) => process.stderr.write(`\r  e2e ${p.stage}: ${p.message}`.padEnd(100)));
      process.stderr.write('\n');
      (report.e2e ??= []).push({ host: 'node', backend: label, ...e2e });
      process.stdout.write(`${`node:${label}`.padEnd(34)} ${formatEndToEnd(e2e)}\n`);
    }
  }

  const browserBackends = targets.filter((t) => t.startsWith('chromium:')).map((t) => t.slice('chromium:'.length) as BrowserBackend);
  if (browserBackends.length > 0) {
    const browserModule = await import('./benchBrowser.ts').catch((error: unknown) => error as Error);
    if (browserModule instanceof Error) {
      for (const b of browserBackends) skip(`chromium:${b}`, `the browser bench could not load (${browserModule.message})`);
    } else {
      const browser = await browserModule.benchInBrowser({
        backends: browserBackends,
        runs,
        batches,
        pairsPerPrompt,
        includeSoftware: explicit,
        onMeasurement: (m) => process.stdout.write(`${formatMeasurement(m)}\n`),
        ...(values.e2e ? { e2e: {} } : {}),
        onEndToEnd: (e) => process.stdout.write(`${`chromium:${e.backend}`.padEnd(34)} ${formatEndToEnd(e)}\n`),
      });
      report.results.push(...browser.measurements);
      if (browser.endToEnd.length > 0) (report.e2e ??= []).push(...browser.endToEnd);
      for (const s of browser.skipped) skip(`chromium:${s.backend}`, s.why);
    }
  }

  if (values['compare-torch']) {
    const python = values.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
    report.torch = [];
    // Browser backends run on this machine's CPU (or its GPU through the browser): both references apply.
    if (browserBackends.length > 0) cpuSeen = true;
    const devices = [...(cpuSeen || !gpuSeen ? (['cpu'] as const) : []), ...(gpuSeen ? (['cuda'] as const) : [])];
    for (const device of devices) {
      const torch = await runTorchReference({ python, device, batches, pairsPerPrompt, runs, e2e: values.e2e, script: values['torch-script'] });
      report.torch.push(torch);
      for (const m of torch.results) process.stdout.write(`${formatMeasurement(m)}\n`);
      if (torch.e2e) process.stdout.write(`${`pytorch:${device}`.padEnd(34)} ${formatEndToEnd(torch.e2e)}\n`);
    }
    report.ratios = ratiosAgainstTorch(report.results, report.torch);
    process.stdout.write('\nours ÷ PyTorch (medians, same run):\n');
    for (const r of report.ratios) process.stdout.write(`  ${`${r.host}:${r.backend}`.padEnd(34)} ${r.workload.padEnd(40)} ${r.ratio.toFixed(2)}× (vs ${r.reference})\n`);
  }

  const rejected = kernelErrors();
  if (rejected.length > 0) {
    report.kernelErrors = [...rejected];
    process.stdout.write(`WebGPU kernels the device rejected:\n${rejected.map((e) => `  ${e}`).join('\n')}\n`);
  }

  if (values.json) {
    await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`wrote ${values.json}\n`);
  }
  return 0;
}

/** `--pairs-per-prompt N`: also time training where prompts hold N pairs of SHARED_RESPONSES responses. */
function parsePairsPerPrompt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const most = (SHARED_RESPONSES * (SHARED_RESPONSES - 1)) / 2;
  if (!Number.isInteger(n) || n < 1 || n > most) {
    throw new UsageError(`--pairs-per-prompt must be an integer from 1 to ${most} (distinct pairs of ${SHARED_RESPONSES} responses), got "${value}"`);
  }
  return n;
}

/**
 * WebGPU kernel variants to time (`--webgpu-kernels`): 'stock' (tfjs's own ops), 'fused' (the
 * fused kernels as configured by default), a GEMM tile such as '128x128x16', or either of the
 * last two with '+autodiff' (fused kernels under tfjs autodiff instead of the hand-written step).
 * The first variant is left active for --e2e.
 */
function parseKernelVariant(variant: string): Parameters<typeof setWebGpuKernelConfig>[0] {
  if (variant === 'stock') return { enabled: false };
  const [tile, mode] = variant.split('+');
  if (mode !== undefined && mode !== 'autodiff') throw new UsageError(`--webgpu-kernels: unknown mode "+${mode}" in "${variant}" (only +autodiff)`);
  const gemmTile = tile === 'fused' ? 'auto' : tile;
  try {
    parseGemmTile(gemmTile);
  } catch (error) {
    throw new UsageError(`--webgpu-kernels: "${variant}" is not stock, fused or a GEMM tile (${(error as Error).message})`);
  }
  return { enabled: true, gemmTile, fusedStep: mode !== 'autodiff' };
}

function applyKernelVariant(variant: string): void {
  setWebGpuKernelConfig(parseKernelVariant(variant));
}

function parseTargets(list: string): Target[] {
  return list.split(',').map((raw) => {
    const name = raw.trim();
    const target = (name.includes(':') ? name : `node:${name}`) as Target;
    if (!TARGETS.includes(target)) throw new UsageError(`unknown bench backend "${name}": expected ${TARGETS.join(', ')} (a bare name means node:)`);
    return target;
  });
}

/** Times every workload on the tfjs backend that is active in this process. */
async function benchHere(
  host: string,
  backend: string,
  work: Work,
  batches: readonly number[],
  pairsPerPrompt: number | undefined,
  runs: number,
  skip: (why: string) => void,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const sharing = pairsPerPrompt === undefined ? [undefined] : [undefined, pairsPerPrompt];
  for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
    for (const batch of batches) {
      for (const shared of sharing) {
        const workload = { objective, batch, steps: work.steps, pairsPerPrompt: shared };
        const name = trainingWorkloadName(workload);
        if (batch > work.maxBatch) {
          skip(`${name}: minutes per step on this backend`);
          continue;
        }
        out.push(summarize(host, backend, name, 'pairs/s', await timeTraining(workload, runs)));
      }
    }
  }
  out.push(summarize(host, backend, SCORING_WORKLOAD_NAME, 'rows/s', await timeScoring({ rows: work.scoreRows, chunkRows: 8192 }, runs)));
  if (tf.memory().numTensors > 0) skip(`leaked ${tf.memory().numTensors} tensors`);
  return out;
}

/** GPU backends compare with PyTorch on CUDA, the others with PyTorch on the CPU. */
export function ratiosAgainstTorch(ours: readonly Measurement[], torch: readonly TorchReport[]): NonNullable<BenchReport['ratios']> {
  const ratios: NonNullable<BenchReport['ratios']> = [];
  for (const m of ours) {
    const gpu = m.backend.startsWith('webgpu') || m.backend.startsWith('webgl');
    const reference = torch.find((t) => t.device === (gpu ? 'cuda' : 'cpu'));
    const match = reference?.results.find((r) => r.workload === m.workload);
    if (!reference || !match) continue;
    ratios.push({ host: m.host, backend: m.backend, workload: m.workload, reference: `pytorch ${reference.device} (${reference.deviceName})`, ratio: m.median / match.median });
  }
  return ratios;
}

type EndToEndLine = Pick<EndToEnd, 'seconds' | 'epochsRun' | 'stoppedEarly' | 'testRows' | 'improvement' | 'spearman'>;

/** One line per time to result, with the result's quality beside it: times compare at equal quality. */
export function formatEndToEnd(e: EndToEndLine): string {
  const run = `${e.epochsRun} epochs${e.stoppedEarly ? ', stopped early' : ''}, ${e.testRows.toLocaleString('en')} test rows scored`;
  const quality = `BoN-500 improvement ${e.improvement.toFixed(3)}, Spearman ${e.spearman.toFixed(3)}`;
  return `paper default experiment, 1 seed: ${e.seconds.toFixed(1)} s to result (${run}; ${quality})`;
}

export function formatMeasurement(m: Measurement): string {
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  return `${`${m.host}:${m.backend}`.padEnd(34)} ${m.workload.padEnd(40)} ${f(m.median).padStart(9)} ${m.unit.padEnd(8)} (min ${f(m.min)}, max ${f(m.max)}, ${m.runs.length} runs)`;
}
