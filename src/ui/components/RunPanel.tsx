import { useEffect } from 'react';
import { useActions, useLab } from '../storeContext.tsx';
import { useSweepBusy } from '../sweep/sweepContext.tsx';
import { IssueList } from './IssueList.tsx';
import { RunProgress } from './RunProgress.tsx';

/** Run and Cancel, the run's progress and outcome. Ctrl/⌘+Enter runs from anywhere. */
export function RunPanel() {
  const status = useLab((s) => s.run.status);
  const message = useLab((s) => s.run.message);
  const valid = useLab((s) => s.validation.ok);
  const backendReady = useLab((s) => s.backend.status === 'ready');
  const { startRun, cancelRun } = useActions();
  const busy = status === 'running' || status === 'cancelling';
  // The engine runs one thing at a time: a sweep in progress holds it.
  const sweepBusy = useSweepBusy();
  const canRun = valid && !busy && backendReady && !sweepBusy;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        if (!sweepBusy) void startRun();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [startRun, sweepBusy]);

  return (
    <section className="run-panel" aria-label="Run">
      <div className="run-buttons">
        <button type="button" className="primary" onClick={() => void startRun()} disabled={!canRun} aria-keyshortcuts="Control+Enter" data-testid="run">
          {busy ? 'Running…' : 'Run experiment'}
        </button>
        <button type="button" onClick={cancelRun} disabled={status !== 'running'} data-testid="cancel">
          Cancel
        </button>
        <span className="kbd-hint" aria-hidden="true">
          Ctrl+Enter
        </span>
      </div>
      {sweepBusy && !busy && <p className="muted">A sweep is running: single runs wait until it is paused or done.</p>}
      {!valid && <IssueList />}
      {busy && <RunProgress />}
      {message && !busy && (
        <p className={`run-status status-${status}`} role={status === 'failed' ? 'alert' : 'status'} data-testid="run-status" data-status={status}>
          {message}
        </p>
      )}
    </section>
  );
}
