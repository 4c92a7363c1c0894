import { beforeEach, describe, expect, it } from 'vitest';
import { makeDemoDataset } from '../core/demo.ts';
import { demoNpyFiles, SMALL_DEMO, withFile, type NamedBytes } from '../testing/datasetFiles.ts';
import { encodeNpy } from '../testing/writeNpy.ts';
import { DEFAULT_MEMORY_CAP_BYTES } from './filesSlice.ts';
import { memoryRepository } from './runRepository.ts';
import { withAnnotation, withScale, withSubsample } from './specEdit.ts';
import { specFromHash, specToHash } from './specUrl.ts';
import { createLabStore, issueAt, type LabStore } from './store.ts';
import { FakeEngine, flush } from './testing/fakes.ts';

let engine: FakeEngine;
let store: LabStore;

beforeEach(() => {
  engine = new FakeEngine();
  store = createLabStore({ engine, repo: memoryRepository(), newId: () => 'run-1' });
});

const state = () => store.getState();
const actions = () => store.getState().actions;
const asFiles = (files: readonly NamedBytes[]) => files.map((f) => new File([f.bytes as Uint8Array<ArrayBuffer>], f.name));

async function openDemoFiles(layout: 'NKD' | 'KND' = 'NKD'): Promise<File[]> {
  const files = asFiles(await demoNpyFiles(SMALL_DEMO, layout));
  await actions().pickFiles(files);
  await actions().openFiles();
  return files;
}

describe('picking files', () => {
  it('plans them before loading: pairing, shapes, layout, ignored files', async () => {
    const files = [...asFiles(await demoNpyFiles(SMALL_DEMO, 'KND')), new File(['x'], 'notes.txt')];
    const picking = actions().pickFiles(files);
    expect(state().files.plan.status).toBe('loading');
    await picking;
    const plan = state().files.plan.value;
    expect(state().files.plan.status).toBe('ready');
    expect(plan?.splits.train).toMatchObject({ layout: 'KND', prompts: 300, responsesPerPrompt: 10 });
    expect(plan?.ignored).toEqual(['notes.txt']);
    // Nothing is loaded yet, and the experiment still runs on the demo.
    expect(state().files.opened).toBeNull();
    expect(state().draft.dataset.kind).toBe('demo');
  });

  it('shows the reader\'s message for bad files', async () => {
    const files = (await demoNpyFiles(SMALL_DEMO, 'NKD')).filter((f) => !f.name.startsWith('reward_') || !f.name.endsWith('_test.npy'));
    await actions().pickFiles(asFiles(files));
    expect(state().files.plan).toMatchObject({ status: 'error' });
    expect(state().files.plan.error).toMatch(/the dataset is incomplete: .*no file for the test rewards/);
  });

  it('asks an open layout question, refuses to load until it is answered, and re-plans with the answer', async () => {
    const files = await demoNpyFiles(SMALL_DEMO, 'KND');
    const rewards = makeDemoDataset(SMALL_DEMO).test.rewards;
    const reshaped = new Float32Array(rewards.length);
    for (let p = 0; p < 40; p++) for (let j = 0; j < 50; j++) reshaped[j * 40 + p] = rewards[p * 50 + j];
    const ambiguous = withFile(files, 'REWARD-TEST-demo-randproj-helpful.npy', encodeNpy({ shape: [50, 40, 1], values: reshaped }));
    await actions().pickFiles(asFiles(ambiguous));
    expect(state().files.plan.value?.questions.map((q) => q.split)).toEqual(['test']);
    await actions().openFiles();
    expect(state().files.opened).toBeNull();
    await actions().setLayout('test', 'KND');
    expect(state().files.selection?.layout).toEqual({ test: 'KND' });
    expect(state().files.plan.value?.questions).toEqual([]);
    await actions().openFiles();
    expect(state().files.opened?.value.inspection.test.summary.prompts).toBe(40);
    // Back to "as detected": the question returns.
    await actions().setLayout('test', null);
    expect(state().files.selection?.layout).toBeUndefined();
    expect(state().files.plan.value?.questions).toHaveLength(1);
  });
});

describe('a loaded file dataset', () => {
  it('becomes the spec\'s dataset, checked against the loaded splits', async () => {
    await openDemoFiles();
    const { files, draft } = state();
    expect(files.opened?.value.plan.id).toBe('demo_randproj_helpful');
    expect(draft.dataset).toEqual({ kind: 'files', id: 'demo_randproj_helpful' });
    expect(files.opened?.value.inspection.train.sortedPrompts).toBe(300);
    // The quick demo's 4,000 pairs need more prompts than the 300 the files hold.
    expect(issueAt(state().validation.issues, 'annotation.budget')).toMatch(/needs 4,000 prompts .* only 300/);
    actions().editSpec((s) => withAnnotation(s, { budget: 300 }));
    expect(state().validation.ok).toBe(true);
  });

  it('takes a seeded prompt subsample, checked against the split sizes', async () => {
    await openDemoFiles();
    actions().editSpec((s) => withSubsample(withAnnotation(s, { budget: 250 }), { trainPrompts: 200, seed: 7 }));
    expect(state().draft.dataset).toEqual({ kind: 'files', id: 'demo_randproj_helpful', subsample: { trainPrompts: 200, seed: 7 } });
    expect(issueAt(state().validation.issues, 'annotation.budget')).toMatch(/needs 250 prompts .* only 200/);
    actions().editSpec((s) => withSubsample(withAnnotation(s, { budget: 200 }), { testPrompts: 41 }));
    expect(issueAt(state().validation.issues, 'dataset.subsample.testPrompts')).toBe('the test split has only 40 prompts');
    actions().editSpec((s) => withSubsample(s, { testPrompts: undefined }));
    expect(state().validation.ok).toBe(true);
    actions().editSpec((s) => withSubsample(s, null));
    expect(state().draft.dataset).toEqual({ kind: 'files', id: 'demo_randproj_helpful' });
  });

  it('needs the std or a custom reward scale when the files name no task', async () => {
    const files = asFiles(await demoNpyFiles(SMALL_DEMO, 'NKD', { stem: 'demo_randproj_x' }));
    await actions().pickFiles(files);
    await actions().openFiles();
    actions().editSpec((s) => withAnnotation(s, { budget: 300 }));
    expect(issueAt(state().validation.issues, 'annotation.scale.kind')).toMatch(/names no task .* choose "std of rewards"/);
    actions().editSpec((s) => withScale(s, { kind: 'std' }));
    expect(state().validation.ok).toBe(true);
  });

  it('runs with its files and the memory cap', async () => {
    const files = await openDemoFiles();
    actions().editSpec((s) => withAnnotation(s, { budget: 300 }));
    actions().setMemoryCap(64 << 20);
    void actions().startRun();
    await flush();
    const run = engine.current();
    expect(run.spec.dataset).toEqual({ kind: 'files', id: 'demo_randproj_helpful' });
    expect(run.options?.memoryCapBytes).toBe(64 << 20);
    expect(run.options?.files?.files).toEqual(files);
    const scoring = { stage: 'score' as const, io: { bytesRead: 10, bytesTotal: 20, bytesPerSecond: 5, rowsPerSecond: 1, etaSeconds: 2 } };
    engine.progress(scoring);
    expect(state().run.progress?.io?.bytesTotal).toBe(20);
    engine.finish();
    await flush();
    expect(state().run.status).toBe('finished');
  });

  it('keeps the memory cap sane, and sizes reads by it', async () => {
    expect(state().files.memoryCapBytes).toBe(DEFAULT_MEMORY_CAP_BYTES);
    actions().setMemoryCap(1000);
    actions().setMemoryCap(NaN);
    expect(state().files.memoryCapBytes).toBe(DEFAULT_MEMORY_CAP_BYTES);
    await openDemoFiles();
    expect(state().files.opened?.selection.chunkBytes).toBe(64 << 20);
    actions().setMemoryCap(128 << 20);
    expect(state().files.opened?.selection.chunkBytes).toBe(8 << 20);
  });

  it('can be chosen again after a preset switched to the demo', async () => {
    await openDemoFiles();
    actions().applyPreset('quick-demo');
    expect(state().draft.dataset.kind).toBe('demo');
    actions().runOnOpenedFiles();
    expect(state().draft.dataset).toEqual({ kind: 'files', id: 'demo_randproj_helpful' });
  });

  it('goes back to the demo when closed', async () => {
    await openDemoFiles();
    actions().closeFiles();
    expect(state().files.opened).toBeNull();
    expect(state().draft.dataset.kind).toBe('demo');
    expect(state().validation.ok).toBe(true);
  });

  it('is verified on request, with progress', async () => {
    await openDemoFiles('KND');
    await actions().verifyEmbeddings();
    const v = state().files.verification;
    expect(v?.status).toBe('done');
    expect(v?.value?.splits.map((s) => [s.split, s.rows, s.nonFinite])).toEqual([
      ['train', 3000, 0],
      ['test', 2000, 0],
    ]);
    expect(state().files.task).toBeNull();
  });

  it('survives a shared link: the link names the files, which must be picked again', async () => {
    await openDemoFiles();
    actions().editSpec((s) => withSubsample(withAnnotation(s, { budget: 100 }), { trainPrompts: 150, seed: 2 }));
    const hash = specToHash(state().draft);
    expect(hash).toMatch(/dataset\.kind=files&dataset\.id=demo_randproj_helpful/);
    const link = specFromHash(hash);
    expect(link.kind).toBe('ok');
    const other = createLabStore({ engine: new FakeEngine(), repo: memoryRepository() }, link.kind === 'ok' ? { spec: link.spec } : {});
    expect(issueAt(other.getState().validation.issues, 'dataset.id')).toMatch(/not open in this tab: pick them/);
    await other.getState().actions.pickFiles(asFiles(await demoNpyFiles(SMALL_DEMO, 'NKD')));
    await other.getState().actions.openFiles();
    // Opening the files keeps the link's subsample.
    expect(other.getState().draft.dataset).toEqual({ kind: 'files', id: 'demo_randproj_helpful', subsample: { trainPrompts: 150, seed: 2 } });
    expect(other.getState().validation.ok).toBe(true);
  });
});
