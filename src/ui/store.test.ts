import { beforeEach, describe, expect, it } from 'vitest';
import { PRESETS } from '../core/presets.ts';
import type { ExperimentResult } from '../core/result.ts';
import { defaultSpec } from '../core/spec.ts';
import { memoryRepository, type RunRepository } from './runRepository.ts';
import { summarizeRun } from './runSummary.ts';
import { withAnnotation, withDataset, withModel } from './specEdit.ts';
import { createLabStore, issueAt, type LabStore } from './store.ts';
import { FakeEngine, fakeResult, flush } from './testing/fakes.ts';

let engine: FakeEngine;
let repo: RunRepository;
let store: LabStore;
let ids: number;

beforeEach(() => {
  engine = new FakeEngine();
  repo = memoryRepository();
  ids = 0;
  store = createLabStore({ engine, repo, newId: () => `run-${++ids}` });
});

const state = () => store.getState();
const actions = () => store.getState().actions;

describe('spec editing and validation', () => {
  it('starts on the quick demo, valid', () => {
    expect(state().draft).toEqual(PRESETS['quick-demo']());
    expect(state().validation.ok).toBe(true);
  });

  it('reports schema problems at the field that has them', () => {
    actions().editSpec((s) => withAnnotation(s, { budget: 0, beta: 0 }));
    const { validation } = state();
    expect(validation.ok).toBe(false);
    expect(issueAt(validation.issues, 'annotation.budget')).toBe('budget must be at least 1');
    expect(issueAt(validation.issues, 'annotation.beta')).toMatch(/non-zero/);
  });

  it('finds list-entry problems under the list field', () => {
    actions().editSpec((s) => withModel(s, { hidden: [64, 0] }));
    expect(issueAt(state().validation.issues, 'model.hidden')).toBe('hidden width must be at least 1');
  });

  it('checks fields against each other before a run would fail', () => {
    actions().editSpec((s) => withDataset(withAnnotation(s, { budget: 5000 }), { trainPrompts: 4000 }));
    expect(issueAt(state().validation.issues, 'annotation.budget')).toMatch(/budget 5,000 needs 5,000 prompts at 1 pair\(s\) per prompt, but the train split has only 4,000/);
  });

  it('keeps demo sizes within what a browser tab can hold', () => {
    actions().editSpec((s) => withDataset(s, { trainPrompts: 300_000 }));
    expect(issueAt(state().validation.issues, 'dataset.trainPrompts')).toMatch(/3,020,000 responses; the browser lab allows up to 2,000,000/);
  });

  it('asks for the files of a file dataset that is not open (a link or past run carries no data)', () => {
    actions().loadSpec({ ...state().draft, dataset: { kind: 'files', id: 'gemma-2b' } });
    expect(issueAt(state().validation.issues, 'dataset.id')).toMatch(/the files of dataset "gemma-2b" are not open in this tab: pick them/);
  });

  it('lets unreadable text override the spec value until it is fixed', () => {
    actions().setTextError('annotation.beta', 'β must be a number');
    expect(state().validation.ok).toBe(false);
    expect(issueAt(state().validation.issues, 'annotation.beta')).toBe('β must be a number');
    actions().setTextError('annotation.beta', null);
    expect(state().validation.ok).toBe(true);
  });

  it('replaces the spec with a preset, dropping stale text errors and bumping the revision', () => {
    actions().setTextError('annotation.beta', 'β must be a number');
    actions().applyPreset('paper');
    expect(state().draft).toEqual(defaultSpec());
    expect(state().textErrors).toEqual({});
    expect(state().validation.ok).toBe(true);
    expect(state().revision).toBe(1);
  });
});

describe('running', () => {
  it('walks through progress and epochs to a stored result', async () => {
    void actions().startRun();
    expect(state().run.status).toBe('running');
    expect(engine.current().spec).toEqual(PRESETS['quick-demo']());

    engine.progress({ stage: 'train', epoch: 1, fraction: 0.4 });
    expect(state().run.progress?.fraction).toBe(0.4);
    engine.epoch({ record: { epoch: 1, trainLoss: 0.7, valLoss: 0.69, valAccuracy: 0.55 } });
    engine.epoch({ record: { epoch: 2, trainLoss: 0.6, valLoss: 0.65, valAccuracy: 0.6 } });
    engine.epoch({ member: 1, record: { epoch: 1, trainLoss: 0.7, valLoss: 0.7, valAccuracy: 0.5 } });
    expect(state().live.map((s) => [s.member, s.points.length])).toEqual([
      [0, 2],
      [1, 1],
    ]);

    engine.finish();
    await flush();
    expect(state().run.status).toBe('finished');
    expect(state().runs.map((r) => r.id)).toEqual(['run-1']);
    expect(state().activeRunId).toBe('run-1');
    expect((await repo.list()).map((r) => r.id)).toEqual(['run-1']);
    expect((await actions().result('run-1'))?.summary.improvement.mean).toBe(1.5);
  });

  it('keeps only summaries in the state, never embeddings or per-row data', async () => {
    void actions().startRun();
    engine.finish();
    await flush();
    const summary = state().runs[0];
    expect(JSON.stringify(summary).length).toBeLessThan(10_000);
    expect(summary).not.toHaveProperty('seeds');
  });

  it('does not start a second run while one is going, nor a run of an invalid spec', async () => {
    void actions().startRun();
    void actions().startRun();
    expect(engine.runs).toHaveLength(1);
    engine.finish();
    await flush();
    actions().editSpec((s) => withAnnotation(s, { budget: -1 }));
    void actions().startRun();
    expect(engine.runs).toHaveLength(1);
  });

  it('cancels, records nothing, ignores late events, and runs again', async () => {
    void actions().startRun();
    engine.progress({ fraction: 0.2 });
    actions().cancelRun();
    expect(engine.cancels).toBe(1);
    await flush();
    expect(state().run.status).toBe('cancelled');
    expect(state().runs).toEqual([]);

    engine.progress({ fraction: 0.9 });
    expect(state().run.progress?.fraction).toBe(0.2);

    void actions().startRun();
    expect(state().run.status).toBe('running');
    expect(state().live).toEqual([]);
    engine.finish();
    await flush();
    expect(state().run.status).toBe('finished');
    expect(state().runs).toHaveLength(1);
  });

  it('shows a failed run with its message and stays usable', async () => {
    void actions().startRun();
    engine.current().reject(new Error('budget 10 needs 10 prompts'));
    await flush();
    expect(state().run).toMatchObject({ status: 'failed', message: 'budget 10 needs 10 prompts' });
    void actions().startRun();
    expect(engine.runs).toHaveLength(2);
  });

  it('keeps a run whose storage failed, for this session, and says so', async () => {
    const failing: RunRepository = { ...memoryRepository(), save: () => Promise.reject(new Error('quota exceeded')) };
    store = createLabStore({ engine, repo: failing, newId: () => 'unsaved' });
    void actions().startRun();
    engine.finish();
    await flush();
    await flush();
    expect(state().runs.map((r) => r.id)).toEqual(['unsaved']);
    expect(state().storageError).toMatch(/quota exceeded/);
    expect(await actions().result('unsaved')).toBeDefined();
  });
});

describe('history, comparison and backend', () => {
  const stored = async (id: string, startedAt: string, improvement: number): Promise<ExperimentResult> => {
    const result = fakeResult(PRESETS['quick-demo'](), { startedAt, improvement });
    await repo.save(summarizeRun(result, id), result);
    return result;
  };

  it('reads past runs (newest first) and the backend at start-up', async () => {
    await stored('old', '2026-01-01T00:00:00.000Z', 1);
    await stored('new', '2026-02-01T00:00:00.000Z', 2);
    await actions().init();
    expect(state().runs.map((r) => r.id)).toEqual(['new', 'old']);
    expect(state().activeRunId).toBe('new');
    expect(state().backend).toMatchObject({ status: 'ready', choice: 'auto', report: { name: 'wasm' } });
  });

  it('selects runs for comparison and forgets deleted ones everywhere', async () => {
    await stored('a', '2026-01-01T00:00:00.000Z', 1);
    await stored('b', '2026-02-01T00:00:00.000Z', 2);
    await actions().init();
    actions().toggleCompare('a');
    actions().toggleCompare('b');
    expect(state().compareIds).toEqual(['a', 'b']);
    actions().toggleCompare('a');
    expect(state().compareIds).toEqual(['b']);
    await actions().deleteRun('b');
    expect(state().runs.map((r) => r.id)).toEqual(['a']);
    expect(state().compareIds).toEqual([]);
    expect(state().activeRunId).toBe('a');
    expect(await repo.result('b')).toBeUndefined();
  });

  it('passes a backend override to the worker and refuses to switch mid-run', async () => {
    await actions().chooseBackend('webgpu');
    expect(engine.backendChoices).toEqual(['webgpu']);
    expect(state().backend.choice).toBe('webgpu');
    void actions().startRun();
    await actions().chooseBackend('cpu');
    expect(engine.backendChoices).toEqual(['webgpu']);
  });

  it('loads a past run\'s spec into the form', async () => {
    const spec = withModel(PRESETS['quick-demo'](), { objective: 'bt-mlp' });
    actions().loadSpec(spec);
    expect(state().draft.model.objective).toBe('bt-mlp');
    expect(state().revision).toBe(1);
  });
});
