import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { paperSizeDataset } from '../core/benchDataset.ts';
import { summarize, timeEndToEnd, timeTraining, trainingWorkloadName, type Measurement } from '../core/benchWorkloads.ts';
import { parseSpec } from '../core/spec.ts';
import { activateWasmBackend } from '../testing/tf.ts';
import { cli } from '../testing/cli.ts';
import { CEILING_GEMM_SHAPE } from '../kernels/wasm/wasmCeiling.ts';
import {
  END_TO_END_SCORES_WORKLOAD,
  END_TO_END_WORKLOAD,
  FMA_CEILING_WORKLOAD,
  endToEndRatios,
  formatEndToEnd,
  gemmAloneWorkload,
  ratiosAgainstTorch,
  summarizeRatios,
  type BenchReport,
} from './bench.ts';
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

  it('gives time to result as a ratio of times, and the median of each ratio over rounds', () => {
    const cpu = { ...torch('cpu', 1000), e2e: { seconds: 60, trainSeconds: 23, scoreSeconds: 37, epochsRun: 7, stoppedEarly: true, testRows: 1e6, improvement: 2.4, spearman: 0.85 } };
    const e2e = endToEndRatios([{ host: 'node', backend: 'wasm', seconds: 120 }, { host: 'node', backend: 'webgpu (x)', seconds: 9 }], [cpu]);
    expect(e2e).toEqual([{ host: 'node', backend: 'wasm', workload: END_TO_END_WORKLOAD, reference: 'pytorch cpu (cpu)', ratio: 2 }]);
    // With its stages known, our time without the evaluation PyTorch's clock leaves out.
    const staged = endToEndRatios([{ host: 'node', backend: 'wasm', seconds: 120, stagesMs: { train: 30_000, score: 84_000, evaluate: 6_000 } }], [cpu]);
    expect(staged.map((r) => [r.workload, r.ratio])).toEqual([
      [END_TO_END_WORKLOAD, 2],
      [END_TO_END_SCORES_WORKLOAD, 1.9],
    ]);
    const ratio = (value: number, workload = 'w') => ({ host: 'node', backend: 'wasm', workload, reference: 'r', ratio: value });
    expect(summarizeRatios([ratio(0.5), ratio(0.7, 'v'), ratio(0.4), ratio(0.9), ratio(0.8, 'v')])).toEqual([
      { host: 'node', backend: 'wasm', workload: 'w', reference: 'r', median: 0.5, min: 0.4, max: 0.9, rounds: 3 },
      { host: 'node', backend: 'wasm', workload: 'v', reference: 'r', median: 0.75, min: 0.7, max: 0.8, rounds: 2 },
    ]);
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
    const rounds = await cli(['bench', '--rounds', '0']);
    expect(rounds.code).toBe(2);
    expect(rounds.stderr).toMatch(/--rounds must be a positive integer, got "0"/);
    const pairs = await cli(['bench', '--pairs-per-prompt', '46']);
    expect(pairs.code).toBe(2);
    expect(pairs.stderr).toMatch(/--pairs-per-prompt must be an integer from 1 to 45 \(distinct pairs of 10 responses\), got "46"/);
  });
});

describe('bench: rounds', () => {
  // A stand-in for the PyTorch process (a true boundary) that numbers its calls in its version.
  it('alternates ours and the reference round by round, and sums the ratios up over the rounds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rl-rounds-'));
    const script = join(dir, 'counting.py');
    const counter = join(dir, 'calls');
    await writeFile(
      script,
      [
        'import json, os',
        `path = ${JSON.stringify(counter)}`,
        'calls = (int(open(path).read()) if os.path.exists(path) else 0) + 1',
        'open(path, "w").write(str(calls))',
        'rate = {"host": "pytorch", "backend": "cpu", "workload": "train bt-mlp batch 2", "unit": "pairs/s", "median": 10.0 * calls, "min": 1, "max": 1, "runs": [1, 1, 1]}',
        'print(json.dumps({"torch": "call %d" % calls, "device": "cpu", "threads": 2, "results": [rate], "e2e": None}))',
      ].join('\n'),
    );
    const json = join(dir, 'report.json');
    const r = await cli(['bench', '--backends', 'node:wasm', '--batches', '2', '--rounds', '2', '--compare-torch', '--python', 'python3', '--torch-script', script, '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const order = [/^round 1 of 2/, /^node:wasm.*train bt-mlp batch 2 /, /^pytorch:cpu/, /^round 2 of 2/, /^node:wasm.*train bt-mlp batch 2 /, /median of 2 rounds/];
    let from = 0;
    for (const pattern of order) {
      const i = lines.slice(from).findIndex((l) => pattern.test(l));
      expect(i, `${pattern} after line ${from}`).toBeGreaterThanOrEqual(0);
      from += i + 1;
    }
    expect(at(/^round 2 of 2/)).toBeGreaterThan(at(/^pytorch:cpu/));
    const report = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
    expect(report.rounds).toBe(2);
    expect(report.torch!.map((t) => [t.round, t.torch])).toEqual([
      [1, 'call 1'],
      [2, 'call 2'],
    ]);
    const ours = report.results.filter((m) => m.workload === 'train bt-mlp batch 2');
    expect(ours.map((m) => m.round)).toEqual([1, 2]);
    // Each round's ratio uses that round's reference (10 pairs/s, then 20).
    const ratios = report.ratios!.filter((x) => x.workload === 'train bt-mlp batch 2');
    expect(ratios.map((x) => x.ratio)).toEqual([ours[0].median / 10, ours[1].median / 20]);
    const summary = report.ratioSummary!.find((x) => x.workload === 'train bt-mlp batch 2')!;
    expect(summary).toMatchObject({ rounds: 2, min: Math.min(...ratios.map((x) => x.ratio)), max: Math.max(...ratios.map((x) => x.ratio)) });
    expect(summary.median).toBeCloseTo((ratios[0].ratio + ratios[1].ratio) / 2, 12);
    // Each round also times the engine's FMA ceiling and the GEMM alone, and prints their ratio.
    for (const workload of [FMA_CEILING_WORKLOAD, gemmAloneWorkload(CEILING_GEMM_SHAPE)]) {
      const rates = report.results.filter((m) => m.workload === workload);
      expect(rates.map((m) => [m.round, m.unit])).toEqual([
        [1, 'GFLOP/s'],
        [2, 'GFLOP/s'],
      ]);
      for (const m of rates) expect(m.median).toBeGreaterThan(0);
    }
    expect(lines.filter((l) => /the GEMM alone runs at \d+% of the FMA ceiling/.test(l))).toHaveLength(2);
  }, 120_000);
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
