import { describe, expect, it } from 'vitest';
import { PRESETS } from '../core/presets.ts';
import { connectEffects, LABEL_NOISE_BETAS, type UrlHost } from './effects.ts';
import { memoryRepository } from './runRepository.ts';
import { withAnnotation, withDataset } from './specEdit.ts';
import { specToHash } from './specUrl.ts';
import { createLabStore } from './store.ts';
import { FakeEngine } from './testing/fakes.ts';

class FakeHost implements UrlHost {
  location = { hash: '' };
  writes: string[] = [];
  private listeners: (() => void)[] = [];
  history = {
    replaceState: (_data: unknown, _unused: string, url?: string) => {
      this.location.hash = url ?? '';
      this.writes.push(this.location.hash);
    },
  };
  addEventListener(_type: 'hashchange', listener: () => void) {
    this.listeners.push(listener);
  }
  removeEventListener(_type: 'hashchange', listener: () => void) {
    this.listeners = this.listeners.filter((l) => l !== listener);
  }
  /** The user pastes another link into the address bar. */
  navigate(hash: string) {
    this.location.hash = hash;
    this.listeners.forEach((l) => l());
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setup(hash = '') {
  const engine = new FakeEngine();
  const store = createLabStore({ engine, repo: memoryRepository() });
  const host = new FakeHost();
  host.location.hash = hash;
  const stop = connectEffects(store, engine, host);
  return { engine, store, host, stop };
}

describe('URL mirroring', () => {
  it('writes the starting spec and then every valid change, with replaceState', () => {
    const { store, host } = setup();
    expect(host.location.hash).toBe(specToHash(PRESETS['quick-demo']()));
    store.getState().actions.editSpec((s) => withAnnotation(s, { beta: 3 }));
    expect(host.location.hash).toContain('annotation.beta=3');
    const writes = host.writes.length;
    store.getState().actions.editSpec((s) => withAnnotation(s, { budget: 0 }));
    expect(host.writes).toHaveLength(writes);
  });

  it('opens a link pasted into the address bar', () => {
    const { store, host } = setup();
    host.navigate('#v=1&annotation.beta=7&seeds=4');
    expect(store.getState().draft.annotation.beta).toBe(7);
    expect(store.getState().draft.seeds).toEqual([4]);
    host.navigate('#v=1&annotation.beta=nope&seeds=5');
    expect(store.getState().linkProblem).toEqual({ partial: true, issues: [expect.objectContaining({ path: 'annotation.beta' })] });
    expect(store.getState().draft.seeds).toEqual([5]);
    host.navigate('#v=9');
    expect(store.getState().linkProblem?.partial).toBe(false);
  });

  it('leaves a link that could not be opened in the address bar', () => {
    const engine = new FakeEngine();
    const store = createLabStore({ engine, repo: memoryRepository() }, { linkProblem: { partial: false, issues: [{ path: 'x', message: 'bad' }] } });
    const host = new FakeHost();
    host.location.hash = '#v=1&x=1';
    connectEffects(store, engine, host);
    expect(host.writes).toEqual([]);
  });

  it('stops listening when disconnected', () => {
    const { store, host, stop } = setup();
    stop();
    host.navigate('#v=1&annotation.beta=7');
    expect(store.getState().draft.annotation.beta).toBe(0.5);
  });
});

describe('dataset and label-noise descriptions', () => {
  it('describes the dataset at once and again (debounced) when its parameters change', async () => {
    const { store } = setup();
    await wait(0);
    expect(store.getState().dataset.status).toBe('ready');
    expect(store.getState().dataset.value?.train.prompts).toBe(4000);
    store.getState().actions.editSpec((s) => withDataset(s, { trainPrompts: 4001 }));
    store.getState().actions.editSpec((s) => withDataset(s, { trainPrompts: 5000 }));
    expect(store.getState().dataset.value?.train.prompts).toBe(4000);
    await wait(400);
    expect(store.getState().dataset.value?.train.prompts).toBe(5000);
  });

  it('computes the expected label error over the β grid plus the current β', async () => {
    const { store } = setup();
    await wait(0);
    const noise = store.getState().labelNoise.value;
    expect(noise?.beta).toBe(0.5);
    expect(noise?.points).toHaveLength(LABEL_NOISE_BETAS.length + 1);
    expect(noise?.points.find((p) => p.beta === 0.5)?.errorRate).toBeCloseTo(1 / 3);
    store.getState().actions.editSpec((s) => withAnnotation(s, { beta: 4 }));
    await wait(300);
    expect(store.getState().labelNoise.value?.beta).toBe(4);
  });

  it('spans β from 0.1 to 30 on a log grid', () => {
    expect(LABEL_NOISE_BETAS[0]).toBe(0.1);
    expect(LABEL_NOISE_BETAS[LABEL_NOISE_BETAS.length - 1]).toBe(30);
    expect(LABEL_NOISE_BETAS.every((b, i) => i === 0 || b > LABEL_NOISE_BETAS[i - 1])).toBe(true);
  });
});
