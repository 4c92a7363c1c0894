import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../core/spec.ts';
import { expandSweep, type CellResult, type SweepSpec } from '../../core/sweep.ts';
import { fakeResult } from '../testing/fakes.ts';
import { sweepId } from './sweepData.ts';
import { indexedDbSweepRepository, type SweepRecord } from './sweepRepository.ts';

const spec: SweepSpec = { name: 'grid', base: parseSpec({ seeds: [0] }), axes: { 'annotation.beta': [1, 10] }, seeds: [0, 1] };
const cells = expandSweep(spec);
const cell = (i: number): CellResult => ({ cellKey: cells[i].key, axes: cells[i].axes, seed: cells[i].seed, result: fakeResult(cells[i].spec, { startedAt: '2026-01-01T00:00:00.000Z' }) });
const record = (patch: Partial<SweepRecord> = {}): SweepRecord => ({
  id: sweepId(spec),
  name: spec.name,
  spec,
  target: null,
  origin: 'app',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  status: 'running',
  total: 4,
  done: 0,
  message: null,
  ...patch,
});

describe('IndexedDB sweep repository', () => {
  it('keeps each finished cell with the record, across reopening', async () => {
    const repo = indexedDbSweepRepository('sweeps-1');
    await repo.saveRecord(record());
    await repo.saveCells(record({ done: 1 }), [cell(0)]);
    await repo.saveCells(record({ done: 2, updatedAt: '2026-01-02T00:00:00.000Z' }), [cell(2)]);

    const reopened = indexedDbSweepRepository('sweeps-1');
    const stored = await reopened.load(sweepId(spec));
    expect(stored?.record).toMatchObject({ done: 2, status: 'running' });
    expect(stored?.cells.map((c) => c.cellKey).sort()).toEqual([cells[0].key, cells[2].key].sort());
    expect(stored?.cells.find((c) => c.cellKey === cells[0].key)).toEqual(cell(0));
    // Saving a cell again replaces it (a cell is identified by its key).
    await reopened.saveCells(record({ done: 2 }), [cell(0)]);
    expect((await reopened.load(sweepId(spec)))?.cells).toHaveLength(2);
  });

  it('lists the most recently updated first and deletes a sweep with its cells', async () => {
    const repo = indexedDbSweepRepository('sweeps-2');
    await repo.saveCells(record(), [cell(0), cell(1)]);
    await repo.saveRecord(record({ id: 'other', name: 'other', updatedAt: '2026-02-01T00:00:00.000Z' }));
    expect((await repo.list()).map((r) => r.id)).toEqual(['other', sweepId(spec)]);
    await repo.remove(sweepId(spec));
    expect(await repo.load(sweepId(spec))).toBeUndefined();
    expect((await repo.list()).map((r) => r.id)).toEqual(['other']);
  });
});
