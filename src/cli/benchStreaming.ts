import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scanEmbeddings } from '../core/npyDataset.ts';
import type { ExperimentResult } from '../core/result.ts';
import { cli } from '../testing/cli.ts';
import { encodeNpy, encodeNpyHeader } from '../testing/writeNpy.ts';
import { openNpyDirectory } from './npyDataset.ts';

/**
 * `npx tsx src/cli/benchStreaming.ts --dir DIR [--test-prompts 2000] [--responses 500] [--dim 2048]`:
 * a test split at the published shape on disk (8.2 GB at the defaults, generated once), then
 * the read throughput of the raw file (`cat FILE > /dev/null`, the I/O limit) against Reward Lab's
 * streamed reader, and one full CLI run (paper MLP) with its scoring rate and peak memory.
 * A benchmark, not a test.
 */

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'test-prompts': { type: 'string', default: '2000' },
    responses: { type: 'string', default: '500' },
    dim: { type: 'string', default: '2048' },
  },
});
if (!values.dir) throw new Error('--dir DIR is required');
const dir = values.dir;
const [M, L, D] = [Number(values['test-prompts']), Number(values.responses), Number(values.dim)];
const [N, K] = [2000, 10];

/** Fast deterministic filler (xorshift32 → roughly uniform floats): the bench measures bytes, not learning. */
function fill(out: Float32Array, state: { s: number }): void {
  let s = state.s;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 4294967296 - 0.5;
  }
  state.s = s;
}

async function writeBigNpy(path: string, shape: number[]): Promise<void> {
  const out = createWriteStream(path);
  const write = (b: Uint8Array) => new Promise<void>((resolve, reject) => (out.write(b, (e) => (e ? reject(e) : resolve()))));
  await write(encodeNpyHeader({ shape }));
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const chunkRows = Math.floor((64 << 20) / (shape.at(-1)! * 4));
  const buf = new Float32Array(chunkRows * shape.at(-1)!);
  const state = { s: 2463534242 };
  for (let r = 0; r < rows; r += chunkRows) {
    const n = Math.min(chunkRows, rows - r);
    const view = buf.subarray(0, n * shape.at(-1)!);
    fill(view, state);
    await write(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

function sortedRewards(prompts: number, k: number): Float32Array {
  const r = new Float32Array(prompts * k);
  fill(r, { s: 88675123 });
  for (let p = 0; p < prompts; p++) r.subarray(p * k, p * k + k).sort();
  return r;
}

async function generate(): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stem = 'bench_rand_helpful';
  const test = join(dir, `embd_${stem}_test.npy`);
  if (existsSync(test) && (await stat(test)).size === M * L * D * 4 + 128) return;
  const t0 = performance.now();
  await writeFile(join(dir, `reward_${stem}_train.npy`), encodeNpy({ shape: [N, K, 1], values: sortedRewards(N, K) }));
  const testRewards = new Float32Array(M * L);
  fill(testRewards, { s: 123456789 });
  await writeFile(join(dir, `reward_${stem}_test.npy`), encodeNpy({ shape: [M, L, 1], values: testRewards }));
  await writeBigNpy(join(dir, `embd_${stem}_train.npy`), [N, K, D]);
  await writeBigNpy(test, [M, L, D]);
  console.log(`generated ${((M * L * D * 4) / 1e9).toFixed(2)} GB test split in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

function dropCaches(): boolean {
  try {
    execFileSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const gb = (bytes: number, seconds: number) => `${(bytes / seconds / 1e9).toFixed(2)} GB/s`;

await generate();
const testFile = join(dir, 'embd_bench_rand_helpful_test.npy');
const bytes = (await stat(testFile)).size;

for (const cache of ['cold', 'warm'] as const) {
  if (cache === 'cold' && !dropCaches()) {
    console.log('cannot drop the page cache here: every figure below is warm-cache');
    continue;
  }
  let t0 = performance.now();
  execFileSync('sh', ['-c', `cat '${testFile}' > /dev/null`]);
  const catSeconds = (performance.now() - t0) / 1000;
  if (cache === 'cold') dropCaches();
  const ds = await openNpyDirectory(dir);
  t0 = performance.now();
  const scan = await scanEmbeddings(ds.test.embeddings, {});
  const scanSeconds = (performance.now() - t0) / 1000;
  await ds.close();
  console.log(`${cache}: cat ${gb(bytes, catSeconds)} (${catSeconds.toFixed(1)} s); Reward Lab streamed read + decode + NaN scan ${gb(bytes, scanSeconds)} (${scanSeconds.toFixed(1)} s, ${scan.rows} rows, ${scan.nonFinite} non-finite) = ${(catSeconds / scanSeconds).toFixed(2)}× cat`);
}

const spec = {
  annotation: { budget: 2000, scale: { kind: 'std' } },
  model: { objective: 'clf-mlp', training: { epochs: 2 } },
  evaluation: { repeats: 100 },
  seeds: [0],
};
await writeFile(join(dir, 'spec.json'), JSON.stringify(spec));
const t0 = performance.now();
const run = await cli(['run', '--spec', join(dir, 'spec.json'), '--data', dir, '--out', join(dir, 'result.json')]);
if (run.code !== 0) throw new Error(run.stderr);
const wall = (performance.now() - t0) / 1000;
const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as ExperimentResult;
const st = result.timings.stagesMs;
console.log(
  `node CLI run (paper MLP ${D}→1024→512→1, wasm): scoring ${M * L} rows in ${(st.score / 1000).toFixed(1)} s = ${Math.round((M * L) / (st.score / 1000))} rows/s; ` +
    `evaluation ${(st.evaluate / 1000).toFixed(1)} s; training ${(st.train / 1000).toFixed(1)} s; total ${wall.toFixed(1)} s; ${/peak RSS \d+ MiB/.exec(run.stderr)?.[0]}`,
);
