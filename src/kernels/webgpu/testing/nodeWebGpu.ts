import { activateBackend, prepareWebGpu } from '../../../cli/backend.ts';
import { SWIFTSHADER_ENV } from './swiftshader.ts';

/**
 * tfjs's WebGPU backend in Node, through Dawn, the way the CLI gets it. The Vulkan loader and
 * driver are found through the environment, which must be set when the process starts: here
 * Chromium's SwiftShader (a CPU Vulkan, correct but slow); on a machine with a GPU its own driver.
 * Returns the adapter's name.
 */
export async function activateNodeWebGpu(): Promise<string> {
  const adapter = await prepareWebGpu().catch((error: unknown) => {
    const env = Object.entries(SWIFTSHADER_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    throw new Error(`${(error as Error).message}. For SwiftShader, start node with ${env} (Debian chromium provides them)`, { cause: error });
  });
  await activateBackend('webgpu');
  return adapter.label;
}
