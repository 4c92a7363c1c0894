import { existsSync } from 'node:fs';
import { isSoftwareRenderer } from '../core/softwareRenderer.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { wasmLabel, type EndToEnd, type Measurement } from '../core/benchWorkloads.ts';
import { planBackend, type WorkOverride } from '../bench/plan.ts';
import type { Activation, BenchRequest, BrowserBackend, EndToEndRequest } from '../bench/protocol.ts';

export type { BrowserBackend } from '../bench/protocol.ts';
export { BROWSER_BACKENDS } from '../bench/protocol.ts';

/**
 * The browser half of `npm run bench`: the shared workloads (src/core/benchWorkloads.ts) timed
 * in headless Chromium on tfjs's wasm, webgl and webgpu backends. The bench page (bench.html) is
 * served by the Vite dev server, which transforms it on demand, so no build is needed and the
 * app's build stays index.html only. Each backend gets a fresh page: tfjs backends are global
 * to a page, and a crash or leak on one must not colour the next.
 */

export interface BrowserBenchOptions {
  backends: readonly BrowserBackend[];
  /** Timed runs per workload, after one warm-up. */
  runs: number;
  /** Training batch sizes; each is run with both objectives. */
  batches: readonly number[];
  onMeasurement?: (m: Measurement) => void;
  log?: (line: string) => void;
  /** Replaces the per-backend sizing (tests use tiny work). */
  work?: WorkOverride;
  /** Also train on prompts holding this many pairs of shared responses (`--pairs-per-prompt`). */
  pairsPerPrompt?: number;
  /**
   * Also time the paper's default experiment on each backend (`--e2e`); `dataset` and `spec`
   * shrink it (tests). Software renderers are never asked: it would take hours.
   */
  e2e?: Omit<EndToEndRequest, 'backend'>;
  onEndToEnd?: (e: BrowserEndToEnd) => void;
  /** Defaults to $CHROMIUM_PATH, then /usr/bin/chromium. */
  executablePath?: string;
  /**
   * Time software renderers too (SwiftShader behind webgl or webgpu: correct, but 6–36× slower
   * than wasm, so their figures say nothing about a GPU). Default true; `bench` in auto mode says false.
   */
  includeSoftware?: boolean;
}


export type BrowserEndToEnd = { host: 'chromium'; backend: string } & EndToEnd;

export interface BrowserBenchResult {
  measurements: Measurement[];
  endToEnd: BrowserEndToEnd[];
  skipped: { backend: string; why: string }[];
  /** What each backend ran on (adapter, renderer, SIMD), or why it could not be activated. */
  activations: Activation[];
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));


async function startServer(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: REPO_ROOT,
    configFile: `${REPO_ROOT}vite.config.ts`,
    // Its own dependency cache, crawled from bench.html only: the app's dev server keeps its own
    // cache, and neither re-optimises (and reloads) because of the other.
    cacheDir: 'node_modules/.vite-bench',
    optimizeDeps: { entries: ['bench.html'] },
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    logLevel: 'error',
    clearScreen: false,
  });
  await server.listen();
  const { port } = server.httpServer?.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/bench.html` };
}

function activationSummary(a: Activation): string {
  if (!a.ok) return `${a.backend}: unavailable (${a.error})`;
  if (a.adapter) {
    const { vendor, architecture, description, software } = a.adapter;
    return `webgpu: adapter ${[vendor, architecture, description].filter(Boolean).join(' / ')}${software ? ' (software: work sized down)' : ''}`;
  }
  if (a.renderer !== null) return `webgl: ${a.renderer}`;
  return `${a.backend}: ${a.simd ? 'SIMD binary' : 'plain binary (no SIMD)'}, ${a.threads ?? 1} thread(s), ${a.gemm ?? 'xnnpack'} GEMM`;
}

/** wasm's thread count is part of what was measured. */
function backendLabel(a: Extract<Activation, { ok: true }>): string {
  return a.backend === 'wasm' ? wasmLabel(a.threads ?? 1, a.gemm ?? 'xnnpack') : a.backend;
}

async function openBenchPage(browser: Browser, url: string, backend: BrowserBackend, log: (line: string) => void): Promise<Page> {
  const page = await browser.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') log(`[chromium ${backend}] console error: ${msg.text()}`);
  });
  page.on('pageerror', (error) => log(`[chromium ${backend}] page error: ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.rewardLabBench !== undefined, undefined, { timeout: 120_000 });
  return page;
}

// The callbacks below are serialised into the page: plain arrows with no inner names, so no
// transpiler helper (tsx's __name) leaks into code that runs where it is undefined.
function activateIn(page: Page, backend: BrowserBackend): Promise<Activation> {
  return page.evaluate((b) => window.rewardLabBench!.activate(b), backend);
}

function runIn(page: Page, request: BenchRequest): Promise<Measurement[]> {
  return page.evaluate((r) => window.rewardLabBench!.run(r), request);
}

function endToEndIn(page: Page, request: EndToEndRequest): Promise<EndToEnd> {
  return page.evaluate((r) => window.rewardLabBench!.endToEnd(r), request);
}

export async function benchInBrowser(options: BrowserBenchOptions): Promise<BrowserBenchResult> {
  const { backends, runs, batches } = options;
  const log = options.log ?? (() => {});
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive integer, got ${runs}`);
  const badBatch = batches.find((b) => !Number.isInteger(b) || b < 1);
  if (badBatch !== undefined) throw new RangeError(`batches must be positive integers, got ${badBatch}`);
  const result: BrowserBenchResult = { measurements: [], endToEnd: [], skipped: [], activations: [] };
  if (backends.length === 0) return result;

  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  const skipAll = (why: string) => {
    for (const backend of backends) result.skipped.push({ backend, why });
    return result;
  };
  if (!existsSync(executablePath)) {
    return skipAll(`no Chromium at ${executablePath} (install Debian's chromium or set CHROMIUM_PATH)`);
  }

  let server: ViteDevServer | null = null;
  let browser: Browser | null = null;
  try {
    const served = await startServer();
    server = served.server;
    try {
      browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    } catch (error) {
      return skipAll(`Chromium at ${executablePath} failed to launch: ${oneLine(error)}`);
    }
    for (const backend of backends) {
      let page: Page | null = null;
      try {
        page = await openBenchPage(browser, served.url, backend, log);
        const activation = await activateIn(page, backend);
        result.activations.push(activation);
        log(`[chromium] ${activationSummary(activation)}`);
        if (!activation.ok) {
          result.skipped.push({ backend, why: activation.error });
          continue;
        }
        const software = activation.adapter?.software === true || isSoftwareRenderer(activation.renderer ?? '');
        if (software && options.includeSoftware === false) {
          result.skipped.push({ backend, why: `only a software renderer here (${activationSummary(activation)}): name chromium:${backend} in --backends to time it anyway` });
          continue;
        }
        const plan = planBackend(activation, batches, options.work, { pairsPerPrompt: options.pairsPerPrompt });
        result.skipped.push(...plan.skipped);
        // One evaluate per job, so each measurement is reported as soon as it exists.
        for (const job of plan.jobs) {
          const [measured] = await runIn(page, { backend, runs, jobs: [job] });
          const m = { ...measured, backend: backendLabel(activation), workload: measured.workload + plan.workloadSuffix };
          result.measurements.push(m);
          options.onMeasurement?.(m);
        }
        if (options.e2e && !software) {
          const timed = await endToEndIn(page, { ...options.e2e, backend });
          const e: BrowserEndToEnd = { host: 'chromium', backend: backendLabel(activation), ...timed };
          result.endToEnd.push(e);
          options.onEndToEnd?.(e);
        }
      } catch (error) {
        // A crashed page or a failed workload ends this backend only; the others still run.
        result.skipped.push({ backend, why: `failed while benchmarking: ${oneLine(error)}` });
        log(`[chromium ${backend}] ${oneLine(error)}`);
      } finally {
        await page?.close();
      }
    }
    return result;
  } finally {
    await browser?.close();
    await server?.close();
  }
}

/**
 * Opens the bench page in headless Chromium and hands it (for tests that drive the page
 * directly, e.g. the WebGPU kernel checks) to `drive`; closes the browser and the server afterwards.
 */
export async function withBenchPage<T>(drive: (page: Page) => Promise<T>, executablePath = CHROMIUM_PATH): Promise<T> {
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath} (install Debian's chromium or set CHROMIUM_PATH)`);
  const { server, url } = await startServer();
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    const page = await openBenchPage(browser, url, 'webgpu', (line) => process.stderr.write(`${line}\n`));
    return await drive(page);
  } finally {
    await browser?.close();
    await server.close();
  }
}

/** An error from the page, in one line: Playwright's prefix and the page's stack frames dropped. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/^page\.evaluate: /, '')
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s+at /.test(line))
    .map((line) => line.trim())
    .join(' ');
}
