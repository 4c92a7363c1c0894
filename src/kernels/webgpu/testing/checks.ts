import * as tf from '@tensorflow/tfjs';
import { CancelledError } from '../../../core/cancel.ts';
import { InMemoryEmbeddings, type EmbeddingStore } from '../../../core/dataset.ts';
import { activeFastOps, type ChunkUploads, type FastMlpOps } from '../../../core/fastOps.ts';
import { disposeMlp, initMlp, mlpForward, mlpVariables, restoreMlp, snapshotMlp, type MlpParams } from '../../../core/mlp.ts';
import { Rng } from '../../../core/rng.ts';
import { scoreRows } from '../../../core/score.ts';
import { makeOptimizer, RewardAdam, trainingStep, trainMember, type TrainingRows } from '../../../core/train.ts';
import { parseSpec } from '../../../core/spec.ts';
import { setWebGpuKernelConfig } from '../config.ts';
import { onDispatch, webGpuBackend } from '../device.ts';

/**
 * Numerical checks of every fused kernel against the plain tfjs path on the same backend, run in
 * a child process with a WebGPU adapter (see kernels.test.ts). Each check yields the largest
 * absolute difference and the scale it is judged against (the reference's largest magnitude,
 * at least 1); a check passes when diff ≤ tol · scale.
 */

export interface CheckResult {
  suite: string;
  name: string;
  maxAbsDiff: number;
  scale: number;
  tol: number;
  /** Extra figures (dispatch counts, leaks) for the report. */
  info?: Record<string, number | string>;
}

type Report = (r: CheckResult) => void;

const KERNEL_TOL = 2e-5;
const TRAIN_TOL = 1e-4;

function randn(rng: Rng, shape: number[], positiveShare = 0.5): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  // A normal with its mean shifted so about `positiveShare` of the entries are positive (masks).
  const shift = positiveShare === 0.5 ? 0 : positiveShare > 0.5 ? 0.5 : -0.5;
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal() + shift), shape);
}

async function compare(actual: tf.Tensor, expected: tf.Tensor): Promise<{ maxAbsDiff: number; scale: number }> {
  if (actual.size !== expected.size) throw new Error(`size ${actual.size} ≠ ${expected.size} ([${actual.shape}] vs [${expected.shape}])`);
  const [a, e] = await Promise.all([actual.data(), expected.data()]);
  let maxAbsDiff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
    scale = Math.max(scale, Math.abs(e[i]));
  }
  return { maxAbsDiff, scale };
}

function fastOps(): FastMlpOps {
  const ops = activeFastOps();
  if (!ops) throw new Error('fast ops are not active (installWebGpuKernels not called, or the backend is not webgpu)');
  return ops;
}

async function check(report: Report, suite: string, name: string, tol: number, make: () => [tf.Tensor, tf.Tensor]): Promise<void> {
  const [actual, expected] = make();
  try {
    report({ suite, name, tol, ...(await compare(actual, expected)) });
  } finally {
    tf.dispose([actual, expected]);
  }
}

/** Every tile setting the GEMM accepts, and 'auto'. */
export const TILES = ['64x64', '128x64', '64x128', '128x128', '128x64x16', 'auto'] as const;

/**
 * Dense forward, input gradient (masked and not) and parameter gradients, for each tile. Every
 * tile runs an odd shape (all bounds checked); 64x64 and 128x64x16, the tiles 'auto' gives small
 * and large MLP shapes, also run tile multiples (the variant without bounds checks), and 'auto' a
 * mixed shape. Each pipeline costs 1–3 s to compile on SwiftShader, so not every tile gets every
 * shape.
 */
export async function gemmChecks(report: Report, tiles: readonly string[] = TILES): Promise<void> {
  const rng = new Rng('gemm-checks');
  const shapesOf = (tile: string): [number, number, number][] => {
    if (tile === 'auto') return [[200, 40, 72]];
    if (tile === '64x64' || tile === '128x64x16') return [[37, 53, 29], [256, 128, 128]];
    return [[37, 53, 29]];
  };
  for (const tile of tiles) {
    setWebGpuKernelConfig({ gemmTile: tile });
    const ops = fastOps();
    for (const [M, K, N] of shapesOf(tile)) {
      const at = `${tile} M${M} K${K} N${N}`;
      const x = randn(rng, [M, K]) as tf.Tensor2D;
      const w = randn(rng, [K, N]) as tf.Tensor2D;
      const b = randn(rng, [N]) as tf.Tensor1D;
      const g = randn(rng, [M, N]) as tf.Tensor2D;
      const mask = randn(rng, [M, K]) as tf.Tensor2D;
      await check(report, 'gemm', `dense+bias+relu ${at}`, KERNEL_TOL, () => [
        ops.dense(x, w, b, true),
        tf.tidy(() => tf.relu(tf.add(tf.matMul(x, w), b))),
      ]);
      await check(report, 'gemm', `dense+bias ${at}`, KERNEL_TOL, () => [ops.dense(x, w, b, false), tf.tidy(() => tf.add(tf.matMul(x, w), b))]);
      await check(report, 'gemm', `dx=(g·Wᵀ)⊙[h>0] ${at}`, KERNEL_TOL, () => [
        ops.denseInputGrad(g, w, mask),
        tf.tidy(() => tf.mul(tf.matMul(g, w, false, true), tf.step(mask))),
      ]);
      await check(report, 'gemm', `dx=g·Wᵀ ${at}`, KERNEL_TOL, () => [ops.denseInputGrad(g, w, null), tf.matMul(g, w, false, true)]);
      const dw = ops.denseWeightGrad(x, g);
      const db = ops.biasGrad(g, false);
      await check(report, 'gemm', `dW=xᵀ·g ${at} (${dw.shape[0]} partial sums)`, KERNEL_TOL, () => [tf.sum(dw, 0), tf.matMul(x, g, true, false)]);
      await check(report, 'gemm', `db=Σ_rows g ${at}`, KERNEL_TOL, () => [tf.sum(db, 0), tf.sum(g, 0)]);
      tf.dispose([x, w, b, g, mask, dw, db]);
    }
  }
  setWebGpuKernelConfig({ gemmTile: 'auto' });
}

/** Split-K parameter gradients over long batches, the 1-wide layer's kernels, and the loss heads. */
export async function reductionChecks(report: Report): Promise<void> {
  const rng = new Rng('reduction-checks');
  const ops = fastOps();
  for (const tile of ['64x64', '128x128']) {
    setWebGpuKernelConfig({ gemmTile: tile });
    for (const [M, K, N] of [
      [1100, 24, 40], // splits of 280 rows: the last one ragged
      [1024, 64, 64], // splits that are tile-depth multiples
    ]) {
      const x = randn(rng, [M, K]) as tf.Tensor2D;
      const g = randn(rng, [M, N]) as tf.Tensor2D;
      const dw = ops.denseWeightGrad(x, g);
      const db = ops.biasGrad(g, false);
      const at = `${tile} M${M} K${K} N${N} (${dw.shape[0]} partial sums)`;
      await check(report, 'reduce', `split-K dW ${at}`, KERNEL_TOL, () => [tf.sum(dw, 0), tf.matMul(x, g, true, false)]);
      await check(report, 'reduce', `db ${at}`, KERNEL_TOL, () => [tf.sum(db, 0), tf.sum(g, 0)]);
      tf.dispose([x, g, dw, db]);
    }
  }
  setWebGpuKernelConfig({ gemmTile: 'auto' });
  // The 1-wide output layer: forward (row dot), dW (weighted column sum), dx (K = 1 GEMM).
  for (const [M, K] of [
    [37, 53],
    [300, 512],
  ]) {
    const x = randn(rng, [M, K]) as tf.Tensor2D;
    const w = randn(rng, [K, 1]) as tf.Tensor2D;
    const b = randn(rng, [1]) as tf.Tensor1D;
    const g = randn(rng, [M, 1]) as tf.Tensor2D;
    const mask = randn(rng, [M, K]) as tf.Tensor2D;
    const at = `M${M} K${K} N1`;
    await check(report, 'reduce', `dense N=1 ${at}`, KERNEL_TOL, () => [ops.dense(x, w, b, false), tf.tidy(() => tf.add(tf.matMul(x, w), b))]);
    await check(report, 'reduce', `dense N=1 relu ${at}`, KERNEL_TOL, () => [
      ops.dense(x, w, b, true),
      tf.tidy(() => tf.relu(tf.add(tf.matMul(x, w), b))),
    ]);
    const dw = ops.denseWeightGrad(x, g);
      const db = ops.biasGrad(g, false);
    await check(report, 'reduce', `dW N=1 ${at}`, KERNEL_TOL, () => [tf.sum(dw, 0), tf.matMul(x, g, true, false)]);
    await check(report, 'reduce', `db N=1 ${at}`, KERNEL_TOL, () => [tf.sum(db, 0), tf.sum(g, 0)]);
    await check(report, 'reduce', `dx N=1 masked ${at}`, KERNEL_TOL, () => [
      ops.denseInputGrad(g, w, mask),
      tf.tidy(() => tf.mul(tf.matMul(g, w, false, true), tf.step(mask))),
    ]);
    tf.dispose([x, w, b, g, mask, dw, db]);
  }
  // BT bias gradients: rows i and i + M/2 added first, so a pair's exact negatives cancel exactly.
  for (const M of [74, 1100]) {
    const g = randn(rng, [M, 40]) as tf.Tensor2D;
    const half = tf.slice(g, [0, 0], [M / 2, 40]);
    const mirrored = tf.concat([half, tf.neg(half)]) as tf.Tensor2D;
    await check(report, 'reduce', `db paired halves M${M}`, KERNEL_TOL, () => [tf.sum(ops.biasGrad(g, true), 0), tf.sum(g, 0)]);
    await check(report, 'reduce', `db paired halves of mirrored rows is exactly 0, M${M}`, 0, () => [
      tf.sum(ops.biasGrad(mirrored, true), 0),
      tf.zeros([40]),
    ]);
    tf.dispose([g, half, mirrored]);
  }
  // Segment sums: exact, in member order (sums in float32 as JS adds them with fround), with
  // empty segments and members in any order, past one workgroup of segments.
  for (const segments of [5, 700]) {
    const members: number[] = [];
    const offsets = [0];
    for (let r = 0; r < segments; r++) {
      for (let e = rng.int(4); e > 0; e--) members.push(rng.int(3 * segments));
      offsets.push(members.length);
    }
    const values = Float32Array.from({ length: 3 * segments }, () => rng.normal());
    const expected = Float32Array.from({ length: segments }, (_, r) =>
      members.slice(offsets[r], offsets[r + 1]).reduce((sum, m) => Math.fround(sum + values[m]), 0),
    );
    const [v, o, m] = [tf.tensor1d(values), tf.tensor1d(offsets, 'int32'), tf.tensor1d(members, 'int32')];
    await check(report, 'reduce', `segment sums in member order, ${segments} segments`, 0, () => [ops.segmentSum(v, o, m), tf.tensor1d(expected)]);
    tf.dispose([v, o, m]);
  }
  // Loss heads against tfjs's formulas and autodiff gradients: unweighted (checked against the
  // plain means too), and with the counts of a batch whose duplicates are forwarded once (a pair
  // or response standing for up to 3 of its rows).
  const total = (c: Float32Array) => c.reduce((s, v) => s + v, 0);
  for (const n of [37, 700]) {
    const f = tf.mul(randn(rng, [2 * n]), 3) as tf.Tensor1D;
    const labels = Float32Array.from({ length: 2 * n }, () => (rng.next() < 0.5 ? 1 : 0));
    const counts = Float32Array.from({ length: 2 * n }, () => 1 + rng.int(3));
    const cases = [
      { what: 'unweighted', btCount: new Float32Array(n).fill(1), clfCount: new Float32Array(2 * n).fill(1), clfWins: labels },
      { what: 'counted', btCount: counts.slice(0, n), clfCount: counts, clfWins: counts.map((c) => rng.int(c + 1)) },
    ];
    for (const c of cases) {
      const [btCount, clfCount, clfWins] = [tf.tensor1d(c.btCount), tf.tensor1d(c.clfCount), tf.tensor1d(c.clfWins)];
      const margin = (t: tf.Tensor) => tf.sub(tf.slice(t as tf.Tensor1D, 0, n), tf.slice(t as tf.Tensor1D, n, n));
      const btLoss = (t: tf.Tensor) => tf.div(tf.sum(tf.mul(btCount, tf.softplus(tf.neg(margin(t))))), total(c.btCount)) as tf.Scalar;
      const clfLoss = (t: tf.Tensor) => tf.div(tf.sum(tf.sub(tf.mul(clfCount, tf.softplus(t)), tf.mul(t, clfWins))), total(c.clfCount)) as tf.Scalar;
      const bt = ops.lossAndGrad('bt-mlp', f, { count: btCount, wins: null, rows: total(c.btCount) });
      const clf = ops.lossAndGrad('clf-mlp', f, { count: clfCount, wins: clfWins, rows: total(c.clfCount) });
      if (c.what === 'unweighted') {
        await check(report, 'reduce', `BT loss is the plain mean, n${n}`, KERNEL_TOL, () => [tf.clone(bt.loss), tf.mean(tf.softplus(tf.neg(margin(f))))]);
        await check(report, 'reduce', `CLF loss is the plain mean, n${n}`, KERNEL_TOL, () => [
          tf.clone(clf.loss),
          tf.mean(tf.sub(tf.softplus(f), tf.mul(f, clfWins))),
        ]);
      }
      await check(report, 'reduce', `BT loss ${c.what} n${n}`, KERNEL_TOL, () => [bt.loss, btLoss(f)]);
      await check(report, 'reduce', `BT dloss/df ${c.what} n${n}`, KERNEL_TOL, () => [bt.df, tf.grad(btLoss)(f)]);
      await check(report, 'reduce', `CLF loss ${c.what} n${n}`, KERNEL_TOL, () => [clf.loss, clfLoss(f)]);
      await check(report, 'reduce', `CLF dloss/df ${c.what} n${n}`, KERNEL_TOL, () => [clf.df, tf.grad(clfLoss)(f)]);
      tf.dispose([btCount, clfCount, clfWins]);
    }
    f.dispose();
  }
}

/** Fused Adam against tf.train.adam(lr, 0.9, 0.999, 1e-8), with whole and split gradients. */
export async function adamChecks(report: Report): Promise<void> {
  const rng = new Rng('adam-checks');
  const before = tf.memory().numTensors;
  for (const parts of [1, 3]) {
    for (const shape of [[37, 29], [29], [1]]) {
      // Both variables share the initial tensor's storage: the fused update must copy first.
      const init = randn(rng, shape);
      const fusedVar = tf.variable(init);
      const plainVar = tf.variable(init);
      init.dispose();
      const fused = new RewardAdam(0.01, 0.9, 0.999, 1e-8);
      const plain = tf.train.adam(0.01, 0.9, 0.999, 1e-8);
      for (let step = 0; step < 3; step++) {
        const partials = randn(rng, [parts, ...shape]);
        const whole = tf.sum(partials, 0);
        fused.applyFusedGradients(fastOps(), [fusedVar], [partials]);
        plain.applyGradients([{ name: plainVar.name, tensor: whole }]);
        tf.dispose([partials, whole]);
      }
      await check(report, 'adam', `3 steps, [${shape}], ${parts} partial sum${parts > 1 ? 's' : ''}`, KERNEL_TOL, () => [
        tf.clone(fusedVar),
        tf.clone(plainVar),
      ]);
      tf.dispose([fusedVar, plainVar]);
      fused.dispose();
      plain.dispose();
    }
  }
  // In place must not write through shared storage: a clone (what snapshots are) keeps its values.
  {
    const v = tf.tidy(() => tf.variable(randn(rng, [64, 8])));
    const snapshot = tf.clone(v);
    const kept = await snapshot.data();
    const opt = new RewardAdam(0.01, 0.9, 0.999, 1e-8);
    const grad = randn(rng, [1, 64, 8]);
    opt.applyFusedGradients(fastOps(), [v], [grad]);
    const after = await snapshot.data();
    const moved = await v.data();
    let changed = 0;
    for (let i = 0; i < moved.length; i++) if (moved[i] !== kept[i]) changed++;
    report({
      suite: 'adam',
      name: 'a clone of the variable keeps its values (copy on write)',
      maxAbsDiff: Math.max(...after.map((x, i) => Math.abs(x - kept[i]))) + (changed === moved.length ? 0 : Infinity),
      scale: 1,
      tol: 0,
    });
    tf.dispose([v, snapshot, grad]);
    opt.dispose();
  }
  report(leak('adam', before));
}

function leak(suite: string, before: number): CheckResult {
  const leaked = tf.memory().numTensors - before;
  return { suite, name: 'no tensor leaks', maxAbsDiff: Math.abs(leaked), scale: 1, tol: 0, info: { leakedTensors: leaked } };
}

interface StepRun {
  losses: number[];
  weights: Float32Array[];
  dispatches: { ours: number; tfjs: number };
}

/** Counts tfjs's own programs by wrapping the backend's runWebGPUProgram (and uploads do not count). */
function countTfjsPrograms(): { count: () => number; restore: () => void } {
  const backend = tf.backend() as unknown as { runWebGPUProgram: (...args: unknown[]) => unknown };
  const original = backend.runWebGPUProgram;
  let n = 0;
  backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  return { count: () => n, restore: () => void (backend.runWebGPUProgram = original) };
}

async function runSteps(
  mode: 'stock' | 'fused' | 'autodiff',
  objective: 'bt-mlp' | 'clf-mlp',
  dim: number,
  hidden: number[],
  batch: number,
  steps: number,
): Promise<StepRun> {
  setWebGpuKernelConfig({ enabled: mode !== 'stock', fusedStep: mode === 'fused' });
  const rng = new Rng(`train-${objective}-${dim}`);
  // Each batch draws half the symmetrised rows, as the paper's 10,240 of 16,000 do: many pairs come
  // in both orientations, and responses shared by several pairs, both forwarded once.
  const pairs = batch;
  const rows = 2 * batch;
  const data: TrainingRows = {
    embeddings: randn(rng, [rows, dim]) as tf.Tensor2D,
    winners: Int32Array.from({ length: pairs }, () => rng.int(rows)),
    losers: Int32Array.from({ length: pairs }, () => rng.int(rows)),
  };
  const spec = parseSpec({ model: { objective, hidden, training: { batchSize: batch } } });
  const params = initMlp(dim, hidden, 'pytorch', rng.fork('init'));
  const optimizer = makeOptimizer(spec.model.training);
  const batches = Array.from({ length: steps }, () => rng.sample(2 * pairs, batch));
  const losses: number[] = [];
  let ours = 0;
  const stop = onDispatch(() => ours++);
  const tfjs = countTfjsPrograms();
  let counted = { ours: 0, tfjs: 0 };
  try {
    for (let s = 0; s < steps; s++) {
      const [ours0, tfjs0] = [ours, tfjs.count()];
      const loss = trainingStep(objective, params, data, optimizer, batches[s]);
      // Counted on the last step: the first one also creates the optimizer's state.
      if (s === steps - 1) counted = { ours: ours - ours0, tfjs: tfjs.count() - tfjs0 };
      losses.push((await loss.data())[0]);
      loss.dispose();
    }
    const weights = await Promise.all(mlpVariables(params).map(async (v) => (await v.data()) as Float32Array));
    return { losses, weights, dispatches: counted };
  } finally {
    stop();
    tfjs.restore();
    optimizer.dispose();
    disposeMlp(params);
    data.embeddings.dispose();
    setWebGpuKernelConfig({ enabled: true, fusedStep: true });
  }
}

function arraysDiff(a: Float32Array[] | number[], b: Float32Array[] | number[]): { maxAbsDiff: number; scale: number } {
  let maxAbsDiff = 0;
  let scale = 1;
  const flat = (x: Float32Array[] | number[]) => (typeof x[0] === 'number' ? [Float32Array.from(x as number[])] : (x as Float32Array[]));
  const fa = flat(a);
  const fb = flat(b);
  fa.forEach((arr, j) =>
    arr.forEach((v, i) => {
      const d = Math.abs(v - fb[j][i]);
      maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
      scale = Math.max(scale, Math.abs(fb[j][i]));
    }),
  );
  return { maxAbsDiff, scale };
}

/** Whole training steps: fused and autodiff-on-fast-kernels against stock tfjs, determinism, leaks. */
export async function trainingChecks(report: Report): Promise<void> {
  const before = tf.memory().numTensors;
  const configs: { dim: number; hidden: number[]; batch: number; label: string }[] = [
    { dim: 53, hidden: [37, 29], batch: 24, label: 'odd sizes' },
    { dim: 128, hidden: [128, 64], batch: 64, label: 'tile multiples' },
  ];
  for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
    for (const c of configs) {
      const at = `${objective} ${c.dim}→${c.hidden.join('→')}→1 batch ${c.batch} (${c.label})`;
      const stock = await runSteps('stock', objective, c.dim, c.hidden, c.batch, 3);
      const fused = await runSteps('fused', objective, c.dim, c.hidden, c.batch, 3);
      const autodiff = await runSteps('autodiff', objective, c.dim, c.hidden, c.batch, 3);
      const info = (r: StepRun) => ({ ourDispatches: r.dispatches.ours, tfjsPrograms: r.dispatches.tfjs });
      report({ suite: 'train', name: `fused step losses, ${at}`, tol: TRAIN_TOL, ...arraysDiff(fused.losses, stock.losses), info: info(fused) });
      report({ suite: 'train', name: `fused step weights after 3 steps, ${at}`, tol: TRAIN_TOL, ...arraysDiff(fused.weights, stock.weights) });
      report({ suite: 'train', name: `autodiff-on-kernels losses, ${at}`, tol: TRAIN_TOL, ...arraysDiff(autodiff.losses, stock.losses), info: info(autodiff) });
      report({ suite: 'train', name: `autodiff-on-kernels weights, ${at}`, tol: TRAIN_TOL, ...arraysDiff(autodiff.weights, stock.weights) });
      report({ suite: 'train', name: `stock step (reference), ${at}`, tol: 0, maxAbsDiff: 0, scale: 1, info: info(stock) });
      if (c.label === 'odd sizes') {
        const again = await runSteps('fused', objective, c.dim, c.hidden, c.batch, 3);
        report({ suite: 'train', name: `fused step is deterministic, ${at}`, tol: 0, ...arraysDiff(again.weights, fused.weights) });
      }
    }
  }
  await distinctForwardChecks(report);
  for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
    for (const mode of ['fused', 'stock'] as const) report(await buffersPerStep(objective, mode));
  }
  report(await releaseIdleMemoryCheck());
  report(await releasedPerEpochCheck());
  // Scoring through mlpForward (the fused forward), and a snapshot/restore round trip.
  {
    const rng = new Rng('score');
    const params: MlpParams = initMlp(53, [37, 29], 'pytorch', rng);
    const x = randn(rng, [45, 53]) as tf.Tensor2D;
    setWebGpuKernelConfig({ enabled: false });
    const stock = tf.tidy(() => mlpForward(params, x));
    setWebGpuKernelConfig({ enabled: true });
    await check(report, 'train', 'mlpForward on the fused kernels', KERNEL_TOL, () => [tf.tidy(() => mlpForward(params, x)), tf.clone(stock)]);
    const fastBefore = tf.tidy(() => mlpForward(params, x));
    const snapshot = snapshotMlp(params);
    const opt = makeOptimizer(parseSpec({}).model.training);
    const data: TrainingRows = { embeddings: x, winners: Int32Array.from([0, 1, 2, 3]), losers: Int32Array.from([4, 5, 6, 7]) };
    trainingStep('bt-mlp', params, data, opt, Int32Array.from([0, 2, 4, 6])).dispose();
    restoreMlp(params, snapshot);
    await check(report, 'train', 'a snapshot taken before a fused step restores the same outputs', 0, () => [
      tf.tidy(() => mlpForward(params, x)),
      fastBefore,
    ]);
    tf.dispose([x, stock, ...snapshot]);
    opt.dispose();
    disposeMlp(params);
  }
  report(leak('train', before));
}

/**
 * GPU buffers created while a steady-state step is recorded, batches of constant shape (pairs with
 * responses of their own): none with the fused kernels, whose uploads are queue writes into the
 * pool (device.ts); tfjs's own uploads create a staging buffer each (the stock count, for scale).
 */
async function buffersPerStep(objective: 'bt-mlp' | 'clf-mlp', mode: 'fused' | 'stock'): Promise<CheckResult> {
  setWebGpuKernelConfig({ enabled: mode === 'fused' });
  const rng = new Rng(`buffers-${objective}`);
  const pairs = 32;
  const data: TrainingRows = {
    embeddings: randn(rng, [2 * pairs, 64]) as tf.Tensor2D,
    winners: Int32Array.from({ length: pairs }, (_, p) => 2 * p),
    losers: Int32Array.from({ length: pairs }, (_, p) => 2 * p + 1),
  };
  const params = initMlp(64, [32, 16], 'pytorch', rng.fork('init'));
  const optimizer = makeOptimizer(parseSpec({ model: { objective, hidden: [32, 16], training: { batchSize: 16 } } }).model.training);
  // BT: 16 distinct pairs; CLF: 16 distinct responses. Same shapes every step.
  const batch = () => (objective === 'bt-mlp' ? rng.sample(pairs, 16).map((p) => 2 * p) : rng.sample(2 * pairs, 16));
  const device = webGpuBackend().device;
  const createBuffer = device.createBuffer.bind(device);
  let created = 0;
  try {
    for (let s = 0; s < 4; s++) {
      if (s === 3) {
        device.createBuffer = (descriptor) => {
          created++;
          return createBuffer(descriptor);
        };
      }
      const loss = trainingStep(objective, params, data, optimizer, batch());
      device.createBuffer = createBuffer;
      await loss.data();
      loss.dispose();
    }
  } finally {
    device.createBuffer = createBuffer;
    optimizer.dispose();
    disposeMlp(params);
    data.embeddings.dispose();
    setWebGpuKernelConfig({ enabled: true });
  }
  return { suite: 'train', name: `buffers created by a steady-state ${mode} ${objective} step`, tol: 0, maxAbsDiff: 0, scale: 1, info: { buffersCreated: created } };
}

/**
 * Steps whose batches differ in size leave buffers of each size in tfjs's pool; releaseIdleMemory
 * destroys them (between steps, with work still queued), and the weights come out exactly as
 * without it.
 */
async function releaseIdleMemoryCheck(): Promise<CheckResult> {
  const pool = webGpuBackend().bufferManager;
  const train = async (release: boolean) => {
    const rng = new Rng('release-idle');
    const data: TrainingRows = {
      embeddings: randn(rng, [64, 32]) as tf.Tensor2D,
      winners: Int32Array.from({ length: 32 }, (_, p) => 2 * p),
      losers: Int32Array.from({ length: 32 }, (_, p) => 2 * p + 1),
    };
    const params = initMlp(32, [16, 8], 'pytorch', rng.fork('init'));
    const optimizer = makeOptimizer(parseSpec({ model: { hidden: [16, 8] } }).model.training);
    let idleBefore = 0;
    let idleAfter = 0;
    for (const size of [8, 12, 16, 20]) {
      trainingStep('bt-mlp', params, data, optimizer, rng.sample(32, size).map((p) => 2 * p)).dispose();
      if (release) {
        idleBefore = Math.max(idleBefore, pool.numBytesAllocated - pool.numBytesUsed);
        fastOps().releaseIdleMemory!(0);
        idleAfter = Math.max(idleAfter, pool.numBytesAllocated - pool.numBytesUsed, pool.numFreeBuffers);
      }
    }
    const weights = await Promise.all(mlpVariables(params).map(async (v) => (await v.data()) as Float32Array));
    optimizer.dispose();
    disposeMlp(params);
    data.embeddings.dispose();
    return { weights, idleBefore, idleAfter };
  };
  const kept = await train(false);
  const released = await train(true);
  return {
    suite: 'train',
    name: 'releaseIdleMemory between steps of different sizes',
    tol: 0,
    ...arraysDiff(released.weights, kept.weights),
    info: { idleBytesBefore: released.idleBefore, idleAfter: released.idleAfter },
  };
}

/** trainMember gives idle memory back after every epoch (with the trainer's 256 MiB allowance). */
async function releasedPerEpochCheck(): Promise<CheckResult> {
  const ops = fastOps();
  const release = ops.releaseIdleMemory!;
  const allowances: number[] = [];
  ops.releaseIdleMemory = (keepBytes) => {
    allowances.push(keepBytes);
    release(keepBytes);
  };
  const rng = new Rng('per-epoch');
  const data: TrainingRows = {
    embeddings: randn(rng, [40, 16]) as tf.Tensor2D,
    winners: Int32Array.from({ length: 20 }, (_, p) => 2 * p),
    losers: Int32Array.from({ length: 20 }, (_, p) => 2 * p + 1),
  };
  try {
    const model = parseSpec({ model: { hidden: [8], training: { epochs: 3, batchSize: 8, patience: 3 } } }).model;
    const member = await trainMember(model, data, rng.fork('member'));
    disposeMlp(member.params);
    return { suite: 'train', name: 'trainMember releases idle memory after each epoch', tol: 0, maxAbsDiff: 0, scale: 1, info: { epochs: member.epochsRun, releases: allowances.length, keepBytes: allowances[0] ?? -1 } };
  } finally {
    ops.releaseIdleMemory = release;
    data.embeddings.dispose();
  }
}

/**
 * How many rows the fused step forwards for a batch holding pairs 0 and 1 in both orientations and
 * response 0 in two pairs: each distinct response once, 7 for BT's 4 pairs and 5 for CLF's rows.
 */
async function distinctForwardChecks(report: Report): Promise<void> {
  const rng = new Rng('distinct-forward');
  const x = randn(rng, [8, 16]) as tf.Tensor2D;
  const data: TrainingRows = { embeddings: x, winners: Int32Array.from([0, 1, 2, 0]), losers: Int32Array.from([3, 4, 5, 6]) };
  const batch = Int32Array.from([0, 1, 2, 3, 4, 6]);
  const ops = fastOps();
  const dense = ops.dense;
  for (const [objective, expected] of [['bt-mlp', 7], ['clf-mlp', 5]] as const) {
    const params = initMlp(16, [8], 'pytorch', rng.fork(objective));
    const opt = makeOptimizer(parseSpec({}).model.training);
    const forwarded: number[] = [];
    ops.dense = (input, ...rest) => {
      forwarded.push(input.shape[0]);
      return dense.call(ops, input, ...rest);
    };
    try {
      trainingStep(objective, params, data, opt, batch).dispose();
    } finally {
      ops.dense = dense;
      opt.dispose();
      disposeMlp(params);
    }
    const name = `fused ${objective} step forwards each distinct response once`;
    report({ suite: 'train', name, tol: 0, maxAbsDiff: Math.abs(forwarded[0] - expected), scale: 1, info: { forwardedRows: forwarded[0], expected } });
  }
  x.dispose();
}

/** A store that reads into the memory it is given (as the file stores do), or returns its own rows. */
class CheckStore implements EmbeddingStore {
  readonly given: boolean[] = [];
  constructor(
    private readonly inner: InMemoryEmbeddings,
    private readonly fillGiven: boolean,
    private readonly failAt: number | null = null,
  ) {}
  get rows() {
    return this.inner.rows;
  }
  get dim() {
    return this.inner.dim;
  }
  async readRange(start: number, end: number, _signal?: AbortSignal, into?: Float32Array): Promise<Float32Array> {
    this.given.push(into !== undefined);
    if (start === this.failAt) throw new Error(`disk error at row ${start}`);
    const rows = await this.inner.readRange(start, end);
    if (!this.fillGiven || into === undefined) return rows;
    into.set(rows);
    return into;
  }
  gather(rows: Int32Array): Promise<Float32Array> {
    return this.inner.gather(rows);
  }
}

/**
 * Scoring through mapped upload buffers (upload.ts) against tf.tensor2d uploads, on the same
 * fused kernels: the same bits, whether the store reads into the upload memory or returns rows of
 * its own, with a short last chunk; a failed read and a cancel end the run with their own error
 * and leave nothing behind.
 */
export async function uploadChecks(report: Report): Promise<void> {
  const before = tf.memory().numTensors;
  const ops = fastOps();
  const mapped = ops.chunkUploads;
  if (!mapped) throw new Error('the WebGPU fast ops offer no chunk uploads');
  // Counts uploads, and those whose data is the upload memory itself (no copy).
  let uploads = 0;
  let inPlace = 0;
  const counted = (floats: number): ChunkUploads => {
    const inner = mapped(floats);
    const handedOut = new Map<number, Float32Array>();
    return {
      memory: async (index, length) => {
        const memory = await inner.memory(index, length);
        handedOut.set(index, memory);
        return memory;
      },
      toTensor: (index, data, rows, dim) => {
        uploads++;
        if (data === handedOut.get(index)) inPlace++;
        return inner.toTensor(index, data, rows, dim);
      },
      dispose: () => inner.dispose(),
    };
  };
  const rng = new Rng('upload-checks');
  const dim = 40;
  const rows = 100;
  const chunkRows = 32; // 32, 32, 32, 4
  // Several models, as a pass shared by seeds or sweep cells has: each chunk is uploaded once for all.
  const models = [[24], [16, 8], []].map((hidden) => initMlp(dim, hidden, 'pytorch', rng));
  const params = models[0];
  const embeddings = new InMemoryEmbeddings(Float32Array.from({ length: rows * dim }, () => rng.normal()), dim);
  const members = [{ kind: 'mlp' as const, params }];
  const allMembers = models.map((p) => ({ kind: 'mlp' as const, params: p }));
  try {
    ops.chunkUploads = undefined;
    const [reference] = await scoreRows(new CheckStore(embeddings, true), members, { chunkRows });
    const alone = await Promise.all(allMembers.map(async (m) => (await scoreRows(new CheckStore(embeddings, true), [m], { chunkRows }))[0]));
    ops.chunkUploads = counted;
    for (const fillGiven of [true, false]) {
      uploads = 0;
      inPlace = 0;
      const store = new CheckStore(embeddings, fillGiven);
      const [scores] = await scoreRows(store, members, { chunkRows });
      report({
        suite: 'upload',
        name: `scores through mapped uploads, store ${fillGiven ? 'reads into the upload memory' : 'returns its own rows'}`,
        tol: 0,
        ...arraysDiff([scores], [reference]),
        info: { uploads, inPlace, readsGivenMemory: store.given.filter(Boolean).length },
      });
    }
    uploads = 0;
    const together = await scoreRows(new CheckStore(embeddings, true), allMembers, { chunkRows });
    const onePerChunk = uploads === Math.ceil(rows / chunkRows);
    report({
      suite: 'upload',
      name: 'three models score one pass through mapped uploads, one upload per chunk, as each scores alone',
      tol: 0,
      ...(onePerChunk ? arraysDiff(together, alone) : { maxAbsDiff: Infinity, scale: 1 }),
      info: { uploads },
    });
    for (const ending of ['a failed read', 'a cancel'] as const) {
      const controller = new AbortController();
      const store = new CheckStore(embeddings, true, ending === 'a failed read' ? 2 * chunkRows : null);
      const expected = ending === 'a failed read' ? `disk error at row ${2 * chunkRows}` : new CancelledError().message;
      let message = '(no error)';
      try {
        const cancelAfterFirst = (done: number) => ending === 'a cancel' && done === chunkRows && controller.abort();
        await scoreRows(store, members, { chunkRows, signal: controller.signal, onChunk: cancelAfterFirst });
      } catch (e) {
        message = e instanceof Error ? e.message : String(e);
      }
      report({ suite: 'upload', name: `${ending} ends the run with its own error`, tol: 0, maxAbsDiff: message === expected ? 0 : Infinity, scale: 1, info: { message } });
    }
    const [again] = await scoreRows(new CheckStore(embeddings, true), members, { chunkRows });
    report({ suite: 'upload', name: 'scores again after the failed runs', tol: 0, ...arraysDiff([again], [reference]) });
  } finally {
    ops.chunkUploads = mapped;
    models.forEach(disposeMlp);
  }
  report(leak('upload', before));
}
