import * as tf from '@tensorflow/tfjs';

/**
 * Run-time switches of the fused WebGPU kernels, held as tfjs environment flags so a browser page
 * can also set them from its URL (`?tfjsflags=REWARD_LAB_GEMM_TILE:128x64`) and one benchmark run
 * can compare configurations:
 *
 *   REWARD_LAB_WEBGPU_KERNELS  bool, default true. false: every custom kernel off, stock tfjs ops.
 *   REWARD_LAB_GEMM_TILE       'auto' (default) | '64x64' | '128x64' | '64x128' | '128x128',
 *                              optionally with the k-depth: '128x128x16'. Output tile per
 *                              256-thread workgroup; 'auto' picks per matrix shape.
 *   REWARD_LAB_FUSED_STEP      bool, default true. false: training goes through tfjs autodiff
 *                              (still with the fused dense kernels and Adam).
 */

export const FLAG_ENABLED = 'REWARD_LAB_WEBGPU_KERNELS';
export const FLAG_GEMM_TILE = 'REWARD_LAB_GEMM_TILE';
export const FLAG_FUSED_STEP = 'REWARD_LAB_FUSED_STEP';

tf.env().registerFlag(FLAG_ENABLED, () => true);
tf.env().registerFlag(FLAG_GEMM_TILE, () => 'auto');
tf.env().registerFlag(FLAG_FUSED_STEP, () => true);

/** A GEMM tile: rows × columns of the output per workgroup, and the depth of each k step. */
export interface GemmTile {
  bm: 64 | 128;
  bn: 64 | 128;
  bk: 8 | 16 | 32;
}

export type GemmTileSetting = 'auto' | GemmTile;

export interface WebGpuKernelConfig {
  enabled: boolean;
  /** 'auto' or a tile name such as '128x64' or '128x128x16'. */
  gemmTile: string;
  fusedStep: boolean;
}

export const GEMM_TILE_NAMES = ['64x64', '128x64', '64x128', '128x128'] as const;

export function getWebGpuKernelConfig(): WebGpuKernelConfig {
  const env = tf.env();
  return {
    enabled: env.getBool(FLAG_ENABLED),
    gemmTile: String(env.get(FLAG_GEMM_TILE)),
    fusedStep: env.getBool(FLAG_FUSED_STEP),
  };
}

/** Changes some switches (validated: an unknown tile throws); the rest keep their values. */
export function setWebGpuKernelConfig(config: Partial<WebGpuKernelConfig>): void {
  const env = tf.env();
  if (config.gemmTile !== undefined) {
    parseGemmTile(config.gemmTile);
    env.set(FLAG_GEMM_TILE, config.gemmTile);
  }
  if (config.enabled !== undefined) env.set(FLAG_ENABLED, config.enabled);
  if (config.fusedStep !== undefined) env.set(FLAG_FUSED_STEP, config.fusedStep);
}

/** 'auto' | 'BMxBN' | 'BMxBNxBK' → a tile. Default depth: 16 for 64-row tiles, 8 otherwise. */
export function parseGemmTile(name: string): GemmTileSetting {
  if (name === 'auto') return 'auto';
  const m = /^(64|128)x(64|128)(?:x(8|16|32))?$/.exec(name);
  if (!m) throw new RangeError(`${FLAG_GEMM_TILE} must be 'auto' or BMxBN[xBK] with BM, BN in {64, 128} and BK in {8, 16, 32}, got "${name}"`);
  const bm = Number(m[1]) as GemmTile['bm'];
  const bn = Number(m[2]) as GemmTile['bn'];
  const bk = (m[3] ? Number(m[3]) : bm === 64 && bn === 64 ? 16 : 8) as GemmTile['bk'];
  return { bm, bn, bk };
}

export function tileName(t: GemmTile): string {
  return `${t.bm}x${t.bn}x${t.bk}`;
}

export function configuredTile(): GemmTileSetting {
  return parseGemmTile(String(tf.env().get(FLAG_GEMM_TILE)));
}
