import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { enableRelaxedSimd } from '../cli/gemmWorkers.ts';
import { attachWasmGemm, detachWasmGemm } from '../kernels/wasm/gemmKernel.ts';
import { installWasmKernels } from '../kernels/wasm/heapKernels.ts';

/**
 * Engine tests run on the backend the CLI uses: wasm with its kernel replacements and, where
 * this Node has relaxed SIMD, our GEMM (single-threaded here: the stock build's memory is not shared).
 */
export async function activateWasmBackend(): Promise<void> {
  installWasmKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  await attachTestGemm(tf.backend() as BackendWasm);
}

async function attachTestGemm(backend: BackendWasm): Promise<void> {
  if (enableRelaxedSimd()) await attachWasmGemm(backend, { threads: 1 });
}

/** Runs `fn` with XNNPACK multiplying the matrices (the GEMM detached), then attaches the GEMM again. */
export async function withXnnpackGemm<T>(fn: () => T): Promise<T> {
  const backend = tf.backend() as BackendWasm;
  detachWasmGemm(backend);
  try {
    return fn();
  } finally {
    await attachTestGemm(backend);
  }
}
