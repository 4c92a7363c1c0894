import type * as tf from '@tensorflow/tfjs';
import { configuredTile, type GemmTile } from './config.ts';
import { allocate, dispatch, kernel, type WebGpuBackendInternals } from './device.ts';

/**
 * A tiled fp32 GEMM for the MLP's three matrix products, with fused epilogues:
 *
 *   'nn'  C[M,N] = A[M,K]·B[K,N]            forward:   act(x·W + b)
 *   'nt'  C[M,N] = A[M,K]·B[N,K]ᵀ           backward:  dx = (g·Wᵀ) ⊙ [h > 0]
 *   'tn'  C[z,M,N] = Σ_{k in split z} A[k,M]ᵀ·B[k,N]   backward: dW = xᵀ·g, split over the batch
 *
 * Classic register blocking: a 256-thread workgroup (16×16) computes a BM×BN output tile; each
 * thread owns (BM/16)×(BN/16) outputs as 4×4 blocks spaced 64 apart, so the threads of a warp
 * read consecutive vec4s from workgroup memory (no bank conflicts) and write consecutive floats
 * to C. The k loop stages BK-deep slices of A and B through workgroup memory, k-major, rows padded
 * by one vec4 so the transposing stores do not collide on one bank; the next slice is fetched
 * from global memory into registers while the current one is multiplied. Shapes that are not
 * tile multiples get a variant with bounds checks; tile multiples (the MLP's 2048/1024/512 and
 * batches of 512·2^k) run without any, and load and store four floats at a time. (Measured on an
 * H200, 2026-11-28: vec4 loads and stores cut the large products' times by 8–10%; a
 * double-buffered slice, one barrier per k step instead of two, made them 15–20% slower.)
 *
 * Every sum is accumulated in a fixed order, and split-K partial sums are added later in a fixed
 * order too (by the Adam kernel or a reduction), so results are deterministic.
 */

export type GemmLayout = 'nn' | 'nt' | 'tn';

/**
 * What each layout's epilogue takes: 'nn' a bias [N] and optionally ReLU; 'nt' optionally a mask
 * [M, N] (the output is zeroed where mask ≤ 0: the ReLU derivative of the previous layer); 'tn'
 * nothing (its partial sums are added up later). The options are run-time switches of one
 * pipeline: fewer pipelines to compile, at the cost of a uniform branch in the epilogue.
 */
export type GemmEpilogue =
  | { layout: 'nn'; bias: tf.TensorInfo; relu: boolean }
  | { layout: 'nt'; mask: tf.TensorInfo | null }
  | { layout: 'tn' };

interface Variant {
  layout: GemmLayout;
  tile: GemmTile;
  /** M, N and K (and each split of K) are tile multiples: no bounds checks anywhere. */
  fit: boolean;
}

const THREADS = 256;

/**
 * `target = buffer[index]`, or 0 where a guard fails. Branch-free (an in-bounds dummy read and a
 * select): an if per staged element made SwiftShader's compiler blow up past 4 loads per thread.
 */
function guarded(target: string, buffer: string, index: string, guards: string[]): string {
  if (guards.length === 0) return `${target} = ${buffer}[${index}];`;
  const ok = guards.join(' && ');
  return `{ let ok = ${ok}; ${target} = select(0.0, ${buffer}[select(0u, ${index}, ok)], ok); }`;
}

/** The WGSL of one variant (exported for tests and for reading). */
export function gemmSource(v: Variant): string {
  const { bm, bn, bk } = v.tile;
  const RG = bm / 64; // 4-row groups per thread
  const CG = bn / 64; // 4-column groups per thread
  const AS = bm / 4 + 1; // padded row length of the A slice, in vec4s
  const BS = bn / 4 + 1;
  const LA = (bm * bk) / THREADS; // A elements each thread stages per k step
  const LB = (bk * bn) / THREADS;
  const fit = v.fit;
  // Tile multiples move operands and results as vec4s: one load or store for four floats (8–10%
  // faster on an H200 than float by float). Staging needs 4 elements per thread.
  const vecA = fit && LA % 4 === 0;
  const vecB = fit && LB % 4 === 0;
  const vecC = fit;
  const L: string[] = [];
  const decl = (s: string) => L.push(s);

  const bias = v.layout === 'nn';
  const mask = v.layout === 'nt';
  const f32s = (vec: boolean) => (vec ? 'array<vec4<f32>>' : 'array<f32>');
  let binding = 0;
  // flags: bit 0 ReLU ('nn'), bit 1 apply the mask ('nt').
  decl(`struct Dims { M: u32, N: u32, K: u32, kPer: u32, flags: u32 }`);
  decl(`@group(0) @binding(${binding++}) var<storage, read> A: ${f32s(vecA)};`);
  decl(`@group(0) @binding(${binding++}) var<storage, read> B: ${f32s(vecB)};`);
  if (bias) decl(`@group(0) @binding(${binding++}) var<storage, read> bias: ${f32s(vecC)};`);
  if (mask) decl(`@group(0) @binding(${binding++}) var<storage, read> mask: ${f32s(vecC)};`);
  decl(`@group(0) @binding(${binding++}) var<storage, read_write> C: ${f32s(vecC)};`);
  decl(`@group(0) @binding(${binding}) var<uniform> dims: Dims;`);
  decl(`var<workgroup> As: array<vec4<f32>, ${bk * AS}>;`);
  decl(`var<workgroup> Bs: array<vec4<f32>, ${bk * BS}>;`);
  decl(`@compute @workgroup_size(16, 16, 1)`);
  decl(`fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {`);
  decl(`  let tx = lid.x; let ty = lid.y; let tid = ty * 16u + tx;`);
  decl(`  let M = dims.M; let N = dims.N; let K = dims.K;`);
  decl(`  let m0 = wid.y * ${bm}u; let n0 = wid.x * ${bn}u;`);
  decl(`  let kBegin = wid.z * dims.kPer;`);
  decl(`  let kEnd = min(K, kBegin + dims.kPer);`);
  decl(`  let numTiles = (kEnd - kBegin + ${bk - 1}u) / ${bk}u;`);

  // Staging: which element (or vec4) of the A and B slices each thread loads, and where it goes
  // in workgroup memory. Consecutive threads take consecutive addresses of the operand's
  // contiguous dimension (coalesced global reads). An operand whose contiguous dimension is k
  // ('nn'/'nt' A, 'nt' B) is stored transposed, k-major, one float at a time.
  interface Staged {
    loads: (k0: string) => string[];
    stores: string[];
  }
  const stage = (op: 'a' | 'b', vec: boolean): Staged => {
    const buf = op === 'a' ? 'A' : 'B';
    const slice = op === 'a' ? 'As' : 'Bs';
    const width = op === 'a' ? bm : bn; // the slice's non-k extent
    const S = op === 'a' ? AS : BS;
    const origin = op === 'a' ? 'm0' : 'n0';
    const bound = op === 'a' ? 'M' : 'N';
    const kContiguous = op === 'a' ? v.layout !== 'tn' : v.layout === 'nt';
    const count = (op === 'a' ? LA : LB) / (vec ? 4 : 1);
    const lanes = vec ? 4 : 1;
    const loads: ((k0: string) => string)[] = [];
    const stores: string[] = [];
    for (let l = 0; l < count; l++) {
      const e = `(${l * THREADS}u + tid)`;
      const r = `r${op}${l}`;
      // i: position along the non-k extent; k: along k (both in elements).
      if (kContiguous) decl(`  let ${op}I${l} = ${e} / ${bk / lanes}u; let ${op}K${l} = (${e} % ${bk / lanes}u) * ${lanes}u;`);
      else decl(`  let ${op}I${l} = (${e} % ${width / lanes}u) * ${lanes}u; let ${op}K${l} = ${e} / ${width / lanes}u;`);
      decl(`  var ${r}: ${vec ? 'vec4<f32>' : 'f32'};`);
      const idx = (k0: string) => {
        const i = `${origin} + ${op}I${l}`;
        const k = `${k0} + ${op}K${l}`;
        const flat = kContiguous ? `(${i}) * K + ${k}` : `(${k}) * ${bound} + ${i}`;
        return vec ? `(${flat}) / 4u` : flat;
      };
      loads.push((k0) => {
        const guards = fit ? [] : [`${origin} + ${op}I${l} < ${bound}`, `${k0} + ${op}K${l} < kEnd`];
        return guarded(r, buf, idx(k0), guards);
      });
      if (!vec) stores.push(`${slice}[${op}K${l} * ${S}u + ${op}I${l} / 4u][${op}I${l} % 4u] = ${r};`);
      else if (!kContiguous) stores.push(`${slice}[${op}K${l} * ${S}u + ${op}I${l} / 4u] = ${r};`);
      else for (let j = 0; j < 4; j++) stores.push(`${slice}[(${op}K${l} + ${j}u) * ${S}u + ${op}I${l} / 4u][${op}I${l} % 4u] = ${r}.${'xyzw'[j]};`);
    }
    return { loads: (k0) => loads.map((f) => f(k0)), stores };
  };
  const a = stage('a', vecA);
  const b = stage('b', vecB);
  for (let r = 0; r < 4 * RG; r++) for (let c = 0; c < CG; c++) decl(`  var acc${r}_${c} = vec4<f32>(0.0);`);

  const body = (lines: string[], indent: string) => lines.forEach((line) => decl(indent + line));

  body([...a.loads('kBegin'), ...b.loads('kBegin')], '  ');
  decl(`  for (var t = 0u; t < numTiles; t++) {`);
  decl(`    workgroupBarrier();`);
  body([...a.stores, ...b.stores], '    ');
  decl(`    workgroupBarrier();`);
  decl(`    if (t + 1u < numTiles) {`);
  decl(`      let kNext = kBegin + (t + 1u) * ${bk}u;`);
  body([...a.loads('kNext'), ...b.loads('kNext')], '      ');
  decl(`    }`);
  // The micro-kernel over the staged slice: a constant trip count the shader compiler unrolls;
  // the thread's (BM/16)×(BN/16) accumulators are named registers (literal indices only).
  decl(`    for (var kk = 0u; kk < ${bk}u; kk++) {`);
  for (let g = 0; g < RG; g++) decl(`      let a${g} = As[kk * ${AS}u + ${g * 16}u + ty];`);
  for (let g = 0; g < CG; g++) decl(`      let b${g} = Bs[kk * ${BS}u + ${g * 16}u + tx];`);
  for (let g = 0; g < RG; g++)
    for (let comp = 0; comp < 4; comp++)
      for (let c = 0; c < CG; c++) {
        const r = g * 4 + comp;
        decl(`      acc${r}_${c} = fma(vec4<f32>(a${g}.${'xyzw'[comp]}), b${c}, acc${r}_${c});`);
      }
  decl(`    }`);
  decl(`  }`);

  // Epilogue: bias, ReLU, mask, store. Thread (tx, ty) owns rows g·64 + ty·4 + comp and columns
  // c·64 + tx·4 + 0..3.
  decl(`  let zOff = wid.z * M * N;`);
  decl(`  let relu = (dims.flags & 1u) != 0u;`);
  decl(`  let useMask = (dims.flags & 2u) != 0u;`);
  for (let c = 0; c < CG; c++) {
    decl(`  let col${c} = n0 + ${c * 64}u + tx * 4u;`);
    if (bias) {
      if (vecC) decl(`  let bias${c} = bias[col${c} / 4u];`);
      else if (fit) decl(`  let bias${c} = vec4<f32>(bias[col${c}], bias[col${c} + 1u], bias[col${c} + 2u], bias[col${c} + 3u]);`);
      else {
        decl(`  var bias${c} = vec4<f32>(0.0);`);
        for (let j = 0; j < 4; j++) decl(`  if (col${c} + ${j}u < N) { bias${c}[${j}] = bias[col${c} + ${j}u]; }`);
      }
    }
  }
  for (let g = 0; g < RG; g++)
    for (let comp = 0; comp < 4; comp++) {
      const r = g * 4 + comp;
      decl(`  {`);
      decl(`    let row = m0 + ${g * 64 + comp}u + ty * 4u;`);
      if (!fit) decl(`    if (row < M) {`);
      for (let c = 0; c < CG; c++) {
        decl(`    {`);
        decl(`      var val = acc${r}_${c};`);
        if (bias) decl(`      val = val + bias${c};`);
        if (bias) decl(`      if (relu) { val = max(val, vec4<f32>(0.0)); }`);
        const at = `row * N + col${c}`;
        if (mask) {
          decl(`      if (useMask) {`);
          if (vecC) decl(`        let mk = mask[(${at}) / 4u];`);
          else if (fit) decl(`        let mk = vec4<f32>(mask[${at}], mask[${at} + 1u], mask[${at} + 2u], mask[${at} + 3u]);`);
          else {
            decl(`        var mk = vec4<f32>(0.0);`);
            for (let j = 0; j < 4; j++) decl(`        if (col${c} + ${j}u < N) { mk[${j}] = mask[${at} + ${j}u]; }`);
          }
          decl(`        val = select(vec4<f32>(0.0), val, mk > vec4<f32>(0.0));`);
          decl(`      }`);
        }
        if (vecC) decl(`      C[(zOff + ${at}) / 4u] = val;`);
        else
          for (let j = 0; j < 4; j++) {
            const store = `C[zOff + ${at} + ${j}u] = val.${'xyzw'[j]};`;
            decl(fit ? `      ${store}` : `      if (col${c} + ${j}u < N) { ${store} }`);
          }
        decl(`    }`);
      }
      if (!fit) decl(`    }`);
      decl(`  }`);
    }
  decl(`}`);
  return L.join('\n');
}

/** Workgroups one dispatch should have to fill a large GPU (≈ 2 per SM on a 132-SM H100/H200). */
export const TARGET_WORKGROUPS = 256;

/**
 * 'auto', from `bench --webgpu-kernels` on an H200 (Dawn/Vulkan, 2026-11-27, 3 runs each): for
 * large products 128×64 with depth 16 was fastest (BT batch 10,240: 1.39M pairs/s, against 1.36M
 * at depth 8, 1.25M for 128×128×16 and 1.22M for 64×64); where 128×64 tiles would leave the GPU
 * under-filled (fewer than TARGET_WORKGROUPS), 64×64 was (BT batch 512: 485k pairs/s against
 * 398k for 128×64×16).
 */
const LARGE_TILE: GemmTile = { bm: 128, bn: 64, bk: 16 };
const SMALL_TILE: GemmTile = { bm: 64, bn: 64, bk: 16 };

/** The configured tile, or for 'auto' the large tile when it fills the GPU, else the small one. */
export function chooseTile(M: number, N: number): GemmTile {
  const configured = configuredTile();
  if (configured !== 'auto') return configured;
  const workgroups = Math.ceil(M / LARGE_TILE.bm) * Math.ceil(N / LARGE_TILE.bn);
  return workgroups >= TARGET_WORKGROUPS ? LARGE_TILE : SMALL_TILE;
}

/**
 * How to split the reduction of a 'tn' product over the batch: enough splits to reach the target
 * workgroup count, each at least 256 rows long (and a multiple of the tile depth).
 */
export function chooseSplits(M: number, N: number, K: number, tile: GemmTile): { splits: number; kPer: number } {
  const tiles = Math.ceil(M / tile.bm) * Math.ceil(N / tile.bn);
  const want = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(K / 256)));
  const kPer = Math.ceil(Math.ceil(K / want) / tile.bk) * tile.bk;
  return { splits: Math.ceil(K / kPer), kPer };
}

/**
 * A 'tn' product's tile and split of the batch. Tile and split depend on each other: with
 * 'auto', the large tile is taken when its split fills the GPU. dW of the 1024 → 512 layer at
 * batch 10,240 (K = 20,480 rows) has 64 large tiles, 256 workgroups in 4 splits: 0.59 ms on an
 * H200, against 0.71 ms as 64×64 tiles in 2 splits, which a choice by the tile count alone took.
 */
export function splitTile(M: number, N: number, K: number): { tile: GemmTile; split: { splits: number; kPer: number } } {
  const configured = configuredTile();
  if (configured !== 'auto') return { tile: configured, split: chooseSplits(M, N, K, configured) };
  const split = chooseSplits(M, N, K, LARGE_TILE);
  const workgroups = Math.ceil(M / LARGE_TILE.bm) * Math.ceil(N / LARGE_TILE.bn) * split.splits;
  if (workgroups >= TARGET_WORKGROUPS) return { tile: LARGE_TILE, split };
  return { tile: SMALL_TILE, split: chooseSplits(M, N, K, SMALL_TILE) };
}

/**
 * C = op(A)·op(B) with the epilogue, recorded on the backend; returns C's storage ([M, N], or
 * [splits, M, N] for 'tn'). Dimensions: 'nn' A [M,K], B [K,N]; 'nt' A [M,K], B [N,K]; 'tn'
 * A [K,M], B [K,N].
 */
export function gemm(
  b: WebGpuBackendInternals,
  A: tf.TensorInfo,
  B: tf.TensorInfo,
  M: number,
  N: number,
  K: number,
  epilogue: GemmEpilogue,
): tf.TensorInfo {
  if (K < 1) throw new RangeError('gemm: empty inner dimension');
  const layout = epilogue.layout;
  const { tile, split } = layout === 'tn' ? splitTile(M, N, K) : { tile: chooseTile(M, N), split: { splits: 1, kPer: K } };
  const v: Variant = {
    layout,
    tile,
    fit: M % tile.bm === 0 && N % tile.bn === 0 && K % tile.bk === 0 && split.kPer % tile.bk === 0,
  };
  checkWorkgroupMemory(b, tile);
  const key = `gemm_${layout}_${tile.bm}x${tile.bn}x${tile.bk}${v.fit ? '_fit' : ''}`;
  let extra: tf.TensorInfo[] = [];
  let flags = 0;
  if (epilogue.layout === 'nn') {
    extra = [epilogue.bias];
    flags = epilogue.relu ? 1 : 0;
  } else if (epilogue.layout === 'nt') {
    // Without a mask, A stands in for the unused binding (read-only aliasing is allowed).
    extra = [epilogue.mask ?? A];
    flags = epilogue.mask ? 2 : 0;
  }
  const k = kernel(b.device, key, 3 + extra.length, () => gemmSource(v));
  const out = allocate(b, layout === 'tn' ? [split.splits, M, N] : [M, N]);
  const u32 = (x: number) => ({ type: 'uint32' as const, data: [x] });
  dispatch(
    b,
    k,
    [A, B, ...extra, out],
    [u32(M), u32(N), u32(K), u32(split.kPer), u32(flags)],
    [Math.ceil(N / tile.bn), Math.ceil(M / tile.bm), split.splits],
    [out],
  );
  return out;
}

function checkWorkgroupMemory(b: WebGpuBackendInternals, t: GemmTile): void {
  const bytes = t.bk * (t.bm + 4 + t.bn + 4) * 4;
  const limit = b.device.limits.maxComputeWorkgroupStorageSize;
  if (bytes > limit) {
    throw new RangeError(`GEMM tile ${t.bm}x${t.bn}x${t.bk} needs ${bytes} bytes of workgroup memory; this device allows ${limit}`);
  }
}
