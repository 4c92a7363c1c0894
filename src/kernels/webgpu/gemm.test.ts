import { afterEach, describe, expect, it } from 'vitest';
import { setWebGpuKernelConfig } from './config.ts';
import { chooseTile, gemmSource, splitTile } from './gemm.ts';

/**
 * How the GEMM picks tiles and splits (pure arithmetic, no GPU). The kernels' numbers are
 * checked against tfjs on SwiftShader in kernels.test.ts.
 */
describe('GEMM tile and split choice', () => {
  afterEach(() => setWebGpuKernelConfig({ gemmTile: 'auto' }));

  it("'auto' takes the large tile where it fills the GPU, else 64×64", () => {
    expect(chooseTile(20_480, 1024)).toEqual({ bm: 128, bn: 64, bk: 16 });
    expect(chooseTile(1024, 1024)).toEqual({ bm: 64, bn: 64, bk: 16 });
  });

  it('splits a weight gradient over the batch so that the large tile fills the GPU (dW of 1024 → 512 at batch 10,240)', () => {
    expect(splitTile(1024, 512, 20_480)).toEqual({ tile: { bm: 128, bn: 64, bk: 16 }, split: { splits: 4, kPer: 5120 } });
    expect(splitTile(2048, 1024, 20_480)).toEqual({ tile: { bm: 128, bn: 64, bk: 16 }, split: { splits: 1, kPer: 20_480 } });
    // Too short a batch to split far enough: the small tile, splits of at least 256 rows.
    expect(splitTile(64, 64, 1000)).toEqual({ tile: { bm: 64, bn: 64, bk: 16 }, split: { splits: 3, kPer: 336 } });
  });

  it('keeps a configured tile', () => {
    setWebGpuKernelConfig({ gemmTile: '64x128x8' });
    expect(chooseTile(20_480, 1024)).toEqual({ bm: 64, bn: 128, bk: 8 });
    expect(splitTile(1024, 512, 20_480).tile).toEqual({ bm: 64, bn: 128, bk: 8 });
  });

  it('moves vec4s only in tile-multiple variants that stage at least four floats per thread', () => {
    const tile = { bm: 128, bn: 64, bk: 16 } as const;
    expect(gemmSource({ layout: 'nn', tile, fit: true })).toMatch(/var<storage, read> A: array<vec4<f32>>/);
    expect(gemmSource({ layout: 'nn', tile, fit: false })).toMatch(/var<storage, read> A: array<f32>/);
    // 64×64×8 stages two floats of each operand per thread: float by float.
    expect(gemmSource({ layout: 'tn', tile: { bm: 64, bn: 64, bk: 8 }, fit: true })).toMatch(/var<storage, read> B: array<f32>/);
  });
});
