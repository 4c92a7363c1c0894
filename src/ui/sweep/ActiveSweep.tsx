import { memo, useEffect, useMemo, useState } from 'react';
import { paperTarget, sweepVerdicts } from '../../core/paperTargets.ts';
import type { CellResult, SweepMetric } from '../../core/sweep.ts';
import { toCsv } from '../export/csv.ts';
import { downloadText, slug } from '../export/download.ts';
import { duration, meanStd, num, pct } from '../format.ts';
import { useLab } from '../storeContext.tsx';
import { axisLabel, axisShort, comboLabel, valueLabel } from './axes.ts';
import { SweepChart } from './SweepChart.tsx';
import { aggregationLines, chartLines, defaultXAxis, METRICS, metricLabel, orderedTable, runningDescription, sweepCounts, sweepEta, tableCsvRows } from './sweepData.ts';
import { useSweep, useSweepActions } from './sweepContext.tsx';
import type { SweepRecord } from './sweepRepository.ts';
import { canResume, isSweepBusy, type ActiveSweep, type SweepStatus } from './sweepStore.ts';
import { PublishedValues, Verdicts } from './TargetParts.tsx';

const STATUS_TEXT: Record<SweepStatus, string> = {
  running: 'running',
  pausing: 'pausing',
  cancelling: 'cancelling',
  paused: 'paused',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
  finished: 'finished',
  failed: 'failed',
  imported: 'opened from file',
};

/** The sweep being run or viewed: controls, progress, and its results as they come in. */
export function ActiveSweepView() {
  const active = useSweep((s) => s.active);
  if (!active) return null;
  const target = active.record.target ? paperTarget(active.record.target) : null;
  return (
    <section className="active-sweep" aria-labelledby="active-sweep-title" data-testid="active-sweep" data-sweep-id={active.record.id}>
      <SweepHeader active={active} title={target ? `${target.id}: ${target.title}` : active.record.name} />
      <SweepProgressView active={active} />
      <SweepResults record={active.record} results={active.results} total={active.cells.length} />
    </section>
  );
}

function SweepHeader({ active, title }: { active: ActiveSweep; title: string }) {
  const { pause, cancel, resume, close } = useSweepActions();
  const labBusy = useLab((s) => s.run.status === 'running' || s.run.status === 'cancelling');
  const { status } = active;
  const busy = isSweepBusy(status);
  return (
    <>
      <div className="panel-head">
        <h3 id="active-sweep-title">
          {title} <span className={`sweep-badge status-${status}`}>{STATUS_TEXT[status]}</span>
          {active.record.origin === 'file' && status !== 'imported' && <span className="muted"> · opened from a file</span>}
        </h3>
        <div className="panel-actions">
          <button type="button" onClick={pause} disabled={status !== 'running'} data-testid="pause-sweep">
            Pause
          </button>
          <button type="button" onClick={cancel} disabled={status !== 'running' && status !== 'pausing'} data-testid="cancel-sweep">
            Cancel
          </button>
          <button type="button" className="primary" onClick={() => void resume()} disabled={!canResume(active) || labBusy} data-testid="resume-sweep">
            Resume
          </button>
          <button type="button" onClick={close} disabled={busy} title="Stop showing this sweep (it stays stored)">
            Close
          </button>
        </div>
      </div>
      {active.message && (
        <p className={`run-status status-${status === 'interrupted' || status === 'paused' ? 'cancelled' : status}`} role={status === 'failed' ? 'alert' : 'status'} data-testid="sweep-status" data-status={status}>
          {active.message}
        </p>
      )}
      {!active.message && <span className="sr-only" data-testid="sweep-status" data-status={status} />}
    </>
  );
}

/** A clock for the ETA that ticks once a second while something runs. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function SweepProgressView({ active }: { active: ActiveSweep }) {
  const { cells, results, running } = active;
  const done = useMemo(() => new Set(results.map((r) => r.cellKey)), [results]);
  const counts = sweepCounts(cells, done, running?.keys ?? []);
  const now = useNow(running !== null);
  const elapsed = running ? Math.max(0, now - running.startedAt) : null;
  const eta = sweepEta(results.map((r) => r.result.timings.totalMs), counts, elapsed, running?.progress?.etaSeconds ?? null);
  const runningFraction = running?.progress?.fraction ?? 0;
  const share = counts.total ? (counts.done + runningFraction * counts.running) / counts.total : 0;
  const meanMs = results.length ? results.reduce((a, r) => a + r.result.timings.totalMs, 0) / results.length : null;
  return (
    <div className="sweep-progress" data-testid="sweep-progress" data-done={counts.done} data-total={counts.total} data-running={counts.running} data-queued={counts.queued}>
      <div className="progress-label">
        <span>
          <strong>{counts.done}</strong> done · <strong>{counts.running}</strong> running · <strong>{counts.queued}</strong> queued · {counts.total} cells
        </span>
        <span>{Math.round(share * 100)}%</span>
      </div>
      <progress max={1} value={share} aria-label="Sweep progress" />
      <div className="progress-detail" aria-live="polite">
        {running ? (
          runningDescription(cells, running.keys, running.progress)
        ) : counts.queued > 0 ? (
          'Not running.'
        ) : (
          'All cells done.'
        )}
        {counts.queued + counts.running > 0 && (
          <span className="eta" data-testid="sweep-eta">
            {' '}
            · {eta === null ? 'time left: estimating…' : running ? `about ${duration(eta * 1000)} left` : `the rest: about ${duration(eta * 1000)}`}
            {meanMs !== null ? ` (${duration(meanMs)} per finished cell)` : ''}
          </span>
        )}
      </div>
      <ol className="cell-grid" aria-label="Cells">
        {cells.map((c) => {
          const status = done.has(c.key) ? 'done' : running?.keys.includes(c.key) ? 'running' : 'queued';
          const label = `Cell ${c.index + 1}: ${comboLabel(c.axes)} · seed ${c.seed} — ${status}`;
          return <li key={c.key} className={`cell is-${status}`} title={label} aria-label={label} data-status={status} />;
        })}
      </ol>
    </div>
  );
}

const TABLE_METRICS: readonly SweepMetric[] = ['improvement', 'spearman', 'heldOutAccuracy', 'heldOutGoldenAccuracy', 'labelErrorRate', 'meanAbsRewardGap'];

/** Memoised on the finished cells: progress events (many a second) do not redraw the chart. */
const SweepResults = memo(function SweepResults({ record, results, total }: { record: SweepRecord; results: readonly CellResult[]; total: number }) {
  const { resultSet } = useSweepActions();
  const spec = record.spec;
  const axes = Object.keys(spec.axes);
  const [metric, setMetric] = useState<SweepMetric>('improvement');
  const [chosenX, setX] = useState<string | null>(null);
  const xAxis = chosenX !== null && axes.includes(chosenX) ? chosenX : defaultXAxis(spec);
  const rows = useMemo(() => orderedTable(spec, results), [spec, results]);
  const target = record.target;
  const verdicts = useMemo(() => (target ? sweepVerdicts(target, results) : []), [target, results]);
  const stem = slug(record.name);

  const exportCsv = () => downloadText(`${stem}-table.csv`, toCsv(tableCsvRows(spec, rows)), 'text/csv');
  const exportJson = () => {
    const set = resultSet();
    if (set) downloadText(`${stem}-sweep-result.json`, JSON.stringify(set, null, 2), 'application/json');
  };

  const chart =
    xAxis && results.length > 0 ? (
      <SweepChart
        id="chart-sweep"
        title={`${metricLabel(metric)} vs ${axisLabel(xAxis)}`}
        subtitle={`${record.name}: mean over seeds, error bars ± std over seeds; ${results.length} of ${total} cells`}
        xAxis={xAxis}
        xValues={spec.axes[xAxis]}
        lines={chartLines(spec, rows, xAxis, metric)}
        yLabel={metricLabel(metric)}
        fileStem={stem}
      />
    ) : null;

  return (
    <div className="sweep-results" data-testid="sweep-results">
      <div className="panel-head sweep-results-head">
        <h4>Results</h4>
        <div className="panel-actions">
          <label className="inline-field">
            <span>Metric</span>
            <select value={metric} onChange={(e) => setMetric(e.target.value as SweepMetric)} aria-label="Chart metric">
              {METRICS.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.label}
                </option>
              ))}
            </select>
          </label>
          {axes.length > 0 && (
            <label className="inline-field">
              <span>x axis</span>
              <select value={xAxis ?? ''} onChange={(e) => setX(e.target.value)} aria-label="Chart x axis">
                {axes.map((a) => (
                  <option key={a} value={a}>
                    {axisLabel(a)}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button type="button" onClick={exportCsv} disabled={rows.length === 0} data-testid="export-sweep-csv">
            Export table CSV
          </button>
          <button type="button" onClick={exportJson} disabled={results.length === 0} data-testid="export-sweep-json">
            Export result JSON
          </button>
        </div>
      </div>
      {results.length === 0 && <p className="muted">No finished cells yet: the table and chart fill in as cells finish.</p>}
      {target ? (
        <div className="repro-grid">
          <div>{chart}</div>
          <div>
            <PublishedValues target={paperTarget(target)} />
            <h4>This data</h4>
            <Verdicts verdicts={verdicts} />
          </div>
        </div>
      ) : (
        chart
      )}
      {target === 'T8' && xAxis && results.length > 0 && (
        <SweepChart
          id="chart-aggregations"
          title="Ensemble: first / mean / min"
          subtitle="BoN improvement of the same trained members read three ways; error bars ± std over seeds"
          xAxis={xAxis}
          xValues={spec.axes[xAxis]}
          lines={aggregationLines(spec, results, xAxis)}
          yLabel="BoN improvement"
          fileStem={stem}
        />
      )}
      {rows.length > 0 && (
        <div className="table-scroll">
          <table className="metrics-table sweep-table" data-testid="sweep-table">
            <caption className="sr-only">Sweep results: mean ± std over seeds per combination</caption>
            <thead>
              <tr>
                {axes.map((a) => (
                  <th key={a} scope="col" title={axisLabel(a)}>
                    {axisShort(a)}
                  </th>
                ))}
                <th scope="col">seeds</th>
                {TABLE_METRICS.map((m) => (
                  <th key={m} scope="col" className={m === metric ? 'is-chosen' : undefined}>
                    {metricLabel(m)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={JSON.stringify(r.axes)}>
                  {axes.map((a) => (
                    <th key={a} scope="row">
                      {valueLabel(a, r.axes[a])}
                    </th>
                  ))}
                  <td>{r.seeds.length}</td>
                  {TABLE_METRICS.map((m) => {
                    const isPct = METRICS.find((x) => x.id === m)?.percent;
                    return <td key={m}>{meanStd(r.metrics[m], r.seeds.length, isPct ? (x) => pct(x) : (x) => num(x))}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <details className="sweep-spec">
        <summary>Grid spec</summary>
        <pre className="mono">{JSON.stringify(spec, null, 2)}</pre>
      </details>
    </div>
  );
});
