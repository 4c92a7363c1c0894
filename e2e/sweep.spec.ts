import { readFile } from 'node:fs/promises';
import { expect, test } from './fixtures.ts';
import { SweepSection } from './pages/SweepSection.ts';

// Tiny demo cells (under a second each on wasm), so a 16-cell sweep (two batches of 8) leaves time to cancel it mid-way.
const TINY =
  '#v=1&dataset.kind=demo&dataset.trainPrompts=1000&dataset.testPrompts=60&dataset.responsesPerTestPrompt=50&dataset.dim=32' +
  '&annotation.budget=1000&model.hidden=32&model.training.batchSize=512&model.training.epochs=8' +
  '&evaluation.repeats=5&evaluation.heldOutPairs=200&evaluation.bonN=1,2,5,10,50&seeds=0';

test('runs a sweep, cancels it mid-way, keeps finished cells across a reload, resumes to the chart and table', async ({ lab, page }) => {
  await lab.open(TINY);
  const sweeps = new SweepSection(page);
  await sweeps.tab('New sweep');
  // The editor starts on objective × β; four seeds make 16 cells.
  await sweeps.panel().getByLabel('Seeds', { exact: true }).fill('0, 1, 2, 3');
  await expect(sweeps.gridSize()).toHaveText('16 cells: 2 × 2 × 4 seeds');
  await sweeps.start();

  await expect(sweeps.status()).toHaveAttribute('data-status', 'running');
  // Eight cells at a time share a pass over the test split (MAX_SEEDS_PER_PASS; tiny models fit the memory cap).
  await expect(sweeps.progress()).toHaveAttribute('data-running', '8');
  await expect(lab.runButton()).toBeDisabled();
  await expect.poll(() => sweeps.done(), { intervals: [100] }).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('sweep-eta')).toContainText(/about .* left/);
  await lab.screenshot('10-sweep-running', sweeps.panel());

  await sweeps.button('cancel').click();
  await expect(sweeps.status()).toHaveAttribute('data-status', 'cancelled', { timeout: 10_000 });
  const kept = await sweeps.done();
  expect(kept).toBeGreaterThanOrEqual(2);
  expect(kept).toBeLessThan(16);
  await expect(sweeps.status()).toContainText(`${kept} of 16 cells kept`);
  await expect(sweeps.progress()).toHaveAttribute('data-running', '0');
  expect(await lab.unlabelledControls()).toEqual([]);

  // A reload keeps the finished cells: the sweep comes back as it was left.
  await lab.reload();
  await expect(sweeps.status()).toHaveAttribute('data-status', 'cancelled');
  await expect(sweeps.progress()).toHaveAttribute('data-done', String(kept));
  await expect(sweeps.tableRows()).not.toHaveCount(0);

  await sweeps.button('resume').click();
  await expect(sweeps.status()).toHaveAttribute('data-status', 'finished', { timeout: 60_000 });
  await expect(sweeps.progress()).toHaveAttribute('data-done', '16');

  // The table: one row per objective × β, each the mean ± std over its 4 seeds.
  await expect(sweeps.tableRows()).toHaveCount(4);
  const rows = await sweeps.tableRows().allTextContents();
  expect(rows.join('\n')).toMatch(/BT-MLP.*0\.5.*4.*±/);
  expect(rows.join('\n')).toMatch(/CLF-MLP.*10.*4.*±/);
  // The chart: improvement vs β, one line per objective, error bars from the seeds.
  expect(await lab.chartMarks('chart-sweep')).toBeGreaterThanOrEqual(2);
  expect(await page.getByTestId('chart-sweep').locator('.recharts-errorBar').count()).toBeGreaterThanOrEqual(4);
  const data = await lab.chartData('chart-sweep');
  expect(data.map((r) => r['β (annotation quality)'])).toEqual(['0.5', '10']);
  for (const row of data) {
    expect(row['BT-MLP seeds']).toBe('4');
    expect(Number(row['CLF-MLP std'])).toBeGreaterThanOrEqual(0);
  }
  // Better labels help both objectives on the demo.
  expect(Number(data[1]['BT-MLP mean'])).toBeGreaterThan(Number(data[0]['BT-MLP mean']));
  await lab.screenshot('11-sweep-results', sweeps.panel());

  const csv = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-sweep-csv').click()]).then(([d]) => d);
  const lines = (await readFile(await csv.path(), 'utf8')).trim().split(/\r\n/);
  expect(lines[0]).toMatch(/^model\.objective,annotation\.beta,seeds,improvement_mean,improvement_std/);
  expect(lines).toHaveLength(5);
  const json = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-sweep-json').click()]).then(([d]) => d);
  const set = JSON.parse(await readFile(await json.path(), 'utf8'));
  expect(set.format).toBe('reward-lab.sweep/1');
  expect(set.cells).toHaveLength(16);
  // Cancelled during the second batch and resumed: two batches of 8, each cell's result says so.
  expect(set.cells.map((c: { result: { timings: { batchOf?: number } } }) => c.result.timings.batchOf)).toEqual(new Array(16).fill(8));
});

test('paper targets T7 and T1 reproduce instantly, with the published values beside them', async ({ lab, page }) => {
  await lab.open();
  const sweeps = new SweepSection(page);
  await sweeps.target('T7');
  await expect(sweeps.verdicts('T7')).toHaveAttribute('data-reproduced', '1', { timeout: 5_000 });
  await expect(sweeps.verdicts('T7')).toContainText('✓');
  await expect(sweeps.verdicts('T7')).toContainText('4/4 values agree');
  await expect(page.getByTestId('q-table').locator('tbody tr')).toHaveCount(4);
  await expect(page.getByTestId('q-table')).not.toContainText('✗');
  await lab.screenshot('12-target-T7', sweeps.panel());

  await sweeps.target('T1');
  await expect(sweeps.verdicts('T1')).toHaveAttribute('data-claims', '2', { timeout: 5_000 });
  await expect(page.getByTestId('target-T1').getByTestId('published')).toContainText('≈ read off a figure');
  // The full-size switch shows how big each training grid would be.
  await expect(page.getByTestId('cells-T3')).toContainText('16 cells (full: 90 cells');
  await page.getByTestId('full-size').check();
  await expect(page.getByTestId('cells-T3')).toContainText('90 cells');
});
