import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { LIGHTGBM_DEFAULTS, predictGbdt, trainGbdt, type GbdtModel } from '../core/gbdt.ts';
import { Rng } from '../core/rng.ts';

/**
 * `npx tsx src/cli/benchGbdt.ts [--rows 20000] [--dim 2048] [--runs 3] [--trees 100]`:
 * CLF-GBDT training time with LightGBM defaults and prediction throughput, medians over runs.
 * Not wired into the CLI or the tests. Wall time on a shared machine drifts with its load, so
 * CPU time and the load average are printed alongside.
 */

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    dim: { type: 'string', default: '2048' },
    runs: { type: 'string', default: '3' },
    trees: { type: 'string', default: String(LIGHTGBM_DEFAULTS.trees) },
  },
});
const rows = Number(values.rows);
const dim = Number(values.dim);
const runs = Number(values.runs);
const params = { ...LIGHTGBM_DEFAULTS, trees: Number(values.trees) };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const load = () => loadavg()[0].toFixed(1);

// Embedding-like data: Gaussian features, labels from a nonlinear function of a few of them, so
// trees keep finding useful splits (on pure noise trees degenerate and the timing flatters).
const rng = Rng.fromSeed(1);
const x = new Float32Array(rows * dim);
for (let i = 0; i < x.length; i++) x[i] = rng.normal();
const labels = new Uint8Array(rows);
for (let r = 0; r < rows; r++) {
  const b = r * dim;
  const f = Math.sin(2 * x[b]) + x[b + 1] * x[b + 2] + (x[b + 3] > 0 ? 0.8 : -0.8) + 0.3 * (x[b + 4] * x[b + 4] - 1);
  labels[r] = rng.next() < 1 / (1 + Math.exp(-2 * f)) ? 1 : 0;
}

console.log(`CLF-GBDT bench: ${rows} rows × ${dim} features, ${params.trees} trees, ${params.leaves} leaves, maxBin ${params.maxBin}; ${runs} runs; load average ${load()}`);
const wall: number[] = [];
const cpu: number[] = [];
const binning: number[] = [];
let model: GbdtModel | undefined;
for (let run = 0; run < runs; run++) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let firstTree = 0;
  let lastLoss = NaN;
  model = await trainGbdt(x, rows, dim, labels, params, Rng.fromSeed(run), {
    yieldEvery: 0,
    onTree: (tree, _trees, loss) => {
      if (tree === 1) firstTree = performance.now() - t0;
      lastLoss = loss;
    },
  });
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu0);
  wall.push(ms);
  cpu.push((used.user + used.system) / 1000);
  binning.push(firstTree);
  console.log(
    `  run ${run + 1}: ${seconds(ms)} wall, ${seconds(cpu[run])} CPU (binning + first tree ${seconds(firstTree)}); ` +
      `${model.trees.length} trees, train log-loss ${lastLoss.toFixed(4)}; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB; load ${load()}`,
  );
}
const predictTimes: number[] = [];
const out = new Float32Array(rows);
for (let run = 0; run < runs && model; run++) {
  const t0 = performance.now();
  predictGbdt(model, x, rows, dim, out);
  predictTimes.push(performance.now() - t0);
}
const predictMs = median(predictTimes);
console.log(`train: median ${seconds(median(wall))} wall, ${seconds(median(cpu))} CPU (binning + first tree ${seconds(median(binning))})`);
console.log(`predict: median ${predictMs.toFixed(1)} ms for ${rows} rows = ${Math.round(rows / (predictMs / 1000)).toLocaleString('en-US')} rows/s`);
