import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { hasRelaxedSimd, workerSource, type SpawnGemmWorker } from '../kernels/wasm/wasmGemm.ts';

/**
 * Node's side of the wasm GEMM (src/kernels/wasm/wasmGemm.ts): relaxed SIMD, which Node 20's V8
 * (11.3) has behind a flag that later versions ship on, and worker_threads for its threads.
 */

/** Turns relaxed SIMD on where this Node has it behind its flag. Before any module using it compiles. */
export function enableRelaxedSimd(): boolean {
  if (!hasRelaxedSimd()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return hasRelaxedSimd();
}

export const spawnNodeGemmWorker: SpawnGemmWorker = (init) => {
  const worker = new Worker(workerSource('node'), { eval: true, name: 'reward-lab-gemm' });
  // A worker blocked waiting for jobs must not keep the process alive.
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the GEMM worker exited (code ${code}) before it started`)));
  });
  worker.postMessage(init);
  return { ready, terminate: () => void worker.terminate() };
};
