import * as tf from '@tensorflow/tfjs';
import { isSoftwareRenderer } from '../core/softwareRenderer.ts';
import { getThreadsCount, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { availableParallelism } from 'node:os';
import { withTimeout } from '../core/cancel.ts';
import type { BackendInfo, WasmGemmChoice } from '../core/result.ts';
import { attachWasmGemm, detachWasmGemm } from '../kernels/wasm/gemmKernel.ts';
import { enableRelaxedSimd, spawnNodeGemmWorker } from './gemmWorkers.ts';
import { installWasmKernels } from '../kernels/wasm/heapKernels.ts';
import { installWebGpuKernels } from '../kernels/webgpu/index.ts';
import { MAX_WASM_THREADS, restoreStockWasm } from '../kernels/wasm/registration.ts';
import { registerThreadedWasm } from './wasmThreads.ts';

export type NodeBackend = 'wasm' | 'cpu' | 'webgpu';
export const NODE_BACKENDS: readonly NodeBackend[] = ['wasm', 'cpu', 'webgpu'];

/**
 * Node runs tfjs on wasm (SIMD, XNNPACK) by default; cpu is the slow pure-JS reference; webgpu
 * runs on the GPU through Dawn (the optional npm package `webgpu`) where a Vulkan driver exists.
 */
export async function activateBackend(name: NodeBackend, options: ActivateOptions = {}): Promise<BackendInfo> {
  if (name === 'wasm') return activateWasm(options.threads ?? wasmThreadsFromEnv() ?? defaultWasmThreads());
  const adapter = name === 'webgpu' ? await prepareWebGpu() : undefined;
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  return adapter ? { name: tf.getBackend(), adapter: adapter.label } : { name: tf.getBackend() };
}

export interface ActivateOptions {
  /**
   * wasm only: XNNPACK threads (default: REWARD_LAB_WASM_THREADS, else the machine's cores, at
   * most 8). 1 runs tfjs's stock single-threaded SIMD build. Results do not depend on it.
   * Asking for another count later re-creates the wasm backend: tensors held on it are lost.
   */
  threads?: number;
}

/** The thread count a plain `--backend wasm` gets: one per core, within the glue's pool of 8. */
export function defaultWasmThreads(): number {
  return Math.min(MAX_WASM_THREADS, Math.max(1, availableParallelism()));
}

/** REWARD_LAB_WASM_THREADS=N overrides the default for every CLI command (1: single-threaded). */
export function wasmThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.REWARD_LAB_WASM_THREADS;
  if (raw === undefined || raw === '') return undefined;
  return parseWasmThreads(raw, 'REWARD_LAB_WASM_THREADS');
}

export function parseWasmThreads(value: string, what = '--threads'): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new UsageError(`${what} must be a whole number from 1 to ${MAX_WASM_THREADS}, got "${value}"`);
  }
  return n;
}

/** The thread count the threaded build is registered with now; null: tfjs's stock registration. */
let wasmThreads: number | null = null;
const THREADED_START_TIMEOUT_MS = 60_000;

/**
 * The wasm backend with `threads` XNNPACK threads (wasmThreads.ts). If the threaded build does
 * not start, says so in one line on stderr and runs single-threaded: same numbers, slower.
 */
async function activateWasm(threads: number): Promise<BackendInfo> {
  installWasmKernels();
  if (threads > 1 && wasmThreads !== threads) {
    try {
      registerThreadedWasm(threads);
      wasmThreads = threads;
      await withTimeout(setBackendOrThrow('wasm'), THREADED_START_TIMEOUT_MS, 'the threaded wasm build did not start');
    } catch (error) {
      process.stderr.write(`note: wasm threads unavailable (${messageOf(error)}); running single-threaded\n`);
      restoreStockWasm();
      wasmThreads = null;
    }
  } else if (threads === 1 && wasmThreads !== null) {
    restoreStockWasm();
    wasmThreads = null;
  }
  await setBackendOrThrow('wasm');
  const threadCount = getThreadsCount();
  const gemm = await attachGemm(threadCount);
  return { name: tf.getBackend(), threads: threadCount, gemm };
}

/**
 * Our relaxed-SIMD GEMM for the wasm backend's matrix products (src/kernels/wasm/wasmGemm.ts),
 * on as many threads as XNNPACK has; REWARD_LAB_WASM_GEMM=xnnpack keeps tfjs's own.
 */
async function attachGemm(threads: number): Promise<WasmGemmChoice> {
  const backend = tf.backend() as BackendWasm;
  const wanted = wasmGemmFromEnv();
  if (wanted === 'xnnpack' || !enableRelaxedSimd()) {
    detachWasmGemm(backend);
    return 'xnnpack';
  }
  return (await attachWasmGemm(backend, { threads, spawn: spawnNodeGemmWorker })).gemm;
}

export function wasmGemmFromEnv(env: NodeJS.ProcessEnv = process.env): WasmGemmChoice {
  const raw = env.REWARD_LAB_WASM_GEMM;
  if (raw === undefined || raw === '' || raw === 'relaxed-simd') return 'relaxed-simd';
  if (raw === 'xnnpack') return 'xnnpack';
  throw new UsageError(`REWARD_LAB_WASM_GEMM must be "relaxed-simd" or "xnnpack", got "${raw}"`);
}

async function setBackendOrThrow(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
}

export interface NodeAdapter {
  label: string;
  /** SwiftShader and other CPU implementations: correct, but far slower than wasm. */
  software: boolean;
}

let webGpu: Promise<NodeAdapter> | null = null;

/**
 * Gives Node a `navigator.gpu` from Dawn and registers tfjs's WebGPU backend on it, once.
 * The backend module reads navigator.gpu when it is first imported, so the order matters.
 */
export function prepareWebGpu(): Promise<NodeAdapter> {
  webGpu ??= (async () => {
    let dawn: typeof import('webgpu');
    try {
      dawn = await import('webgpu');
    } catch (error) {
      throw new Error(`the webgpu backend needs the optional npm package "webgpu" (Dawn for Node), which did not load: ${messageOf(error)}`, { cause: error });
    }
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      throw new Error(
        'WebGPU found no adapter: Dawn needs a Vulkan loader (libvulkan.so.1 on LD_LIBRARY_PATH) and a driver ' +
          '(VK_DRIVER_FILES or VK_ICD_FILENAMES naming its ICD json, e.g. /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json)',
      );
    }
    // Node 20 has no navigator at all; Node 21+ has one without gpu.
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    // The fused kernels serve only while 'webgpu' is the active backend (src/kernels/webgpu).
    installWebGpuKernels();
    const { vendor, architecture, description } = adapter.info;
    const label = [vendor, architecture, description].filter(Boolean).join(' / ');
    return { label, software: adapter.info.isFallbackAdapter || isSoftwareRenderer(label) };
  })();
  return webGpu;
}

export function parseBackend(value: string | undefined): NodeBackend {
  const v = value ?? 'wasm';
  if ((NODE_BACKENDS as readonly string[]).includes(v)) return v as NodeBackend;
  throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}, got "${v}"`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A mistake in how the CLI was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}
