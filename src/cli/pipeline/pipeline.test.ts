/**
 * The orchestrator end to end against the protocol test double (pipeline/python/fake_worker.py:
 * the real protocol.py, deterministic small outputs, standard library only), so it runs on
 * machines without a GPU or any ML package.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import type { ExperimentResult } from '../../core/result.ts';
import { cli } from '../../testing/cli.ts';
import { openDataDirectory } from '../dataDirectory.ts';
import { pipelineCommand } from './command.ts';
import { npyHeaderBytes } from './npyFiles.ts';

const FAKE = resolve(import.meta.dirname, '..', '..', '..', 'pipeline', 'python', 'fake_worker.py');
const BIN = resolve(import.meta.dirname, '..', 'bin.mjs');
// The interpreter itself, not a version-manager shim: each worker starts faster.
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reward-lab-pipeline-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  for (const k of Object.keys(process.env)) if (k.startsWith('FAKE_WORKER_')) delete process.env[k];
});

let fixtures = 0;
/** A folder with 12 train prompts (#5 too long: skipped), 4 test prompts (CSV), demonstrations and a config. */
async function fixture(overrides: Record<string, unknown> = {}): Promise<{ dir: string; config: string; out: string }> {
  const dir = join(root, `f${fixtures++}`);
  await mkdir(dir, { recursive: true });
  const train = Array.from({ length: 12 }, (_, i) => JSON.stringify({ prompt: i === 5 ? Array(60).fill('long').join(' ') : `train question ${i}` }));
  await writeFile(join(dir, 'train.jsonl'), `${train.join('\n')}\n`);
  await writeFile(join(dir, 'test.csv'), `prompt,note\n${Array.from({ length: 4 }, (_, i) => `"test question ${i}, please",x`).join('\n')}\n`);
  await writeFile(join(dir, 'demos.jsonl'), `${Array.from({ length: 3 }, (_, i) => JSON.stringify({ prompt: `q${i}`, response: `a${i}` })).join('\n')}\n`);
  const config = {
    task: 'helpful',
    models: { generator: { id: 'org/tiny-gen', tag: 'tinygen' }, goldenRm: { id: 'org/tiny-rm' }, embedder: { id: 'org/tiny-emb', tag: 'tinyemb' } },
    prompts: { train: { path: 'train.jsonl' }, test: { path: 'test.csv' } },
    sampling: { trainResponses: 4, testResponses: 6, maxPromptTokens: 40 },
    outputDir: 'out',
    gpus: [0, 1],
    python: PYTHON,
    worker: FAKE,
    shardResponses: 12,
    ...overrides,
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return { dir, config: join(dir, 'config.json'), out: join(dir, 'out') };
}

/** Runs `reward-lab pipeline ARGS` in this process, capturing what it prints. */
async function pipeline(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await pipelineCommand(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

async function log(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

/** How many times each shard of a step was begun / committed, from the test double's log. */
function count(lines: string[], what: 'begin' | 'commit', step: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) {
    const [w, s, split, index] = l.split(' ');
    if (w === what && s === step) m.set(`${split}/${index}`, (m.get(`${split}/${index}`) ?? 0) + 1);
  }
  return m;
}

async function sampledIds(out: string, split: 'train' | 'test'): Promise<number[]> {
  const dir = join(out, 'sample', split);
  const ids: number[] = [];
  for (const shard of (await readdir(dir)).sort()) {
    for (const line of await log(join(dir, shard, 'responses.jsonl'))) ids.push((JSON.parse(line) as { id: number }).id);
  }
  return ids;
}

describe('reward-lab pipeline (against the protocol test double)', () => {
  it('names the bad field of an invalid config and exits with 2', async () => {
    const { dir } = await fixture();
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ models: { generator: { id: 'g' } }, prompts: { train: { path: 't' } }, outputDir: 'o', sampling: { topP: 2 } }));
    const r = await pipeline('plan', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid pipeline config .*bad\.json:/);
    expect(r.stderr).toMatch(/- models\.goldenRm: Invalid input: expected object, received undefined/);
    expect(r.stderr).toMatch(/- prompts\.test: /);
    expect(r.stderr).toMatch(/- sampling\.topP: sampling\.topP must be in \(0, 1\]/);
    const src = await fixture({ prompts: { train: { path: 'missing.jsonl' }, test: { path: 'test.csv' } } });
    const r2 = await pipeline('plan', src.config);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/prompt source: cannot read .*missing\.jsonl/);
  });

  it('plans: steps, counts, disk and time, with the embedder width read from its config.json', async () => {
    const f = await fixture({ sft: { enabled: true, demonstrations: { path: 'demos.jsonl' } } });
    await mkdir(join(f.dir, 'emb'));
    await writeFile(join(f.dir, 'emb', 'config.json'), JSON.stringify({ hidden_size: 64, num_hidden_layers: 2, intermediate_size: 128, vocab_size: 500, num_attention_heads: 4 }));
    const cfg = JSON.parse(await readFile(f.config, 'utf8'));
    cfg.models.embedder.id = './emb';
    await writeFile(f.config, JSON.stringify(cfg));
    const r = await pipeline('plan', f.config);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/train: 12 prompts × 4 responses = 48 responses in 4 shards of ≤ 3 prompts/);
    expect(r.stdout).toMatch(/test: 4 prompts × 6 responses = 24 responses in 2 shards of ≤ 2 prompts/);
    expect(r.stdout).toMatch(/sft +~ *\d+s +LoRA r 32, α 32, dropout 0, lr 5e-5, 2 epochs on 3 demonstrations/);
    expect(r.stdout).toMatch(/embedding width D = 64, from .*emb\/config\.json/);
    expect(r.stdout).toMatch(/embed: embeddings, float32 \(72 × 64\)/);
    const json = JSON.parse((await pipeline('plan', f.config, '--json')).stdout);
    expect(json.counts).toEqual({ train: 12, test: 4, demonstrations: 3 });
    expect(json.dim).toBe(64);
  });

  it('runs every step on two workers, each prompt exactly once; verify, pack, and the engine opens the result', async () => {
    const f = await fixture({ sft: { enabled: true, demonstrations: { path: 'demos.jsonl' } } });
    process.env.FAKE_WORKER_LOG = join(f.dir, 'worker.log');
    process.env.FAKE_WORKER_NOISE = '1'; // stray stdout lines must not break the protocol
    const r = await pipeline('run', f.config);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/sample: 6 of 6 shards to run/);
    expect(r.stderr).toMatch(/sample: shard train\/00001 done on gpu [01] in [\d.]+s, 1 prompts skipped/);
    expect(r.stderr).toMatch(/embed +█+ 100% .* 72\/72 responses +\(shards 6\/6\)/);
    expect(r.stderr).not.toMatch(/malformed/);
    const lines = await log(join(f.dir, 'worker.log'));
    // Both workers took shards, and every shard was committed exactly once per step.
    const pids = new Set(lines.filter((l) => l.startsWith('commit sample')).map((l) => l.split(' ')[4]));
    expect(pids.size).toBe(2);
    for (const step of ['sample', 'annotate', 'embed']) expect([...count(lines, 'commit', step).values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await sampledIds(f.out, 'train')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(await sampledIds(f.out, 'test')).toEqual([0, 1, 2, 3]);
    const noise = (await readdir(join(f.out, 'logs'))).length;
    expect(noise).toBeGreaterThan(0);

    const status = await pipeline('status', f.config);
    expect(status.stdout).toMatch(/sft +done +1\/1 shards/);
    expect(status.stdout).toMatch(/embed +done +6\/6 shards/);
    expect(status.stdout).toMatch(/packed +no/);

    const v = await pipeline('verify', f.config);
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/train: 11 prompts × 4 responses × D 8 \(1 skipped for length\)/);
    expect(v.stdout).toMatch(/test: 4 prompts × 6 responses × D 8/);
    expect(v.stdout).toMatch(/verify: OK/);

    // A second run finds everything done and starts no worker.
    const again = await pipeline('run', f.config);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/embed: all 6 shards already done/);
    expect((await log(join(f.dir, 'worker.log'))).length).toBe(lines.length);

    const p = await pipeline('pack', f.config);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/packed tinygen_tinyemb_helpful: train 11 × 4, test 4 × 6, D 8/);
    const packed = join(f.out, 'packed');
    expect((await readdir(join(packed, 'npy'))).sort()).toEqual([
      'embd_tinygen_tinyemb_helpful_test.npy',
      'embd_tinygen_tinyemb_helpful_train.npy',
      'manifest.json',
      'reward_tinygen_tinyemb_helpful_test.npy',
      'reward_tinygen_tinyemb_helpful_train.npy',
    ]);
    const manifest = JSON.parse(await readFile(join(packed, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'reward-lab.pipeline-manifest/1',
      datasetId: 'tinygen_tinyemb_helpful',
      task: 'helpful',
      models: { generator: { id: 'org/tiny-gen', tag: 'tinygen', sft: { path: join(f.out, 'sft', 'model') } }, goldenRm: { id: 'org/tiny-rm' }, embedder: { id: 'org/tiny-emb', dim: 8 } },
      seeds: { seed: 0 },
      counts: {
        train: { sourcePrompts: 12, skipped: 1, prompts: 11, responsesPerPrompt: 4, rows: 44, dim: 8, rankSorted: true },
        test: { sourcePrompts: 4, skipped: 0, prompts: 4, responsesPerPrompt: 6, rankSorted: false },
        demonstrations: 3,
      },
    });
    expect(manifest.files).toContainEqual({ file: 'npy/embd_tinygen_tinyemb_helpful_train.npy', shape: [11, 4, 8], bytes: 128 + 11 * 4 * 8 * 4 });
    expect(manifest.files).toContainEqual({ file: 'npy/reward_tinygen_tinyemb_helpful_train.npy', shape: [11, 4, 1], bytes: 128 + 11 * 4 * 4 });

    // Both layouts open in the engine, agree, and carry the rank order and provenance.
    const npy = await openDataDirectory(join(packed, 'npy'));
    const arrow = await openDataDirectory(join(packed, 'arrow'));
    try {
      expect([npy.format, arrow.format]).toEqual(['npy', 'arrow']);
      expect(arrow.info).toMatchObject({ id: 'tinygen_tinyemb_helpful', task: 'helpful', generator: 'tinygen', embedder: 'tinyemb', goldenRewardModel: 'org/tiny-rm' });
      expect(npy.info).toMatchObject({ task: 'helpful', generator: 'tinygen', embedder: 'tinyemb' });
      for (const split of ['train', 'test'] as const) {
        expect(Array.from(arrow[split].rewards)).toEqual(Array.from(npy[split].rewards));
        const rows = npy[split].embeddings.rows;
        expect(Array.from(await arrow[split].embeddings.readRange(0, rows))).toEqual(Array.from(await npy[split].embeddings.readRange(0, rows)));
      }
      expect(arrow.train.rankSorted).toBe(true);
      expect(arrow.test.rankSorted).toBe(false);
    } finally {
      await Promise.all([npy.close(), arrow.close()]);
    }
    const v2 = await pipeline('verify', f.config);
    expect(v2.stdout).toMatch(/packed: checked \(npy and arrow\)\nverify: OK/);

    // A real experiment on the packed data.
    const spec = join(f.dir, 'spec.json');
    await writeFile(
      spec,
      JSON.stringify({
        annotation: { beta: 5, budget: 11, scale: { kind: 'std' } },
        model: { objective: 'clf-mlp', hidden: [8], training: { batchSize: 32, epochs: 3 } },
        evaluation: { repeats: 3, heldOutPairs: 10, bonN: [1, 2, 6] },
        seeds: [0],
      }),
    );
    const exp = await cli(['run', '--spec', spec, '--data', join(packed, 'arrow'), '--backend', 'cpu', '--quiet']);
    expect(exp.code, exp.stderr).toBe(0);
    const result = JSON.parse(exp.stdout) as ExperimentResult;
    expect(result.format).toBe('reward-lab.result/1');
    expect(result.spec.dataset).toEqual({ kind: 'files', id: 'tinygen_tinyemb_helpful' });
    expect(result.dataset.train).toMatchObject({ prompts: 11, responsesPerPrompt: 4, dim: 8, rankSorted: true });
    expect(Number.isFinite(result.summary.improvement.mean)).toBe(true);
  });

  it('retries a failing shard without redoing finished ones, and gives up after its retries', async () => {
    const f = await fixture({ retries: 1, gpus: [0] });
    process.env.FAKE_WORKER_LOG = join(f.dir, 'worker.log');
    process.env.FAKE_WORKER_FAIL = 'sample:train/1:1';
    const ok = await pipeline('run', f.config, '--steps', 'sample');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/sample: shard train\/00001 failed on gpu 0 \(attempt 1 of 2\), will retry: RuntimeError: injected failure 1\/1/);
    let lines = await log(join(f.dir, 'worker.log'));
    expect(Object.fromEntries(count(lines, 'begin', 'sample'))).toEqual({ 'train/0': 1, 'train/1': 2, 'train/2': 1, 'train/3': 1, 'test/0': 1, 'test/1': 1 });

    process.env.FAKE_WORKER_FAIL = 'annotate:test/0:5';
    const bad = await pipeline('run', f.config, '--steps', 'annotate');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/annotate: 1 shard failed after 2 attempts:\n {2}test\/00000: RuntimeError: injected failure 2\/5/);
    expect(bad.stderr).toMatch(/worker logs: .*logs; rerun to retry them/);
    const status = await pipeline('status', f.config);
    expect(status.stdout).toMatch(/annotate +incomplete +5\/6 shards \(1 pending\)/);
    expect(status.stdout).toMatch(/test: 1\/2 done; pending 00000/);

    delete process.env.FAKE_WORKER_FAIL;
    const fixed = await pipeline('run', f.config, '--steps', 'annotate');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).toMatch(/annotate: 1 of 6 shards to run \(5 done before, kept\)/);
    lines = await log(join(f.dir, 'worker.log'));
    expect(Object.fromEntries(count(lines, 'commit', 'annotate'))).toEqual({ 'train/0': 1, 'train/1': 1, 'train/2': 1, 'train/3': 1, 'test/0': 1, 'test/1': 1 });
  });

  it('resumes after a worker is killed mid-shard: only that shard is redone', async () => {
    const f = await fixture({ gpus: [0] });
    process.env.FAKE_WORKER_LOG = join(f.dir, 'worker.log');
    process.env.FAKE_WORKER_DELAY = '0.15';
    const running = pipeline('run', f.config, '--steps', 'sample');
    // Wait for shard train/00002 to be in progress (its temporary folder names the worker's pid), then kill the worker.
    const parent = join(f.out, 'sample', 'train');
    let victim: number | null = null;
    for (let i = 0; i < 400 && victim === null; i++) {
      const tmp = (await readdir(parent).catch(() => [] as string[])).find((n) => n.startsWith('shard-00002.tmp-'));
      if (tmp) victim = Number(tmp.slice(tmp.lastIndexOf('-') + 1));
      else await new Promise((r) => setTimeout(r, 25));
    }
    expect(victim).not.toBeNull();
    process.kill(victim!, 'SIGKILL');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/shard train\/00002 failed on gpu 0 \(attempt 1 of 3\), will retry: the worker killed by SIGKILL while on it/);
    expect(r.stderr).toMatch(/the worker on gpu 0 killed by SIGKILL; starting a new one/);
    const lines = await log(join(f.dir, 'worker.log'));
    expect(Object.fromEntries(count(lines, 'begin', 'sample'))).toEqual({ 'train/0': 1, 'train/1': 1, 'train/2': 2, 'train/3': 1, 'test/0': 1, 'test/1': 1 });
    expect(Object.fromEntries(count(lines, 'commit', 'sample'))).toEqual({ 'train/0': 1, 'train/1': 1, 'train/2': 1, 'train/3': 1, 'test/0': 1, 'test/1': 1 });
    expect((await readdir(parent)).sort()).toEqual(['shard-00000', 'shard-00001', 'shard-00002', 'shard-00003']);
    expect(await sampledIds(f.out, 'train')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('stops cleanly when the orchestrator is interrupted, and the next run resumes', async () => {
    const f = await fixture({ gpus: [0] });
    const env = { ...process.env, FAKE_WORKER_LOG: join(f.dir, 'worker.log'), FAKE_WORKER_DELAY: '0.1' };
    const child = spawn(process.execPath, [BIN, 'pipeline', 'run', f.config, '--steps', 'sample'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += String(c)));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    for (let i = 0; i < 600 && !/shard train\/00001 done/.test(stderr); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted during sample: finished shards are kept; rerun the same command to resume/);
    const before = count(await log(join(f.dir, 'worker.log')), 'commit', 'sample');
    expect(before.size).toBeGreaterThanOrEqual(2);
    expect(before.size).toBeLessThan(6);

    process.env.FAKE_WORKER_LOG = env.FAKE_WORKER_LOG;
    const r = await pipeline('run', f.config, '--steps', 'sample');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`sample: ${6 - before.size} of 6 shards to run \\(${before.size} done before, kept\\)`));
    const after = count(await log(join(f.dir, 'worker.log')), 'commit', 'sample');
    expect([...after.values()]).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('reports workers that cannot start, and refuses steps whose input is missing', async () => {
    const f = await fixture();
    process.env.FAKE_WORKER_FATAL = 'sample';
    const r = await pipeline('run', f.config);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sample: no worker could start:\n {2}gpu [01]: sample worker failed to start: ImportError: No module named 'torch' \(FAKE_WORKER_FATAL\) \(log: .*\.log\)\n {2}gpu [01]: /);
    // One GPU's worker failing to start does not stop the others.
    process.env.FAKE_WORKER_FATAL = 'sample@1';
    const one = await pipeline('run', f.config, '--steps', 'sample');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/sample: the worker on gpu 1 failed to start: sample worker failed to start: ImportError/);
    expect(one.stderr).toMatch(/sample +█+ 100% .*\(shards 6\/6\)/);
    delete process.env.FAKE_WORKER_FATAL;
    const early = await pipeline('run', f.config, '--steps', 'embed');
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/embed needs every annotate shard done, but 6 are not; run --steps annotate first/);
    const unknown = await pipeline('run', f.config, '--steps', 'sampel');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown step "sampel"/);
  });

  it('lets an external launcher run the workers: --prepare-only, then ranks of a Slurm array or torchrun', async () => {
    const f = await fixture();
    const prep = await pipeline('run', f.config, '--prepare-only');
    expect(prep.code, prep.stderr).toBe(0);
    const runConfig = join(f.out, 'run', 'config.json');
    for (const step of ['sample', 'annotate', 'embed']) {
      // Two array tasks; each takes the shards at its rank modulo the task count.
      await Promise.all(
        [0, 1].map((rank) =>
          new Promise<void>((ok, fail) => {
            const env = { ...process.env, SLURM_ARRAY_TASK_ID: String(rank), SLURM_ARRAY_TASK_COUNT: '2', FAKE_WORKER_LOG: join(f.dir, 'worker.log') };
            const child = spawn(PYTHON, [FAKE, step, '--config', runConfig], { env, stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            child.stdout.on('data', (c) => (out += String(c)));
            child.on('close', (code) => (code === 0 && out.includes('"shard_done"') ? ok() : fail(new Error(`rank ${rank} of ${step}: exit ${code}\n${out}`))));
          }),
        ),
      );
    }
    const commits = count(await log(join(f.dir, 'worker.log')), 'commit', 'embed');
    expect([...commits.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    const status = await pipeline('status', f.config);
    expect(status.stdout).toMatch(/embed +done +6\/6 shards/);
    expect((await pipeline('verify', f.config)).code).toBe(0);
  });

  it('verify names bad outputs; changed settings are refused, naming what changed', async () => {
    const f = await fixture({ gpus: [0] });
    expect((await pipeline('run', f.config)).code).toBe(0);
    expect((await pipeline('verify', f.config)).code).toBe(0);
    const shard = (step: string, split: string, i: number) => join(f.out, step, split, `shard-0000${i}`);
    const backup = join(f.dir, 'backup');
    await cp(f.out, backup, { recursive: true });
    const restore = () => cp(backup, f.out, { recursive: true, force: true });
    const check = async (pattern: RegExp) => {
      const v = await pipeline('verify', f.config);
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(pattern);
      await restore();
    };

    // NaN in an embedding.
    const embPath = join(shard('embed', 'train', 0), 'embeddings.npy');
    const emb = await readFile(embPath);
    emb.writeFloatLE(NaN, 128 + 4 * 13);
    await writeFile(embPath, emb);
    await check(/error: embed\/train\/shard-00000\/embeddings\.npy: 1 NaN or infinite values \(first at row 0, value NaN\)/);

    // Train rewards out of rank order.
    const rewPath = join(shard('annotate', 'train', 2), 'rewards.npy');
    const rew = await readFile(rewPath);
    const a = rew.readFloatLE(128);
    rew.writeFloatLE(rew.readFloatLE(132), 128);
    rew.writeFloatLE(a, 132);
    await writeFile(rewPath, rew);
    await check(/annotate\/train\/shard-00002\/rewards\.npy: prompt 6 \(row 0\) is not in rank order: reward\[0\] = .* > reward\[1\] = .*; train responses must be sorted ascending/);

    // A response not cut at "\n\nHuman".
    const respPath = join(shard('annotate', 'test', 1), 'responses.jsonl');
    const rows = (await log(respPath)).map((l) => JSON.parse(l));
    rows[1].responses[2] += '\n\nHuman: again';
    await writeFile(respPath, rows.map((r) => JSON.stringify(r)).join('\n'));
    await check(/annotate\/test\/shard-00001\/responses\.jsonl line 2 \(prompt 3\): a response still holds "\\n\\nHuman"/);

    // Wrong shape, a missing shard, a lost prompt.
    await writeFile(join(shard('embed', 'test', 0), 'embeddings.npy'), Buffer.concat([npyHeaderBytes([2, 6, 7]), Buffer.alloc(2 * 6 * 7 * 4)]));
    await check(/embed\/test: the shards disagree on D: shard-00000 has 7, shard-00001 has 8/);
    await rm(join(shard('embed', 'train', 3), 'done.json'));
    await check(/embed: 1 of 6 shards not run yet: train\/00003/);
    const sPath = join(shard('sample', 'train', 0), 'responses.jsonl');
    await writeFile(sPath, (await log(sPath)).slice(0, 2).join('\n'));
    await check(/sample\/train\/shard-00000\/responses\.jsonl: 2 prompts, expected 3 \(rows 0–2 of prepare\/train\.jsonl\)/);
    expect((await pipeline('verify', f.config)).code).toBe(0);

    // New settings would mix two datasets: refused, naming the change.
    const cfg = JSON.parse(await readFile(f.config, 'utf8'));
    cfg.sampling.temperature = 0.7;
    cfg.gpus = [0, 1];
    await writeFile(f.config, JSON.stringify(cfg));
    const stale = await pipeline('run', f.config);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/holds results of other settings:\n {2}sample: 6 finished shards made under other settings\n {2}annotate: 6 .*\n {2}embed: 6 .*\nchanged since those shards were made: sampling\.temperature\n/);
    const status = await pipeline('status', f.config);
    expect(status.stdout).toMatch(/sample +done/); // status reads the run as it was made
  });
});
