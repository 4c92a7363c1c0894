import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
// Registers the stock wasm kernels, the ones replaced here among them, before this module runs.
import '@tensorflow/tfjs-backend-wasm';
import { installPackedMatMulCheck } from '../../core/fastOps.ts';
import { gemmMatMul, gemmServesActiveBackend } from './gemmKernel.ts';

/**
 * Faster versions of four memory-bound tfjs-backend-wasm kernels, written in JS on the wasm heap,
 * for the cases the reward MLP's training step uses; every other case goes to the stock kernel.
 * Each result is the same bytes the stock kernel writes. Measured on this machine (2 cores, batch
 * 10,240, D 2048):
 * - GatherV2 walks the output element by element with stride arithmetic, ~750 ms for a batch of
 *   10,240 embeddings (84 MB); along axis 0 it is a list of row copies inside the wasm heap, ~15 ms.
 * - Slice reads its whole input out of the heap (readSync copies it) before copying the part it
 *   wants: cutting a 2,048-row chunk out of that batch copies all 84 MB. A contiguous slice is one
 *   copy of the part.
 * - Transpose of a 2-D matrix: ~2× faster as a cache-blocked copy (the weight gradients need xᵀ).
 * - Sum over the rows of a matrix (bias gradients) transposes it first, ~90 ms for 10,240 × 1,024;
 *   adding the rows in place takes a fraction of that, in the same order and float32 rounding.
 */

type KernelArgs<I, A> = { inputs: I; backend: BackendWasm; attrs: A };
type GatherArgs = KernelArgs<{ x: tf.TensorInfo; indices: tf.TensorInfo }, { axis: number; batchDims: number }>;
type SliceArgs = KernelArgs<{ x: tf.TensorInfo }, { begin: number | number[]; size?: number | number[] }>;
type TransposeArgs = KernelArgs<{ x: tf.TensorInfo }, { perm: number[] }>;
type SumArgs = KernelArgs<{ x: tf.TensorInfo }, { axis: number | number[]; keepDims: boolean }>;

/** 4-byte element types, copied as int32 words (exact for float32 too, NaN payloads included). */
const WORD_DTYPES: ReadonlySet<tf.DataType> = new Set(['float32', 'int32']);

/**
 * The wasm heap as it is now. Taken at each use: growing the memory (makeOutput may) replaces the
 * buffer, and an old view of a non-shared memory is detached and reads as empty. The threaded
 * build exposes its (shared) memory, whose buffer is always current; the single-threaded build
 * keeps its HEAPU8 view current itself, since only its one thread can grow the memory.
 */
function heap(backend: BackendWasm): ArrayBufferLike {
  const module = backend.wasm as unknown as { wasmMemory?: WebAssembly.Memory; HEAPU8: Uint8Array };
  return module.wasmMemory?.buffer ?? module.HEAPU8.buffer;
}
function heapBytes(backend: BackendWasm): Uint8Array {
  return new Uint8Array(heap(backend));
}
function heapWords(backend: BackendWasm): Int32Array {
  return new Int32Array(heap(backend));
}
function heapFloats(backend: BackendWasm): Float32Array {
  return new Float32Array(heap(backend));
}

function indexValues(backend: BackendWasm, indices: tf.TensorInfo): Int32Array {
  return new Int32Array(heap(backend), backend.getMemoryOffset(indices.dataId), tf.util.sizeFromShape(indices.shape));
}

function gatherRows({ inputs, backend, attrs }: GatherArgs): tf.TensorInfo | null {
  const { x, indices } = inputs;
  const axis = attrs.axis < 0 ? attrs.axis + x.shape.length : attrs.axis;
  if (axis !== 0 || attrs.batchDims !== 0 || !WORD_DTYPES.has(x.dtype) || indices.dtype !== 'int32') return null;
  const rows = x.shape[0];
  for (const id of indexValues(backend, indices)) {
    // The stock kernel's check and message.
    tf.util.assert(id >= 0 && id <= rows - 1, () => `GatherV2: the index value ${id} is not in [0, ${rows - 1}]`);
  }
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const rowBytes = (tf.util.sizeFromShape(x.shape) / Math.max(rows, 1)) * 4;
  if (rowBytes === 0) return out;
  // Views taken before makeOutput are stale (detached, empty) if it grew the memory.
  const bytes = heapBytes(backend);
  const ids = indexValues(backend, indices);
  const src = backend.getMemoryOffset(x.dataId);
  let dst = backend.getMemoryOffset(out.dataId);
  for (let i = 0; i < ids.length; i++, dst += rowBytes) {
    const from = src + ids[i] * rowBytes;
    bytes.copyWithin(dst, from, from + rowBytes);
  }
  return out;
}

function contiguousSlice({ inputs, backend, attrs }: SliceArgs): tf.TensorInfo | null {
  const { x } = inputs;
  if (!WORD_DTYPES.has(x.dtype)) return null;
  const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  if (!tf.slice_util.isSliceContinous(x.shape, begin, size)) return null;
  const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
  const out = backend.makeOutput(size, x.dtype);
  const from = backend.getMemoryOffset(x.dataId) + offset * 4;
  heapBytes(backend).copyWithin(backend.getMemoryOffset(out.dataId), from, from + tf.util.sizeFromShape(size) * 4);
  return out;
}

/** Square tiles of the blocked transpose: 64 gave the best times here on every training shape. */
const TILE = 64;

function transpose2d({ inputs, backend, attrs }: TransposeArgs): tf.TensorInfo | null {
  const { x } = inputs;
  if (x.shape.length !== 2 || attrs.perm[0] !== 1 || attrs.perm[1] !== 0 || !WORD_DTYPES.has(x.dtype)) return null;
  const [rows, cols] = x.shape;
  const out = backend.makeOutput([cols, rows], x.dtype);
  const words = heapWords(backend);
  const src = backend.getMemoryOffset(x.dataId) / 4;
  const dst = backend.getMemoryOffset(out.dataId) / 4;
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, rows);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, cols);
      for (let i = i0; i < i1; i++) {
        let s = src + i * cols + j0;
        let d = dst + j0 * rows + i;
        for (let j = j0; j < j1; j++, s++, d += rows) words[d] = words[s];
      }
    }
  }
  return out;
}

function sumRows({ inputs, backend, attrs }: SumArgs): tf.TensorInfo | null {
  const { x } = inputs;
  if (x.shape.length !== 2 || x.dtype !== 'float32') return null;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
  if (axes.length !== 1 || axes[0] !== 0) return null;
  const [rows, cols] = x.shape;
  // Row by row into float32 accumulators: the stock kernel's order and rounding, so the same bits.
  const acc = new Float32Array(cols);
  const floats = heapFloats(backend);
  const src = backend.getMemoryOffset(x.dataId) / 4;
  for (let i = 0; i < rows; i++) {
    const row = src + i * cols;
    for (let j = 0; j < cols; j++) acc[j] += floats[row + j];
  }
  const out = backend.makeOutput(attrs.keepDims ? [1, cols] : [cols], 'float32');
  heapFloats(backend).set(acc, backend.getMemoryOffset(out.dataId) / 4);
  return out;
}

const REPLACEMENTS: ReadonlyArray<[string, (args: never) => tf.TensorInfo | null]> = [
  ['BatchMatMul', gemmMatMul],
  ['GatherV2', gatherRows],
  ['Slice', contiguousSlice],
  ['Transpose', transpose2d],
  ['Sum', sumRows],
];

let installed = false;

/**
 * Puts the kernels above, and BatchMatMul on the relaxed-SIMD GEMM where one is attached
 * (gemmKernel.ts), in front of the stock ones for the 'wasm' backend (once; idempotent).
 */
export function installWasmKernels(): void {
  if (installed) return;
  for (const [name, fast] of REPLACEMENTS) {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) throw new Error(`tfjs-backend-wasm registered no ${name} kernel to replace`);
    const stockFunc = stock.kernelFunc;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc: (args) => fast(args as never) ?? stockFunc(args) });
  }
  installPackedMatMulCheck(gemmServesActiveBackend);
  installed = true;
}
