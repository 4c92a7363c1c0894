import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WasmGemmChoice } from '../../core/result.ts';
import { GEMM_NR } from './gemmWat.ts';
import { createWasmGemm, type SpawnGemmWorker, type WasmGemm } from './wasmGemm.ts';

/**
 * tfjs's BatchMatMul on the wasm backend, run by our relaxed-SIMD GEMM (wasmGemm.ts) where one
 * is attached to the backend and the product is one it takes: float32, a single matrix on each
 * side (rank 2, or leading dimensions of 1), N a multiple of 8. Everything else, and every
 * backend without relaxed SIMD, goes to XNNPACK as before. Transposed operands are packed
 * directly, so matMul(a, b, transposeA, transposeB) costs no separate transpose.
 */

type MatMulArgs = {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: BackendWasm;
  attrs: { transposeA: boolean; transposeB: boolean };
};

const attached = new WeakMap<BackendWasm, WasmGemm>();

/** The emscripten module fields this needs: its memory (threaded build: wasmMemory) and allocator. */
interface EmscriptenHeap {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

export interface GemmInfo {
  /** 'relaxed-simd': our FMA GEMM runs the matrix products; 'xnnpack': tfjs's own (no relaxed SIMD here). */
  gemm: WasmGemmChoice;
  threads: number;
}

/**
 * Attaches a GEMM to the active wasm backend, with `threads` threads (the threaded build's
 * shared memory and `spawn` are needed for more than one). Idempotent per backend instance.
 */
export async function attachWasmGemm(backend: BackendWasm, options: { threads: number; spawn?: SpawnGemmWorker }): Promise<GemmInfo> {
  const existing = attached.get(backend);
  if (existing) return { gemm: 'relaxed-simd', threads: existing.threads };
  const heap = backend.wasm as unknown as EmscriptenHeap;
  const memory = heap.wasmMemory ?? heap.asm?.memory;
  if (!memory) throw new Error('tfjs-backend-wasm exposes no memory to attach the GEMM to');
  const gemm = await createWasmGemm({
    memory,
    allocator: { malloc: (bytes) => heap._malloc(bytes), free: (pointer) => heap._free(pointer) },
    threads: options.threads,
    spawn: options.spawn,
  });
  if (!gemm) return { gemm: 'xnnpack', threads: options.threads };
  attached.set(backend, gemm);
  return { gemm: 'relaxed-simd', threads: gemm.threads };
}

/** Detaches (and stops) the backend's GEMM: its products go back to XNNPACK. */
export function detachWasmGemm(backend: BackendWasm): void {
  attached.get(backend)?.dispose();
  attached.delete(backend);
}

/** The product's sizes if this GEMM takes it, else null. */
function planProduct(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean) {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const single = (shape: number[]) => shape.slice(0, -2).every((d) => d === 1);
  if (!single(a.shape) || !single(b.shape)) return null;
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== kb || m === 0 || k === 0 || n === 0 || n % GEMM_NR !== 0) return null;
  // tfjs's output shape: the broadcast leading dimensions (all 1 here), then M × N.
  const lead = Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1);
  return { m, k, n, shape: [...lead, m, n] };
}

/** Whether a GEMM serves the active backend (core's matMulPacksOperands asks this). */
export function gemmServesActiveBackend(): boolean {
  return tf.getBackend() === 'wasm' && attached.has(tf.backend() as BackendWasm);
}

export function gemmMatMul({ inputs, backend, attrs }: MatMulArgs): tf.TensorInfo | null {
  const gemm = attached.get(backend);
  if (!gemm) return null;
  const { a, b } = inputs;
  const plan = planProduct(a, b, attrs.transposeA, attrs.transposeB);
  if (!plan) return null;
  const out = backend.makeOutput(plan.shape, 'float32');
  const [pa, pb, pc] = [a, b, out].map((t) => backend.getMemoryOffset(t.dataId));
  try {
    gemm.multiply(pa, pb, pc, plan.m, plan.k, plan.n, attrs.transposeA, attrs.transposeB);
  } catch (error) {
    backend.disposeData(out.dataId);
    // A GEMM whose worker died has stopped its threads: XNNPACK takes the next products.
    if (!gemm.usable) attached.delete(backend);
    throw error;
  }
  return out;
}
