import * as tf from '@tensorflow/tfjs';
import type { AdamStepScalars } from '../../core/fastOps.ts';
import { dispatch, kernel, ownsStorage, type WebGpuBackendInternals } from './device.ts';
import { copy, grid1d } from './reductions.ts';

/**
 * Fused Adam: one dispatch per variable updates the weights and both moments in place, adding
 * up the gradient's partial sums as it reads them. The arithmetic is tfjs's AdamOptimizer's,
 * operation for operation:
 *   m ← m·β1 + g·(1−β1);  v ← v·β2 + g²·(1−β2)
 *   w ← w + (m/(1−β1^t)) / (√(v/(1−β2^t)) + ε) · (−lr)
 *
 * In place is only safe when nothing else shares a buffer: tf.clone and snapshots share storage
 * with the variable (refCount > 1). Such a variable is first given a private copy (one copy
 * dispatch, then `assign`), so a snapshot keeps its values.
 */
export function adamUpdate(
  b: WebGpuBackendInternals,
  variable: tf.Variable,
  m: tf.Variable,
  v: tf.Variable,
  grad: tf.Tensor,
  s: AdamStepScalars,
): void {
  const n = variable.size;
  if (m.size !== n || v.size !== n) throw new Error('adamUpdate: moments must match the variable');
  if (grad.size % n !== 0 || grad.shape.length === 0 || grad.size / grad.shape[0] !== n) {
    throw new Error(`adamUpdate: gradient partials of shape [${grad.shape}] do not fit a variable of ${n} values`);
  }
  for (const t of [variable, m, v]) makePrivate(b, t);
  const k = kernel(b.device, 'adam', 4, adamSource);
  const f32 = (x: number) => ({ type: 'float32' as const, data: [x] });
  dispatch(
    b,
    k,
    [variable, m, v, grad],
    [
      { type: 'uint32', data: [n] },
      { type: 'uint32', data: [grad.shape[0]] },
      f32(s.beta1),
      f32(1 - s.beta1),
      f32(s.beta2),
      f32(1 - s.beta2),
      f32(s.oneMinusAccBeta1),
      f32(s.oneMinusAccBeta2),
      f32(s.epsilon),
      f32(-s.learningRate),
    ],
    grid1d(n),
    [variable, m, v],
  );
}

function makePrivate(b: WebGpuBackendInternals, t: tf.Variable): void {
  if (ownsStorage(b, t)) return;
  const info = copy(b, t, t.shape, t.size);
  const fresh = tf.engine().makeTensorFromTensorInfo(info, b as unknown as tf.KernelBackend);
  t.assign(fresh);
  fresh.dispose();
}

function adamSource(): string {
  return `
struct Params {
  n: u32, parts: u32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  oneMinusAccBeta1: f32, oneMinusAccBeta2: f32, epsilon: f32, negLr: f32,
}
@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  var g = grad[i];
  for (var s = 1u; s < p.parts; s++) { g += grad[s * p.n + i]; }
  let m1 = m[i] * p.beta1 + g * p.oneMinusBeta1;
  let v1 = v[i] * p.beta2 + (g * g) * p.oneMinusBeta2;
  m[i] = m1;
  v[i] = v1;
  let mHat = m1 / p.oneMinusAccBeta1;
  let vHat = v1 / p.oneMinusAccBeta2;
  w[i] = (mHat / (sqrt(vHat) + p.epsilon)) * p.negLr + w[i];
}`;
}
