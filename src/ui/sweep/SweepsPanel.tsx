import { ActiveSweepView } from './ActiveSweep.tsx';
import { PaperTargets } from './PaperTargets.tsx';
import { StoredSweeps } from './StoredSweeps.tsx';
import { SweepEditor } from './SweepEditor.tsx';
import { useSweep, useSweepActions } from './sweepContext.tsx';
import type { SweepTab } from './sweepStore.ts';
import './sweep.css';

const TABS: { id: SweepTab; label: string }[] = [
  { id: 'targets', label: 'Paper targets' },
  { id: 'editor', label: 'New sweep' },
  { id: 'stored', label: 'Stored sweeps' },
];

/** Grids of runs: the paper's targets in one click, sweeps of your own, and those kept from before. */
export function SweepsPanel() {
  const tab = useSweep((s) => s.tab);
  const storedCount = useSweep((s) => s.stored.length);
  const error = useSweep((s) => s.error);
  const storageError = useSweep((s) => s.storageError);
  const { setTab, dismissError } = useSweepActions();
  return (
    <section className="panel sweeps-panel" id="sweeps" aria-labelledby="sweeps-title" data-testid="sweeps">
      <div className="panel-head">
        <h2 id="sweeps-title">Sweeps and paper targets</h2>
        <div className="tabs" role="tablist" aria-label="Sweeps">
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              id={`sweep-tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls="sweep-tab-panel"
              className={tab === t.id ? 'tab is-on' : 'tab'}
              onClick={() => setTab(t.id)}
            >
              {t.label}
              {t.id === 'stored' && storedCount > 0 ? ` (${storedCount})` : ''}
            </button>
          ))}
        </div>
      </div>
      {(error || storageError) && (
        <div className="notice notice-warn" role="alert" data-testid="sweep-error">
          {error ?? `Storage: ${storageError}`}{' '}
          <button type="button" className="small" onClick={dismissError}>
            Dismiss
          </button>
        </div>
      )}
      <div id="sweep-tab-panel" role="tabpanel" aria-labelledby={`sweep-tab-${tab}`} className="sweep-tab">
        {tab === 'targets' && <PaperTargets />}
        {tab === 'editor' && <SweepEditor />}
        {tab === 'stored' && <StoredSweeps />}
      </div>
      <ActiveSweepView />
    </section>
  );
}
