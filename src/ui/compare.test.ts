import { describe, expect, it } from 'vitest';
import { PRESETS } from '../core/presets.ts';
import { bestIndex, comparisonCsvRows, differingFields, distinctLabels, METRIC_ROWS, sameTestSet } from './compare.ts';
import { toCsv } from './export/csv.ts';
import { summarizeRun } from './runSummary.ts';
import { withAnnotation, withModel } from './specEdit.ts';
import { fakeResult } from './testing/fakes.ts';

const base = PRESETS['quick-demo']();
const clf = summarizeRun(fakeResult(base, { improvement: 2 }), 'clf');
const bt = summarizeRun(fakeResult(withAnnotation(withModel(base, { objective: 'bt-mlp' }), { beta: 1 }), { improvement: 1 }), 'bt');

describe('comparison', () => {
  it('lists exactly the spec fields that differ', () => {
    expect(differingFields([clf, bt])).toEqual(['annotation.beta', 'model.objective']);
    expect(differingFields([clf])).toEqual([]);
  });

  it('marks the best run only where a direction makes sense and there is one winner', () => {
    const improvement = METRIC_ROWS.find((m) => m.key === 'improvement')!;
    const labelError = METRIC_ROWS.find((m) => m.key === 'labelErrorRate')!;
    const spearman = METRIC_ROWS.find((m) => m.key === 'spearman')!;
    expect(bestIndex([clf, bt], improvement)).toBe(0);
    expect(bestIndex([bt, clf], improvement)).toBe(1);
    expect(bestIndex([clf, bt], labelError)).toBe(-1);
    expect(bestIndex([clf, bt], spearman)).toBe(-1); // a tie
  });

  it('exports one tidy CSV row per run, with the differing fields and mean/std of every metric', () => {
    const rows = comparisonCsvRows([clf, bt]);
    expect(rows[0].slice(0, 7)).toEqual(['run_id', 'label', 'started_at', 'backend', 'seeds', 'annotation.beta', 'model.objective']);
    expect(rows[0]).toContain('improvement_mean');
    expect(rows[0]).toContain('improvement_std');
    expect(rows[1][0]).toBe('clf');
    expect(rows[1][rows[0].indexOf('improvement_mean')]).toBe(2);
    expect(rows[2][rows[0].indexOf('model.objective')]).toBe('bt-mlp');
    expect(rows.every((r) => r.length === rows[0].length)).toBe(true);
  });

  it('tells runs with the same label apart, and shares reference curves only over the same test picks', () => {
    const again = summarizeRun(fakeResult(base, { startedAt: '2026-01-02T03:04:05.000Z' }), 'again');
    const labels = distinctLabels([clf, again, bt]);
    expect(labels[0]).not.toBe(labels[1]);
    expect(labels[0].startsWith(clf.label)).toBe(true);
    expect(labels[2]).toBe(bt.label);
    expect(sameTestSet([clf, bt])).toBe(true);
    const otherRepeats = summarizeRun(fakeResult({ ...base, evaluation: { ...base.evaluation, repeats: 7 } }), 'r');
    expect(sameTestSet([clf, otherRepeats])).toBe(false);
  });

  it('quotes CSV fields that need it (RFC 4180)', () => {
    expect(toCsv([['a,b', 'say "hi"', 'line\nbreak', 1.5, null, NaN, true]])).toBe('"a,b","say ""hi""","line\nbreak",1.5,,,true\r\n');
  });
});
