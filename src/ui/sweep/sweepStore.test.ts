import { beforeEach, describe, expect, it } from 'vitest';
import { parseSpec } from '../../core/spec.ts';
import { expandSweep, type SweepSpec } from '../../core/sweep.ts';
import { memoryRepository } from '../runRepository.ts';
import { createLabStore, type LabStore } from '../store.ts';
import { FakeEngine, flush } from '../testing/fakes.ts';
import { checkGrid, sweepFromDraft, sweepId } from './sweepData.ts';
import { memorySweepRepository, type SweepRepository } from './sweepRepository.ts';
import { createSweepStore, DEFAULT_DRAFT, type SweepStore } from './sweepStore.ts';
import { FakeSweepEngine } from './testing.ts';

const BASE = parseSpec({
  dataset: { kind: 'demo', trainPrompts: 500, testPrompts: 40, dim: 16 },
  annotation: { beta: 1, budget: 500 },
  model: { objective: 'clf-mlp', hidden: [16] },
  evaluation: { repeats: 5 },
  seeds: [0],
});

/** objective × β × 2 seeds: 8 cells. */
const GRID: SweepSpec = sweepFromDraft(DEFAULT_DRAFT, BASE);

let engine: FakeSweepEngine;
let repo: SweepRepository & { cellsSaved: number };
let lab: LabStore;
let store: SweepStore;
let tick: number;

function newStore(): SweepStore {
  return createSweepStore({ engine, repo, lab, now: () => tick, clock: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick)) });
}

beforeEach(() => {
  engine = new FakeSweepEngine();
  repo = memorySweepRepository();
  lab = createLabStore({ engine: new FakeEngine(), repo: memoryRepository() }, { spec: BASE });
  tick = 0;
  store = newStore();
});

const state = () => store.getState();
const actions = () => store.getState().actions;
const active = () => {
  const a = state().active;
  if (!a) throw new Error('no active sweep');
  return a;
};
const doneKeys = () => active().results.map((r) => r.cellKey);

/** Finishes `n` cells one after another, letting the runner store each and start the next. */
async function finishCells(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    tick += 1000;
    engine.finish();
    await flush();
  }
}

describe('running cells in batches that share a pass over the test split', () => {
  it('runs as many cells at once as the engine says share a pass, storing each as it finishes', async () => {
    engine.passCells = 3;
    await actions().begin(GRID);
    const cells = expandSweep(GRID);
    expect(engine.runs.map((r) => r.spec)).toEqual(cells.slice(0, 3).map((c) => c.spec));
    expect(active().running?.keys).toEqual(cells.slice(0, 3).map((c) => c.key));
    await finishCells(1);
    // Stored while the rest of its batch still runs.
    expect((await repo.load(sweepId(GRID)))?.cells.map((c) => c.cellKey)).toEqual([cells[0].key]);
    expect(engine.runs).toHaveLength(3);
    await finishCells(2);
    expect(engine.runs.slice(3).map((r) => r.spec)).toEqual(cells.slice(3, 6).map((c) => c.spec));
    await finishCells(5);
    expect(active().status).toBe('finished');
    expect(doneKeys()).toEqual(cells.map((c) => c.key));
    expect(engine.runs).toHaveLength(8);
  });

  it('pauses after the batch, reports the failing cell of a batch, and keeps the cells finished before it', async () => {
    engine.passCells = 3;
    await actions().begin(GRID);
    actions().pause();
    expect(active().message).toBe('Pausing after the 3 cells in progress…');
    await finishCells(3);
    expect(active().status).toBe('paused');
    expect(active().results).toHaveLength(3);

    await actions().resume();
    await finishCells(1);
    engine.fail('budget 800 needs 800 prompts');
    await flush();
    expect(active().status).toBe('failed');
    expect(active().message).toBe('Cell 5 of 8 failed: budget 800 needs 800 prompts. Finished cells are kept; Resume retries it.');
    expect(active().results).toHaveLength(4);
    expect(active().running).toBeNull();

    await actions().resume();
    expect(engine.runs.at(-3)?.spec).toEqual(expandSweep(GRID)[4].spec);
    engine.crash('the engine worker stopped: out of memory');
    await flush();
    expect(active().message).toBe('A batch of 3 cells (from cell 5) of 8 failed: the engine worker stopped: out of memory. Finished cells are kept; Resume retries the rest.');
  });

  it('never puts cells on two datasets in one batch', async () => {
    engine.passCells = 8;
    const grid: SweepSpec = { ...GRID, axes: { 'dataset.dim': [16, 32] } };
    await actions().begin(grid);
    const cells = expandSweep(grid);
    expect(engine.runs.map((r) => r.spec.dataset.kind === 'demo' && r.spec.dataset.dim)).toEqual([16, 16]);
    await finishCells(2);
    expect(engine.runs.slice(2).map((r) => r.spec)).toEqual(cells.slice(2).map((c) => c.spec));
    await finishCells(2);
    expect(active().status).toBe('finished');
  });
});

describe('the editor grid', () => {
  it('varies the spec in the form: its seeds give way to the sweep seeds, every cell checked', () => {
    expect(GRID.axes).toEqual({ 'model.objective': ['bt-mlp', 'clf-mlp'], 'annotation.beta': [0.5, 10] });
    expect(GRID.seeds).toEqual([0, 1]);
    expect(GRID.base).not.toHaveProperty('seeds');
    const check = checkGrid(GRID);
    expect(check.ok).toBe(true);
    if (check.ok) {
      expect(check.cells).toHaveLength(8);
      expect(check.id).toBe(sweepId(GRID));
    }
  });

  it('names the cells a grid cannot run and why', () => {
    const check = checkGrid({ ...GRID, axes: { 'annotation.budget': [400, 800] } });
    expect(check.ok).toBe(false);
    expect(check.issues.map((i) => i.message).join('\n')).toMatch(/budget 800 needs 800 prompts.*\(cell Budget \(pairs\) 800\)/);
    const empty = checkGrid({ ...GRID, axes: { 'model.objective': [] } });
    expect(empty.ok).toBe(false);
    expect(empty.issues[0].message).toBe('Objective: pick at least one value');
  });
});

describe('running a sweep cell by cell', () => {
  it('runs the cells in grid order, storing each the moment it finishes, and ends finished', async () => {
    await actions().begin(GRID);
    const cells = expandSweep(GRID);
    expect(active().status).toBe('running');
    expect(engine.runs).toHaveLength(1);
    expect(engine.runs[0].spec).toEqual(cells[0].spec);
    expect(active().running?.keys).toEqual([cells[0].key]);

    engine.progress(0.5);
    expect(active().running?.progress?.fraction).toBe(0.5);

    await finishCells(1);
    // Stored before the next cell started.
    expect((await repo.load(sweepId(GRID)))?.cells.map((c) => c.cellKey)).toEqual([cells[0].key]);
    expect(engine.runs).toHaveLength(2);
    expect(engine.runs[1].spec).toEqual(cells[1].spec);

    await finishCells(7);
    expect(active().status).toBe('finished');
    expect(active().message).toBe('Finished: 8 cells.');
    expect(doneKeys()).toEqual(cells.map((c) => c.key));
    expect(repo.cellsSaved).toBe(8);
    const stored = await repo.load(sweepId(GRID));
    expect(stored?.record).toMatchObject({ status: 'finished', done: 8, total: 8, origin: 'app', target: null });
    expect(state().stored.map((r) => r.id)).toEqual([sweepId(GRID)]);
  });

  it('pauses after the running cell, then resumes with the rest', async () => {
    await actions().begin(GRID);
    await finishCells(2);
    actions().pause();
    expect(active().status).toBe('pausing');
    // The cell in progress is not thrown away.
    expect(engine.cancels).toBe(0);
    await finishCells(1);
    expect(active().status).toBe('paused');
    expect(engine.runs).toHaveLength(3);
    expect(active().results).toHaveLength(3);
    expect((await repo.load(sweepId(GRID)))?.record.status).toBe('paused');

    await actions().resume();
    expect(active().status).toBe('running');
    expect(engine.runs).toHaveLength(4);
    expect(engine.runs[3].spec).toEqual(expandSweep(GRID)[3].spec);
    await finishCells(5);
    expect(active().status).toBe('finished');
    expect(engine.runs).toHaveLength(8);
  });

  it('ends finished, not paused, when Pause comes during the last cell', async () => {
    await actions().begin(GRID);
    await finishCells(7);
    actions().pause();
    await finishCells(1);
    expect(active().status).toBe('finished');
  });

  it('cancels the running cell at once, keeps the finished ones, and resume skips their keys', async () => {
    await actions().begin(GRID);
    await finishCells(3);
    actions().cancel();
    expect(engine.cancels).toBe(1);
    await flush();
    expect(active().status).toBe('cancelled');
    expect(active().message).toBe('Cancelled: 3 of 8 cells kept. Resume runs the rest.');
    expect(active().running).toBeNull();
    expect((await repo.load(sweepId(GRID)))?.cells).toHaveLength(3);

    const before = new Set(doneKeys());
    await actions().resume();
    const cells = expandSweep(GRID);
    await finishCells(5);
    expect(active().status).toBe('finished');
    // After resuming, the engine ran exactly the cells not finished before: the cancelled one again, then the rest.
    const rerun = engine.runs.slice(4).map((r) => cells.find((c) => JSON.stringify(c.spec) === JSON.stringify(r.spec))!.key);
    expect(rerun).toEqual(cells.filter((c) => !before.has(c.key)).map((c) => c.key));
    expect(new Set(doneKeys()).size).toBe(8);
  });

  it('keeps finished cells across a reload and resumes from them in a new page', async () => {
    await actions().begin(GRID);
    await finishCells(2);
    // The page goes away mid-cell: the store is dropped with a cell running.
    store = newStore();
    await actions().init();
    expect(active().status).toBe('interrupted');
    expect(active().message).toMatch(/Interrupted .* Resume runs the rest/);
    expect(active().results).toHaveLength(2);
    const runsBefore = engine.runs.length;
    await actions().resume();
    expect(engine.runs).toHaveLength(runsBefore + 1);
    expect(engine.runs[runsBefore].spec).toEqual(expandSweep(GRID)[2].spec);
    await finishCells(6);
    expect(active().status).toBe('finished');
  });

  it('starting the same grid again continues it instead of starting over', async () => {
    await actions().begin(GRID);
    await finishCells(5);
    actions().cancel();
    await flush();
    actions().close();
    expect(state().active).toBeNull();
    await actions().begin(structuredClone(GRID));
    expect(active().results).toHaveLength(5);
    expect(active().message).toBe('Continuing: 5 of 8 cells were already done.');
    expect(engine.runs.at(-1)?.spec).toEqual(expandSweep(GRID)[5].spec);
  });

  it('reports a failed cell, keeps what finished, and retries the cell on resume', async () => {
    await actions().begin(GRID);
    await finishCells(1);
    engine.fail('out of memory');
    await flush();
    expect(active().status).toBe('failed');
    expect(active().message).toBe('Cell 2 of 8 failed: out of memory. Finished cells are kept; Resume retries it.');
    await actions().resume();
    expect(engine.runs.at(-1)?.spec).toEqual(expandSweep(GRID)[1].spec);
  });

  it('waits for a single run in progress instead of competing for the engine', async () => {
    lab.setState((s) => ({ run: { ...s.run, status: 'running' } }));
    await actions().begin(GRID);
    expect(state().active).toBeNull();
    expect(state().error).toMatch(/single run is using the engine/);
    expect(engine.runs).toHaveLength(0);
  });

  it('refuses a second sweep while one runs', async () => {
    await actions().begin(GRID);
    await actions().begin({ ...GRID, seeds: [7] });
    expect(state().error).toBe('A sweep is running: pause or cancel it first.');
    expect(active().record.id).toBe(sweepId(GRID));
  });
});

describe('merged results', () => {
  it('exports the finished cells as a reward-lab.sweep/1 set that opens again, with Resume for the missing cells', async () => {
    await actions().begin(GRID);
    await finishCells(3);
    actions().cancel();
    await flush();
    const set = actions().resultSet();
    expect(set?.format).toBe('reward-lab.sweep/1');
    expect(set?.cells).toHaveLength(3);

    // Another browser: nothing stored there yet.
    repo = memorySweepRepository();
    store = newStore();
    await actions().importResult(JSON.stringify(set));
    expect(active().status).toBe('imported');
    expect(active().record.origin).toBe('file');
    expect(active().results).toHaveLength(3);
    expect(active().message).toBe('Opened: 3 of 8 cells; Resume runs the 5 missing here.');
    expect((await repo.load(sweepId(GRID)))?.cells).toHaveLength(3);
    await actions().resume();
    await finishCells(5);
    expect(active().status).toBe('finished');
  });

  it('says what is wrong with a file that is not a merged sweep', async () => {
    await actions().importResult('{"format":"reward-lab.result/1"}');
    expect(state().error).toMatch(/not a merged sweep result .*reward-lab\.result\/1/);
    await actions().importResult('not json');
    expect(state().error).toMatch(/not JSON/);
    const foreign = { format: 'reward-lab.sweep/1', sweep: GRID, cells: [{ cellKey: 'x', axes: {}, seed: 9, result: {} }] };
    await actions().importResult(JSON.stringify(foreign));
    expect(state().error).toMatch(/is not a cell of this sweep/);
    expect(state().active).toBeNull();
  });

  it('deletes a stored sweep and its cells', async () => {
    await actions().begin(GRID);
    await finishCells(8);
    await actions().remove(sweepId(GRID));
    expect(state().active).toBeNull();
    expect(state().stored).toEqual([]);
    expect(await repo.load(sweepId(GRID))).toBeUndefined();
  });
});

describe('paper targets', () => {
  it('computes T7 in the worker: 4 of 4 values agree', async () => {
    await actions().runTarget('T7');
    const t7 = state().paper.analytic.T7;
    expect(t7?.status).toBe('ready');
    expect(t7?.value?.verdicts).toEqual([expect.objectContaining({ reproduced: true, detail: expect.stringMatching(/^4\/4 values agree/) })]);
    expect(state().paper.selected).toBe('T7');
  });

  it('computes T1 and T6 on the open dataset', async () => {
    await actions().runTarget('T1');
    const t1 = state().paper.analytic.T1?.value;
    expect(t1?.id).toBe('T1');
    expect(t1?.datasetId).toMatch(/demo/);
    expect(t1?.verdicts).toHaveLength(2);
    await actions().runTarget('T6');
    const t6 = state().paper.analytic.T6?.value;
    expect(t6?.id === 'T6' && t6.rows).toHaveLength(6);
    expect(t6?.id === 'T6' && t6.budget).toBe(500);
  });

  it('sets up a sweep target on the open dataset at the chosen size and runs it through the sweep runner', async () => {
    await actions().loadCounts();
    expect(state().paper.counts.value).toEqual({ train: 500, test: 40 });
    await actions().runTarget('T2');
    expect(active().record.target).toBe('T2');
    expect(active().record.name).toBe('T2 (small)');
    expect(active().cells).toHaveLength(6);
    expect(engine.runs[0].spec.dataset).toEqual(BASE.dataset);
    expect(engine.runs[0].spec.annotation.budget).toBe(500);
  });

  it('refuses a full-size grid the open dataset is too small for, saying why', async () => {
    actions().setSize('full');
    await actions().runTarget('T2');
    expect(state().active).toBeNull();
    expect(state().error).toMatch(/^T2 \(full\) cannot run on this dataset: budget 10,000 needs 10,000 prompts/);
    await actions().runTarget('T4');
    expect(state().error).toMatch(/fewer than any budget of the grid/);
  });
});
