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
import { timeWasmCeiling } from '../kernels/wasm/wasmCeiling.ts';

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
  warmupSteps?: number;
  scoreRows: number;
  /** Largest batch worth timing: minutes per step above it on the slow backends. */
  maxBatch: number;
}
const NODE_WORK: Record<NodeBackend | 'webgpu-software', Work> = {
  wasm: { steps: 4, scoreRows: 16_384, maxBatch: Infinity },
  cpu: { steps: 1, scoreRows: 1024, maxBatch: 512 },
  // 50 steps, as the PyTorch reference takes on a GPU: a run's one sync is then a small share.
  webgpu: { steps: 50, warmupSteps: 3, scoreRows: 262_144, maxBatch: Infinity },
  'webgpu-software': { steps: 1, scoreRows: 1024, maxBatch: 512 },
};

/** Which round of `--rounds` a figure comes from (absent with one round). */
type Round = { round?: number };

export interface BenchReport {
  date: string;
  engine: string;
  node: string;
  cpus: { model: string; count: number };
  dim: number;
  hidden: readonly number[];
  /** `--rounds`: each round times every backend, then the PyTorch reference; figures carry their round. */
  rounds: number;
  results: (Measurement & Round)[];
  skipped: { target: string; why: string }[];
  kernelErrors?: string[];
  /** Time to result of the paper's default experiment (one seed, 1M test rows), `--e2e`. */
  e2e?: ({ host: string; backend: string } & EndToEnd & Round)[];
  torch?: (TorchReport & Round)[];
  /** ours ÷ PyTorch for each of our measurements that has a reference, within its round. */
  ratios?: (Ratio & Round)[];
  /** Time to result, ours ÷ PyTorch's (the target is ≤ 1), within its round. */
  e2eRatios?: (Ratio & Round)[];
  /** With several rounds: each ratio's median over the rounds, with its min and max. */
  ratioSummary?: RatioSummary[];
}

export interface Ratio {
  host: string;
  backend: string;
  workload: string;
  reference: string;
  ratio: number;
}

export interface RatioSummary extends Omit<Ratio, 'ratio'> {
  median: number;
  min: number;
  max: number;
  rounds: number;
}

interface Settings {
  targets: Target[];
  explicit: boolean;
  runs: number;
  batches: number[];
  pairsPerPrompt: number | undefined;
  kernelVariants: string[];
  e2e: boolean;
}

export async function runBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'string' },
      backends: { type: 'string', default: 'auto' },
      runs: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '1' },
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
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a positive integer, got "${values.rounds}"`);
  const batches = values.batches.split(',').map(Number);
  if (batches.some((b) => !Number.isInteger(b) || b < 2)) throw new UsageError(`--batches must list integers ≥ 2, got "${values.batches}"`);
  const kernelVariants = values['webgpu-kernels'].split(',').map((v) => v.trim());
  for (const v of kernelVariants) parseKernelVariant(v);
  const explicit = values.backends !== 'auto';
  const settings: Settings = {
    targets: explicit ? parseTargets(values.backends) : [...TARGETS],
    explicit,
    runs,
    batches,
    pairsPerPrompt: parsePairsPerPrompt(values['pairs-per-prompt']),
    kernelVariants,
    e2e: values.e2e,
  };

  const report: BenchReport = {
    date: new Date().toISOString(),
    engine: ENGINE_VERSION,
    node: process.version,
    cpus: { model: cpus()[0]?.model ?? 'unknown', count: cpus().length },
    dim: BENCH_DIM,
    hidden: BENCH_HIDDEN,
    rounds,
    results: [],
    skipped: [],
  };
  const python = values.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  // Rounds alternate ours and PyTorch, so a machine that speeds up or slows down during the
  // bench moves both sides of each round's ratios alike.
  for (let round = 1; round <= rounds; round++) {
    const tag: Round = rounds > 1 ? { round } : {};
    if (rounds > 1) process.stdout.write(`${round > 1 ? '\n' : ''}round ${round} of ${rounds}\n`);
    const firstResult = report.results.length;
    const firstE2e = report.e2e?.length ?? 0;
    const seen = await benchNode(settings, report, tag);
    const browserBackends = await benchChromium(settings, report, tag);
    if (!values['compare-torch']) continue;
    // Browser backends run on this machine's CPU (or its GPU through the browser): both references apply.
    const cpuSeen = seen.cpu || browserBackends > 0;
    const devices = [...(cpuSeen || !seen.gpu ? (['cpu'] as const) : []), ...(seen.gpu ? (['cuda'] as const) : [])];
    const torch: TorchReport[] = [];
    for (const device of devices) {
      const t = await runTorchReference({ python, device, batches, pairsPerPrompt: settings.pairsPerPrompt, runs, e2e: values.e2e, script: values['torch-script'] });
      torch.push(t);
      (report.torch ??= []).push({ ...t, ...tag });
      for (const m of t.results) process.stdout.write(`${formatMeasurement(m)}\n`);
      if (t.e2e) process.stdout.write(`${`pytorch:${device}`.padEnd(34)} ${formatEndToEnd(t.e2e)}\n`);
    }
    const ratios = ratiosAgainstTorch(report.results.slice(firstResult), torch);
    (report.ratios ??= []).push(...ratios.map((r) => ({ ...r, ...tag })));
    process.stdout.write(`\nours ÷ PyTorch (medians, same ${rounds > 1 ? 'round' : 'run'}):\n`);
    for (const r of ratios) process.stdout.write(ratioLine(r, `${r.ratio.toFixed(2)}× (vs ${r.reference})`));
    const e2eRatios = endToEndRatios(report.e2e?.slice(firstE2e) ?? [], torch);
    (report.e2eRatios ??= []).push(...e2eRatios.map((r) => ({ ...r, ...tag })));
    for (const r of e2eRatios) process.stdout.write(ratioLine(r, `${r.ratio.toFixed(2)}× PyTorch's time (vs ${r.reference})`));
  }
  if (rounds > 1 && report.ratios) {
    report.ratioSummary = summarizeRatios([...report.ratios, ...(report.e2eRatios ?? [])]);
    process.stdout.write(`\nours ÷ PyTorch, median of ${rounds} rounds (min–max):\n`);
    for (const r of report.ratioSummary) process.stdout.write(ratioLine(r, `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}, ${r.rounds} rounds)`));
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

/** One printed line of a ratio: what was compared, then `value`. */
function ratioLine(r: Pick<Ratio, 'host' | 'backend' | 'workload'>, value: string): string {
  return `  ${`${r.host}:${r.backend}`.padEnd(34)} ${r.workload.padEnd(40)} ${value}\n`;
}

/** Times the Node targets in this process; says whether a CPU and a (hardware) GPU backend ran. */
async function benchNode(settings: Settings, report: BenchReport, tag: Round): Promise<{ cpu: boolean; gpu: boolean }> {
  const seen = { cpu: false, gpu: false };
  const record = (m: Measurement) => {
    report.results.push({ ...m, ...tag });
    process.stdout.write(`${formatMeasurement(m)}\n`);
  };
  const skip = (target: string, why: string) => skipTarget(report, target, why);
  for (const target of settings.targets.filter((t) => t.startsWith('node:'))) {
    const backend = target.slice('node:'.length) as NodeBackend;
    let work = NODE_WORK[backend];
    let label: string = backend;
    if (backend === 'webgpu') {
      const adapter = await prepareWebGpu().catch((error: unknown) => error as Error);
      if (adapter instanceof Error) {
        skip(target, adapter.message);
        continue;
      }
      if (adapter.software && !settings.explicit) {
        skip(target, `only a software adapter (${adapter.label}): name node:webgpu in --backends to time it anyway`);
        continue;
      }
      if (adapter.software) work = NODE_WORK['webgpu-software'];
      else seen.gpu = true;
      label = `webgpu (${adapter.label})`;
    }
    if (backend !== 'webgpu') seen.cpu = true;
    const info = await activateBackend(backend);
    if (info.threads) label = wasmLabel(info.threads, info.gemm ?? 'xnnpack');
    if (info.gemm === 'relaxed-simd') await benchWasmCeiling(label, settings.runs, record);
    for (const variant of backend === 'webgpu' ? settings.kernelVariants : [null]) {
      const variantLabel = variant ? label.replace('webgpu', `webgpu[${variant}]`) : label;
      if (variant) applyKernelVariant(variant);
      for (const m of await benchHere('node', variantLabel, work, settings, (why) => skip(target, why))) record(m);
    }
    if (backend === 'webgpu') applyKernelVariant(settings.kernelVariants[0]);
    if (settings.e2e && backend !== 'cpu') {
      const e2e = await timeEndToEnd(paperSizeDataset(), (p) => process.stderr.write(`\r  e2e ${p.stage}: ${p.message}`.padEnd(100)));
      process.stderr.write('\n');
      (report.e2e ??= []).push({ host: 'node', backend: label, ...e2e, ...tag });
      process.stdout.write(`${`node:${label}`.padEnd(34)} ${formatEndToEnd(e2e)}\n`);
    }
  }
  return seen;
}

export const FMA_CEILING_WORKLOAD = 'wasm FMA ceiling (1 thread)';
export const gemmAloneWorkload = ({ m, k, n }: { m: number; k: number; n: number }) => `GEMM alone ${m}×${k}×${n} (1 thread)`;

/**
 * The most this engine's wasm multiplies and adds on one core, and our GEMM's rate beside it:
 * the bound on every CPU ratio against PyTorch (whose AVX-512 is twice as wide), printed as a share.
 */
async function benchWasmCeiling(label: string, runs: number, record: (m: Measurement) => void): Promise<void> {
  const ceiling = await timeWasmCeiling(runs);
  if (!ceiling) return;
  const fma = summarize('node', label, FMA_CEILING_WORKLOAD, 'GFLOP/s', ceiling.fma);
  const gemm = summarize('node', label, gemmAloneWorkload(ceiling.shape), 'GFLOP/s', ceiling.gemm);
  record(fma);
  record(gemm);
  process.stdout.write(`${''.padEnd(35)}the GEMM alone runs at ${((100 * gemm.median) / fma.median).toFixed(0)}% of the FMA ceiling\n`);
}

/** Times the Chromium targets in a headless browser; returns how many were asked for. */
async function benchChromium(settings: Settings, report: BenchReport, tag: Round): Promise<number> {
  const backends = settings.targets.filter((t) => t.startsWith('chromium:')).map((t) => t.slice('chromium:'.length) as BrowserBackend);
  if (backends.length === 0) return 0;
  const browserModule = await import('./benchBrowser.ts').catch((error: unknown) => error as Error);
  if (browserModule instanceof Error) {
    for (const b of backends) skipTarget(report, `chromium:${b}`, `the browser bench could not load (${browserModule.message})`);
    return backends.length;
  }
  const browser = await browserModule.benchInBrowser({
    backends,
    runs: settings.runs,
    batches: settings.batches,
    pairsPerPrompt: settings.pairsPerPrompt,
    includeSoftware: settings.explicit,
    onMeasurement: (m) => process.stdout.write(`${formatMeasurement(m)}\n`),
    ...(settings.e2e ? { e2e: {} } : {}),
    onEndToEnd: (e) => process.stdout.write(`${`chromium:${e.backend}`.padEnd(34)} ${formatEndToEnd(e)}\n`),
  });
  report.results.push(...browser.measurements.map((m) => ({ ...m, ...tag })));
  if (browser.endToEnd.length > 0) (report.e2e ??= []).push(...browser.endToEnd.map((e) => ({ ...e, ...tag })));
  for (const s of browser.skipped) skipTarget(report, `chromium:${s.backend}`, s.why);
  return backends.length;
}

function skipTarget(report: BenchReport, target: string, why: string): void {
  if (report.skipped.some((s) => s.target === target && s.why === why)) return;
  report.skipped.push({ target, why });
  process.stdout.write(`${target.padEnd(16)} skipped: ${why}\n`);
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
async function benchHere(host: string, backend: string, work: Work, settings: Settings, skip: (why: string) => void): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const sharing = settings.pairsPerPrompt === undefined ? [undefined] : [undefined, settings.pairsPerPrompt];
  for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
    for (const batch of settings.batches) {
      for (const shared of sharing) {
        const workload = { objective, batch, steps: work.steps, warmupSteps: work.warmupSteps, pairsPerPrompt: shared };
        const name = trainingWorkloadName(workload);
        if (batch > work.maxBatch) {
          skip(`${name}: minutes per step on this backend`);
          continue;
        }
        out.push(summarize(host, backend, name, 'pairs/s', await timeTraining(workload, settings.runs)));
      }
    }
  }
  out.push(summarize(host, backend, SCORING_WORKLOAD_NAME, 'rows/s', await timeScoring({ rows: work.scoreRows, chunkRows: 8192 }, settings.runs)));
  if (tf.memory().numTensors > 0) skip(`leaked ${tf.memory().numTensors} tensors`);
  return out;
}

/** GPU backends compare with PyTorch on CUDA, the others with PyTorch on the CPU. */
function referenceFor(backend: string, torch: readonly TorchReport[]): TorchReport | undefined {
  const gpu = backend.startsWith('webgpu') || backend.startsWith('webgl');
  return torch.find((t) => t.device === (gpu ? 'cuda' : 'cpu'));
}

const referenceName = (t: TorchReport) => `pytorch ${t.device} (${t.deviceName})`;

/** Throughput, ours ÷ PyTorch's, per workload both timed. */
export function ratiosAgainstTorch(ours: readonly Measurement[], torch: readonly TorchReport[]): Ratio[] {
  const ratios: Ratio[] = [];
  for (const m of ours) {
    const reference = referenceFor(m.backend, torch);
    const match = reference?.results.find((r) => r.workload === m.workload);
    if (!reference || !match) continue;
    ratios.push({ host: m.host, backend: m.backend, workload: m.workload, reference: referenceName(reference), ratio: m.median / match.median });
  }
  return ratios;
}

export const END_TO_END_WORKLOAD = 'time to result (paper default, 1 seed)';
/**
 * The same time without our evaluation stage (the BoN curve over 100 repeats, quantiles,
 * Spearman), which the PyTorch reference does not time: its clock stops once the test rows
 * are scored. This is the like-for-like ratio.
 */
export const END_TO_END_SCORES_WORKLOAD = 'time to scores (paper default, 1 seed)';

/** Ours ÷ PyTorch's time for each of our end-to-end runs that has a reference (lower is better). */
export function endToEndRatios(
  ours: readonly ({ host: string; backend: string } & Pick<EndToEnd, 'seconds'> & Partial<Pick<EndToEnd, 'stagesMs'>>)[],
  torch: readonly TorchReport[],
): Ratio[] {
  return ours.flatMap((e) => {
    const reference = referenceFor(e.backend, torch);
    if (!reference?.e2e) return [];
    const theirs = reference.e2e.seconds;
    const base = { host: e.host, backend: e.backend, reference: referenceName(reference) };
    const ratios = [{ ...base, workload: END_TO_END_WORKLOAD, ratio: e.seconds / theirs }];
    const evaluate = e.stagesMs?.evaluate;
    if (evaluate !== undefined) ratios.push({ ...base, workload: END_TO_END_SCORES_WORKLOAD, ratio: (e.seconds - evaluate / 1000) / theirs });
    return ratios;
  });
}

/** Each ratio's median over the rounds it was measured in, with its range. */
export function summarizeRatios(ratios: readonly Ratio[]): RatioSummary[] {
  const groups = new Map<string, Ratio[]>();
  for (const r of ratios) {
    const key = JSON.stringify([r.host, r.backend, r.workload, r.reference]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => {
    const sorted = group.map((r) => r.ratio).sort((a, b) => a - b);
    const { host, backend, workload, reference } = group[0];
    const middle = sorted.length / 2;
    const median = sorted.length % 2 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
    return { host, backend, workload, reference, median, min: sorted[0], max: sorted.at(-1)!, rounds: sorted.length };
  });
}

type EndToEndLine = Pick<EndToEnd, 'seconds' | 'epochsRun' | 'stoppedEarly' | 'testRows' | 'improvement' | 'spearman'> & Partial<Pick<EndToEnd, 'stagesMs'>>;

/** One line per time to result, with the result's quality beside it: times compare at equal quality. */
export function formatEndToEnd(e: EndToEndLine): string {
  const run = `${e.epochsRun} epochs${e.stoppedEarly ? ', stopped early' : ''}, ${e.testRows.toLocaleString('en')} test rows scored`;
  const quality = `BoN-500 improvement ${e.improvement.toFixed(3)}, Spearman ${e.spearman.toFixed(3)}`;
  const evaluate = e.stagesMs?.evaluate;
  const scores = evaluate === undefined ? '' : `, ${(e.seconds - evaluate / 1000).toFixed(1)} s to scores`;
  return `paper default experiment, 1 seed: ${e.seconds.toFixed(1)} s to result${scores} (${run}; ${quality})`;
}

export function formatMeasurement(m: Measurement): string {
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  return `${`${m.host}:${m.backend}`.padEnd(34)} ${m.workload.padEnd(40)} ${f(m.median).padStart(9)} ${m.unit.padEnd(8)} (min ${f(m.min)}, max ${f(m.max)}, ${m.runs.length} runs)`;
}
