import { beforeAll, describe, expect, it } from 'vitest';
import { failures, runChecksInChild, type ChecksRun } from './testing/swiftshader.ts';

/**
 * The fused WebGPU kernels against the plain tfjs path on the same backend: GEMMs for every tile
 * setting on odd shapes (all bounds checked) and tile multiples, split-K and 1-wide-layer
 * reductions, loss heads, the fused Adam update, whole training steps, and scoring through the
 * mapped upload buffers. The checks
 * (testing/checks.ts) run in two child processes on Chromium's SwiftShader Vulkan, in parallel
 * (testing/swiftshader.ts explains why a child); without an adapter a child fails and so does
 * every test here. Tolerances: kernels 2e-5, training steps 1e-4, of the reference's largest
 * magnitude (at least 1).
 */

let gemmRun: ChecksRun;
let run: ChecksRun;
beforeAll(async () => {
  // Two children: pipeline compilation on SwiftShader (1–3 s each) dominates, one core each.
  // ≈ 35 s on an idle 2-core machine; the timeout leaves room for a busy one.
  [gemmRun, run] = await Promise.all([runChecksInChild(['gemm']), runChecksInChild(['reduce', 'adam', 'train', 'upload'])]);
}, 420_000);

describe('fused WebGPU GEMM kernels (SwiftShader)', () => {
  it('run on a WebGPU adapter', () => {
    expect(gemmRun.adapter).not.toBe('');
    expect(gemmRun.results.length).toBeGreaterThan(0);
  });

  for (const tile of ['64x64', '128x64', '64x128', '128x128', '128x64x16', 'auto']) {
    it(`tile ${tile}: dense+bias(+ReLU), dx with and without the ReLU mask, dW and db match tfjs`, () => {
      const mine = gemmRun.results.filter((r) => r.name.includes(` ${tile} `));
      const ops = ['dense+bias+relu', 'dense+bias ', 'dx=(g·Wᵀ)⊙[h>0]', 'dx=g·Wᵀ', 'dW=xᵀ·g', 'db=Σ_rows g'];
      for (const op of ops) expect(mine.some((r) => r.name.startsWith(op)), `${tile}: ${op} checked`).toBe(true);
      expect(failures(mine)).toEqual([]);
    });
  }
});

const suite = (name: string) => run.results.filter((r) => r.suite === name);
const named = (part: string) => run.results.filter((r) => r.name.includes(part));

describe('fused WebGPU reductions and loss heads (SwiftShader)', () => {
  it('split-K dW, db (plain and BT-paired), the 1-wide layer and both loss heads match tfjs', () => {
    expect(suite('reduce').length).toBeGreaterThanOrEqual(30);
    expect(failures(suite('reduce'))).toEqual([]);
  });

  it('BT-paired bias gradients of mirrored rows are exactly zero', () => {
    const exact = named('is exactly 0');
    expect(exact.length).toBe(2);
    for (const r of exact) expect(r.maxAbsDiff, r.name).toBe(0);
  });
});

describe('fused Adam (SwiftShader)', () => {
  it('matches tf.train.adam(lr, 0.9, 0.999, 1e-8) over 3 steps, with whole and partial-sum gradients', () => {
    const steps = suite('adam').filter((r) => r.name.startsWith('3 steps'));
    expect(steps.length).toBe(6);
    expect(failures(steps)).toEqual([]);
  });

  it('copies a shared variable before updating it in place, and leaks no tensors', () => {
    expect(failures(named('copy on write'))).toEqual([]);
    expect(suite('adam').find((r) => r.name === 'no tensor leaks')?.maxAbsDiff).toBe(0);
  });
});

describe('training steps on the fused kernels (SwiftShader)', () => {
  for (const objective of ['bt-mlp', 'clf-mlp']) {
    it(`${objective}: the fused step's losses and weights after 3 steps match stock tfjs`, () => {
      const mine = named(`fused step`).filter((r) => r.name.includes(objective));
      expect(mine.length).toBe(5); // losses and weights for 2 sizes, and determinism
      expect(failures(mine)).toEqual([]);
    });

    it(`${objective}: autodiff through the fused dense kernels matches stock tfjs`, () => {
      const mine = named('autodiff-on-kernels').filter((r) => r.name.includes(objective));
      expect(mine.length).toBe(4);
      expect(failures(mine)).toEqual([]);
    });

    it(`${objective}: the fused step is bit-for-bit deterministic`, () => {
      const mine = named('deterministic').filter((r) => r.name.includes(objective));
      expect(mine.map((r) => r.maxAbsDiff)).toEqual([0]);
    });
  }

  it('forwards each distinct response of a batch once, whichever pairs and orientations use it', () => {
    const mine = named('once');
    expect(mine.length).toBe(2);
    expect(mine.map((r) => r.info?.forwardedRows)).toEqual([7, 5]);
  });

  it('cuts a step to ≤ 20 dispatches (stock tfjs: > 100)', () => {
    const fused = named('fused step losses');
    const stock = named('stock step');
    for (const r of fused) expect(Number(r.info?.ourDispatches) + Number(r.info?.tfjsPrograms), r.name).toBeLessThanOrEqual(20);
    for (const r of stock) expect(Number(r.info?.tfjsPrograms), r.name).toBeGreaterThan(100);
  });

  it('records a steady-state step without creating a GPU buffer (uploads are queue writes into the pool; stock tfjs: dozens)', () => {
    const count = (mode: string, objective: string) => named(`steady-state ${mode} ${objective} step`).map((r) => r.info?.buffersCreated);
    for (const objective of ['bt-mlp', 'clf-mlp']) {
      expect(count('fused', objective)).toEqual([0]);
      expect(Number(count('stock', objective)[0])).toBeGreaterThan(10);
    }
  });

  it('has trainMember give idle memory back after every epoch, keeping up to 256 MiB', () => {
    const [r] = named('releases idle memory after each epoch');
    expect(r.info).toEqual({ epochs: 3, releases: 3, keepBytes: 256 * 2 ** 20 });
  });

  it('gives back idle pooled buffers between steps without changing a bit of the training', () => {
    const [r] = named('releaseIdleMemory');
    expect(r.maxAbsDiff).toBe(0);
    expect(Number(r.info?.idleBytesBefore)).toBeGreaterThan(0);
    expect(r.info?.idleAfter).toBe(0);
  });

  it('scores through mlpForward on the fused kernels and restores snapshots exactly', () => {
    expect(failures(named('mlpForward on the fused kernels'))).toEqual([]);
    expect(named('snapshot').map((r) => r.maxAbsDiff)).toEqual([0]);
  });

  it('leaks no tensors', () => {
    expect(suite('train').find((r) => r.name === 'no tensor leaks')?.maxAbsDiff).toBe(0);
  });
});

describe('scoring through mapped upload buffers (SwiftShader)', () => {
  const checks = () => suite('upload');

  it('gives the bits of tf.tensor2d uploads, reading into the upload memory or copying rows a store returns', () => {
    const scored = checks().filter((r) => r.name.startsWith('scores through mapped uploads'));
    expect(scored.length).toBe(2);
    expect(failures(scored)).toEqual([]);
    const [inPlace, copied] = scored;
    // 100 rows in chunks of 32: four uploads, the last one short.
    expect(inPlace.info).toEqual({ uploads: 4, inPlace: 4, readsGivenMemory: 4 });
    expect(copied.info).toEqual({ uploads: 4, inPlace: 0, readsGivenMemory: 4 });
  });

  it('scores several models (a shared pass) with one upload per chunk, each as it scores alone', () => {
    const [shared] = checks().filter((r) => r.name.startsWith('three models score one pass'));
    expect(failures([shared])).toEqual([]);
    expect(shared.info).toEqual({ uploads: 4 });
  });

  it('ends a run on a failed read or a cancel with that error, then scores again, leaking no tensors', () => {
    const endings = checks().filter((r) => r.name.endsWith('with its own error'));
    expect(endings.length).toBe(2);
    expect(failures(endings), JSON.stringify(endings.map((r) => r.info))).toEqual([]);
    expect(failures(checks().filter((r) => r.name === 'scores again after the failed runs' || r.name === 'no tensor leaks'))).toEqual([]);
    expect(checks().length).toBe(7);
  });
});
