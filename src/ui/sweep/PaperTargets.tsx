import { useEffect, useMemo } from 'react';
import { PAPER_TARGETS, type TargetId } from '../../core/paperTargets.ts';
import { canonicalJson } from '../../core/sweep.ts';
import { useLab } from '../storeContext.tsx';
import { AnalyticView } from './AnalyticView.tsx';
import { useSweep, useSweepActions } from './sweepContext.tsx';
import { isAnalytic, isSweepBusy, targetPlan } from './sweepStore.ts';

/** One click per published target: sets it up on the open dataset and runs it. */
export function PaperTargets() {
  const datasetKey = useLab((s) => canonicalJson(s.draft.dataset));
  const dataset = useLab((s) => s.draft.dataset);
  const size = useSweep((s) => s.paper.size);
  const counts = useSweep((s) => s.paper.counts);
  const selected = useSweep((s) => s.paper.selected);
  const analytic = useSweep((s) => (s.paper.selected && isAnalytic(s.paper.selected) ? (s.paper.analytic[s.paper.selected] ?? null) : null));
  const busy = useSweep((s) => isSweepBusy(s.active?.status));
  const activeTarget = useSweep((s) => s.active?.record.target ?? null);
  const { setSize, runTarget, loadCounts, openFiles } = useSweepActions();

  useEffect(() => {
    void loadCounts();
  }, [datasetKey, loadCounts]);

  // Each grid on this dataset at both sizes: cell counts for the switch, and whether it can run here.
  const plans = useMemo(() => {
    const value = counts.value;
    if (!value) return null;
    const shape = openFiles()?.shape ?? null;
    const of = (id: TargetId) => ({ small: targetPlan(id, dataset, value, 'small', shape), full: targetPlan(id, dataset, value, 'full', shape) });
    return Object.fromEntries(PAPER_TARGETS.filter((t) => t.kind === 'sweep').map((t) => [t.id, of(t.id)])) as Partial<Record<TargetId, ReturnType<typeof of>>>;
  }, [counts.value, dataset, openFiles]);
  const datasetName = dataset.kind === 'demo' ? `synthetic demo (seed ${dataset.seed})` : `files “${dataset.id}”`;

  return (
    <div className="paper-targets" data-testid="paper-targets">
      <div className="paper-bar">
        <p className="muted">
          On the open dataset: <strong>{datasetName}</strong>
          {counts.value ? ` · ${counts.value.train.toLocaleString('en-US')} train / ${counts.value.test.toLocaleString('en-US')} test prompts` : counts.status === 'loading' ? ' · counting prompts…' : ''}
          {counts.error ? <span className="field-error"> · {counts.error}</span> : null}
        </p>
        <label className="size-switch">
          <input type="checkbox" checked={size === 'full'} onChange={(e) => setSize(e.target.checked ? 'full' : 'small')} data-testid="full-size" />
          Full size (the paper&apos;s grid: all seeds, full MLP and budgets)
        </label>
      </div>
      <ul className="target-list">
        {PAPER_TARGETS.map((t) => {
          const instant = t.kind === 'analytic';
          const plan = plans?.[t.id];
          const mine = plan?.[size];
          const other = plan?.[size === 'small' ? 'full' : 'small'];
          const disabled = !instant && (busy || Boolean(mine?.problem));
          const cost = instant
            ? 'instant · no training'
            : !mine || !other
              ? '… cells'
              : `${mine.cells} cells${mine.problem ? ', not on this dataset' : ''} (${size === 'small' ? 'full' : 'small'}: ${other.cells} cells${other.problem ? ', not on this dataset' : ''})`;
          return (
            <li key={t.id} className={selected === t.id ? 'target is-selected' : 'target'}>
              <button
                type="button"
                onClick={() => void runTarget(t.id)}
                disabled={disabled}
                aria-label={`Reproduce ${t.id}: ${t.title}`}
                title={mine?.problem ?? undefined}
                data-testid={`run-${t.id}`}
              >
                <span className="target-id">{t.id}</span>
                <span className="target-title">{t.title}</span>
                <span className="target-cost" data-testid={`cells-${t.id}`}>
                  {cost}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {selected && analytic && (
        <div className="analytic" aria-live="polite">
          {analytic.status === 'loading' && !analytic.value && <p className="muted">Computing {selected}…</p>}
          {analytic.status === 'error' && <p className="field-error" role="alert">{analytic.error}</p>}
          {analytic.value && <AnalyticView result={analytic.value} />}
        </div>
      )}
      {selected && !isAnalytic(selected) && activeTarget === selected && (
        <p className="muted">
          {selected} runs as a sweep: its progress, figure, published values and verdicts are below.
        </p>
      )}
    </div>
  );
}
