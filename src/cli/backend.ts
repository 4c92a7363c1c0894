import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendInfo } from '../core/result.ts';

export type NodeBackend = 'wasm' | 'cpu';
export const NODE_BACKENDS: readonly NodeBackend[] = ['wasm', 'cpu'];

/** Node runs tfjs on wasm (SIMD, XNNPACK) by default; cpu is the slow pure-JS reference. */
export async function activateBackend(name: NodeBackend): Promise<BackendInfo> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  return { name: tf.getBackend() };
}

export function parseBackend(value: string | undefined): NodeBackend {
  const v = value ?? 'wasm';
  if ((NODE_BACKENDS as readonly string[]).includes(v)) return v as NodeBackend;
  throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}, got "${v}"`);
}

/** A mistake in how the CLI was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}
