import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { PRESETS } from '../core/presets.ts';
import { indexedDbRepository } from './runRepository.ts';
import { SUMMARY_VERSION, summarizeRun } from './runSummary.ts';
import { fakeResult } from './testing/fakes.ts';

const result = (startedAt: string, improvement = 1) => fakeResult(PRESETS['quick-demo'](), { startedAt, improvement });

describe('IndexedDB run repository', () => {
  it('stores summaries and results, lists newest first, survives reopening', async () => {
    const a = result('2026-01-01T00:00:00.000Z', 1);
    const b = result('2026-03-01T00:00:00.000Z', 2);
    const repo = indexedDbRepository('lab-1');
    await repo.save(summarizeRun(a, 'a'), a);
    await repo.save(summarizeRun(b, 'b'), b);

    const reopened = indexedDbRepository('lab-1');
    expect((await reopened.list()).map((s) => s.id)).toEqual(['b', 'a']);
    expect(await reopened.result('a')).toEqual(a);

    await reopened.remove('b');
    expect((await reopened.list()).map((s) => s.id)).toEqual(['a']);
    expect(await reopened.result('b')).toBeUndefined();
  });

  it('rebuilds summaries written by an older app version from their results', async () => {
    const r = result('2026-01-01T00:00:00.000Z', 3);
    const repo = indexedDbRepository('lab-2');
    const current = summarizeRun(r, 'x');
    await repo.save({ ...current, version: SUMMARY_VERSION - 1, label: 'stale' }, r);
    const [rebuilt] = await repo.list();
    expect(rebuilt).toEqual(current);
    const db = await openDB('lab-2');
    expect((await db.get('summaries', 'x')).version).toBe(SUMMARY_VERSION);
    db.close();
  });
});
