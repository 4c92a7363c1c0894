import { useLab } from '../storeContext.tsx';
import { CompareView } from './CompareView.tsx';
import { RunList } from './RunList.tsx';

/** Every finished run (kept in this browser) and the comparison of the selected ones. */
export function RunHistory() {
  const count = useLab((s) => s.runs.length);
  const selected = useLab((s) => s.compareIds.length);
  return (
    <section className="panel" aria-labelledby="runs-title" data-testid="run-history">
      <div className="panel-head">
        <h2 id="runs-title">Runs ({count})</h2>
        <span className="muted">kept in this browser (IndexedDB); tick runs to compare them</span>
      </div>
      {count === 0 ? <p className="muted">No finished runs yet.</p> : <RunList />}
      {selected === 1 && <p className="muted">Tick one more run to overlay their best-of-N curves.</p>}
      {selected >= 2 && <CompareView />}
    </section>
  );
}
