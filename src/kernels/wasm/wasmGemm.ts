import { withTimeout } from '../../core/cancel.ts';
import { GEMM_MR, GEMM_NR, PACKED_A_BYTES, packedBBytes } from './gemmWat.ts';
import { GEMM_SHARED_BASE64, GEMM_UNSHARED_BASE64 } from './gemmBinary.ts';

/**
 * Runs gemmWat.ts's GEMM on tfjs-backend-wasm's own heap, on one thread or several. With the
 * threaded build's shared memory, threads − 1 extra workers each instantiate the same module on
 * that memory and take a contiguous block of C's rows (or of its 8-column panels); the calling
 * thread takes the first. A job is handed over through a control block in the heap (Atomics),
 * not postMessage, so a worker starts within microseconds and the caller blocks until all are
 * done. Threads split C, never a sum, so results are bit-identical for any thread count.
 */

/** What a host (Node's worker_threads, a browser Worker) gives each GEMM worker. */
export interface GemmWorkerInit {
  memory: WebAssembly.Memory;
  bytes: Uint8Array<ArrayBuffer>;
  /** Byte offset of this worker's control block in the heap. */
  control: number;
}
export interface GemmWorker {
  /** Resolves once the worker has instantiated the module and waits for jobs. */
  readonly ready: Promise<void>;
  terminate(): void;
}
/** Starts a worker running the host's workerSource and posts it `init`. */
export type SpawnGemmWorker = (init: GemmWorkerInit) => GemmWorker;

/** The heap's allocator (the emscripten module's _malloc/_free). */
export interface HeapAllocator {
  malloc(bytes: number): number;
  free(pointer: number): void;
}

export interface WasmGemm {
  /** C (M×N, at byte offset c) = op(A)·op(B), A at a (M×K, or K×M if transA), B at b (K×N, or N×K). */
  multiply(a: number, b: number, c: number, m: number, k: number, n: number, transA: boolean, transB: boolean): void;
  readonly threads: number;
  /** False once disposed (also after a worker failed to answer in time). */
  readonly usable: boolean;
  dispose(): void;
}

/** A small module using f32x4.relaxed_madd: whether this engine runs relaxed SIMD. */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2,
  253, 133, 2, 11,
]);

export function hasRelaxedSimd(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_SIMD_PROBE);
}

export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Control block, in 32-bit words: job number (−1: exit), last job done, failure flag, 14 arguments. */
const JOB = 0;
const DONE = 1;
const FAILED = 2;
const ARGS = 3;
const CONTROL_WORDS = 20;

/**
 * A GEMM worker's whole program. It runs as a classic script in a worker, so it must stand alone:
 * no imports, no closure, nothing a bundler would rewrite into a reference to another module.
 */
function gemmWorkerLoop(init: GemmWorkerInit, ready: () => void): void {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(init.bytes), { env: { memory: init.memory } }).exports;
  const gemm = exports.gemm as (...args: number[]) => void;
  const words = new Int32Array(init.memory.buffer, init.control, 20);
  ready();
  let seen = 0;
  for (;;) {
    Atomics.wait(words, 0, seen);
    const job = Atomics.load(words, 0);
    if (job < 0) return;
    if (job === seen) continue;
    seen = job;
    try {
      gemm(...words.subarray(3, 17));
    } catch {
      Atomics.store(words, 2, 1);
    }
    Atomics.store(words, 1, job);
    Atomics.notify(words, 1);
  }
}

/** The worker script for a host, which delivers the init message its own way. */
export function workerSource(host: 'node' | 'browser'): string {
  const loop = `(${gemmWorkerLoop.toString()})`;
  return host === 'node'
    ? `const { parentPort } = require('node:worker_threads');\nparentPort.once('message', (init) => ${loop}(init, () => parentPort.postMessage('ready')));\n`
    : `self.onmessage = (event) => ${loop}(event.data, () => self.postMessage('ready'));\n`;
}

/** A worker that has not instantiated the module by then never will (a broken script, a blocked Worker). */
const WORKER_START_TIMEOUT_MS = 20_000;

/**
 * When the caller gives up on a worker: after 60 s, or longer for a product so big that it might
 * run at under 0.2 GFLOP/s (100 multiply-adds per µs). Only a dead worker gets there.
 */
const MIN_DEADLINE_MS = 60_000;
const MIN_MACS_PER_MS = 1e5;

/** Below this many multiply-adds a GEMM runs on the calling thread: waking workers costs more. */
const THREADED_MIN_MACS = 1 << 20;

interface ThreadSlot {
  worker: GemmWorker | null;
  /** The worker's control block (null on the calling thread) and its heap address. */
  control: Int32Array | null;
  controlAt: number;
  scratchA: number;
  scratchB: number;
  scratchBBytes: number;
}

/**
 * Instantiates the GEMM on `memory` (tfjs's heap). `threads` > 1 needs a shared memory and
 * `spawn`. Returns null where this engine lacks relaxed SIMD (the caller keeps XNNPACK).
 */
export async function createWasmGemm(options: {
  memory: WebAssembly.Memory;
  allocator: HeapAllocator;
  threads: number;
  spawn?: SpawnGemmWorker;
  /** The least time a product may take before its workers count as dead (default 60 s; tests shorten it). */
  minDeadlineMs?: number;
}): Promise<WasmGemm | null> {
  if (!hasRelaxedSimd()) return null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && options.memory.buffer instanceof SharedArrayBuffer;
  const threads = shared && options.spawn ? Math.max(1, Math.floor(options.threads)) : 1;
  const bytes = decodeBase64(shared ? GEMM_SHARED_BASE64 : GEMM_UNSHARED_BASE64);
  const module = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(module, { env: { memory: options.memory } });
  const gemm = instance.exports.gemm as (...args: number[]) => void;
  const { allocator } = options;

  const slots: ThreadSlot[] = [];
  let disposed = false;
  const dispose = () => {
    disposed = true;
    for (const slot of slots) {
      if (slot.control) {
        Atomics.store(slot.control, JOB, -1);
        Atomics.notify(slot.control, JOB);
      }
      slot.worker?.terminate();
      if (slot.controlAt) allocator.free(slot.controlAt);
      if (slot.scratchB) allocator.free(slot.scratchB);
      if (slot.scratchA) allocator.free(slot.scratchA);
    }
    slots.length = 0;
  };
  try {
    for (let t = 0; t < threads; t++) {
      const slot: ThreadSlot = { worker: null, control: null, controlAt: 0, scratchA: allocator.malloc(PACKED_A_BYTES), scratchB: 0, scratchBBytes: 0 };
      slots.push(slot);
      if (t === 0) continue;
      slot.controlAt = allocator.malloc(CONTROL_WORDS * 4);
      slot.control = new Int32Array(options.memory.buffer, slot.controlAt, CONTROL_WORDS);
      slot.control.fill(0);
      slot.worker = options.spawn!({ memory: options.memory, bytes, control: slot.controlAt });
    }
    await withTimeout(Promise.all(slots.map((slot) => slot.worker?.ready)), WORKER_START_TIMEOUT_MS, 'the GEMM workers did not start');
  } catch (error) {
    dispose();
    throw error;
  }

  const waitFor = threads > 1 ? blockingWait() : () => true;
  const minDeadlineMs = options.minDeadlineMs ?? MIN_DEADLINE_MS;
  let job = 0;
  return {
    threads,
    dispose,
    get usable() {
      return !disposed;
    },
    multiply(a, b, c, m, k, n, transA, transB) {
      if (disposed) throw new Error('wasm GEMM: used after it was disposed');
      if (n % GEMM_NR !== 0) throw new RangeError(`wasm GEMM: N must be a multiple of ${GEMM_NR}, got ${n}`);
      if (m === 0 || n === 0 || k === 0) throw new RangeError(`wasm GEMM: empty product ${m}×${k}×${n}`);
      // Each thread packs all of the operand it does not split: split the rows of C when A is the
      // larger one to pack (M > N: scoring, forward passes), else its 8-column panels.
      const byRows = m > n;
      const units = byRows ? Math.ceil(m / GEMM_MR) : n / GEMM_NR;
      const used = m * k * n >= THREADED_MIN_MACS ? Math.min(threads, units) : 1;
      const cut = (t: number, size: number, end: number) => Math.min(end, Math.floor((units * t) / used) * size);
      const range = (t: number) =>
        byRows
          ? [cut(t, GEMM_MR, m), cut(t + 1, GEMM_MR, m), 0, n]
          : [0, m, cut(t, GEMM_NR, n), cut(t + 1, GEMM_NR, n)];
      for (let t = 0; t < used; t++) {
        const [, , j0, j1] = range(t);
        const slot = slots[t];
        const need = packedBBytes(j1 - j0);
        if (slot.scratchBBytes < need) {
          if (slot.scratchB) allocator.free(slot.scratchB);
          slot.scratchB = allocator.malloc(need);
          slot.scratchBBytes = need;
        }
      }
      const args = (t: number) => [a, b, c, m, k, n, transA ? 1 : 0, transB ? 1 : 0, ...range(t), slots[t].scratchA, slots[t].scratchB];
      job++;
      for (let t = 1; t < used; t++) {
        const control = slots[t].control!;
        control.set(args(t), ARGS);
        Atomics.store(control, JOB, job);
        Atomics.notify(control, JOB);
      }
      let failure: unknown = null;
      try {
        gemm(...args(0));
      } catch (error) {
        failure = error;
      }
      const deadline = Date.now() + Math.max(minDeadlineMs, (m * k * n) / MIN_MACS_PER_MS);
      for (let t = 1; t < used; t++) {
        const control = slots[t].control!;
        if (!waitFor(control, DONE, job, deadline)) {
          // A worker that died (or hangs) would block every later product: stop them all.
          dispose();
          throw new Error(`wasm GEMM: a worker thread did not finish a ${m}×${k}×${n} product in time; its threads were stopped`);
        }
        if (Atomics.exchange(control, FAILED, 0) !== 0) failure ??= new Error('wasm GEMM: a worker thread failed');
      }
      if (failure) throw failure;
    },
  };
}

/**
 * Blocks until control[index] === value (true), or until the time `deadline` (false).
 * Atomics.wait where the thread may block (Node, workers); a browser page's main thread may not,
 * and spins instead (the bench page runs there).
 */
function blockingWait(): (control: Int32Array, index: number, value: number, deadline: number) => boolean {
  let canBlock = true;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    canBlock = false;
  }
  return (control, index, value, deadline) => {
    for (;;) {
      const now = Atomics.load(control, index);
      if (now === value) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      if (canBlock) Atomics.wait(control, index, now, left);
    }
  };
}
