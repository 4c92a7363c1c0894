import { installFastOps } from '../../core/fastOps.ts';
import { kernelErrors } from './device.ts';
import { webGpuFastOps } from './ops.ts';

/**
 * Fused WebGPU kernels for the reward MLP, plugged into core through src/core/fastOps.ts.
 *
 * A host calls `installWebGpuKernels()` once (before or after choosing the backend): the kernels
 * serve only while tfjs's active backend is 'webgpu' and REWARD_LAB_WEBGPU_KERNELS is true, so
 * installing is harmless on wasm/cpu. Switches (see config.ts): setWebGpuKernelConfig({ enabled,
 * gemmTile, fusedStep }) or the tfjs flags REWARD_LAB_WEBGPU_KERNELS, REWARD_LAB_GEMM_TILE,
 * REWARD_LAB_FUSED_STEP.
 */
export function installWebGpuKernels(): void {
  installFastOps(webGpuFastOps);
}

/**
 * Throws when the device rejected one of the kernels (their dispatches then do nothing), so a
 * run that used them fails loudly instead of reporting numbers computed from garbage. Hosts call
 * it after each run; the shader is compiled once, so a rejection shows up on the first use.
 */
export function assertWebGpuKernelsValid(): void {
  const rejected = kernelErrors();
  if (rejected.length === 0) return;
  throw new Error(
    `the GPU rejected ${rejected.length} of Reward Lab's WebGPU kernels, so this run's numbers cannot be trusted: ${rejected.join('; ')}. ` +
      'Run again with the stock tfjs ops (tfjs flag REWARD_LAB_WEBGPU_KERNELS=false) or on wasm, and please report this.',
  );
}

export function uninstallWebGpuKernels(): void {
  installFastOps(null);
}

export {
  FLAG_ENABLED,
  FLAG_FUSED_STEP,
  FLAG_GEMM_TILE,
  GEMM_TILE_NAMES,
  getWebGpuKernelConfig,
  setWebGpuKernelConfig,
  type WebGpuKernelConfig,
} from './config.ts';
export { kernelErrors, onDispatch } from './device.ts';
