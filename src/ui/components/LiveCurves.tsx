import { CurvesChart } from '../charts/CurvesChart.tsx';
import { colorAt, type CurveSeries } from '../charts/data.ts';
import type { LiveSeries } from '../store.ts';
import { useLab } from '../storeContext.tsx';

function liveSeries(live: readonly LiveSeries[], seeds: readonly number[]): CurveSeries[] {
  return live.map((s, i) => ({ label: `seed ${seeds[s.seedIndex] ?? s.seedIndex} · member ${s.member + 1}`, color: colorAt(i), points: s.points }));
}

/** Loss and accuracy per epoch as the worker reports them, while the run is going. */
export function LiveCurves() {
  const live = useLab((s) => s.live);
  const status = useLab((s) => s.run.status);
  const label = useLab((s) => s.run.label);
  const seeds = useLab((s) => s.run.spec?.seeds);
  const maxEpochs = useLab((s) => s.run.spec?.model.training.epochs);
  const busy = status === 'running' || status === 'cancelling';
  // After a cancel or failure the partial curves stay: they are all there is to look at.
  if (!busy && !((status === 'cancelled' || status === 'failed') && live.length > 0)) return null;
  const series = liveSeries(live, seeds ?? []);
  return (
    <section className="panel" aria-labelledby="live-title" data-testid="live-curves">
      <div className="panel-head">
        <h2 id="live-title">{busy ? 'Training now' : `Training curves of the ${status} run`}</h2>
        <span className="muted">{label}</span>
      </div>
      {series.length === 0 ? (
        <p className="muted">The first epoch&rsquo;s numbers appear here when it ends.</p>
      ) : (
        <div className="chart-grid chart-grid-small">
          <CurvesChart id="chart-live-loss" metric="loss" series={series} fileStem="live" maxEpochs={maxEpochs} />
          <CurvesChart id="chart-live-accuracy" metric="accuracy" series={series} fileStem="live" maxEpochs={maxEpochs} />
        </div>
      )}
    </section>
  );
}
