import { meanStd, num, pct, signed, duration } from '../format.ts';
import type { RunSummary } from '../runSummary.ts';

interface Card {
  id: string;
  label: string;
  value: string;
  /** The raw number, for reading the page programmatically (tests, scripts). */
  raw: number;
  detail: string;
}

/** The headline numbers of a run, each with what it means. */
function metricCards(run: RunSummary): Card[] {
  const m = run.metrics;
  const seeds = run.spec.seeds.length;
  return [
    {
      id: 'improvement',
      label: 'BoN improvement over base',
      value: meanStd(m.improvement, seeds, (x) => signed(x)),
      raw: m.improvement.mean,
      detail: `pick among all ${run.dataset.testResponses} responses: ${num(m.bestOfAllReward.mean)} vs base ${num(m.baseReward)}`,
    },
    {
      id: 'spearman',
      label: 'Spearman (mean over prompts)',
      value: meanStd(m.spearman, seeds),
      raw: m.spearman.mean,
      detail: `median ${num(m.spearmanMedian)}; 1 = perfect order within each prompt`,
    },
    {
      id: 'label-error',
      label: 'Label-error rate',
      value: meanStd(m.labelErrorRate, seeds, (x) => pct(x)),
      raw: m.labelErrorRate.mean,
      detail: `expected ${pct(m.expectedLabelErrorRate.mean)} at β ${run.spec.annotation.beta < 0 ? '< 0' : run.spec.annotation.beta}`,
    },
    {
      id: 'held-out',
      label: 'Held-out accuracy',
      value: meanStd(m.heldOutGoldenAccuracy, seeds, (x) => pct(x)),
      raw: m.heldOutGoldenAccuracy.mean,
      detail: `vs golden order on ${run.spec.evaluation.heldOutPairs.toLocaleString('en-US')} test pairs; vs noisy labels ${pct(m.heldOutAccuracy.mean)}`,
    },
    {
      id: 'top-half',
      label: 'Pick in top half',
      value: meanStd(m.topHalfRate, seeds, (x) => pct(x)),
      raw: m.topHalfRate.mean,
      detail: `mean pick quantile ${num(m.pickQuantile.mean)}`,
    },
    {
      id: 'time',
      label: 'Wall time',
      value: duration(run.timings.totalMs),
      raw: run.timings.totalMs,
      detail: `${run.backend.name}${run.backend.adapter ? ` (${run.backend.adapter})` : ''}`,
    },
  ];
}

export function MetricCards({ run }: { run: RunSummary }) {
  return (
    <dl className="metric-cards">
      {metricCards(run).map((c) => (
        <div key={c.id} className="metric-card" data-testid={`metric-${c.id}`} data-value={c.raw}>
          <dt>{c.label}</dt>
          <dd className="metric-value">{c.value}</dd>
          <dd className="metric-detail">{c.detail}</dd>
        </div>
      ))}
    </dl>
  );
}
