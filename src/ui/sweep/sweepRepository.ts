/**
 * Sweeps kept across reloads in IndexedDB: one small record per sweep (its grid, status and
 * counts) and one row per finished cell, written the moment the cell finishes, so a reload or
 * a crash loses at most the cell that was running. Its own database, apart from single runs.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { TargetId } from '../../core/paperTargets.ts';
import type { CellResult, SweepSpec } from '../../core/sweep.ts';

export type StoredSweepStatus = 'running' | 'paused' | 'cancelled' | 'finished' | 'failed' | 'imported';

export interface SweepRecord {
  /** Hash of the canonical sweep spec: the same grid always lands on the same record. */
  id: string;
  name: string;
  spec: SweepSpec;
  /** The paper target this grid reproduces, if it came from a preset. */
  target: TargetId | null;
  /** 'app': run here; 'file': opened from a merged result of the CLI. */
  origin: 'app' | 'file';
  createdAt: string;
  updatedAt: string;
  /** 'running' in storage means the page went away mid-run. */
  status: StoredSweepStatus;
  total: number;
  done: number;
  message: string | null;
}

export interface StoredSweep {
  record: SweepRecord;
  cells: CellResult[];
}

export interface SweepRepository {
  /** Every stored sweep, most recently updated first. */
  list(): Promise<SweepRecord[]>;
  load(id: string): Promise<StoredSweep | undefined>;
  saveRecord(record: SweepRecord): Promise<void>;
  /** Stores finished cells and the record (with its new counts) in one transaction. */
  saveCells(record: SweepRecord, cells: readonly CellResult[]): Promise<void>;
  remove(id: string): Promise<void>;
}

interface SweepDb extends DBSchema {
  sweeps: { key: string; value: SweepRecord };
  cells: { key: [string, string]; value: { sweepId: string; cellKey: string; cell: CellResult }; indexes: { bySweep: string } };
}

const latestFirst = (a: SweepRecord, b: SweepRecord) => b.updatedAt.localeCompare(a.updatedAt);

export function indexedDbSweepRepository(name = 'reward-lab-sweeps'): SweepRepository {
  let db: Promise<IDBPDatabase<SweepDb>> | null = null;
  const open = () =>
    (db ??= openDB<SweepDb>(name, 1, {
      upgrade(database) {
        database.createObjectStore('sweeps', { keyPath: 'id' });
        database.createObjectStore('cells', { keyPath: ['sweepId', 'cellKey'] }).createIndex('bySweep', 'sweepId');
      },
    }));

  return {
    async list() {
      return (await (await open()).getAll('sweeps')).sort(latestFirst);
    },
    async load(id) {
      const database = await open();
      const record = await database.get('sweeps', id);
      if (!record) return undefined;
      const rows = await database.getAllFromIndex('cells', 'bySweep', id);
      return { record, cells: rows.map((r) => r.cell) };
    },
    async saveRecord(record) {
      await (await open()).put('sweeps', record);
    },
    async saveCells(record, cells) {
      const tx = (await open()).transaction(['sweeps', 'cells'], 'readwrite');
      const store = tx.objectStore('cells');
      await Promise.all([
        ...cells.map((cell) => store.put({ sweepId: record.id, cellKey: cell.cellKey, cell })),
        tx.objectStore('sweeps').put(record),
        tx.done,
      ]);
    },
    async remove(id) {
      const tx = (await open()).transaction(['sweeps', 'cells'], 'readwrite');
      const keys = await tx.objectStore('cells').index('bySweep').getAllKeys(id);
      await Promise.all([tx.objectStore('sweeps').delete(id), ...keys.map((k) => tx.objectStore('cells').delete(k)), tx.done]);
    },
  };
}

export function memorySweepRepository(): SweepRepository & { cellsSaved: number } {
  const sweeps = new Map<string, { record: SweepRecord; cells: Map<string, CellResult> }>();
  const copy = <T>(value: T): T => structuredClone(value);
  return {
    cellsSaved: 0,
    async list() {
      return [...sweeps.values()].map((s) => copy(s.record)).sort(latestFirst);
    },
    async load(id) {
      const s = sweeps.get(id);
      return s && { record: copy(s.record), cells: [...s.cells.values()].map(copy) };
    },
    async saveRecord(record) {
      const s = sweeps.get(record.id);
      sweeps.set(record.id, { record: copy(record), cells: s?.cells ?? new Map() });
    },
    async saveCells(record, cells) {
      const s = sweeps.get(record.id) ?? { record, cells: new Map() };
      for (const c of cells) s.cells.set(c.cellKey, copy(c));
      sweeps.set(record.id, { record: copy(record), cells: s.cells });
      this.cellsSaved += cells.length;
    },
    async remove(id) {
      sweeps.delete(id);
    },
  };
}
