import './zodConfig.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/components/App.tsx';
import { connectEffects } from './ui/effects.ts';
import { indexedDbRepository } from './ui/runRepository.ts';
import { specFromHash } from './ui/specUrl.ts';
import { createLabStore } from './ui/store.ts';
import { LabProvider } from './ui/storeContext.tsx';
import { labFiles } from './ui/sweep/labFiles.ts';
import { SweepProvider } from './ui/sweep/sweepContext.tsx';
import { indexedDbSweepRepository } from './ui/sweep/sweepRepository.ts';
import { createSweepStore } from './ui/sweep/sweepStore.ts';
import './ui/styles.css';
import { createWorkerEngine } from './worker/client.ts';

// Showing the explainer is a look-and-feel preference, not part of an experiment: it lives in
// localStorage, not in the spec or the URL.
const EXPLAINER_KEY = 'reward-lab.explainer';

const engine = createWorkerEngine();
const link = specFromHash(window.location.hash);
const store = createLabStore(
  { engine, repo: indexedDbRepository() },
  {
    ...(link.kind === 'ok' || link.kind === 'partial' ? { spec: link.spec } : {}),
    ...(link.kind === 'partial' || link.kind === 'invalid' ? { linkProblem: { issues: link.issues, partial: link.kind === 'partial' } } : {}),
    explainerShown: localStorage.getItem(EXPLAINER_KEY) !== 'hidden',
  },
);
connectEffects(store, engine, window);
store.subscribe((s, previous) => {
  if (s.explainerShown !== previous.explainerShown) localStorage.setItem(EXPLAINER_KEY, s.explainerShown ? 'shown' : 'hidden');
});
void store.getState().actions.init();
// Sweeps and paper targets: a store of their own, on the same engine worker (one run at a time).
const sweeps = createSweepStore({ engine, repo: indexedDbSweepRepository(), lab: store, files: labFiles(store) });
void sweeps.getState().actions.init();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <LabProvider store={store}>
      <SweepProvider store={sweeps}>
        <App />
      </SweepProvider>
    </LabProvider>
  </StrictMode>,
);
