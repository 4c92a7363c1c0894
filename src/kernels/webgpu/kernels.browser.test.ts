import { describe, expect, it } from 'vitest';
import { withBenchPage } from '../../cli/benchBrowser.ts';

/**
 * The fused kernels on the browser's own WebGPU (Chromium's, on SwiftShader here) against the
 * plain tfjs path in the same page: the large and small GEMM tiles 'auto' picks, the reductions,
 * fused Adam, whole BT/CLF training steps and scoring through mapped upload buffers. kernels.test.ts runs every check under Node's Dawn.
 */
describe('fused WebGPU kernels in headless Chromium', () => {
  it('match the plain tfjs path', { timeout: 240_000 }, async () => {
    const results = await withBenchPage((page) =>
      page.evaluate(() => window.rewardLabBench!.kernelChecks(['gemm', 'reduce', 'adam', 'train', 'upload'], ['64x64', '128x64x16'])),
    );
    expect(results.length).toBeGreaterThan(20);
    for (const suite of ['gemm', 'reduce', 'adam', 'train', 'upload']) expect(results.some((r) => r.suite === suite), suite).toBe(true);
    for (const r of results) {
      expect(r.maxAbsDiff, `${r.suite} ${r.name}: |Δ| ${r.maxAbsDiff} against scale ${r.scale}`).toBeLessThanOrEqual(r.tol * r.scale);
    }
  });
});
