import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Measurement } from '../core/benchWorkloads.ts';

/** `bench --compare-torch`: the same workloads in PyTorch (src/cli/bench/torch_reference.py), in this run. */

export interface TorchReport {
  device: 'cpu' | 'cuda';
  torch: string;
  deviceName: string;
  threads: number;
  results: Measurement[];
  e2e: TorchEndToEnd | null;
}

export interface TorchEndToEnd {
  seconds: number;
  trainSeconds: number;
  scoreSeconds: number;
  epochsRun: number;
  stoppedEarly: boolean;
  testRows: number;
  /** The result's quality, computed as the engine's headline metrics are (after the clock stops). */
  improvement: number;
  spearman: number;
}

const SCRIPT = fileURLToPath(new URL('./bench/torch_reference.py', import.meta.url));

export async function runTorchReference(options: {
  python: string;
  device: 'cpu' | 'cuda';
  batches: readonly number[];
  /** Also time the shared-responses training workloads (benchWorkloads.ts, pairsPerPrompt). */
  pairsPerPrompt?: number;
  runs: number;
  e2e: boolean;
  script?: string;
}): Promise<TorchReport> {
  const args = [options.script ?? SCRIPT, '--device', options.device, '--batches', options.batches.join(','), '--runs', String(options.runs)];
  if (options.e2e) args.push('--e2e');
  if (options.pairsPerPrompt !== undefined) args.push('--pairs-per-prompt', String(options.pairsPerPrompt));
  const child = spawn(options.python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (error) =>
      reject(new Error(`--compare-torch could not start ${options.python}: ${error.message} (install PyTorch, e.g. apt-get install python3-torch, or pass --python)`)),
    );
    child.on('close', resolve);
  });
  if (code !== 0) {
    const why = stderr.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`the PyTorch reference (${options.python} ${args.join(' ')}) exited with ${code}: ${why || 'no message'}`);
  }
  const parsed = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    torch: string;
    device: string;
    threads: number;
    results: Measurement[];
    e2e: TorchEndToEnd | null;
  };
  return { device: options.device, torch: parsed.torch, deviceName: parsed.device, threads: parsed.threads, results: parsed.results, e2e: parsed.e2e };
}
