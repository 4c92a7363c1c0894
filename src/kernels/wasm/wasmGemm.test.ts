import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableRelaxedSimd, spawnNodeGemmWorker } from '../../cli/gemmWorkers.ts';
import { gemmBinarySource } from './buildGemm.ts';
import { FMA_PEAK_BASE64, GEMM_SHARED_BASE64, GEMM_UNSHARED_BASE64 } from './gemmBinary.ts';
import { GEMM_KC, GEMM_MC } from './gemmWat.ts';
import { createWasmGemm, type HeapAllocator, type SpawnGemmWorker, type WasmGemm } from './wasmGemm.ts';

/**
 * The relaxed-SIMD GEMM on a memory of its own (no tfjs): against a float64 reference on every
 * transpose combination and on sizes that cut its 4×8 tiles and its KC/MC blocks, and on worker
 * threads, where it must give the same bits as on one.
 */

/** A bump allocator over a fresh memory: the tests need no free. */
function testHeap(shared: boolean) {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 4096, shared });
  let top = 1024;
  const allocator: HeapAllocator = {
    malloc(bytes) {
      const at = top;
      top = Math.ceil((top + bytes) / 64) * 64;
      const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
      if (need > 0) memory.grow(need);
      return at;
    },
    free() {},
  };
  const put = (values: Float32Array) => {
    const at = allocator.malloc(values.byteLength);
    new Float32Array(memory.buffer, at, values.length).set(values);
    return at;
  };
  const read = (at: number, length: number) => new Float32Array(memory.buffer, at, length).slice();
  return { memory, allocator, put, read };
}

/** Deterministic values in (−1, 1), some exactly representable fractions, none trivially zero. */
function values(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** op(A)·op(B) in float64, and Σ|a||b| per element: the scale of float32 rounding error. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean) {
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const x = transA ? a[p * m + i] : a[i * k + p];
        const y = transB ? b[j * k + p] : b[p * n + j];
        sum += x * y;
        abs += Math.abs(x * y);
      }
      c[i * n + j] = sum;
      scale[i * n + j] = abs;
    }
  }
  return { c, scale };
}

const GUARD = 64;
const GUARD_VALUE = 12345;

function run(gemm: WasmGemm, heap: ReturnType<typeof testHeap>, m: number, k: number, n: number, transA: boolean, transB: boolean, seed = 1) {
  const a = values(m * k, seed);
  const b = values(k * n, seed + 7);
  // C is filled with NaN (every element must be written) and followed by a guard band (nothing past it may be).
  const c = heap.allocator.malloc(m * n * 4 + GUARD * 4);
  new Float32Array(heap.memory.buffer, c, m * n).fill(Number.NaN);
  new Float32Array(heap.memory.buffer, c + m * n * 4, GUARD).fill(GUARD_VALUE);
  gemm.multiply(heap.put(a), heap.put(b), c, m, k, n, transA, transB);
  expect(heap.read(c + m * n * 4, GUARD).every((v) => v === GUARD_VALUE)).toBe(true);
  return { a, b, got: heap.read(c, m * n) };
}

function expectClose(got: Float32Array, ref: { c: Float64Array; scale: Float64Array }, k: number) {
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    // float32 accumulation over k terms: error ≤ ~k·2⁻²⁴·Σ|ab| in the worst case; far less in practice.
    const bound = (k * 2 ** -24 + 1e-7) * ref.scale[i] + 1e-30;
    worst = Math.max(worst, Math.abs(got[i] - ref.c[i]) / bound);
  }
  expect(Number.isNaN(worst)).toBe(false);
  expect(worst).toBeLessThanOrEqual(1);
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

describe('wasm GEMM (relaxed SIMD)', () => {
  beforeAll(() => {
    expect(enableRelaxedSimd()).toBe(true);
  });

  it('ships the bytes that its source assembles to (npm run build:kernels)', async () => {
    const source = await gemmBinarySource();
    expect(source).toContain(`GEMM_SHARED_BASE64 = '${GEMM_SHARED_BASE64}'`);
    expect(source).toContain(`GEMM_UNSHARED_BASE64 = '${GEMM_UNSHARED_BASE64}'`);
    expect(source).toContain(`FMA_PEAK_BASE64 = '${FMA_PEAK_BASE64}'`);
  });

  describe('on one thread', () => {
    const heap = testHeap(false);
    let gemm: WasmGemm;
    beforeAll(async () => {
      gemm = (await createWasmGemm({ memory: heap.memory, allocator: heap.allocator, threads: 1 }))!;
      expect(gemm.threads).toBe(1);
    });

    // Tile and block edges: M of 1, 3 and 5 rows (4-row tiles), past MC; K of 1, one short of and
    // one past KC, several blocks, ten blocks; N of one panel and an odd number of panels.
    const shapes: [number, number, number][] = [
      [1, 1, 8],
      [3, 5, 16],
      [5, GEMM_KC - 1, 24],
      [GEMM_MC + 3, GEMM_KC + 1, 8],
      [2 * GEMM_MC + 1, 2 * GEMM_KC + 17, 40],
      [17, 3 * GEMM_KC, 64],
      [9, 9 * GEMM_KC + 3, 16],
    ];
    for (const [transA, transB] of TRANSPOSES) {
      it(`matches a float64 reference (transposeA ${transA}, transposeB ${transB})`, () => {
        for (const [m, k, n] of shapes) {
          const { a, b, got } = run(gemm, heap, m, k, n, transA, transB);
          expectClose(got, reference(a, b, m, k, n, transA, transB), k);
        }
      });
    }

    it('sums each element over k in blocks of KC, in order: the same bits every time', () => {
      const first = run(gemm, heap, 37, 700, 32, false, true, 5).got;
      const again = run(gemm, heap, 37, 700, 32, false, true, 5).got;
      expect(again).toEqual(first);
    });

    it('refuses products it cannot run instead of writing a wrong result', () => {
      expect(() => gemm.multiply(0, 0, 0, 4, 4, 12, false, false)).toThrow(/multiple of 8, got 12/);
      expect(() => gemm.multiply(0, 0, 0, 0, 4, 8, false, false)).toThrow(/empty product 0×4×8/);
    });

    it('throws, not hangs, when an operand lies outside the memory', () => {
      expect(() => gemm.multiply(heap.memory.buffer.byteLength - 16, 1024, 1024, 64, 64, 64, false, false)).toThrow(
        /out of bounds/,
      );
    });
  });

  describe('on worker threads (shared memory)', () => {
    const heap = testHeap(true);
    const gemms: WasmGemm[] = [];
    afterAll(() => gemms.forEach((g) => g.dispose()));
    const make = async (threads: number) => {
      const gemm = (await createWasmGemm({ memory: heap.memory, allocator: heap.allocator, threads, spawn: spawnNodeGemmWorker }))!;
      gemms.push(gemm);
      return gemm;
    };

    it('gives the same bits on 1, 2 and 3 threads, and matches the reference', async () => {
      const [one, two, three] = [await make(1), await make(2), await make(3)];
      expect([one.threads, two.threads, three.threads]).toEqual([1, 2, 3]);
      // Wide C: 72 panels of 8 columns, split 36/36 and 24/24/24. Tall C: 76 tiles of 4 rows
      // (the last one short), split by rows. Both big enough to be worth threads.
      const shapes = [
        [GEMM_MC + 9, GEMM_KC + 40, 576],
        [301, GEMM_KC + 40, 64],
      ];
      for (const [m, k, n] of shapes) {
        for (const [transA, transB] of TRANSPOSES) {
          const single = run(one, heap, m, k, n, transA, transB, 3);
          expectClose(single.got, reference(single.a, single.b, m, k, n, transA, transB), k);
          expect(run(two, heap, m, k, n, transA, transB, 3).got).toEqual(single.got);
          expect(run(three, heap, m, k, n, transA, transB, 3).got).toEqual(single.got);
        }
      }
    });

    it('stops, with an error, when a worker dies instead of waiting for it forever', async () => {
      // A stand-in for a worker that dies after it started: it says it is ready, then exits.
      const dying: SpawnGemmWorker = () => {
        const worker = new Worker(`require('node:worker_threads').parentPort.postMessage('ready')`, { eval: true });
        return { ready: new Promise((resolve) => worker.once('message', () => resolve())), terminate: () => void worker.terminate() };
      };
      const gemm = (await createWasmGemm({ memory: heap.memory, allocator: heap.allocator, threads: 2, spawn: dying, minDeadlineMs: 300 }))!;
      expect(() => run(gemm, heap, 64, 512, 512, false, false)).toThrow(/did not finish a 64×512×512 product in time/);
      expect(gemm.usable).toBe(false);
      expect(() => run(gemm, heap, 64, 512, 512, false, false)).toThrow(/used after it was disposed/);
    });

    it('reports a worker that traps as an error on the calling thread', async () => {
      const two = await make(2);
      run(two, heap, 64, 512, 512, false, true, 8); // its scratch allocated: the memory's end stays put
      // Only the worker's half of B (columns 256…511 of a transposed B) lies past the memory's end.
      const [a, c] = [heap.allocator.malloc(64 * 512 * 4), heap.allocator.malloc(64 * 512 * 4)];
      const b = heap.memory.buffer.byteLength - 256 * 512 * 4;
      expect(() => two.multiply(a, b, c, 64, 512, 512, false, true)).toThrow(/worker thread failed/);
      // And it still runs the next product.
      const ok = run(two, heap, 64, 512, 512, false, false, 9);
      expectClose(ok.got, reference(ok.a, ok.b, 64, 512, 512, false, false), 512);
    });
  });
});
