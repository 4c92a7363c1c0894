/**
 * Counts the GPU dispatches of one training step (the second: the first also creates optimizer
 * state) and of one scoring forward pass at the benchmark's shapes (2048 → 1024 → 512 → 1), for
 * stock tfjs and the fused kernels. Counting needs no results, so it does not wait for the GPU:
 * it runs in seconds even on SwiftShader. Prints one JSON line per mode.
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     node --import tsx src/kernels/webgpu/testing/countDispatches.ts [batch]
 */
import * as tf from '@tensorflow/tfjs';
import { BENCH_DIM, BENCH_HIDDEN } from '../../../core/benchWorkloads.ts';
import { initMlp, mlpForward } from '../../../core/mlp.ts';
import { Rng } from '../../../core/rng.ts';
import { parseSpec } from '../../../core/spec.ts';
import { makeOptimizer, trainingStep, type TrainingRows } from '../../../core/train.ts';
import { setWebGpuKernelConfig } from '../config.ts';
import { onDispatch } from '../device.ts';
import { installWebGpuKernels } from '../index.ts';
import { activateNodeWebGpu } from './nodeWebGpu.ts';

const batch = Number(process.argv[2] ?? 512);
await activateNodeWebGpu();
installWebGpuKernels();
const backend = tf.backend() as unknown as { runWebGPUProgram: (...args: unknown[]) => unknown };
const runProgram = backend.runWebGPUProgram;
let tfjsPrograms = 0;
let ours = 0;
backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
  tfjsPrograms++;
  return runProgram.apply(this, args);
};
onDispatch(() => ours++);

const rng = new Rng('count');
const rows = 4096;
const data: TrainingRows = {
  embeddings: tf.zeros([rows, BENCH_DIM]) as tf.Tensor2D,
  winners: Int32Array.from({ length: batch }, () => rng.int(rows)),
  losers: Int32Array.from({ length: batch }, () => rng.int(rows)),
};
const modes = [
  { mode: 'stock tfjs', enabled: false, fusedStep: false },
  { mode: 'fused kernels, tfjs autodiff', enabled: true, fusedStep: false },
  { mode: 'fused kernels, fused step', enabled: true, fusedStep: true },
];
for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
  for (const m of modes) {
    setWebGpuKernelConfig({ enabled: m.enabled, fusedStep: m.fusedStep });
    const params = initMlp(BENCH_DIM, BENCH_HIDDEN, 'pytorch', rng.fork('init'));
    const optimizer = makeOptimizer(parseSpec({ model: { objective, hidden: [...BENCH_HIDDEN], training: { batchSize: batch } } }).model.training);
    const ids = rng.sample(2 * batch, batch);
    trainingStep(objective, params, data, optimizer, ids).dispose();
    const [t0, o0] = [tfjsPrograms, ours];
    trainingStep(objective, params, data, optimizer, ids).dispose();
    const step = { tfjsPrograms: tfjsPrograms - t0, ours: ours - o0 };
    const x = tf.slice(data.embeddings, 0, 1024) as tf.Tensor2D;
    const [t1, o1] = [tfjsPrograms, ours];
    tf.tidy(() => mlpForward(params, x)).dispose();
    const score = { tfjsPrograms: tfjsPrograms - t1, ours: ours - o1 };
    console.log(JSON.stringify({ objective, batch, mode: m.mode, step, stepTotal: step.tfjsPrograms + step.ours, forward: score }));
    x.dispose();
  }
}
process.exit(0);
