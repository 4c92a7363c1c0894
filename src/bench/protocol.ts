import type { CheckResult } from '../kernels/webgpu/testing/checks.ts';
import type { PaperSizeOptions } from '../core/benchDataset.ts';
import type { EndToEnd, Measurement, ScoringWorkload, TrainingWorkload } from '../core/benchWorkloads.ts';
import type { WasmGemmChoice } from '../core/result.ts';

/**
 * What passes between the Node bench driver (src/cli/benchBrowser.ts) and the bench page
 * (bench.html) through Playwright's `page.evaluate`: plain JSON, no tensors, no functions.
 */

export const BROWSER_BACKENDS = ['wasm', 'webgl', 'webgpu'] as const;
export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];

/** The WebGPU adapter the page was offered, as `GPUAdapter.info` describes it. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  /** A CPU emulation (SwiftShader, llvmpipe, …): correct but far slower than wasm. */
  software: boolean;
}

/** The outcome of activating exactly one backend; never a fallback to another. */
export type Activation =
  | {
      ok: true;
      backend: BrowserBackend;
      /** webgpu only. */
      adapter: AdapterReport | null;
      /** webgl only: the unmasked renderer string, e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader …))". */
      renderer: string | null;
      /** wasm only: whether the SIMD binary is in use. */
      simd: boolean | null;
      /** wasm only: threads (1: the single-threaded build). */
      threads: number | null;
      /** wasm only: what ran the matrix products (src/kernels/wasm/gemmKernel.ts). */
      gemm: WasmGemmChoice | null;
      userAgent: string;
    }
  | { ok: false; backend: BrowserBackend; error: string; adapter: AdapterReport | null };

export type BenchJob = { kind: 'train'; workload: TrainingWorkload } | { kind: 'score'; workload: ScoringWorkload };

export interface BenchRequest {
  backend: BrowserBackend;
  /** Timed runs per job, after one warm-up. */
  runs: number;
  jobs: BenchJob[];
}

/** Installed on `window` by the bench page once its modules have loaded. */
export interface RewardLabBench {
  activate(backend: BrowserBackend): Promise<Activation>;
  /** Activates `request.backend` if it is not active (throwing if it cannot be), then times each job in order. */
  run(request: BenchRequest): Promise<Measurement[]>;
  /**
   * The fused WebGPU kernels' numerical checks (src/kernels/webgpu/testing/checks.ts) on this
   * browser's WebGPU, against the plain tfjs path: the suites named, GEMMs for the tiles named.
   */
  kernelChecks(suites: readonly KernelCheckSuite[], tiles: readonly string[]): Promise<CheckResult[]>;
  /**
   * Activates `request.backend` if it is not active, then times the paper's default experiment on
   * the synthetic dataset of the published size (`bench --e2e`), in this page.
   */
  endToEnd(request: EndToEndRequest): Promise<EndToEnd>;
}

export interface EndToEndRequest {
  backend: BrowserBackend;
  /** Smaller than the published size (tests). */
  dataset?: PaperSizeOptions;
  /** A partial ExperimentSpec, parsed in the page (tests); omitted: the paper's default with one seed. */
  spec?: unknown;
}

export type KernelCheckSuite = 'gemm' | 'reduce' | 'adam' | 'train' | 'upload';

declare global {
  interface Window {
    rewardLabBench?: RewardLabBench;
  }
}
