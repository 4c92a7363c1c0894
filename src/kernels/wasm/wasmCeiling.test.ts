import { beforeAll, describe, expect, it } from 'vitest';
import { enableRelaxedSimd } from '../../cli/gemmWorkers.ts';
import { FMA_PEAK_CHAINS, FMA_PEAK_UNROLL } from './fmaPeakWat.ts';
import { FMA_PEAK_BASE64 } from './gemmBinary.ts';
import { timeWasmCeiling } from './wasmCeiling.ts';
import { decodeBase64 } from './wasmGemm.ts';

describe('wasm FMA ceiling', () => {
  beforeAll(() => {
    expect(enableRelaxedSimd()).toBe(true);
  });

  it('does the multiply-adds it counts: every chain steps c ← c·½ + ¼ four times per iteration', async () => {
    const { instance } = await WebAssembly.instantiate(decodeBase64(FMA_PEAK_BASE64));
    const run = instance.exports.run as (iterations: number) => number;
    const expected = (iterations: number) => {
      let c = 0;
      for (let i = 0; i < iterations * FMA_PEAK_UNROLL; i++) c = Math.fround(Math.fround(c * 0.5) + 0.25);
      let sum = 0;
      for (let chain = 0; chain < FMA_PEAK_CHAINS; chain++) sum = Math.fround(sum + c);
      return sum;
    };
    expect(run(0)).toBe(0);
    expect(run(1)).toBe(FMA_PEAK_CHAINS * 0.46875);
    for (const iterations of [2, 5, 10, 1000]) expect(run(iterations)).toBe(expected(iterations));
  });

  it('times the FMA loop and the GEMM alone, a rate per run', async () => {
    const shape = { m: 64, k: 256, n: 64 };
    const ceiling = await timeWasmCeiling(3, { shape, fmaIterations: 10_000 });
    expect(ceiling?.shape).toEqual(shape);
    for (const rates of [ceiling!.fma, ceiling!.gemm]) {
      expect(rates).toHaveLength(3);
      for (const rate of rates) expect(rate).toBeGreaterThan(0);
      for (const rate of rates) expect(Number.isFinite(rate)).toBe(true);
    }
  });
});
