import { readFile } from 'node:fs/promises';
import { expect, test } from './fixtures.ts';

test('BT against CLF under noisy labels: overlay, side-by-side table and CSV', async ({ lab, page }) => {
  await lab.open();
  await lab.runToCompletion();
  await lab.objective('BT-MLP');
  // Keyboard: Ctrl+Enter runs from anywhere.
  await page.keyboard.press('Control+Enter');
  await expect(lab.runStatus()).toHaveAttribute('data-status', 'finished', { timeout: 90_000 });
  await expect(lab.runRows()).toHaveCount(2);

  await lab.compare(['CLF-MLP · β 0.5 · 4,000 pairs', 'BT-MLP · β 0.5 · 4,000 pairs']);
  const compare = page.getByTestId('compare');
  await expect(compare).toBeVisible();
  expect(await lab.chartMarks('chart-compare-bon')).toBeGreaterThan(3);

  const table = page.getByTestId('metrics-table');
  await expect(table).toContainText('model.objective');
  const improvement = table.locator('tr[data-metric="improvement"] td');
  const [clf, bt] = (await improvement.evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-value')))));
  // The paper's central effect, on the demo: the classifier wins under noisy labels.
  expect(clf).toBeGreaterThan(bt);
  await expect(improvement.first()).toHaveClass(/is-best/);
  await lab.screenshot('05-compare', page.getByTestId('run-history'));
  // With results, history and comparison on screen, every control has a name.
  expect(await lab.unlabelledControls()).toEqual([]);

  const csv = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]).then(([d]) => d);
  const lines = (await readFile(await csv.path(), 'utf8')).trim().split('\r\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toContain('model.objective');
  expect(lines[1]).toContain('clf-mlp');
  expect(lines[2]).toContain('bt-mlp');
});
