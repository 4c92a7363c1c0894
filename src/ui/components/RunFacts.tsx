import { duration, int } from '../format.ts';
import type { RunSummary } from '../runSummary.ts';

const STAGE_ORDER = ['annotate', 'load', 'train', 'score', 'evaluate'];

/** How the numbers were made: backend, timings, deviations, training of each member. */
export function RunFacts({ run }: { run: RunSummary }) {
  const stages = Object.entries(run.timings.stagesMs).sort((a, b) => STAGE_ORDER.indexOf(a[0]) - STAGE_ORDER.indexOf(b[0]));
  return (
    <div className="facts-grid">
      <section aria-labelledby={`facts-how-${run.id}`}>
        <h3 id={`facts-how-${run.id}`}>How it ran</h3>
        <dl className="facts">
          <div>
            <dt>Backend</dt>
            <dd data-testid="result-backend" data-backend={run.backend.name}>
              {run.backend.name}
              {run.backend.adapter ? ` (${run.backend.adapter})` : ''}
            </dd>
          </div>
          <div>
            <dt>Engine</dt>
            <dd>reward-lab {run.engineVersion}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{new Date(run.createdAt).toLocaleString()}</dd>
          </div>
          <div>
            <dt>Dataset</dt>
            <dd>
              {run.dataset.id}: {int(run.dataset.trainPrompts)} × {run.dataset.trainResponses} train, {int(run.dataset.testPrompts)} × {run.dataset.testResponses} test, D {run.dataset.dim}
            </dd>
          </div>
          <div>
            <dt>Seeds</dt>
            <dd>{run.spec.seeds.join(', ')}</dd>
          </div>
        </dl>
        <h3>Protocol deviations</h3>
        {run.deviations.length === 0 ? (
          <p className="muted" data-testid="deviations">None: paper-faithful settings.</p>
        ) : (
          <ul className="deviations" data-testid="deviations">
            {run.deviations.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby={`facts-time-${run.id}`}>
        <h3 id={`facts-time-${run.id}`}>Timings</h3>
        <table className="compact" data-testid="timings">
          <tbody>
            {stages.map(([stage, ms]) => (
              <tr key={stage}>
                <th scope="row">{stage}</th>
                <td>{duration(ms)}</td>
              </tr>
            ))}
            <tr className="total">
              <th scope="row">total</th>
              <td>{duration(run.timings.totalMs)}</td>
            </tr>
          </tbody>
        </table>
        <h3>Training</h3>
        <table className="compact">
          <thead>
            <tr>
              <th scope="col">seed</th>
              <th scope="col">member</th>
              <th scope="col">epochs</th>
              <th scope="col">best</th>
              <th scope="col">kept</th>
              <th scope="col">early stop</th>
            </tr>
          </thead>
          <tbody>
            {run.training.map((m) => (
              <tr key={`${m.seed}:${m.member}`}>
                <td>{m.seed}</td>
                <td>{m.member + 1}</td>
                <td>{m.epochsRun}</td>
                <td>{m.bestEpoch}</td>
                <td>{m.finalEpoch}</td>
                <td>{m.stoppedEarly ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
