import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/** Engine tests run on the backend the CLI uses: wasm (XNNPACK). */
export async function activateWasmBackend(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
}
