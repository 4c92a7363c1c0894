import { describe, expect, it } from 'vitest';
import { BlobSource } from '../core/bytes.ts';
import { isCancelled } from '../core/cancel.ts';
import { makeDemoDataset } from '../core/demo.ts';
import { demoArrowFiles } from '../testing/arrowFiles.ts';
import { demoNpyFiles, SMALL_DEMO, withFile, type NamedBytes } from '../testing/datasetFiles.ts';
import { encodeNpy } from '../testing/writeNpy.ts';
import { detectFormat, openSelection, planSelection } from './files.ts';
import { FilesHost } from './filesHost.ts';
import type { FileSelection, FilesProgress } from './filesProtocol.ts';
import { inspectDataset, T1_BETAS } from './inspect.ts';
import { ByteCounter, CountingSource, IoMeter } from './ioMeter.ts';

const select = (files: readonly NamedBytes[], layout?: FileSelection['layout']): FileSelection => ({
  kind: 'files',
  files: files.map((f) => new File([f.bytes as Uint8Array<ArrayBuffer>], f.name)),
  ...(layout ? { layout } : {}),
});

const planError = (files: readonly NamedBytes[]) => planSelection(select(files)).then(() => null, (e: Error) => e);
const openError = (files: readonly NamedBytes[]) => openSelection(select(files)).then(() => null, (e: Error) => e);

describe('planning picked files', () => {
  it('pairs the infrastructure files, reads shapes and detects (N, K, D) from agreeing evidence', async () => {
    const files = [...(await demoNpyFiles(SMALL_DEMO, 'NKD')), { name: 'README.txt', bytes: new Uint8Array(3) }];
    const plan = await planSelection(select(files));
    expect(plan.format).toBe('npy');
    expect(plan.id).toBe('demo_randproj_helpful');
    expect(plan.info.task).toBe('helpful');
    expect(plan.ignored).toEqual(['README.txt']);
    expect(plan.questions).toEqual([]);
    expect(plan.files.map((f) => [f.split, f.role, f.name, f.shape.join('×'), f.dtype])).toEqual([
      ['train', 'embeddings', 'embd_demo_randproj_helpful_train.npy', '300×10×24', 'float32'],
      ['train', 'rewards', 'reward_demo_randproj_helpful_train.npy', '300×10×1', 'float32'],
      ['test', 'embeddings', 'embd_demo_randproj_helpful_test.npy', '40×50×24', 'float32'],
      ['test', 'rewards', 'reward_demo_randproj_helpful_test.npy', '40×50×1', 'float32'],
    ]);
    const train = plan.splits.train;
    expect(train).toMatchObject({ layout: 'NKD', layoutText: '(N, K, D)', decidedBy: 'evidence', prompts: 300, responsesPerPrompt: 10, dim: 24 });
    expect(train.evidence.map((c) => c.kind)).toEqual(['names', 'reward shape', 'rank order']);
    expect(train.embeddingBytes).toBe(300 * 10 * 24 * 4);
    expect(plan.splits.test).toMatchObject({ layout: 'NKD', prompts: 40, responsesPerPrompt: 50 });
  });

  it('detects the distributed (K, N, D) files', async () => {
    const plan = await planSelection(select(await demoNpyFiles(SMALL_DEMO, 'KND')));
    expect(plan.files[0]).toMatchObject({ name: 'EMBD-TRAIN-demo-randproj-helpful.npy', shape: [10, 300, 24] });
    expect(plan.splits.train).toMatchObject({ layout: 'KND', layoutText: '(K, N, D)', prompts: 300, responsesPerPrompt: 10 });
    expect(plan.splits.test).toMatchObject({ layout: 'KND', prompts: 40, responsesPerPrompt: 50 });
  });

  it('asks when the evidence does not settle the layout, and takes the answer', async () => {
    // Distributed names but (N, K, 1)-shaped rewards: the clues disagree.
    const files = await demoNpyFiles(SMALL_DEMO, 'KND');
    const rewards = makeDemoDataset(SMALL_DEMO).test.rewards;
    const test = withFile(files, 'REWARD-TEST-demo-randproj-helpful.npy', encodeNpy({ shape: [50, 40, 1], values: transpose(rewards, 40, 50) }));
    const plan = await planSelection(select(test));
    expect(plan.questions).toHaveLength(1);
    expect(plan.questions[0]).toMatchObject({ split: 'test', file: 'EMBD-TEST-demo-randproj-helpful.npy' });
    expect(plan.questions[0].choices.map((c) => c.layout)).toEqual(['KND', 'NKD']);
    expect(plan.splits.test.layout).toBeNull();
    const answered = await planSelection(select(test, { test: 'KND' }));
    expect(answered.questions).toEqual([]);
    expect(answered.splits.test).toMatchObject({ layout: 'KND', decidedBy: 'override' });
  });

  it('lets the user override a detected layout', async () => {
    const plan = await planSelection(select(await demoNpyFiles(SMALL_DEMO, 'NKD'), { train: 'KND' }));
    expect(plan.splits.train).toMatchObject({ layout: 'KND', decidedBy: 'override', prompts: 10, responsesPerPrompt: 300 });
    expect(plan.splits.train.reason).toMatch(/set by the caller: \(K, N, D\) \(against the names, reward shape and rank order/);
  });

  it('reads an Arrow pack from its schemas', async () => {
    const plan = await planSelection(select(await demoArrowFiles(SMALL_DEMO)));
    expect(plan).toMatchObject({ format: 'arrow', id: 'demo-pack', questions: [] });
    expect(plan.files.map((f) => [f.name, f.shape.join('×'), f.container])).toEqual([
      ['train.arrow', '300×10×24', 'Arrow IPC stream'],
      ['test.arrow', '40×50×24', 'Arrow IPC stream'],
    ]);
    expect(plan.splits.train).toMatchObject({ layout: 'rows', decidedBy: 'format', prompts: 300, responsesPerPrompt: 10 });
  });
});

describe('bad input gets a specific message', () => {
  const npy = () => demoNpyFiles(SMALL_DEMO, 'NKD');
  const emb = 'embd_demo_randproj_helpful_train.npy';
  const rew = 'reward_demo_randproj_helpful_train.npy';

  it('a truncated file', async () => {
    const files = await npy();
    const cut = files.find((f) => f.name === emb)?.bytes.subarray(0, 5000) as Uint8Array;
    expect((await planError(withFile(files, emb, cut)))?.message).toMatch(new RegExp(`^${emb}.*(truncated|short|bytes)`, 'i'));
  });

  it('a header that lies about the shape', async () => {
    const files = withFile(await npy(), emb, encodeNpy({ shape: [300, 10, 24], values: new Float32Array(72000), headerText: "{'descr': '<f4', 'fortran_order': False, 'shape': (300, 10, 48), }" }));
    expect((await planError(files))?.message).toMatch(new RegExp(emb));
  });

  it('a wrong dtype', async () => {
    const files = withFile(await npy(), emb, encodeNpy({ shape: [300, 10, 24], dtype: 'int32' }));
    expect((await planError(files))?.message).toMatch(/<i4|int32/);
  });

  it('a 0-byte file', async () => {
    expect((await planError(withFile(await npy(), emb, new Uint8Array(0))))?.message).toMatch(new RegExp(`${emb}.*(empty|0 bytes)`));
  });

  it('a file that is not .npy at all', async () => {
    const text = new TextEncoder().encode('id,reward\n1,0.5\n'.repeat(40));
    expect((await planError(withFile(await npy(), emb, text)))?.message).toMatch(new RegExp(`${emb}.*not a \\.npy|magic`, 'i'));
  });

  it('mismatched N or K between embeddings and rewards', async () => {
    const files = withFile(await npy(), rew, encodeNpy({ shape: [299, 10, 1] }));
    expect((await planError(files))?.message).toMatch(/train rewards and embeddings disagree/);
  });

  it('train and test with different D', async () => {
    const files = withFile(await npy(), 'embd_demo_randproj_helpful_test.npy', encodeNpy({ shape: [40, 50, 12] }));
    expect((await planError(files))?.message).toMatch(/train and test embeddings differ in dimension/);
  });

  it('a folder with missing partners', async () => {
    const files = (await npy()).filter((f) => f.name !== 'reward_demo_randproj_helpful_test.npy');
    expect((await planError(files))?.message).toMatch(/the dataset is incomplete: .* no file for the test rewards/);
  });

  it('no dataset file at all', async () => {
    expect((await planError([{ name: 'notes.txt', bytes: new Uint8Array(4) }]))?.message).toMatch(/no \.npy dataset files.*found: notes\.txt/);
  });

  it('NaN rewards, with their count and place', async () => {
    const values = Float32Array.from(makeDemoDataset(SMALL_DEMO).train.rewards);
    values[23] = NaN;
    values[40] = Infinity;
    const files = withFile(await npy(), rew, encodeNpy({ shape: [300, 10, 1], values }));
    expect((await openError(files))?.message).toMatch(/2 non-finite rewards .* at prompt 2, response 3/);
  });

  it('an Arrow pack missing its test split, or mixed with .npy files', async () => {
    const arrow = await demoArrowFiles(SMALL_DEMO);
    expect(() => detectFormat(['train.arrow'])).toThrow(/hold train\.arrow but no test\.arrow/);
    expect((await planError([...arrow, ...(await npy())]))?.message).toMatch(/both a packed dataset .* and \.npy dataset files/);
  });
});

describe('opening, inspecting and verifying', () => {
  it('opens both layouts to the same data, inspects it and reports bytes read', async () => {
    const a = await openSelection(select(await demoNpyFiles(SMALL_DEMO, 'NKD')));
    const b = await openSelection(select(await demoNpyFiles(SMALL_DEMO, 'KND')));
    expect(b.dataset.train.rewards).toEqual(a.dataset.train.rewards);
    expect(await b.dataset.test.embeddings.readRange(95, 130)).toEqual(await a.dataset.test.embeddings.readRange(95, 130));
    expect(a.rowBytes).toEqual({ train: 96, test: 96 });
    // Only headers and rewards are read to open: ten times wider embeddings read no more.
    const wide = await openSelection(select(await demoNpyFiles({ ...SMALL_DEMO, dim: 240 }, 'NKD')));
    expect(wide.counter.bytes).toBeLessThan(a.counter.bytes * 1.1);

    const inspection = inspectDataset(a.dataset);
    expect(inspection.train.sortedPrompts).toBe(300);
    expect(inspection.test.sortedPrompts).toBeLessThan(40);
    const rank = inspection.train.meanByRank;
    expect(rank).toHaveLength(10);
    expect(rank.every((m, j) => j === 0 || m >= rank[j - 1])).toBe(true);
    expect(inspection.train.summary.withinPromptVariance).toBeGreaterThan(0);
    expect(inspection.labelErrors.rows.map((r) => r.beta)).toEqual(T1_BETAS);
    expect(inspection.labelErrors.taskScale).toBe(6);
    const errs = inspection.labelErrors.rows.map((r) => r.std);
    expect(errs.every((e, i) => i === 0 || e < errs[i - 1])).toBe(true);
    expect(inspection.trainRewards.counts.reduce((x, y) => x + y, 0)).toBe(3000);
  });

  it('verifies embeddings: counts NaN/Inf and says where, with progress, and can be cancelled', async () => {
    const ds = makeDemoDataset(SMALL_DEMO);
    const values = await ds.test.embeddings.readRange(0, ds.test.embeddings.rows);
    values[(7 * 50 + 3) * 24 + 5] = NaN;
    values[(9 * 50 + 0) * 24 + 0] = -Infinity;
    const files = withFile(await demoNpyFiles(SMALL_DEMO, 'NKD'), 'embd_demo_randproj_helpful_test.npy', encodeNpy({ shape: [40, 50, 24], values }));
    const host = new FilesHost();
    const selection = select(files);
    const progress: FilesProgress[] = [];
    const opened = await host.openFiles(selection, { onProgress: (p) => progress.push(p) });
    expect(opened.plan.id).toBe('demo_randproj_helpful');
    expect(progress.at(-1)).toMatchObject({ phase: 'open' });
    const report = await host.verify(selection, { onProgress: (p) => progress.push(p) });
    expect(report.splits).toEqual([
      { split: 'train', file: 'embd_demo_randproj_helpful_train.npy', rows: 3000, nonFinite: 0, firstNonFinite: null },
      { split: 'test', file: 'embd_demo_randproj_helpful_test.npy', rows: 2000, nonFinite: 2, firstNonFinite: { prompt: 7, response: 3, dim: 5 } },
    ]);
    expect(report.bytesRead).toBe((3000 + 2000) * 24 * 4);
    const last = progress.at(-1);
    expect(last).toMatchObject({ phase: 'verify', split: 'test' });
    expect(last?.io.bytesRead).toBe(report.bytesRead);
    expect(last?.io.bytesTotal).toBe(report.bytesRead);

    const verifying = host.verify(selection, { onProgress: () => undefined });
    host.cancel();
    expect(isCancelled(await verifying.catch((e: unknown) => e))).toBe(true);
  });

  it('keeps one opened dataset per selection', async () => {
    const host = new FilesHost();
    const files = await demoNpyFiles(SMALL_DEMO, 'NKD');
    const selection = select(files);
    const first = await host.open(selection);
    expect(await host.open({ ...selection, files: [...selection.files] })).toBe(first);
    expect(await host.open({ ...selection, layout: 'NKD' })).not.toBe(first);
  });

  it('opens an Arrow pack', async () => {
    const opened = await openSelection(select(await demoArrowFiles(SMALL_DEMO)));
    expect(opened.plan.id).toBe('demo-pack');
    expect(opened.dataset.train.rankSorted).toBe(true);
    expect(opened.rowBytes.train).toBe(96);
  });
});

describe('I/O meter', () => {
  it('counts through a source without hiding what a read of it costs', () => {
    const blob = new BlobSource(new Blob([new Uint8Array(8)]), 'picked.npy');
    expect(new CountingSource(blob, new ByteCounter()).coalesceGapBytes).toBe(blob.coalesceGapBytes);
  });

  it('reports bytes since its start, the rate over a recent window, rows/s and the time left', () => {
    const counter = new ByteCounter();
    counter.bytes = 1000;
    let t = 0;
    const meter = new IoMeter(counter, 100, 10_000, () => t);
    expect(meter.stats()).toMatchObject({ bytesRead: 0, bytesPerSecond: null, etaSeconds: null });
    t = 1000;
    counter.bytes += 2000;
    expect(meter.stats()).toEqual({ bytesRead: 2000, bytesTotal: 10_000, bytesPerSecond: 2000, rowsPerSecond: 20, etaSeconds: 4 });
    // A stall shows once the window has moved past the reads.
    t = 6000;
    expect(meter.stats().bytesPerSecond).toBeLessThan(2000);
    t = 10_000;
    expect(meter.stats()).toMatchObject({ bytesPerSecond: 0, etaSeconds: null });
  });
});

function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
