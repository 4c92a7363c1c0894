/**
 * A module that does nothing but f32x4.relaxed_madd: FMA_PEAK_CHAINS independent accumulator
 * chains, unrolled, no memory traffic. Its rate is the most this engine's wasm can multiply-add
 * on one core, the ceiling that `npm run bench` sets the GEMM's rate against.
 *
 * run(iterations) steps every chain FMA_PEAK_UNROLL × iterations times as c ← c·a + b with
 * a = 0.5 and b = 0.25 — scaling by ½ is exact, so the fused and the unfused multiply-add that
 * relaxed SIMD allows give the same bits — and returns lane 0 of the chains' sum, so the work
 * cannot be dropped.
 */

/** Enough chains to hide the FMA latency on two pipes (4 cycles × 2 here); 8 reached ~93%. */
export const FMA_PEAK_CHAINS = 12;
export const FMA_PEAK_UNROLL = 4;

export function fmaPeakWat(): string {
  const chains = Array.from({ length: FMA_PEAK_CHAINS }, (_, i) => `$c${i}`);
  const steps: string[] = [];
  for (let u = 0; u < FMA_PEAK_UNROLL; u++) {
    for (const c of chains) steps.push(`      (local.set ${c} (f32x4.relaxed_madd (local.get ${c}) (local.get $a) (local.get $b)))`);
  }
  const sum = chains.slice(1).reduce((acc, c) => `(f32x4.add ${acc} (local.get ${c}))`, `(local.get ${chains[0]})`);
  return `(module
  (func (export "run") (param $iterations i32) (result f32)
    (local $a v128) (local $b v128) ${chains.map((c) => `(local ${c} v128)`).join(' ')}
    (local.set $a (f32x4.splat (f32.const 0.5)))
    (local.set $b (f32x4.splat (f32.const 0.25)))
    (if (i32.gt_s (local.get $iterations) (i32.const 0)) (then
    (loop $steps
${steps.join('\n')}
      (local.set $iterations (i32.sub (local.get $iterations) (i32.const 1)))
      (br_if $steps (local.get $iterations)))))
    (f32x4.extract_lane 0 ${sum})))
`;
}
