/**
 * Side effects that follow the spec: the worker describes the dataset and the annotator's
 * noise for the current parameters, and the URL mirrors the spec (and back).
 */
import { demoDatasetSchema, type DemoDatasetSpec, type ScaleSpec } from '../core/spec.ts';
import type { EngineClient } from '../worker/client.ts';
import { demoSizeIssue } from './specEdit.ts';
import { specFromHash, specToHash } from './specUrl.ts';
import { messageOf, type LabState, type LabStore } from './store.ts';

/** Log-spaced β grid for the label-noise curve, 0.1 … 30. */
export const LABEL_NOISE_BETAS: readonly number[] = Array.from({ length: 31 }, (_, i) => Number((0.1 * 10 ** ((i / 30) * Math.log10(300))).toPrecision(3)));

const DESCRIBE_DELAY_MS = 250;
const NOISE_DELAY_MS = 120;

export interface UrlHost {
  readonly location: { hash: string };
  readonly history: { replaceState(data: unknown, unused: string, url?: string): void };
  addEventListener(type: 'hashchange', listener: () => void): void;
  removeEventListener(type: 'hashchange', listener: () => void): void;
}

export function connectEffects(store: LabStore, engine: EngineClient, host: UrlHost | null): () => void {
  const stops = [followDataset(store, engine), followLabelNoise(store, engine)];
  if (host) stops.push(followUrl(store, host));
  return () => stops.forEach((stop) => stop());
}

/** The demo the draft names, when it is valid and small enough to build in the worker. */
function demoDataset(state: LabState): DemoDatasetSpec | null {
  const parsed = demoDatasetSchema.safeParse(state.draft.dataset);
  return parsed.success && demoSizeIssue(parsed.data) === null ? parsed.data : null;
}

/** Calls `work` (debounced) whenever `key` of the state changes; answers of superseded calls are dropped. */
function follow<K>(store: LabStore, keyOf: (s: LabState) => K | null, delayMs: number, work: (key: K, isLatest: () => boolean) => void): () => void {
  let lastKey = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;
  const check = (state: LabState, immediate: boolean) => {
    const key = keyOf(state);
    const text = JSON.stringify(key);
    if (key === null || text === lastKey) return;
    lastKey = text;
    clearTimeout(timer);
    const mine = ++generation;
    const go = () => work(key, () => mine === generation);
    if (immediate) go();
    else timer = setTimeout(go, delayMs);
  };
  check(store.getState(), true);
  const unsubscribe = store.subscribe((state) => check(state, false));
  return () => {
    clearTimeout(timer);
    unsubscribe();
  };
}

function followDataset(store: LabStore, engine: EngineClient): () => void {
  return follow(store, demoDataset, DESCRIBE_DELAY_MS, (dataset, isLatest) => {
    store.setState((s) => ({ dataset: { ...s.dataset, status: 'loading', error: null } }));
    engine.describeDataset(dataset).then(
      (value) => isLatest() && store.setState({ dataset: { status: 'ready', value, error: null } }),
      (error) => isLatest() && store.setState((s) => ({ dataset: { ...s.dataset, status: 'error', error: messageOf(error) } })),
    );
  });
}

/** The opened files the draft names, by their plan id (a File has no JSON form to key on). */
function openedFiles(state: LabState): { kind: 'files'; id: string } | null {
  const { dataset } = state.draft;
  return dataset.kind === 'files' && state.files.opened?.value.plan.id === dataset.id ? { kind: 'files', id: dataset.id } : null;
}

function followLabelNoise(store: LabStore, engine: EngineClient): () => void {
  const keyOf = (s: LabState): { dataset: DemoDatasetSpec | { kind: 'files'; id: string }; scale: ScaleSpec; beta: number } | null => {
    const dataset = demoDataset(s) ?? openedFiles(s);
    const { beta, scale } = s.draft.annotation;
    const scaleOk = scale.kind !== 'custom' || scale.value > 0;
    return dataset && Number.isFinite(beta) && beta !== 0 && scaleOk ? { dataset, scale, beta } : null;
  };
  return follow(store, keyOf, NOISE_DELAY_MS, ({ dataset, scale, beta }, isLatest) => {
    const betas = beta > 0 ? [...LABEL_NOISE_BETAS, beta] : [...LABEL_NOISE_BETAS];
    store.setState((s) => ({ labelNoise: { ...s.labelNoise, status: 'loading', error: null } }));
    const opened = store.getState().files.opened;
    const target = dataset.kind === 'demo' ? dataset : opened?.selection;
    if (!target) return;
    engine.labelNoise(target, scale, betas).then(
      (noise) => isLatest() && store.setState({ labelNoise: { status: 'ready', value: { ...noise, beta }, error: null } }),
      (error) => isLatest() && store.setState((s) => ({ labelNoise: { ...s.labelNoise, status: 'error', error: messageOf(error) } })),
    );
  });
}

function followUrl(store: LabStore, host: UrlHost): () => void {
  let written = host.location.hash;
  const write = (state: LabState) => {
    if (!state.validation.ok) return;
    const hash = specToHash(state.validation.spec);
    if (hash === written) return;
    written = hash;
    // replaceState: editing a field should not fill the back button's history.
    host.history.replaceState(null, '', hash);
  };
  // A link that could not be opened stays in the address bar until the user changes the spec.
  if (!store.getState().linkProblem) write(store.getState());
  const unsubscribe = store.subscribe((state, previous) => {
    if (state.validation !== previous.validation) write(state);
  });
  const onHashChange = () => {
    if (host.location.hash === written) return;
    written = host.location.hash;
    const link = specFromHash(host.location.hash);
    const { loadSpec, showLinkProblem } = store.getState().actions;
    if (link.kind === 'ok' || link.kind === 'partial') loadSpec(link.spec);
    if (link.kind === 'partial' || link.kind === 'invalid') showLinkProblem({ issues: link.issues, partial: link.kind === 'partial' });
  };
  host.addEventListener('hashchange', onHashChange);
  return () => {
    unsubscribe();
    host.removeEventListener('hashchange', onHashChange);
  };
}
