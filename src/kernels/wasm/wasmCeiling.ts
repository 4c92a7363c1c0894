import { FMA_PEAK_BASE64, GEMM_UNSHARED_BASE64 } from './gemmBinary.ts';
import { FMA_PEAK_CHAINS, FMA_PEAK_UNROLL } from './fmaPeakWat.ts';
import { GEMM_KC, GEMM_MC, GEMM_MEMORY_MAX_PAGES, packedBBytes } from './gemmWat.ts';
import { decodeBase64, hasRelaxedSimd } from './wasmGemm.ts';

/**
 * How close our wasm GEMM comes to what this engine's wasm can do at all, on one thread: the
 * rate of fmaPeakWat.ts's pure-FMA loop (the ceiling) and of the GEMM alone on one product. With
 * 128-bit vectors the ceiling is half what AVX-512 allows the native reference, which is why
 * `npm run bench` prints both: a CPU ratio against PyTorch is bounded by it.
 */

export interface WasmCeiling {
  /** GFLOP/s of each timed run of the pure-FMA loop. */
  fma: number[];
  /** GFLOP/s of each timed run of the GEMM on `shape`. */
  gemm: number[];
  shape: { m: number; k: number; n: number };
}

/** One product of the paper's first layer: a scoring chunk's rows × 2,048 inputs × 1,024 units. */
export const CEILING_GEMM_SHAPE = { m: 2048, k: 2048, n: 1024 };

const WASM_PAGE = 65536;

/** Times both on the calling thread; null where this engine lacks relaxed SIMD. */
export async function timeWasmCeiling(
  runs: number,
  options: { shape?: WasmCeiling['shape']; fmaIterations?: number } = {},
): Promise<WasmCeiling | null> {
  if (!hasRelaxedSimd()) return null;
  const shape = options.shape ?? CEILING_GEMM_SHAPE;
  const fmaIterations = options.fmaIterations ?? 20_000_000;
  return { fma: await timeFma(runs, fmaIterations), gemm: await timeGemm(runs, shape), shape };
}

/**
 * V8 runs a wasm function's first calls in its baseline compiler, compiles the optimised code in
 * the background, and swaps it in between calls, never within one; on a busy machine that took
 * anywhere from one call to a second. So: call for at least WARM_UP_MS, then on while a call is
 * still faster than every one before it.
 */
const WARM_UP_MS = 1000;
const WARM_UP_MAX_MS = 10_000;

function warmUp(call: () => void): void {
  const start = performance.now();
  let best = Infinity;
  for (;;) {
    const t0 = performance.now();
    call();
    const now = performance.now();
    const improved = now - t0 < best * 0.97;
    best = Math.min(best, now - t0);
    if (now - start >= WARM_UP_MAX_MS || (now - start >= WARM_UP_MS && !improved)) return;
  }
}

function timed(runs: number, flops: number, call: () => void): number[] {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    call();
    rates.push(flops / ((performance.now() - t0) / 1000) / 1e9);
  }
  return rates;
}

async function timeFma(runs: number, iterations: number): Promise<number[]> {
  const { instance } = await WebAssembly.instantiate(decodeBase64(FMA_PEAK_BASE64));
  const run = instance.exports.run as (iterations: number) => number;
  warmUp(() => run(Math.max(1, Math.floor(iterations / 20))));
  // Four lanes, two flops per multiply-add.
  const flops = iterations * FMA_PEAK_UNROLL * FMA_PEAK_CHAINS * 4 * 2;
  return timed(runs, flops, () => run(iterations));
}

async function timeGemm(runs: number, { m, k, n }: WasmCeiling['shape']): Promise<number[]> {
  // The single-threaded build on a memory of its own: A, B, C, then the packing scratch.
  const a = WASM_PAGE;
  const b = a + m * k * 4;
  const c = b + k * n * 4;
  const packedA = c + m * n * 4;
  const packedB = packedA + GEMM_MC * GEMM_KC * 4;
  const bytes = packedB + packedBBytes(n);
  // A memory the module imports must declare a maximum, and none above the import's.
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / WASM_PAGE), maximum: GEMM_MEMORY_MAX_PAGES });
  const floats = new Float32Array(memory.buffer);
  // Values in [-1, 1): the rate does not depend on them, but denormals or NaNs could.
  for (let i = a / 4; i < c / 4; i++) floats[i] = (Math.imul(i, 2654435761) >>> 21) / 1024 - 1;
  const { instance } = await WebAssembly.instantiate(decodeBase64(GEMM_UNSHARED_BASE64), { env: { memory } });
  const gemm = instance.exports.gemm as (...args: number[]) => void;
  const call = () => gemm(a, b, c, m, k, n, 0, 0, 0, m, 0, n, packedA, packedB);
  warmUp(call);
  return timed(runs, 2 * m * k * n, call);
}
