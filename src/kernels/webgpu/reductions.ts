import type * as tf from '@tensorflow/tfjs';
import type { MlpObjective } from '../../core/fastOps.ts';
import { allocate, dispatch, kernel, type WebGpuBackendInternals } from './device.ts';

/**
 * The MLP's memory-bound pieces: the 1-wide output layer (a GEMM tile would waste 63/64 of its
 * work on it), column sums for bias gradients, the loss head and a buffer copy. All reductions
 * run in a fixed order: same inputs, same bits.
 */

const ROWDOT_ROWS = 8; // rows per workgroup, 32 lanes each

/** y[m] = act(Σ_k x[m,k]·w[k] + b[0]): the N = 1 dense layer. x [M,K], w [K,1], b [1] → [M,1]. */
export function rowDot(b: WebGpuBackendInternals, x: tf.TensorInfo, w: tf.TensorInfo, bias: tf.TensorInfo, M: number, K: number, relu: boolean): tf.TensorInfo {
  const k = kernel(b.device, `rowdot${relu ? '_relu' : ''}`, 4, () => rowDotSource(relu));
  const out = allocate(b, [M, 1]);
  dispatch(b, k, [x, w, bias, out], [{ type: 'uint32', data: [M] }, { type: 'uint32', data: [K] }], [Math.ceil(M / ROWDOT_ROWS), 1, 1], [out]);
  return out;
}

function rowDotSource(relu: boolean): string {
  return `
struct Dims { M: u32, K: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;
var<workgroup> part: array<f32, ${32 * ROWDOT_ROWS}>;
@compute @workgroup_size(32, ${ROWDOT_ROWS}, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = lid.x;
  let row = wid.x * ${ROWDOT_ROWS}u + lid.y;
  var s = 0.0;
  if (row < dims.M) {
    // 32 lanes stride along the row: coalesced reads.
    for (var k = lane; k < dims.K; k += 32u) { s = fma(x[row * dims.K + k], w[k], s); }
  }
  part[lid.y * 32u + lane] = s;
  for (var width = 16u; width > 0u; width >>= 1u) {
    workgroupBarrier();
    if (lane < width) { part[lid.y * 32u + lane] += part[lid.y * 32u + lane + width]; }
  }
  if (lane == 0u && row < dims.M) {
    let v = part[lid.y * 32u] + bias[0];
    y[row] = ${relu ? 'max(v, 0.0)' : 'v'};
  }
}`;
}

/** Rows each colSum workgroup adds up; the partial sums are added by their consumer. */
export const COLSUM_ROWS = 256;

/**
 * Partial column sums out[s, n] = Σ_{m in chunk s} a[m,n]·(weights ? weights[m] : 1), chunks of
 * COLSUM_ROWS rows: db = Σ_rows g (unweighted), and dW = hᵀ·g for a 1-wide layer (weighted by g).
 * a [M,N], weights [M] → [parts, N].
 *
 * `pairedHalves` (BT): rows m and m + M/2 are the winner and loser of one pair and are added to
 * each other first. A parameter whose effect on f is the same for both (an output bias, the bias
 * of a unit active on both rows) gets contributions that are exact negatives; added first they
 * cancel exactly, as in exact arithmetic, instead of leaving rounding noise that Adam (ε = 1e-8)
 * would turn into steps of up to lr.
 */
export function colSum(
  b: WebGpuBackendInternals,
  a: tf.TensorInfo,
  weights: tf.TensorInfo | null,
  M: number,
  N: number,
  options: { pairedHalves?: boolean; shape?: (parts: number) => number[] } = {},
): tf.TensorInfo {
  if (options.pairedHalves && M % 2 !== 0) throw new RangeError('colSum: paired halves need an even number of rows');
  const pair = options.pairedHalves ? M / 2 : 0;
  const items = pair > 0 ? pair : M;
  const parts = Math.max(1, Math.ceil(items / COLSUM_ROWS));
  const k = kernel(b.device, `colsum${weights ? '_weighted' : ''}`, weights ? 3 : 2, () => colSumSource(weights !== null));
  const out = allocate(b, options.shape ? options.shape(parts) : [parts, N]);
  const buffers = weights ? [a, weights, out] : [a, out];
  const u32 = (x: number) => ({ type: 'uint32' as const, data: [x] });
  dispatch(b, k, buffers, [u32(items), u32(N), u32(pair)], [Math.ceil(N / 64), parts, 1], [out]);
  return out;
}

function colSumSource(weighted: boolean): string {
  const term = (m: string) => (weighted ? `a[(${m}) * dims.N + n] * weights[${m}]` : `a[(${m}) * dims.N + n]`);
  return `
// items: rows, or row pairs (m, m + pair) when pair > 0.
struct Dims { items: u32, N: u32, pair: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
${weighted ? '@group(0) @binding(1) var<storage, read> weights: array<f32>;' : ''}
@group(0) @binding(${weighted ? 2 : 1}) var<storage, read_write> out: array<f32>;
@group(0) @binding(${weighted ? 3 : 2}) var<uniform> dims: Dims;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(64, 4, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = wid.x * 64u + lid.x;
  let mBegin = wid.y * ${COLSUM_ROWS}u;
  let mEnd = min(dims.items, mBegin + ${COLSUM_ROWS}u);
  var s = 0.0;
  if (n < dims.N) {
    for (var m = mBegin + lid.y; m < mEnd; m += 4u) {
      var t = ${term('m')};
      if (dims.pair > 0u) { t = t + ${term('m + dims.pair')}; }
      s += t;
    }
  }
  part[lid.y * 64u + lid.x] = s;
  workgroupBarrier();
  if (lid.y == 0u && n < dims.N) {
    out[wid.y * dims.N + n] = ((part[lid.x] + part[64u + lid.x]) + part[128u + lid.x]) + part[192u + lid.x];
  }
}`;
}

/**
 * Loss head in one workgroup: mean loss and dLoss/df over a batch whose duplicates come once,
 * weighed by `count` (and `wins`), the mean taken over the batch's `rows` (LossWeights).
 * BT: f = [f_w (n); f_l (n)], loss = Σ c·softplus(f_l − f_w) / rows, df_w = −c·σ(f_l − f_w) / rows,
 * df_l = −df_w. CLF: loss = Σ (c·softplus(f) − wins·f) / rows, df = (c·σ(f) − wins) / rows.
 * Returns [loss (shape []), df (shape [len])].
 */
export function lossAndGrad(
  b: WebGpuBackendInternals,
  objective: MlpObjective,
  f: tf.TensorInfo,
  len: number,
  weights: { count: tf.TensorInfo; wins: tf.TensorInfo | null; rows: number },
): [tf.TensorInfo, tf.TensorInfo] {
  const bt = objective === 'bt-mlp';
  if (bt && len % 2 !== 0) throw new RangeError('BT loss needs an even number of logits (winners then losers)');
  if (!bt && weights.wins === null) throw new Error('CLF loss needs the winner counts');
  const k = kernel(b.device, `loss_${bt ? 'bt' : 'clf'}`, bt ? 4 : 5, () => lossSource(bt));
  const loss = allocate(b, []);
  const df = allocate(b, [len]);
  const n = bt ? len / 2 : len;
  const buffers = bt ? [f, weights.count, loss, df] : [f, weights.count, weights.wins!, loss, df];
  dispatch(b, k, buffers, [{ type: 'uint32', data: [n] }, { type: 'float32', data: [1 / weights.rows] }], [1, 1, 1], [loss, df]);
  return [loss, df];
}

function lossSource(bt: boolean): string {
  const body = bt
    ? `let margin = f[i] - f[n + i];
      let fl = -margin;
      s += count[i] * (max(fl, 0.0) + log(1.0 + exp(-abs(fl))));
      let d = count[i] * dims.invRows / (1.0 + exp(margin)); // c·σ(−margin)/rows
      df[i] = -d;
      df[n + i] = d;`
    : `let z = f[i];
      s += count[i] * (max(z, 0.0) + log(1.0 + exp(-abs(z)))) - z * wins[i];
      df[i] = (count[i] / (1.0 + exp(-z)) - wins[i]) * dims.invRows;`;
  let bnd = 0;
  return `
struct Dims { n: u32, invRows: f32 }
@group(0) @binding(${bnd++}) var<storage, read> f: array<f32>;
@group(0) @binding(${bnd++}) var<storage, read> count: array<f32>;
${bt ? '' : `@group(0) @binding(${bnd++}) var<storage, read> wins: array<f32>;`}
@group(0) @binding(${bnd++}) var<storage, read_write> loss: array<f32>;
@group(0) @binding(${bnd++}) var<storage, read_write> df: array<f32>;
@group(0) @binding(${bnd}) var<uniform> dims: Dims;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let n = dims.n;
  var s = 0.0;
  for (var i = lid.x; i < n; i += 256u) {
      ${body}
  }
  part[lid.x] = s;
  for (var width = 128u; width > 0u; width >>= 1u) {
    workgroupBarrier();
    if (lid.x < width) { part[lid.x] += part[lid.x + width]; }
  }
  if (lid.x == 0u) { loss[0] = part[0] * dims.invRows; }
}`;
}

/**
 * out[r] = Σ_{e = offsets[r]}^{offsets[r+1]−1} values[members[e]], added in that order, one thread
 * per segment: a scatter-add without atomics, so the same inputs give the same bits.
 * values [V], offsets [segments + 1] int32, members [E] int32 → [segments].
 */
export function segmentSum(
  b: WebGpuBackendInternals,
  values: tf.TensorInfo,
  offsets: tf.TensorInfo,
  members: tf.TensorInfo,
  segments: number,
): tf.TensorInfo {
  const k = kernel(b.device, 'segment_sum', 4, () => `
struct Dims { segments: u32 }
@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read> offsets: array<i32>;
@group(0) @binding(2) var<storage, read> members: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;
@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 256u;
  if (r >= dims.segments) { return; }
  var s = 0.0;
  for (var e = offsets[r]; e < offsets[r + 1u]; e++) { s += values[members[e]]; }
  out[r] = s;
}`);
  const out = allocate(b, [segments]);
  dispatch(b, k, [values, offsets, members, out], [{ type: 'uint32', data: [segments] }], grid1d(segments), [out]);
  return out;
}

/** A copy of `x`'s storage (`size` floats) into a new buffer. */
export function copy(b: WebGpuBackendInternals, x: tf.TensorInfo, shape: number[], size: number): tf.TensorInfo {
  const k = kernel(b.device, 'copy', 2, () => `
struct Dims { size: u32 }
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;
@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < dims.size) { dst[i] = src[i]; }
}`);
  const out = allocate(b, shape);
  dispatch(b, k, [x, out], [{ type: 'uint32', data: [size] }], grid1d(size), [out]);
  return out;
}

/** Workgroups of 256 threads covering `size` items, folded into 2D past the per-dimension limit. */
export function grid1d(size: number): [number, number, number] {
  const groups = Math.ceil(size / 256);
  if (groups <= 65535) return [groups, 1, 1];
  const x = 65535;
  return [x, Math.ceil(groups / x), 1];
}
