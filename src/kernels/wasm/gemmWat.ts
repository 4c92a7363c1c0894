/**
 * The source of Reward Lab's wasm GEMM, as WebAssembly text: C = op(A)·op(B) in float32 for
 * row-major matrices, where op transposes or not (tfjs's BatchMatMul attributes).
 *
 * Why our own: tfjs-backend-wasm multiplies matrices with XNNPACK's wasm-SIMD kernels, which
 * add a product with f32x4.mul + f32x4.add. Relaxed SIMD's f32x4.relaxed_madd compiles to one
 * FMA instruction where the CPU has one, and a 4×8 register tile of FMAs ran at ~48 GFLOP/s per
 * core here against XNNPACK's ~29 (one thread, 480×2048×1024; `npm run bench` has the
 * end-to-end figures). The layout is the classic one (Goto & van de Geijn): for each block of
 * KC inner-dimension steps, B's columns are packed into panels of 8 (KC×8, contiguous) and A's
 * rows into tiles of 4 (KC×4, contiguous, k-major), so the micro-kernel reads both with unit
 * stride and packing absorbs either transpose. Every element of C is one sum over k in
 * increasing order, in KC-blocks, whichever thread computes it: results do not depend on the
 * thread count.
 *
 * The text is generated because the micro-kernel is unrolled over its 4×8 tile; build.ts
 * assembles it (wabt) into gemmBinary.ts, and a test checks that the two agree.
 */

/** Rows per micro-kernel tile (A's packing). */
export const GEMM_MR = 4;
/** Columns per micro-kernel tile (B's packing): two f32x4 vectors. */
export const GEMM_NR = 8;
/** Inner-dimension block: a packed B panel (KC×8 floats, 8 KB) stays in L1 across A's tiles. */
export const GEMM_KC = 256;
/** Row block: a packed A block (MC×KC floats, 64 KB) stays in L2 across B's panels. */
export const GEMM_MC = 64;

/** Most 64 KiB pages of the memory the module imports (4 GiB, tfjs-wasm's own maximum). */
export const GEMM_MEMORY_MAX_PAGES = 65536;

/** Bytes of scratch one thread needs for packed A (one MC×KC block). */
export const PACKED_A_BYTES = GEMM_MC * GEMM_KC * 4;
/** Bytes of scratch one thread needs for packed B: its panels of one KC block. */
export function packedBBytes(columns: number): number {
  return Math.ceil(columns / GEMM_NR) * GEMM_NR * GEMM_KC * 4;
}

const get = (name: string) => `(local.get $${name})`;
const i32 = (n: number) => `(i32.const ${n})`;

/** The micro-kernel: C[rows×8] (+)= Ap[kk×4]ᵀ-tile · Bp[kk×8]; rows ≤ 4 of C are read and written. */
function microKernel(): string {
  const acc = (r: number, v: number) => `$c${r}${v}`;
  const lines: string[] = [];
  const tile: [number, number][] = [];
  for (let r = 0; r < GEMM_MR; r++) for (let v = 0; v < 2; v++) tile.push([r, v]);
  lines.push(`(func $kernel (param $ap i32) (param $bp i32) (param $c i32) (param $ldc i32) (param $kk i32) (param $rows i32) (param $first i32)`);
  lines.push(`  (local $bend i32) (local $cr i32) (local $a v128) (local $b0 v128) (local $b1 v128)`);
  lines.push(`  ${tile.map(([r, v]) => `(local ${acc(r, v)} v128)`).join(' ')}`);
  // Rows past the matrix's end exist in the packed tile (as zeros) but not in C: never touch them.
  lines.push(`  (if (i32.eqz ${get('first')}) (then`);
  for (let r = 0; r < GEMM_MR; r++) {
    lines.push(`    (if (i32.gt_u ${get('rows')} ${i32(r)}) (then`);
    lines.push(`      (local.set $cr (i32.add ${get('c')} (i32.mul ${get('ldc')} ${i32(r)})))`);
    for (let v = 0; v < 2; v++) lines.push(`      (local.set ${acc(r, v)} (v128.load offset=${16 * v} ${get('cr')}))`);
    lines.push(`    ))`);
  }
  lines.push(`  ))`);
  lines.push(`  (local.set $bend (i32.add ${get('bp')} (i32.mul ${get('kk')} ${i32(4 * GEMM_NR)})))`);
  lines.push(`  (loop $k`);
  lines.push(`    (local.set $b0 (v128.load offset=0 ${get('bp')}))`);
  lines.push(`    (local.set $b1 (v128.load offset=16 ${get('bp')}))`);
  for (let r = 0; r < GEMM_MR; r++) {
    lines.push(`    (local.set $a (v128.load32_splat offset=${4 * r} ${get('ap')}))`);
    for (let v = 0; v < 2; v++) {
      lines.push(`    (local.set ${acc(r, v)} (f32x4.relaxed_madd ${get('a')} ${get(`b${v}`)} (local.get ${acc(r, v)})))`);
    }
  }
  lines.push(`    (local.set $ap (i32.add ${get('ap')} ${i32(4 * GEMM_MR)}))`);
  lines.push(`    (local.set $bp (i32.add ${get('bp')} ${i32(4 * GEMM_NR)}))`);
  lines.push(`    (br_if $k (i32.lt_u ${get('bp')} ${get('bend')})))`);
  for (let r = 0; r < GEMM_MR; r++) {
    lines.push(`  (if (i32.gt_u ${get('rows')} ${i32(r)}) (then`);
    lines.push(`    (local.set $cr (i32.add ${get('c')} (i32.mul ${get('ldc')} ${i32(r)})))`);
    for (let v = 0; v < 2; v++) lines.push(`    (v128.store offset=${16 * v} ${get('cr')} (local.get ${acc(r, v)}))`);
    lines.push(`  ))`);
  }
  lines.push(`)`);
  return lines.join('\n');
}

/**
 * packB: columns [j0, j1) of rows [k0, k0+kk) of op(B) (K×N) into panels of 8 at $bp, each
 * kk×8 contiguous. j1 − j0 is a multiple of 8.
 */
const PACK_B = `
(func $packB (param $b i32) (param $K i32) (param $N i32) (param $transB i32) (param $k0 i32) (param $kk i32)
             (param $j0 i32) (param $j1 i32) (param $bp i32)
  (local $j i32) (local $k i32) (local $c i32) (local $src i32) (local $dst i32)
  (local.set $j ${get('j0')})
  (loop $panels
    (if ${get('transB')}
      (then
        ;; op(B)[k][j+c] = B[j+c][k]: each of the panel's 8 columns is a contiguous run of B.
        (local.set $c (i32.const 0))
        (loop $cols
          (local.set $src (i32.add ${get('b')} (i32.shl (i32.add (i32.mul (i32.add ${get('j')} ${get('c')}) ${get('K')}) ${get('k0')}) (i32.const 2))))
          (local.set $dst (i32.add ${get('bp')} (i32.shl ${get('c')} (i32.const 2))))
          (local.set $k (i32.const 0))
          (loop $ks
            (f32.store ${get('dst')} (f32.load ${get('src')}))
            (local.set $src (i32.add ${get('src')} (i32.const 4)))
            (local.set $dst (i32.add ${get('dst')} (i32.const 32)))
            (local.set $k (i32.add ${get('k')} (i32.const 1)))
            (br_if $ks (i32.lt_u ${get('k')} ${get('kk')})))
          (local.set $c (i32.add ${get('c')} (i32.const 1)))
          (br_if $cols (i32.lt_u ${get('c')} (i32.const 8)))))
      (else
        (local.set $src (i32.add ${get('b')} (i32.shl (i32.add (i32.mul ${get('k0')} ${get('N')}) ${get('j')}) (i32.const 2))))
        (local.set $dst ${get('bp')})
        (local.set $k (i32.const 0))
        (loop $ks
          (v128.store offset=0 ${get('dst')} (v128.load offset=0 ${get('src')}))
          (v128.store offset=16 ${get('dst')} (v128.load offset=16 ${get('src')}))
          (local.set $src (i32.add ${get('src')} (i32.shl ${get('N')} (i32.const 2))))
          (local.set $dst (i32.add ${get('dst')} (i32.const 32)))
          (local.set $k (i32.add ${get('k')} (i32.const 1)))
          (br_if $ks (i32.lt_u ${get('k')} ${get('kk')})))))
    (local.set $bp (i32.add ${get('bp')} (i32.shl ${get('kk')} (i32.const 5))))
    (local.set $j (i32.add ${get('j')} (i32.const 8)))
    (br_if $panels (i32.lt_u ${get('j')} ${get('j1')}))))
`;

/**
 * packA: rows [i0, i0+mm) of columns [k0, k0+kk) of op(A) (M×K) into tiles of 4 rows at $ap,
 * each kk×4 contiguous (k-major); a last tile's missing rows are zeros.
 */
const PACK_A = `
(func $packA (param $a i32) (param $M i32) (param $K i32) (param $transA i32) (param $i0 i32) (param $mm i32)
             (param $k0 i32) (param $kk i32) (param $ap i32)
  (local $i i32) (local $iend i32) (local $r i32) (local $k i32) (local $src i32) (local $dst i32) (local $step i32)
  (local.set $step (select (i32.shl ${get('M')} (i32.const 2)) (i32.const 4) ${get('transA')}))
  (local.set $i ${get('i0')})
  (local.set $iend (i32.add ${get('i0')} ${get('mm')}))
  (loop $tiles
    (if (i32.and ${get('transA')} (i32.le_u (i32.add ${get('i')} (i32.const 4)) ${get('iend')}))
      (then
        ;; op(A)[i..i+4][k] = A[k][i..i+4]: one vector per k.
        (local.set $src (i32.add ${get('a')} (i32.shl (i32.add (i32.mul ${get('k0')} ${get('M')}) ${get('i')}) (i32.const 2))))
        (local.set $dst ${get('ap')})
        (local.set $k (i32.const 0))
        (loop $ks
          (v128.store ${get('dst')} (v128.load ${get('src')}))
          (local.set $src (i32.add ${get('src')} ${get('step')}))
          (local.set $dst (i32.add ${get('dst')} (i32.const 16)))
          (local.set $k (i32.add ${get('k')} (i32.const 1)))
          (br_if $ks (i32.lt_u ${get('k')} ${get('kk')}))))
      (else
        (local.set $r (i32.const 0))
        (loop $rows
          (local.set $dst (i32.add ${get('ap')} (i32.shl ${get('r')} (i32.const 2))))
          (if (i32.lt_u (i32.add ${get('i')} ${get('r')}) ${get('iend')})
            (then
              ;; op(A)[i+r][k0…]: along a row of A, or down a column of A when transposed.
              (local.set $src (select
                (i32.add ${get('a')} (i32.shl (i32.add (i32.mul ${get('k0')} ${get('M')}) (i32.add ${get('i')} ${get('r')})) (i32.const 2)))
                (i32.add ${get('a')} (i32.shl (i32.add (i32.mul (i32.add ${get('i')} ${get('r')}) ${get('K')}) ${get('k0')}) (i32.const 2)))
                ${get('transA')}))
              (local.set $k (i32.const 0))
              (loop $ks
                (f32.store ${get('dst')} (f32.load ${get('src')}))
                (local.set $src (i32.add ${get('src')} ${get('step')}))
                (local.set $dst (i32.add ${get('dst')} (i32.const 16)))
                (local.set $k (i32.add ${get('k')} (i32.const 1)))
                (br_if $ks (i32.lt_u ${get('k')} ${get('kk')}))))
            (else
              (local.set $k (i32.const 0))
              (loop $ks
                (f32.store ${get('dst')} (f32.const 0))
                (local.set $dst (i32.add ${get('dst')} (i32.const 16)))
                (local.set $k (i32.add ${get('k')} (i32.const 1)))
                (br_if $ks (i32.lt_u ${get('k')} ${get('kk')})))))
          (local.set $r (i32.add ${get('r')} (i32.const 1)))
          (br_if $rows (i32.lt_u ${get('r')} (i32.const 4))))))
    (local.set $ap (i32.add ${get('ap')} (i32.shl ${get('kk')} (i32.const 4))))
    (local.set $i (i32.add ${get('i')} (i32.const 4)))
    (br_if $tiles (i32.lt_u ${get('i')} ${get('iend')}))))
`;

/**
 * gemm: rows [i0, i1) × columns [j0, j1) of C (M×N) = op(A)·op(B), with this thread's scratch at
 * $apBuf (PACKED_A_BYTES) and $bpBuf (packedBBytes(j1 − j0)). j0 and j1 are multiples of 8; both
 * ranges are non-empty. (Packing B for 2,048 steps of k at once, so that each block of C stayed
 * in L2 across them, measured 5–10% slower on every training and scoring shape here.)
 */
function gemmFunction(kc: number, mc: number): string {
  return `
(func (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $M i32) (param $K i32) (param $N i32)
                      (param $transA i32) (param $transB i32) (param $i0start i32) (param $i1 i32) (param $j0 i32) (param $j1 i32)
                      (param $apBuf i32) (param $bpBuf i32)
  (local $k0 i32) (local $kk i32) (local $i0 i32) (local $mm i32) (local $j i32) (local $t i32)
  (local $bp i32) (local $ap i32) (local $ldc i32) (local $cRow i32)
  (local.set $ldc (i32.shl ${get('N')} (i32.const 2)))
  (loop $kblocks
    (local.set $kk (select (i32.sub ${get('K')} ${get('k0')}) ${i32(kc)} (i32.lt_u (i32.sub ${get('K')} ${get('k0')}) ${i32(kc)})))
    (call $packB ${get('b')} ${get('K')} ${get('N')} ${get('transB')} ${get('k0')} ${get('kk')} ${get('j0')} ${get('j1')} ${get('bpBuf')})
    (local.set $i0 ${get('i0start')})
    (loop $iblocks
      (local.set $mm (select (i32.sub ${get('i1')} ${get('i0')}) ${i32(mc)} (i32.lt_u (i32.sub ${get('i1')} ${get('i0')}) ${i32(mc)})))
      (call $packA ${get('a')} ${get('M')} ${get('K')} ${get('transA')} ${get('i0')} ${get('mm')} ${get('k0')} ${get('kk')} ${get('apBuf')})
      (local.set $j ${get('j0')})
      (local.set $bp ${get('bpBuf')})
      (loop $panels
        (local.set $t (i32.const 0))
        (local.set $ap ${get('apBuf')})
        (local.set $cRow (i32.add ${get('c')} (i32.shl (i32.add (i32.mul ${get('i0')} ${get('N')}) ${get('j')}) (i32.const 2))))
        (loop $tiles
          (call $kernel ${get('ap')} ${get('bp')} ${get('cRow')} ${get('ldc')} ${get('kk')} (i32.sub ${get('mm')} ${get('t')}) (i32.eqz ${get('k0')}))
          (local.set $ap (i32.add ${get('ap')} (i32.shl ${get('kk')} (i32.const 4))))
          (local.set $cRow (i32.add ${get('cRow')} (i32.shl ${get('ldc')} (i32.const 2))))
          (local.set $t (i32.add ${get('t')} ${i32(GEMM_MR)}))
          (br_if $tiles (i32.lt_u ${get('t')} ${get('mm')})))
        (local.set $bp (i32.add ${get('bp')} (i32.shl ${get('kk')} (i32.const 5))))
        (local.set $j (i32.add ${get('j')} ${i32(GEMM_NR)}))
        (br_if $panels (i32.lt_u ${get('j')} ${get('j1')})))
      (local.set $i0 (i32.add ${get('i0')} ${i32(mc)}))
      (br_if $iblocks (i32.lt_u ${get('i0')} ${get('i1')})))
    (local.set $k0 (i32.add ${get('k0')} ${i32(kc)}))
    (br_if $kblocks (i32.lt_u ${get('k0')} ${get('K')}))))
`;
}

/**
 * The module's text. `shared`: it imports the threaded build's shared memory (and may then run
 * on several threads at once); otherwise the single-threaded build's memory.
 */
export function gemmWat(shared: boolean, blocks = { kc: GEMM_KC, mc: GEMM_MC }): string {
  const memory = `(import "env" "memory" (memory 1 ${GEMM_MEMORY_MAX_PAGES}${shared ? ' shared' : ''}))`;
  return `(module\n${memory}\n${microKernel()}\n${PACK_B}\n${PACK_A}\n${gemmFunction(blocks.kc, blocks.mc)}\n)\n`;
}
