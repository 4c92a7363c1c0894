import * as tf from '@tensorflow/tfjs';
import { installWasmKernels } from '../kernels/wasm/heapKernels.ts';

/** Engine tests run on the backend the CLI uses: wasm (XNNPACK), with its kernel replacements. */
export async function activateWasmBackend(): Promise<void> {
  installWasmKernels();
  await tf.setBackend('wasm');
  await tf.ready();
}
