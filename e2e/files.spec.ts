import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDemoDataset } from '../src/core/demo.ts';
import { demoNpyFiles, withFile, type DemoFilesSpec, type NamedBytes } from '../src/testing/datasetFiles.ts';
import { encodeNpy } from '../src/testing/writeNpy.ts';
import { expect, test } from './fixtures.ts';

/** Small enough to write and run in seconds, big enough to learn from. */
const DATA: DemoFilesSpec = { seed: 5, trainPrompts: 1000, responsesPerTrainPrompt: 10, testPrompts: 60, responsesPerTestPrompt: 50, dim: 32 };
const INFRA_EMB = 'embd_demo_randproj_helpful_train.npy';
const INFRA_REW = 'reward_demo_randproj_helpful_train.npy';

let root = '';
const dirs = { infra: '', distributed: '', truncated: '', missing: '', notNpy: '', nanRewards: '', ambiguous: '' };

async function writeSet(dir: string, files: readonly NamedBytes[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  await Promise.all(files.map((f) => writeFile(join(dir, f.name), f.bytes)));
  return files.map((f) => join(dir, f.name));
}

const paths = (dir: string, files: readonly NamedBytes[]) => files.map((f) => join(dir, f.name));

let infra: NamedBytes[] = [];

test.beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reward-lab-files-'));
  for (const key of Object.keys(dirs) as (keyof typeof dirs)[]) dirs[key] = join(root, key);
  infra = await demoNpyFiles(DATA, 'NKD');
  const distributed = await demoNpyFiles(DATA, 'KND');
  await writeSet(dirs.infra, [...infra, { name: 'README.txt', bytes: new TextEncoder().encode('not part of the dataset') }]);
  await writeSet(dirs.distributed, distributed);
  const emb = infra.find((f) => f.name === INFRA_EMB)?.bytes ?? new Uint8Array();
  await writeSet(dirs.truncated, withFile(infra, INFRA_EMB, emb.subarray(0, emb.length - 4096)));
  await writeSet(dirs.missing, distributed.filter((f) => !f.name.startsWith('REWARD-TEST')));
  await writeSet(dirs.notNpy, withFile(infra, INFRA_EMB, new TextEncoder().encode('prompt,response,reward\n'.repeat(100))));
  const demo = makeDemoDataset(DATA);
  const rewards = Float32Array.from(demo.train.rewards);
  rewards[12] = NaN;
  rewards[345] = Infinity;
  rewards[346] = NaN;
  await writeSet(dirs.nanRewards, withFile(infra, INFRA_REW, encodeNpy({ shape: [1000, 10, 1], values: rewards })));
  // Distributed names, but test rewards saved (K, N, 1) like the infrastructure's: the clues disagree.
  const test = demo.test.rewards;
  const kn = new Float32Array(test.length);
  for (let p = 0; p < 60; p++) for (let j = 0; j < 50; j++) kn[j * 60 + p] = test[p * 50 + j];
  await writeSet(dirs.ambiguous, withFile(distributed, 'REWARD-TEST-demo-randproj-helpful.npy', encodeNpy({ shape: [50, 60, 1], values: kn })));
});

test.afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test.describe('dataset files', () => {
  test('picks .npy pairs in both layouts, shows the plan, inspects them and runs an experiment on them', async ({ lab, page }) => {
    await lab.open();
    const { files } = lab;

    // Infrastructure files, picked one by one (with a stray file): (N, K, D) from agreeing evidence.
    await files.pick([...paths(dirs.infra, infra), join(dirs.infra, 'README.txt')]);
    await expect(files.plan()).toHaveAttribute('data-format', 'npy');
    await expect(files.layout('train')).toHaveAttribute('data-layout', 'NKD');
    await expect(files.layout('test')).toHaveAttribute('data-layout', 'NKD');
    await expect(files.layout('train')).toContainText('names, reward shape and rank order agree');
    await expect(page.getByTestId('plan-train-embeddings')).toContainText('(1000, 10, 32)');
    await expect(page.getByTestId('plan-train-rewards')).toContainText('(1000, 10, 1)');
    await expect(page.getByTestId('files-ignored')).toContainText('README.txt');

    // The files as distributed, picked as a folder: (K, N, D).
    await files.pickFolder(dirs.distributed);
    await expect(files.layout('train')).toHaveAttribute('data-layout', 'KND');
    await expect(files.layout('test')).toHaveAttribute('data-layout', 'KND');
    await expect(page.getByTestId('plan-train-embeddings')).toContainText('EMBD-TRAIN-demo-randproj-helpful.npy');
    await expect(page.getByTestId('plan-train-embeddings')).toContainText('(10, 1000, 32)');
    await expect(page.getByTestId('plan-test-rewards')).toContainText('(50, 60)');
    await expect(files.layout('train')).toContainText('1,000 prompts × 10 responses');
    // Overriding the detected layout re-plans; "as detected" goes back.
    await files.layout('train').getByRole('radio', { name: /\(N, K, D\)/ }).check();
    await expect(files.layout('train')).toHaveAttribute('data-layout', 'NKD');
    await expect(files.layout('train')).toContainText('set by you');
    await files.layout('train').getByRole('radio', { name: /as detected/ }).check();
    await expect(files.layout('train')).toHaveAttribute('data-layout', 'KND');
    await lab.screenshot('10-files-plan', files.panel());

    await files.load();
    const dataset = page.getByTestId('dataset-panel');
    await expect(dataset).toHaveAttribute('data-kind', 'files');
    await expect(page.getByTestId('train-size')).toHaveText('1,000 prompts × 10 responses');
    await expect(page.getByTestId('test-size')).toHaveText('60 prompts × 50 responses');
    await expect(page.getByTestId('train-storage')).toHaveText('float32, (K, N, D)');
    await expect(page.getByTestId('rank-sorted')).toHaveAttribute('data-value', 'yes');
    await expect(page.getByTestId('test-rank-sorted')).toHaveAttribute('data-value', 'no');
    expect(await lab.chartMarks('chart-rank')).toBeGreaterThan(0);
    expect(await lab.chartMarks('chart-rewards')).toBeGreaterThan(0);
    const rank = await lab.chartData('chart-rank');
    expect(rank).toHaveLength(10);
    expect(Number(rank[9]['mean reward'])).toBeGreaterThan(Number(rank[0]['mean reward']));
    const t1 = await files.labelErrors();
    expect(t1.map((r) => r.beta)).toEqual([0.5, 0.7, 1, 3, 5, 10]);
    const stdErrors = t1.map((r) => parseFloat(r.std));
    expect(stdErrors.every((e, i) => i === 0 || e < stdErrors[i - 1])).toBe(true);
    expect(t1.every((r) => /%$/.test(r.task))).toBe(true);
    const verified = await files.verify();
    await expect(verified).toContainText('No NaN or ±Infinity in 10,000 train and 3,000 test embedding rows');
    await lab.screenshot('11-files-inspector', dataset);

    // The spec now names the files; a seeded subsample of train prompts is a recorded deviation.
    await page.getByLabel('Subsample prompts (seeded; recorded as a deviation)').check();
    await lab.setField('Train prompts of 1,000', '900');
    await lab.setField('Budget (annotated pairs)', '900');
    await page.getByRole('group', { name: 'Paper values of β' }).getByRole('button', { name: '10', exact: true }).click();
    await expect(page).toHaveURL(/dataset\.kind=files&dataset\.id=demo-randproj-helpful&dataset\.subsample\.trainPrompts=900/);
    await lab.runToCompletion();
    expect(await lab.metric('improvement')).toBeGreaterThan(0);
    expect(await lab.metric('spearman')).toBeGreaterThan(0);
    await expect(page.getByTestId('deviations')).toContainText('subsample: 900 of 1,000 train prompts');
    await lab.screenshot('12-files-results');
  });

  test('bad input gets its specific message, and a shared link asks for the files again', async ({ lab, page }) => {
    await lab.open('#v=1&dataset.kind=files&dataset.id=gemma2b-helpful');
    await expect(page.getByTestId('files-needed')).toContainText('gemma2b-helpful');
    await expect(lab.runButton()).toBeDisabled();
    await expect(page.getByTestId('issues')).toContainText('the files of dataset "gemma2b-helpful" are not open in this tab');

    const { files } = lab;
    await files.pickFolder(dirs.missing);
    await expect(files.error()).toContainText(/the dataset is incomplete: found .* but no file for the test rewards \(reward_\*_test\.npy or REWARD-TEST-\*\.npy\)/);
    await lab.screenshot('13-files-error', files.panel());

    await files.pickFolder(dirs.truncated);
    await expect(files.error()).toContainText(`${INFRA_EMB} is truncated: shape (1000, 10, 32) float32 needs 1280000 data bytes`);

    await files.pickFolder(dirs.notNpy);
    await expect(files.error()).toContainText(`${INFRA_EMB} is not a .npy file: it starts with bytes`);

    // Headers are fine, so the plan shows; the rewards are read on loading, and refused there.
    await files.pickFolder(dirs.nanRewards);
    await expect(files.layout('train')).toHaveAttribute('data-layout', 'NKD');
    await page.getByTestId('load-files').click();
    await expect(files.error()).toContainText(`${INFRA_REW} holds 3 non-finite rewards (NaN or ±Infinity) of 10000; the first is NaN at prompt 1, response 2`);
    await expect(page.getByTestId('files-loaded')).toHaveCount(0);
    await expect(lab.runButton()).toBeDisabled();

    // Evidence that disagrees is a question, not a guess; the answer settles it.
    await files.pickFolder(dirs.ambiguous);
    await expect(files.layout('test')).toHaveAttribute('data-layout', 'open');
    await expect(files.layout('test')).toContainText('is EMBD-TEST-demo-randproj-helpful.npy (50, 60, 32) laid out (K, N, D) or (N, K, D)?');
    await expect(page.getByTestId('load-files')).toBeDisabled();
    await lab.screenshot('14-files-question', files.panel());
    await files.layout('test').getByRole('radio', { name: /\(K, N, D\)/ }).check();
    await expect(files.layout('test')).toHaveAttribute('data-layout', 'KND');
    await expect(page.getByTestId('load-files')).toBeEnabled();
  });
});
