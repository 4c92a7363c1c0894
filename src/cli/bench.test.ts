import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { paperSizeDataset } from '../core/benchDataset.ts';
import { summarize, timeEndToEnd, timeTraining, trainingWorkloadName, type Measurement } from '../core/benchWorkloads.ts';
import { parseSpec } from '../core/spec.ts';
import { activateWasmBackend } from '../testing/tf.ts';
import { cli } from '../testing/cli.ts';
import { formatEndToEnd, ratiosAgainstTorch } from './bench.ts';
import { runTorchReference, type TorchReport } from './benchTorch.ts';

const measurement = (host: string, backend: string, workload: string, median: number): Measurement => summarize(host, backend, workload, 'pairs/s', [median, median, median]);

describe('bench: comparison with PyTorch', () => {
  const torch = (device: 'cpu' | 'cuda', median: number): TorchReport => ({
    device,
    torch: '2.x',
    deviceName: device === 'cuda' ? 'NVIDIA H200' : 'cpu',
    threads: 2,
    results: [measurement('pytorch', device, 'train bt-mlp batch 512', median)],
    e2e: null,
  });

  it('compares GPU backends with PyTorch on CUDA and the others with PyTorch on the CPU', () => {
    const ours = [
      measurement('node', 'wasm', 'train bt-mlp batch 512', 500),
      measurement('node', 'webgpu (nvidia / hopper)', 'train bt-mlp batch 512', 30_000),
      measurement('chromium', 'webgl', 'train bt-mlp batch 512', 100),
      measurement('node', 'wasm', 'score (forward, device-resident rows)', 4000),
    ];
    const ratios = ratiosAgainstTorch(ours, [torch('cpu', 1000), torch('cuda', 300_000)]);
    expect(ratios.map((r) => [r.backend, r.ratio])).toEqual([
      ['wasm', 0.5],
      ['webgpu (nvidia / hopper)', 0.1],
      ['webgl', 100 / 300_000],
    ]);
    expect(ratios[1].reference).toBe('pytorch cuda (NVIDIA H200)');
  });

  it('has no ratio where the reference did not run', () => {
    expect(ratiosAgainstTorch([measurement('node', 'webgpu (x)', 'train bt-mlp batch 512', 1)], [torch('cpu', 1000)])).toEqual([]);
  });

  // The Python process is a true boundary: these doubles stand in for it.
  it('reads the reference report a script prints', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rl-torch-'));
    const script = join(dir, 'double.py');
    const report = { torch: '9.9', device: 'cpu', threads: 2, results: [measurement('pytorch', 'cpu', 'train bt-mlp batch 512', 42)], e2e: null };
    await writeFile(script, `import sys\nprint("progress", file=sys.stderr)\nprint(${JSON.stringify(JSON.stringify(report))})\n`);
    const got = await runTorchReference({ python: 'python3', device: 'cpu', batches: [512], runs: 3, e2e: false, script });
    expect(got).toMatchObject({ device: 'cpu', torch: '9.9', deviceName: 'cpu', threads: 2, e2e: null });
    expect(got.results[0].median).toBe(42);
  });

  it("prints each time to result with its result's quality, the reference's as well", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rl-torch-'));
    const script = join(dir, 'e2e.py');
    const e2e = { seconds: 57.25, trainSeconds: 21.3, scoreSeconds: 35.9, epochsRun: 6, stoppedEarly: true, testRows: 1_000_000, improvement: 2.4123, spearman: 0.8512 };
    const report = { torch: '9.9', device: 'cpu', threads: 2, results: [], e2e };
    await writeFile(script, `print(${JSON.stringify(JSON.stringify(report))})\n`);
    const got = await runTorchReference({ python: 'python3', device: 'cpu', batches: [512], runs: 3, e2e: true, script });
    expect(formatEndToEnd(got.e2e!)).toBe(
      'paper default experiment, 1 seed: 57.3 s to result (6 epochs, stopped early, 1,000,000 test rows scored; BoN-500 improvement 2.412, Spearman 0.851)',
    );
  });

  it('says what failed when the reference fails or cannot start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rl-torch-'));
    const script = join(dir, 'fails.py');
    await writeFile(script, 'import sys\nsys.exit("torch reference: --device cuda asked for, but torch sees no CUDA device")\n');
    await expect(runTorchReference({ python: 'python3', device: 'cuda', batches: [512], runs: 3, e2e: false, script })).rejects.toThrow(
      /exited with 1: torch reference: --device cuda asked for, but torch sees no CUDA device/,
    );
    await expect(runTorchReference({ python: '/nonexistent/python3', device: 'cpu', batches: [512], runs: 3, e2e: false, script })).rejects.toThrow(
      /could not start \/nonexistent\/python3.*apt-get install python3-torch/,
    );
  });
});

describe('bench: command line', () => {
  it('refuses fewer than 3 runs and unknown backends, naming the choices', async () => {
    const few = await cli(['bench', '--runs', '2']);
    expect(few.code).toBe(2);
    expect(few.stderr).toMatch(/--runs must be an integer ≥ 3/);
    const unknown = await cli(['bench', '--backends', 'node:wasm,tpu']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown bench backend "tpu": expected node:wasm, node:cpu, node:webgpu, chromium:wasm, chromium:webgl, chromium:webgpu/);
    const pairs = await cli(['bench', '--pairs-per-prompt', '46']);
    expect(pairs.code).toBe(2);
    expect(pairs.stderr).toMatch(/--pairs-per-prompt must be an integer from 1 to 45 \(distinct pairs of 10 responses\), got "46"/);
  });
});

describe('bench: training workloads', () => {
  it('times raw and shared-responses training under names PyTorch reports too', async () => {
    await activateWasmBackend();
    expect(trainingWorkloadName({ objective: 'bt-mlp', batch: 64 })).toBe('train bt-mlp batch 64');
    expect(trainingWorkloadName({ objective: 'clf-mlp', batch: 64, pairsPerPrompt: 10 })).toBe('train clf-mlp batch 64, 10 pairs/prompt');
    for (const pairsPerPrompt of [undefined, 10]) {
      for (const objective of ['bt-mlp', 'clf-mlp'] as const) {
        const rates = await timeTraining({ objective, batch: 64, steps: 1, pairsPerPrompt }, 3);
        expect(rates).toHaveLength(3);
        for (const r of rates) expect(r).toBeGreaterThan(0);
      }
    }
  }, 120_000);
});

describe('bench: the paper-size synthetic dataset', () => {
  const data = paperSizeDataset({ dim: 8, trainPrompts: 300, testPrompts: 4 });

  it('has the published shape and reads rows consistently', async () => {
    expect([data.train.prompts, data.train.responsesPerPrompt, data.test.prompts, data.test.responsesPerPrompt]).toEqual([300, 10, 4, 500]);
    expect(data.test.embeddings.rows).toBe(2000);
    const range = await data.test.embeddings.readRange(10, 13);
    const gathered = await data.test.embeddings.gather(Int32Array.from([10, 11, 12]));
    expect(Array.from(range)).toEqual(Array.from(gathered));
    expect(range.subarray(0, 8)).not.toEqual(range.subarray(8, 16));
    // Rebuilt from its seed, it is the same dataset.
    expect(paperSizeDataset({ dim: 8, trainPrompts: 300, testPrompts: 4 }).train.rewards).toEqual(data.train.rewards);
  });

  it('carries a learnable signal, so a run trains and ranks better than chance', async () => {
    await activateWasmBackend();
    const spec = parseSpec({
      annotation: { budget: 300 },
      model: { hidden: [16], training: { batchSize: 128, epochs: 20 } },
      evaluation: { repeats: 5, heldOutPairs: 100, bonN: [1, 10, 100] },
      seeds: [0],
    });
    const e2e = await timeEndToEnd(data, undefined, spec);
    expect(e2e.testRows).toBe(2000);
    expect(e2e.epochsRun).toBeGreaterThan(0);
    expect(e2e.seconds).toBeGreaterThan(0);
    expect(e2e.spearman).toBeGreaterThan(0.3);
  });
});
