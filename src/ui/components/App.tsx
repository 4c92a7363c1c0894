import { ENGINE_VERSION } from '../../core/version.ts';
import { SpecForm } from '../form/SpecForm.tsx';
import { useActions, useLab } from '../storeContext.tsx';
import { BackendPicker } from './BackendPicker.tsx';
import { DatasetPanel } from './DatasetPanel.tsx';
import { Explainer } from './Explainer.tsx';
import { FilesPanel } from './FilesPanel.tsx';
import { LiveCurves } from './LiveCurves.tsx';
import { Notices } from './Notices.tsx';
import { ResultsPanel } from './ResultsPanel.tsx';
import { RunHistory } from './RunHistory.tsx';
import { RunPanel } from './RunPanel.tsx';
import { SweepsPanel } from '../sweep/SweepsPanel.tsx';

export function App() {
  const explainer = useLab((s) => s.explainerShown);
  const started = useLab((s) => s.runs.length > 0 || s.run.status !== 'idle');
  const { showExplainer } = useActions();
  return (
    <div className="app">
      <a className="skip-link" href="#results-title">
        Skip to results
      </a>
      <header className="app-header">
        <div className="brand">
          <h1>Reward Lab</h1>
          <span className="tagline">reward models from preference labels, trained and evaluated in your browser</span>
          <span className="version">v{ENGINE_VERSION}</span>
        </div>
        <div className="header-tools">
          <a className="header-link" href="#sweeps">
            Sweeps &amp; paper targets
          </a>
          <BackendPicker />
          <button type="button" className="small" aria-pressed={explainer} aria-controls="explainer" onClick={() => showExplainer(!explainer)}>
            {explainer ? 'Hide explainer' : 'Show explainer'}
          </button>
        </div>
      </header>
      <Notices />
      <div className={explainer ? 'layout' : 'layout no-explainer'}>
        <aside className="controls" aria-label="Experiment controls">
          <RunPanel />
          <SpecForm />
        </aside>
        <main className="main">
          {/* What the user is doing now comes first: the dataset until there is a run, then the run. */}
          {started ? (
            <>
              <LiveCurves />
              <ResultsPanel />
              <RunHistory />
              <FilesPanel />
              <DatasetPanel />
            </>
          ) : (
            <>
              <FilesPanel />
              <DatasetPanel />
              <ResultsPanel />
              <RunHistory />
            </>
          )}
          <SweepsPanel />
        </main>
        {explainer && (
          <aside className="side" id="explainer" aria-label="Explainer">
            <Explainer />
          </aside>
        )}
      </div>
    </div>
  );
}
