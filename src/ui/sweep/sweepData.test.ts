import { describe, expect, it } from 'vitest';
import type { Progress } from '../../core/progress.ts';
import { parseSpec } from '../../core/spec.ts';
import { expandSweep, type CellResult, type SweepSpec } from '../../core/sweep.ts';
import { toCsv } from '../export/csv.ts';
import { fakeResult } from '../testing/fakes.ts';
import { comboLabel, parseValues, valueLabel, AXES } from './axes.ts';
import { aggregationLines, chartLines, defaultXAxis, orderedTable, runningDescription, sweepCounts, sweepEta, tableCsvRows, xScale } from './sweepData.ts';
import { improvementOf } from './testing.ts';

const base = parseSpec({ dataset: { kind: 'demo', trainPrompts: 500, testPrompts: 40, dim: 16 }, annotation: { budget: 500 }, seeds: [0] });
const spec: SweepSpec = { name: 'grid', base, axes: { 'model.objective': ['bt-mlp', 'clf-mlp'], 'annotation.beta': [10, 0.5, 1] }, seeds: [0, 1] };
const cells = expandSweep(spec);
const resultOf = (i: number): CellResult => ({ cellKey: cells[i].key, axes: cells[i].axes, seed: cells[i].seed, result: fakeResult(cells[i].spec, { improvement: improvementOf(cells[i].spec) }) });

describe('progress numbers', () => {
  it('counts done, running and queued cells', () => {
    const done = new Set([cells[0].key, cells[1].key]);
    expect(sweepCounts(cells, done, [cells[2].key])).toEqual({ total: 12, done: 2, running: 1, queued: 9 });
    expect(sweepCounts(cells, done, [])).toEqual({ total: 12, done: 2, running: 0, queued: 10 });
    // A batch whose first cell has just finished: it counts as done, not running.
    expect(sweepCounts(cells, done, [cells[1].key, cells[2].key, cells[3].key])).toEqual({ total: 12, done: 2, running: 2, queued: 8 });
  });

  it('estimates the time left from the finished cells: queued at their mean, plus what the running one has left', () => {
    const counts = { total: 5, done: 2, running: 1, queued: 2 };
    expect(sweepEta([], counts, 100)).toBeNull();
    // mean 3 s: 2 queued × 3 s + (3 s − 1 s elapsed)
    expect(sweepEta([2000, 4000], counts, 1000)).toBe(8);
    // a running cell past the mean counts as about to finish
    expect(sweepEta([2000, 4000], counts, 9000)).toBe(6);
    // a batch of 3 running for 4 s: 3 × 3 s − 4 s left of it
    expect(sweepEta([2000, 4000], { ...counts, running: 3 }, 4000)).toBe(11);
    // No cell finished yet: the running batch's own estimate (4 s in, 2 s left: 2 s a cell), and
    // the 2 queued cells at its share.
    expect(sweepEta([], { ...counts, running: 3 }, 4000, 2)).toBe(6);
    expect(sweepEta([], { ...counts, running: 3 }, 4000, null)).toBeNull();
  });

  it('says what the running batch works on: the cell in a stage of its own, the cells a shared pass covers', () => {
    const keys = [cells[2].key, cells[3].key, cells[4].key];
    const progress = (patch: Partial<Progress>): Progress => ({ stage: 'train', seedIndex: 0, seeds: 1, member: 0, members: 1, fraction: 0.25, etaSeconds: null, message: '', ...patch });
    expect(runningDescription(cells, keys.slice(0, 1), null)).toBe(`Cell 3: ${comboLabel(cells[2].axes)} · seed 0 · starting`);
    expect(runningDescription(cells, keys.slice(0, 1), progress({}))).toBe(`Cell 3: ${comboLabel(cells[2].axes)} · seed 0 · training 25%`);
    expect(runningDescription(cells, keys, null)).toBe('Cells 3–5 · starting');
    expect(runningDescription(cells, keys, progress({ experimentIndex: 1, experiments: 3 }))).toBe(`Cell 4: ${comboLabel(cells[3].axes)} · seed 1 · training · batch of 3: 25%`);
    expect(runningDescription(cells, keys, progress({ stage: 'score', experimentIndex: 0, experiments: 3, experimentCount: 3, fraction: 0.9 }))).toBe('Cells 3–5 · scoring in one pass · batch of 3: 90%');
    expect(runningDescription(cells, [cells[0].key, cells[5].key], null)).toBe('2 cells from cell 1 · starting');
  });
});

describe('results table and chart', () => {
  const results = [5, 0, 1, 2, 3, 4, 6, 7].map(resultOf);

  it('gives one row per combination in grid order, mean ± std over its seeds', () => {
    const rows = orderedTable(spec, results);
    expect(rows.map((r) => [r.axes['model.objective'], r.axes['annotation.beta'], r.seeds.length])).toEqual([
      ['bt-mlp', 10, 2],
      ['bt-mlp', 0.5, 2],
      ['bt-mlp', 1, 2],
      ['clf-mlp', 10, 2],
    ]);
    // improvementOf: 0.5 + 1 + seed/100 → seeds 0 and 1 give 1.5 and 1.51
    expect(rows[0].metrics.improvement.mean).toBeCloseTo(1.505, 12);
    expect(rows[0].metrics.improvement.std).toBeGreaterThan(0);
  });

  it('draws one line per objective along β, points sorted in the axis order', () => {
    const rows = orderedTable(spec, results);
    const lines = chartLines(spec, rows, 'annotation.beta', 'improvement');
    expect(lines.map((l) => l.label)).toEqual(['BT-MLP', 'CLF-MLP']);
    expect(lines[0].points.map((p) => p.x)).toEqual([10, 0.5, 1]);
    expect(lines[1].points.map((p) => p.x)).toEqual([10]);
    const byObjective = chartLines(spec, rows, 'model.objective', 'improvement');
    expect(byObjective.map((l) => l.label)).toEqual(['β 10', 'β 0.5', 'β 1']);
  });

  it('exports the table as CSV with each metric mean and std', () => {
    const csv = toCsv(tableCsvRows(spec, orderedTable(spec, results))).split('\r\n');
    expect(csv[0]).toMatch(/^model\.objective,annotation\.beta,seeds,improvement_mean,improvement_std,spearman_mean/);
    expect(csv[1]).toMatch(/^bt-mlp,10,2,1\.505,0\.005/);
    expect(csv).toHaveLength(6);
  });

  it('reads ensembles three ways for T8, leaving out cells without members to compare', () => {
    const t8: SweepSpec = { name: 'T8 (small)', base: { ...base, model: { ...base.model, ensemble: { size: 3, aggregation: 'mean' } } }, axes: { 'annotation.beta': [10, 1] }, seeds: [0] };
    const t8cells = expandSweep(t8).map((c, i): CellResult => {
      const result = fakeResult(c.spec);
      const m = result.seeds[0].metrics;
      result.seeds[0].aggregations = { first: { ...m, improvement: 1 + i }, mean: { ...m, improvement: 2 + i }, min: { ...m, improvement: 3 + i } };
      return { cellKey: c.key, axes: c.axes, seed: c.seed, result };
    });
    const lines = aggregationLines(t8, t8cells, 'annotation.beta');
    expect(lines.map((l) => l.label)).toEqual(['first member (single model)', 'mean of members', 'min of members']);
    expect(lines.map((l) => l.points.map((p) => p.mean))).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    const plain = { ...t8cells[0], result: fakeResult(cells[0].spec) };
    expect(aggregationLines(t8, [plain], 'annotation.beta')[0].points).toEqual([]);
  });

  it('picks a numeric axis for x when there is one, and a log scale for wide ranges', () => {
    expect(defaultXAxis(spec)).toBe('annotation.beta');
    expect(defaultXAxis({ ...spec, axes: { 'model.objective': ['bt-mlp', 'clf-mlp'] } })).toBe('model.objective');
    expect(defaultXAxis({ ...spec, axes: {} })).toBeNull();
    expect(xScale([0.5, 1, 10])).toBe('log');
    expect(xScale([1000, 2000, 4000])).toBe('linear');
    expect(xScale(['same-prompt', 'cross-prompt'])).toBe('category');
  });
});

describe('axis values', () => {
  it('reads number lists and says what it cannot read', () => {
    const beta = AXES.find((a) => a.path === 'annotation.beta');
    const budget = AXES.find((a) => a.path === 'annotation.budget');
    if (beta?.kind !== 'number' || budget?.kind !== 'number') throw new Error('axes missing');
    expect(parseValues('0.5, 1 10', beta)).toEqual({ ok: true, values: [0.5, 1, 10] });
    expect(parseValues('-1, 1', beta)).toEqual({ ok: true, values: [-1, 1] });
    expect(parseValues('1000, 2.5', budget)).toEqual({ ok: false, message: '2.5 is not a whole number' });
    expect(parseValues('0', budget)).toEqual({ ok: false, message: '0 must be > 0' });
    expect(parseValues('1, x', budget)).toEqual({ ok: false, message: '"x" is not a number' });
    expect(parseValues('1, 1', budget)).toEqual({ ok: false, message: 'a value is listed twice' });
    expect(parseValues(' ', budget)).toEqual({ ok: false, message: 'give at least one value' });
  });

  it('names values and lines the way the form does', () => {
    expect(valueLabel('model.objective', 'clf-gbdt')).toBe('CLF-GBDT');
    expect(valueLabel('annotation.beta', -1)).toBe('perfect');
    expect(comboLabel({ 'model.objective': 'bt-mlp', 'annotation.pairing.scope': 'cross-prompt' })).toBe('BT-MLP · Pair scope cross-prompt');
    expect(comboLabel({})).toBe('all cells');
  });
});
