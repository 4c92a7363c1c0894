import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandSweep, parseSweep, type SweepResultSet } from '../core/sweep.ts';
import { cli } from '../testing/cli.ts';

const grid = {
  name: 'tiny',
  base: {
    dataset: { kind: 'demo', trainPrompts: 400, testPrompts: 20, responsesPerTestPrompt: 20, dim: 8 },
    annotation: { budget: 300 },
    model: { hidden: [8], training: { epochs: 2, batchSize: 256 } },
    evaluation: { repeats: 3, heldOutPairs: 50 },
  },
  axes: { 'model.objective': ['bt-mlp', 'clf-mlp'], 'annotation.beta': [0.5, 10] },
  seeds: [0, 1],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reward-lab-sweep-'));
  await writeFile(join(dir, 'grid.json'), JSON.stringify(grid));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('reward-lab sweep / merge', () => {
  it('runs shards, resumes finished cells, and merges every cell exactly once', async () => {
    const spec = join(dir, 'grid.json');
    const [a, b] = [join(dir, 'shard0'), join(dir, 'shard1')];
    const first = await cli(['sweep', '--spec', spec, '--shard', '0/2', '--out', a]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/shard 0\/2: 4 cells, 0 already done, 4 to run/);
    const again = await cli(['sweep', '--spec', spec, '--shard', '0/2', '--out', a]);
    expect(again.stderr).toMatch(/4 cells, 4 already done, 0 to run/);

    const partial = await cli(['merge', a]);
    expect(partial.stderr).toMatch(/4 cells, 4 still missing/);

    expect((await cli(['sweep', '--spec', spec, '--shard', '1/2', '--out', b])).code).toBe(0);
    const merged = await cli(['merge', a, b, '--out', join(dir, 'all.json')]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stderr).toMatch(/wrote .*all\.json: 8 cells$/m);
    const set = JSON.parse(await readFile(join(dir, 'all.json'), 'utf8')) as SweepResultSet;
    expect(set.cells.map((c) => c.cellKey)).toEqual(expandSweep(parseSweep(grid)).map((c) => c.key));
    expect(merged.stdout.trim().split('\n')).toHaveLength(4); // one table row per axis combination
    expect((await readdir(join(a, 'cells'))).every((n) => n.endsWith('.json'))).toBe(true);
    // A shard's cells on one dataset run as one batch, sharing its passes over the test split.
    expect(first.stderr).toMatch(/running 4 cells on dataset/);
    // Progress as the batch runs (sparse lines when stderr is not a terminal), naming each cell's experiment.
    expect(first.stderr).toMatch(/\[train\] experiment 3\/4, seed 0:/);
    expect(first.stderr).toMatch(/\[score\] experiments 1…4: scoring 400 test responses/);
    expect(set.cells.every((c) => c.result.timings.batchOf === 4)).toBe(true);
  });

  it('names a failing cell, after writing the cells that finished before it', async () => {
    const failing = { ...grid, axes: { 'annotation.budget': [300, 5000] }, seeds: [0] };
    await writeFile(join(dir, 'failing.json'), JSON.stringify(failing));
    const out = join(dir, 'failing');
    const r = await cli(['sweep', '--spec', join(dir, 'failing.json'), '--out', out, '--memory-cap', '64MiB']);
    expect(r.code).toBe(1);
    const bad = expandSweep(parseSweep(failing))[1];
    expect(r.stderr).toContain(`cell ${bad.id} ({"annotation.budget":5000} seed 0) failed: budget 5,000 needs 5,000 prompts`);
    expect(await readdir(join(out, 'cells'))).toEqual([`${expandSweep(parseSweep(failing))[0].id}.json`]);
    const flags = await cli(['sweep', '--spec', join(dir, 'failing.json'), '--out', out, '--memory-cap', 'lots']);
    expect(flags.code).toBe(2);
    expect(flags.stderr).toMatch(/--memory-cap must be a size like 1GiB/);
  });

  it('refuses to mix two sweeps in one folder', async () => {
    const out = join(dir, 'mixed');
    await cli(['sweep', '--spec', join(dir, 'grid.json'), '--shard', '0/8', '--out', out]);
    await writeFile(join(dir, 'other.json'), JSON.stringify({ ...grid, seeds: [5] }));
    const clash = await cli(['sweep', '--spec', join(dir, 'other.json'), '--out', out]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/already holds cells of a different sweep/);
  });
});
