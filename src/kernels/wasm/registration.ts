import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { detachWasmGemm } from './gemmKernel.ts';

/**
 * Swapping tfjs's 'wasm' backend registration for one that starts the threaded SIMD build, and
 * back. Each host builds the factory its own way (src/cli/wasmThreads.ts in Node,
 * src/worker/wasmThreads.ts in the browser); the registration around it is the same.
 */

/** The threaded glue pre-spawns 8 pthread workers (its PTHREAD_POOL_SIZE): no more threads than that. */
export const MAX_WASM_THREADS = 8;
const WASM_PRIORITY = 2; // tfjs-backend-wasm's own
let stockFactory: ReturnType<typeof tf.findBackendFactory> | null = null;

/** Registers `factory` as 'wasm', running `threads` threads; the stock registration is kept for restoreStockWasm. */
export function registerWasmFactory(factory: () => Promise<BackendWasm>, threads: number): void {
  stockFactory ??= tf.findBackendFactory('wasm');
  removeWasmBackend();
  tf.registerBackend('wasm', factory, WASM_PRIORITY);
  setThreadsCount(threads);
}

/** An emscripten module of tfjs's wasm build, as far as attachTfjsApi needs it. */
export interface WasmModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => unknown;
  tfjs?: Record<string, unknown>;
}

/** Attaches what tfjs's own init() does (backend_wasm.js): the C API BackendWasm and the kernels call. */
export function attachTfjsApi(module: WasmModule): void {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
}

/** Puts tfjs's own single-threaded 'wasm' registration back (after a failed threaded start). */
export function restoreStockWasm(): void {
  if (!stockFactory) return;
  removeWasmBackend();
  tf.registerBackend('wasm', stockFactory, WASM_PRIORITY);
  setThreadsCount(-1);
}

/** Removes the 'wasm' backend, stopping the GEMM threads attached to its instance first. */
function removeWasmBackend(): void {
  const backend = tf.engine().registry.wasm as BackendWasm | undefined;
  if (backend) detachWasmGemm(backend);
  tf.removeBackend('wasm');
}
