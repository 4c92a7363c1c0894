/**
 * Finished runs, kept across reloads in IndexedDB: small summaries in one store (read at
 * start-up), full results in another (read only for export).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ExperimentResult } from '../core/result.ts';
import { SUMMARY_VERSION, summarizeRun, type RunSummary } from './runSummary.ts';

export interface RunRepository {
  /** Every stored run, newest first. */
  list(): Promise<RunSummary[]>;
  save(summary: RunSummary, result: ExperimentResult): Promise<void>;
  result(id: string): Promise<ExperimentResult | undefined>;
  remove(id: string): Promise<void>;
}

interface LabDb extends DBSchema {
  summaries: { key: string; value: RunSummary };
  results: { key: string; value: { id: string; result: ExperimentResult } };
}

const newestFirst = (a: RunSummary, b: RunSummary) => b.createdAt.localeCompare(a.createdAt);

export function indexedDbRepository(name = 'reward-lab'): RunRepository {
  let db: Promise<IDBPDatabase<LabDb>> | null = null;
  const open = () =>
    (db ??= openDB<LabDb>(name, 1, {
      upgrade(database) {
        database.createObjectStore('summaries', { keyPath: 'id' });
        database.createObjectStore('results', { keyPath: 'id' });
      },
    }));

  return {
    async list() {
      const database = await open();
      const stored = await database.getAll('summaries');
      const current = await Promise.all(
        stored.map(async (summary) => {
          if (summary.version === SUMMARY_VERSION) return summary;
          // A summary written by an older app version is rebuilt from its full result.
          const row = await database.get('results', summary.id);
          if (!row) return null;
          const rebuilt = summarizeRun(row.result, summary.id);
          await database.put('summaries', rebuilt);
          return rebuilt;
        }),
      );
      return current.filter((s): s is RunSummary => s !== null).sort(newestFirst);
    },
    async save(summary, result) {
      const tx = (await open()).transaction(['summaries', 'results'], 'readwrite');
      await Promise.all([tx.objectStore('results').put({ id: summary.id, result }), tx.objectStore('summaries').put(summary), tx.done]);
    },
    async result(id) {
      return (await (await open()).get('results', id))?.result;
    },
    async remove(id) {
      const tx = (await open()).transaction(['summaries', 'results'], 'readwrite');
      await Promise.all([tx.objectStore('summaries').delete(id), tx.objectStore('results').delete(id), tx.done]);
    },
  };
}

export function memoryRepository(): RunRepository {
  const runs = new Map<string, { summary: RunSummary; result: ExperimentResult }>();
  return {
    async list() {
      return [...runs.values()].map((r) => r.summary).sort(newestFirst);
    },
    async save(summary, result) {
      runs.set(summary.id, { summary, result });
    },
    async result(id) {
      return runs.get(id)?.result;
    },
    async remove(id) {
      runs.delete(id);
    },
  };
}
