import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SCORING_WORKLOAD_NAME, trainingWorkloadName, type Measurement } from '../core/benchWorkloads.ts';
import { planBackend } from '../bench/plan.ts';
import type { Activation, AdapterReport } from '../bench/protocol.ts';
import { benchInBrowser, type BrowserEndToEnd } from './benchBrowser.ts';

/**
 * The browser bench end to end in headless Chromium (Debian's, as the e2e tests use), at tiny
 * sizes: the numbers are not judged, only that each backend really ran what was asked and the
 * summaries are consistent. The sizing rules are checked without a browser.
 */

function expectConsistent(m: Measurement, runs: number): void {
  expect(m.runs).toHaveLength(runs);
  for (const rate of m.runs) {
    expect(Number.isFinite(rate), `${m.workload}: ${rate}`).toBe(true);
    expect(rate).toBeGreaterThan(0);
  }
  expect(m.min).toBe(Math.min(...m.runs));
  expect(m.max).toBe(Math.max(...m.runs));
  expect(m.median).toBeGreaterThanOrEqual(m.min);
  expect(m.median).toBeLessThanOrEqual(m.max);
  expect(m.runs).toContain(m.median);
}

describe('benchInBrowser (headless Chromium)', () => {
  it('times training, scoring and time to result on wasm with one exact backend and three runs each', { timeout: 90_000 }, async () => {
    const streamed: Measurement[] = [];
    const streamedEndToEnd: BrowserEndToEnd[] = [];
    const logs: string[] = [];
    const result = await benchInBrowser({
      backends: ['wasm'],
      runs: 3,
      batches: [64],
      work: { steps: 1, scoreRows: 512 },
      // The paper-size synthetic dataset, shrunk: 300 train prompts, 4 × 500 test rows of D = 8.
      e2e: {
        dataset: { dim: 8, trainPrompts: 300, testPrompts: 4 },
        spec: { annotation: { budget: 300 }, model: { hidden: [16], training: { batchSize: 128, epochs: 20 } }, evaluation: { repeats: 5, heldOutPairs: 100, bonN: [1, 10, 100] }, seeds: [0] },
      },
      onMeasurement: (m) => streamed.push(m),
      onEndToEnd: (e) => streamedEndToEnd.push(e),
      log: (line) => logs.push(line),
    });

    expect(result.skipped).toEqual([]);
    expect(result.activations).toHaveLength(1);
    expect(result.activations[0]).toMatchObject({ ok: true, backend: 'wasm', adapter: null, simd: true });
    // The app's wasm setup: one thread per core (within the glue's 8), the page being cross-origin isolated.
    expect(result.activations[0].ok && result.activations[0].threads).toBe(Math.min(8, availableParallelism()));
    expect(result.measurements.map((m) => m.workload)).toEqual([
      trainingWorkloadName({ objective: 'bt-mlp', batch: 64 }),
      trainingWorkloadName({ objective: 'clf-mlp', batch: 64 }),
      SCORING_WORKLOAD_NAME,
    ]);
    expect(result.measurements.map((m) => m.unit)).toEqual(['pairs/s', 'pairs/s', 'rows/s']);
    for (const m of result.measurements) {
      expect(m.host).toBe('chromium');
      expect(m.backend).toMatch(/^wasm \(\d+ threads?, relaxed-simd\)$/);
      expectConsistent(m, 3);
    }
    expect(streamed).toEqual(result.measurements);
    // Time to result, run in the page: the whole experiment, trained well enough to rank.
    expect(result.endToEnd).toHaveLength(1);
    const [e2e] = result.endToEnd;
    expect(e2e).toMatchObject({ host: 'chromium', backend: result.measurements[0].backend, testRows: 2000 });
    expect(e2e.seconds).toBeGreaterThan(0);
    expect(Object.keys(e2e.stagesMs)).toEqual(expect.arrayContaining(['train', 'score', 'evaluate']));
    expect(e2e.epochsRun).toBeGreaterThan(0);
    expect(e2e.spearman).toBeGreaterThan(0.3);
    expect(streamedEndToEnd).toEqual(result.endToEnd);
    expect(logs.filter((l) => /console error|page error/.test(l))).toEqual([]);
  });

  it('runs on the SwiftShader WebGPU adapter, reports it as software and labels the measurement so', { timeout: 60_000 }, async () => {
    // No training: one SwiftShader step takes seconds whatever the batch. Scoring shows the
    // backend ran; the software label is what matters here.
    const result = await benchInBrowser({ backends: ['webgpu'], runs: 3, batches: [], work: { scoreRows: 16 } });

    expect(result.skipped).toEqual([]);
    const [activation] = result.activations;
    expect(activation.ok).toBe(true);
    expect(activation.adapter?.software).toBe(true);
    expect(`${activation.adapter?.vendor} ${activation.adapter?.architecture}`).toMatch(/swiftshader/i);
    expect(result.measurements).toHaveLength(1);
    const [m] = result.measurements;
    expect(m).toMatchObject({ host: 'chromium', backend: 'webgpu', unit: 'rows/s' });
    expect(m.workload).toBe(`${SCORING_WORKLOAD_NAME} [software adapter: google / swiftshader]`);
    expectConsistent(m, 3);
  });

  it('reports a missing Chromium as skipped instead of throwing', async () => {
    const result = await benchInBrowser({ backends: ['wasm', 'webgl'], runs: 3, batches: [512], executablePath: '/nonexistent/chromium' });
    expect(result.measurements).toEqual([]);
    expect(result.skipped.map((s) => s.backend)).toEqual(['wasm', 'webgl']);
    expect(result.skipped[0].why).toMatch(/no Chromium at \/nonexistent\/chromium/);
  });
});

describe('browser bench sizing', () => {
  const swiftshader: AdapterReport = { vendor: 'google', architecture: 'swiftshader', description: '', isFallbackAdapter: true, software: true };
  const hardware: AdapterReport = { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100', isFallbackAdapter: false, software: false };
  const active = (backend: 'wasm' | 'webgl' | 'webgpu', adapter: AdapterReport | null = null): Extract<Activation, { ok: true }> => ({
    ok: true,
    backend,
    adapter,
    renderer: null,
    simd: null,
    threads: null,
    gemm: null,
    userAgent: 'test',
  });

  it('runs every batch with both objectives on wasm, 4 steps a run and 16k scoring rows', () => {
    const plan = planBackend(active('wasm'), [512, 10240]);
    expect(plan.skipped).toEqual([]);
    expect(plan.workloadSuffix).toBe('');
    expect(plan.jobs).toEqual([
      { kind: 'train', workload: { objective: 'bt-mlp', batch: 512, steps: 4 } },
      { kind: 'train', workload: { objective: 'bt-mlp', batch: 10240, steps: 4 } },
      { kind: 'train', workload: { objective: 'clf-mlp', batch: 512, steps: 4 } },
      { kind: 'train', workload: { objective: 'clf-mlp', batch: 10240, steps: 4 } },
      { kind: 'score', workload: { rows: 16_384, chunkRows: 8192 } },
    ]);
  });

  it('adds the shared-responses workloads after each raw one when asked (--pairs-per-prompt)', () => {
    const plan = planBackend(active('wasm'), [512], {}, { pairsPerPrompt: 10 });
    expect(plan.jobs.map((j) => j.workload)).toEqual([
      { objective: 'bt-mlp', batch: 512, steps: 4 },
      { objective: 'bt-mlp', batch: 512, steps: 4, pairsPerPrompt: 10 },
      { objective: 'clf-mlp', batch: 512, steps: 4 },
      { objective: 'clf-mlp', batch: 512, steps: 4, pairsPerPrompt: 10 },
      { rows: 16_384, chunkRows: 8192 },
    ]);
  });

  it('skips batches over 512 on webgl and on a software adapter, and says why', () => {
    for (const activation of [active('webgl'), active('webgpu', swiftshader)]) {
      const plan = planBackend(activation, [512, 10240]);
      expect(plan.jobs.filter((j) => j.kind === 'train').map((j) => j.workload)).toEqual([
        { objective: 'bt-mlp', batch: 512, steps: activation.backend === 'webgl' ? 2 : 1 },
        { objective: 'clf-mlp', batch: 512, steps: activation.backend === 'webgl' ? 2 : 1 },
      ]);
      expect(plan.skipped).toHaveLength(2);
      expect(plan.skipped[0].why).toMatch(/train bt-mlp batch 10240: .*minutes per step/);
    }
    const software = planBackend(active('webgpu', swiftshader), [512]);
    expect(software.jobs.at(-1)).toEqual({ kind: 'score', workload: { rows: 1024, chunkRows: 1024 } });
    expect(software.workloadSuffix).toMatch(/software adapter: google \/ swiftshader/);
  });

  it('gives a hardware adapter every batch, 3 warm-up steps, 50 steps a run and 262k scoring rows', () => {
    const plan = planBackend(active('webgpu', hardware), [512, 10240]);
    expect(plan.skipped).toEqual([]);
    expect(plan.workloadSuffix).toBe('');
    expect(plan.jobs).toHaveLength(5);
    expect(plan.jobs[0]).toEqual({ kind: 'train', workload: { objective: 'bt-mlp', batch: 512, steps: 50, warmupSteps: 3 } });
    expect(plan.jobs.at(-1)).toEqual({ kind: 'score', workload: { rows: 262_144, chunkRows: 8192 } });
  });

  it('lets a caller shrink the work without changing what is skipped', () => {
    const plan = planBackend(active('webgl'), [64, 1024], { steps: 1, scoreRows: 256 });
    expect(plan.jobs.map((j) => j.workload)).toEqual([
      { objective: 'bt-mlp', batch: 64, steps: 1 },
      { objective: 'clf-mlp', batch: 64, steps: 1 },
      { rows: 256, chunkRows: 256 },
    ]);
    expect(plan.skipped).toHaveLength(2);
  });
});
