/**
 * Child-process entry of the WebGPU kernel tests: activates tfjs's WebGPU backend through Dawn,
 * runs the named check suites and prints one `RESULT {json}` line per check. Exits 1 with an
 * `ERROR` line when something throws (e.g. no adapter). Run with the SwiftShader environment:
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     node --import tsx src/kernels/webgpu/testing/runChecks.ts gemm reduce adam train upload
 */
import { installWebGpuKernels, kernelErrors } from '../index.ts';
import { adamChecks, gemmChecks, reductionChecks, trainingChecks, uploadChecks, type CheckResult } from './checks.ts';
import { activateNodeWebGpu } from './nodeWebGpu.ts';

const SUITES: Record<string, (report: (r: CheckResult) => void) => Promise<void>> = {
  gemm: gemmChecks,
  reduce: reductionChecks,
  adam: adamChecks,
  train: trainingChecks,
  upload: uploadChecks,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in SUITES));
  if (names.length === 0 || unknown.length > 0) throw new Error(`usage: runChecks.ts ${Object.keys(SUITES).join('|')}…`);
  const adapter = await activateNodeWebGpu();
  console.log(`ADAPTER ${adapter}`);
  installWebGpuKernels();
  for (const name of names) {
    const t0 = performance.now();
    await SUITES[name]((r) => console.log(`RESULT ${JSON.stringify(r)}`));
    console.log(`TIME ${name} ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  }
  if (kernelErrors().length > 0) throw new Error(`kernels failed to compile:\n${kernelErrors().join('\n')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.log(`ERROR ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
