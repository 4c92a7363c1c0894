import { useState } from 'react';
import { BonChart } from '../charts/BonChart.tsx';
import { CurvesChart } from '../charts/CurvesChart.tsx';
import { colorAt } from '../charts/data.ts';
import { SpearmanChart } from '../charts/SpearmanChart.tsx';
import { downloadText, slug } from '../export/download.ts';
import type { RunSummary } from '../runSummary.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { AggregationChart } from './AggregationChart.tsx';
import { MetricCards } from './MetricCards.tsx';
import { RunFacts } from './RunFacts.tsx';

/** The run selected in the history (the latest by default): numbers, charts and provenance. */
export function ResultsPanel() {
  const run = useLab((s) => s.runs.find((r) => r.id === s.activeRunId) ?? null);
  if (!run) {
    return (
      <section className="panel" aria-labelledby="results-title">
        <h2 id="results-title">Results</h2>
        <p className="muted">Run the experiment to see its best-of-N curve, rank correlations and label statistics here.</p>
      </section>
    );
  }
  return <RunResults run={run} />;
}

function RunResults({ run }: { run: RunSummary }) {
  const { loadSpec, result } = useActions();
  const [exportError, setExportError] = useState<string | null>(null);
  const exportJson = async () => {
    const full = await result(run.id);
    if (!full) {
      setExportError('the full result of this run is no longer stored');
      return;
    }
    setExportError(null);
    downloadText(`${slug(run.label)}-${run.id.slice(0, 8)}.json`, JSON.stringify(full, null, 2), 'application/json');
  };
  const curves = run.training.map((m, i) => ({ label: `seed ${m.seed} · member ${m.member + 1}`, color: colorAt(i), points: m.curve }));
  const stem = `${run.label}-${run.id.slice(0, 8)}`;
  return (
    <section className="panel" aria-labelledby="results-title" data-testid="results" data-run-id={run.id}>
      <div className="panel-head">
        <h2 id="results-title">
          Results <span className="run-name">{run.label}</span>
        </h2>
        <div className="panel-actions">
          <button type="button" onClick={() => loadSpec(run.spec)} title="Put this run's spec into the form, e.g. to change one field and run again">
            Load spec into form
          </button>
          <button type="button" onClick={() => void exportJson()} data-testid="export-json">
            Export result JSON
          </button>
        </div>
      </div>
      {exportError && (
        <p className="field-error" role="alert">
          {exportError}
        </p>
      )}
      <MetricCards run={run} />
      <div className="chart-grid">
        <BonChart
          id="chart-bon"
          title="Best-of-N"
          subtitle={`golden reward of the highest-scored of N responses, mean over ${run.dataset.testPrompts} test prompts; band: ± std over ${run.spec.evaluation.repeats} random subsets${run.spec.seeds.length > 1 ? `, averaged over ${run.spec.seeds.length} seeds` : ''}`}
          series={[{ label: run.label, color: colorAt(0), bon: run.bon }]}
          references={run.bon}
          fileStem={stem}
        />
        <SpearmanChart id="chart-spearman" histogram={run.spearmanHistogram} mean={run.metrics.spearman.mean} median={run.metrics.spearmanMedian} fileStem={stem} />
      </div>
      {run.aggregations && <AggregationChart run={run} fileStem={stem} />}
      <div className="chart-grid chart-grid-small">
        <CurvesChart id="chart-loss" metric="loss" series={curves} fileStem={stem} subtitle="binary cross-entropy on the annotated rows" />
        <CurvesChart id="chart-accuracy" metric="accuracy" series={curves} fileStem={stem} subtitle="agreement with the (noisy) labels of the validation rows" />
      </div>
      <RunFacts run={run} />
    </section>
  );
}
