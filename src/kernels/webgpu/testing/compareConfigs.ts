/**
 * One run, several kernel configurations: times the benchmark workloads (core/benchWorkloads.ts)
 * on tfjs's WebGPU backend in Node for stock tfjs and each fused-kernel setting, and prints one
 * JSON line per (config, workload) with the median rate. On a GPU machine run it without the
 * SwiftShader variables so Dawn finds the GPU's own Vulkan driver:
 *   node --import tsx src/kernels/webgpu/testing/compareConfigs.ts [config…]
 * A config is 'stock' or a tile setting ('auto', '128x128x16', …), optionally '+autodiff'
 * (fusedStep off). Default: stock auto 128x128x16 128x64.
 */
import { summarize, timeScoring, timeTraining, trainingWorkloadName, SCORING_WORKLOAD_NAME } from '../../../core/benchWorkloads.ts';
import { installWebGpuKernels, kernelErrors, setWebGpuKernelConfig } from '../index.ts';
import { activateNodeWebGpu } from './nodeWebGpu.ts';

const configs = process.argv.length > 2 ? process.argv.slice(2) : ['stock', 'auto', '128x128x16', '128x64'];
const adapter = await activateNodeWebGpu();
installWebGpuKernels();
console.log(JSON.stringify({ adapter }));

const training = [
  { objective: 'bt-mlp' as const, batch: 512, steps: 40 },
  { objective: 'bt-mlp' as const, batch: 10_240, steps: 6 },
  { objective: 'clf-mlp' as const, batch: 512, steps: 40 },
];
for (const config of configs) {
  const [tile, mode] = config.split('+');
  if (tile === 'stock') setWebGpuKernelConfig({ enabled: false });
  else setWebGpuKernelConfig({ enabled: true, gemmTile: tile, fusedStep: mode !== 'autodiff' });
  for (const w of training) {
    const m = summarize('node', 'webgpu', trainingWorkloadName(w), 'pairs/s', await timeTraining(w, 3));
    console.log(JSON.stringify({ config, workload: m.workload, unit: m.unit, median: Math.round(m.median), runs: m.runs.map(Math.round) }));
  }
  const s = summarize('node', 'webgpu', SCORING_WORKLOAD_NAME, 'rows/s', await timeScoring({ rows: 131_072, chunkRows: 8192 }, 3));
  console.log(JSON.stringify({ config, workload: s.workload, unit: s.unit, median: Math.round(s.median), runs: s.runs.map(Math.round) }));
}
if (kernelErrors().length > 0) console.log(JSON.stringify({ kernelErrors: kernelErrors() }));
process.exit(0);
