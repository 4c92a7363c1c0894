import { BonChart } from '../charts/BonChart.tsx';
import { colorAt } from '../charts/data.ts';
import { signed } from '../format.ts';
import type { Aggregation, RunSummary } from '../runSummary.ts';

const NAMES: Record<Aggregation, string> = { first: 'first member', mean: 'mean of members', min: 'min of members' };

/** An ensemble read three ways (paper target T8): the first member alone, the members' mean, their minimum. */
export function AggregationChart({ run, fileStem }: { run: RunSummary; fileStem: string }) {
  const aggregations = run.aggregations;
  if (!aggregations) return null;
  const series = (['first', 'mean', 'min'] as const).map((agg, i) => ({
    label: `${NAMES[agg]} (${signed(aggregations[agg].improvement.mean)})`,
    color: colorAt(i),
    bon: { ...aggregations[agg], oracle: run.bon.oracle, random: run.bon.random },
  }));
  return (
    <div className="chart-grid">
      <BonChart
        id="chart-aggregations"
        title="Ensemble: first / mean / min"
        subtitle={`the same ${run.spec.model.ensemble.size} members, their scores combined three ways (this run reports ${run.spec.model.ensemble.aggregation}); in brackets: BoN improvement`}
        series={series}
        references={run.bon}
        fileStem={fileStem}
      />
    </div>
  );
}
