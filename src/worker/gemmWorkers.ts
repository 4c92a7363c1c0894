import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { attachWasmGemm, type GemmInfo } from '../kernels/wasm/gemmKernel.ts';
import { workerSource, type SpawnGemmWorker } from '../kernels/wasm/wasmGemm.ts';

/** The browser's side of the wasm GEMM (src/kernels/wasm/wasmGemm.ts): its threads are Workers. */

const spawnBrowserGemmWorker: SpawnGemmWorker = (init) => {
  const url = URL.createObjectURL(new Blob([workerSource('browser')], { type: 'text/javascript' }));
  const worker = new Worker(url, { name: 'reward-lab-gemm' });
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (event) => reject(new Error(`a GEMM worker failed to start: ${event.message || 'no message'}`));
  }).finally(() => URL.revokeObjectURL(url));
  worker.postMessage(init);
  return { ready, terminate: () => worker.terminate() };
};

/**
 * Attaches the GEMM to the active wasm backend, on as many threads as XNNPACK has. Where this
 * browser lacks relaxed SIMD, or the GEMM fails to start, XNNPACK keeps the products.
 */
export async function attachBrowserGemm(): Promise<GemmInfo> {
  const threads = getThreadsCount();
  try {
    return await attachWasmGemm(tf.backend() as BackendWasm, { threads, spawn: spawnBrowserGemmWorker });
  } catch (error) {
    console.warn(`the relaxed-SIMD GEMM did not start (${error instanceof Error ? error.message : String(error)}); XNNPACK runs the products`);
    return { gemm: 'xnnpack', threads };
  }
}
