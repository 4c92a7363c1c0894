import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CheckResult } from './checks.ts';

/**
 * Running the WebGPU checks in a child process: the Vulkan loader (libvulkan.so.1) exists only in
 * Chromium's directory here and in CI (Debian chromium), and LD_LIBRARY_PATH is read when a
 * process starts, so a test cannot give its own process a WebGPU adapter.
 */

/** Environment under which Dawn finds Chromium's SwiftShader Vulkan driver (CPU, correct, slow). */
export const SWIFTSHADER_ENV: Readonly<Record<string, string>> = {
  LD_LIBRARY_PATH: '/usr/lib/chromium',
  VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json',
};

export interface ChecksRun {
  adapter: string;
  results: CheckResult[];
  /** Seconds per suite, as the child measured them. */
  seconds: Record<string, number>;
}

const RUNNER = fileURLToPath(new URL('./runChecks.ts', import.meta.url));

/** Runs check suites in a child on SwiftShader; rejects with the child's own message if it fails. */
export function runChecksInChild(suites: string[], timeoutMs = 400_000): Promise<ChecksRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...SWIFTSHADER_ENV };
    if (process.env.LD_LIBRARY_PATH) env.LD_LIBRARY_PATH = `${SWIFTSHADER_ENV.LD_LIBRARY_PATH}:${process.env.LD_LIBRARY_PATH}`;
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, ...suites], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n');
      const error = lines.find((l) => l.startsWith('ERROR '));
      if (code !== 0 || error) {
        const why = error ? error.slice(6) : signal ? `killed by ${signal} (timeout ${timeoutMs} ms?)` : `exit code ${code}`;
        reject(new Error(`WebGPU check child failed: ${why}\n${stderr.slice(-2000)}`));
        return;
      }
      const run: ChecksRun = { adapter: '', results: [], seconds: {} };
      for (const l of lines) {
        if (l.startsWith('ADAPTER ')) run.adapter = l.slice(8);
        else if (l.startsWith('RESULT ')) run.results.push(JSON.parse(l.slice(7)) as CheckResult);
        else if (l.startsWith('TIME ')) {
          const [, suite, secs] = l.split(' ');
          run.seconds[suite] = Number.parseFloat(secs);
        }
      }
      resolve(run);
    });
  });
}

/** The checks that failed, as readable lines (empty when all passed). */
export function failures(results: readonly CheckResult[]): string[] {
  return results
    .filter((r) => !(r.maxAbsDiff <= r.tol * r.scale))
    .map((r) => `${r.name}: max |Δ| ${r.maxAbsDiff} > ${r.tol} × ${r.scale}`);
}
