import { beforeAll, describe, expect, it } from 'vitest';
import { activateWasmBackend } from '../testing/tf.ts';
import { datasetFromSpec, runExperiment } from './experiment.ts';
import { SpecError } from './spec.ts';
import { expandSweep, mergeCellResults, parseShard, parseSweep, shardCells, sweepSeries, sweepTable, type CellResult } from './sweep.ts';

beforeAll(activateWasmBackend);

const tiny = {
  dataset: { kind: 'demo', trainPrompts: 400, testPrompts: 20, responsesPerTestPrompt: 20, dim: 8 },
  annotation: { budget: 300 },
  model: { hidden: [8], training: { epochs: 2, batchSize: 256 } },
  evaluation: { repeats: 3, heldOutPairs: 50 },
};
const grid = parseSweep({
  base: tiny,
  axes: { 'model.objective': ['bt-mlp', 'clf-mlp'], 'annotation.beta': [0.5, 10] },
  seeds: [0, 1],
});

describe('sweep grid', () => {
  it('expands every combination of axis values × seeds into complete one-seed specs', () => {
    const cells = expandSweep(grid);
    expect(cells).toHaveLength(8);
    expect(cells.map((c) => [c.axes['model.objective'], c.axes['annotation.beta'], c.seed])).toEqual([
      ['bt-mlp', 0.5, 0], ['bt-mlp', 0.5, 1], ['bt-mlp', 10, 0], ['bt-mlp', 10, 1],
      ['clf-mlp', 0.5, 0], ['clf-mlp', 0.5, 1], ['clf-mlp', 10, 0], ['clf-mlp', 10, 1],
    ]);
    expect(cells[5].spec.model.objective).toBe('clf-mlp');
    expect(cells[5].spec.annotation.beta).toBe(0.5);
    expect(cells[5].spec.seeds).toEqual([1]);
    expect(cells[5].spec.annotation.budget).toBe(300);
    expect(new Set(cells.map((c) => c.id)).size).toBe(8);
    expect(expandSweep(grid).map((c) => c.key)).toEqual(cells.map((c) => c.key));
  });

  it('names the cell whose values make an invalid spec', () => {
    const bad = parseSweep({ base: tiny, axes: { 'annotation.beta': [1, 'x'] }, seeds: [0] });
    expect(() => expandSweep(bad)).toThrow(SpecError);
    expect(() => expandSweep(bad)).toThrow(/annotation\.beta: .* \(in the cell annotation\.beta="x"\)/);
  });

  it('slices shards so that every cell runs exactly once', () => {
    const cells = expandSweep(grid);
    for (const n of [1, 3, 8, 11]) {
      const seen = Array.from({ length: n }, (_, i) => shardCells(cells, i, n)).flat().map((c) => c.index).sort((a, b) => a - b);
      expect(seen).toEqual(cells.map((c) => c.index));
    }
    expect(parseShard('2/4')).toEqual({ shard: 2, shards: 4 });
    expect(() => parseShard('4/4')).toThrow(/0 ≤ i < n/);
    expect(() => parseShard('two')).toThrow(/must look like i\/n/);
  });
});

describe('sweep results', () => {
  let parts: CellResult[];
  beforeAll(async () => {
    parts = [];
    for (const cell of expandSweep(grid)) {
      const result = await runExperiment(cell.spec, datasetFromSpec(cell.spec)!);
      parts.push({ cellKey: cell.key, axes: cell.axes, seed: cell.seed, result });
    }
  });

  it('merges shards back into one set in grid order and reports missing cells', () => {
    const shuffled = [parts[6], parts[1], parts[0], parts[3], parts[7], parts[2]];
    const { set, missing } = mergeCellResults(grid, shuffled);
    expect(set.cells.map((c) => c.cellKey)).toEqual([0, 1, 2, 3, 6, 7].map((i) => parts[i].cellKey));
    expect(missing.map((c) => c.index)).toEqual([4, 5]);
    const full = mergeCellResults(grid, [...parts, parts[0]]);
    expect(full.missing).toEqual([]);
    expect(JSON.parse(JSON.stringify(full.set))).toEqual(full.set);
  });

  it('refuses results from another sweep and conflicting duplicates', () => {
    const other = parseSweep({ base: tiny, axes: { 'annotation.beta': [3] }, seeds: [0] });
    expect(() => mergeCellResults(other, parts)).toThrow(/not a cell of this sweep/);
    const conflicting = { ...parts[0], result: { ...parts[0].result, seeds: parts[1].result.seeds } };
    expect(() => mergeCellResults(grid, [parts[0], conflicting])).toThrow(/two different results for the same cell/);
  });

  it('tabulates mean ± std over seeds and draws one line per objective', () => {
    const rows = sweepTable({ cells: parts });
    expect(rows).toHaveLength(4);
    const first = rows[0];
    expect(first.seeds).toEqual([0, 1]);
    const values = [parts[0], parts[1]].map((p) => p.result.summary.spearman.mean);
    expect(first.metrics.spearman.mean).toBeCloseTo((values[0] + values[1]) / 2, 12);
    expect(first.metrics.spearman.std).toBeCloseTo(Math.abs(values[0] - values[1]) / 2, 12);
    const lines = sweepSeries(rows, 'annotation.beta', 'improvement');
    expect(lines.map((l) => l.label)).toEqual([{ 'model.objective': 'bt-mlp' }, { 'model.objective': 'clf-mlp' }]);
    expect(lines[1].points.map((p) => p.x)).toEqual([0.5, 10]);
  });
});
