import { BonChart } from '../charts/BonChart.tsx';
import { colorAt } from '../charts/data.ts';
import { comparisonCsvRows, distinctLabels, sameTestSet } from '../compare.ts';
import { toCsv } from '../export/csv.ts';
import { downloadText } from '../export/download.ts';
import type { RunSummary } from '../runSummary.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { MetricsTable } from './MetricsTable.tsx';

export function CompareView() {
  const ids = useLab((s) => s.compareIds);
  const all = useLab((s) => s.runs);
  const { clearCompare } = useActions();
  const runs = ids.map((id) => all.find((r) => r.id === id)).filter((r): r is RunSummary => r !== undefined);
  const labels = distinctLabels(runs);
  const shared = sameTestSet(runs);
  return (
    <div className="compare" data-testid="compare" id="compare">
      <div className="panel-head">
        <h3>Comparing {runs.length} runs</h3>
        <div className="panel-actions">
          <button type="button" onClick={() => downloadText('reward-lab-comparison.csv', toCsv(comparisonCsvRows(runs)), 'text/csv')} data-testid="export-csv">
            Export table as CSV
          </button>
          <button type="button" onClick={clearCompare}>
            Clear selection
          </button>
        </div>
      </div>
      <BonChart
        id="chart-compare-bon"
        title="Best-of-N, selected runs"
        subtitle={shared ? 'same test set and repeats: reference curves shared' : 'runs differ in test data or repeats: reference curves hidden'}
        series={runs.map((r, i) => ({ label: labels[i], color: colorAt(i), bon: r.bon }))}
        references={shared ? runs[0].bon : null}
        fileStem="comparison"
      />
      <MetricsTable runs={runs} labels={labels} />
    </div>
  );
}
