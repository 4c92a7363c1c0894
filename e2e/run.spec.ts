import { readFile } from 'node:fs/promises';
import { expect, test } from './fixtures.ts';

test.describe('running an experiment', () => {
  test('runs the quick demo on wasm and shows plausible results, kept across a reload', async ({ lab, page }) => {
    await lab.open();
    await lab.chooseBackend('wasm');
    await lab.runToCompletion();

    const improvement = await lab.metric('improvement');
    const spearman = await lab.metric('spearman');
    const labelError = await lab.metric('label-error');
    const heldOut = await lab.metric('held-out');
    expect(improvement).toBeGreaterThan(0);
    expect(spearman).toBeGreaterThan(0);
    expect(spearman).toBeLessThanOrEqual(1);
    // β = 0.5 on the demo is calibrated to ≈ 38% label errors.
    expect(labelError).toBeGreaterThan(0.3);
    expect(labelError).toBeLessThan(0.46);
    expect(heldOut).toBeGreaterThan(0.5);

    // The best-of-N chart, read from its data: the pick improves with N, the oracle bounds it.
    expect(await lab.chartMarks('chart-bon')).toBeGreaterThan(2);
    const bon = await lab.chartData('chart-bon');
    const label = (await page.locator('.run-name').textContent()) ?? '';
    const mean = (row: Record<string, string>) => Number(row[`${label} mean`]);
    expect(bon.map((r) => Number(r.N))).toEqual([1, 2, 5, 10, 30, 50, 100]);
    expect(mean(bon[bon.length - 1])).toBeGreaterThan(mean(bon[0]));
    for (const row of bon) expect(Number(row.oracle)).toBeGreaterThanOrEqual(mean(row) - 1e-9);
    expect(mean(bon[bon.length - 1]) - Number(bon[bon.length - 1].random)).toBeCloseTo(improvement, 1);

    await expect(lab.resultBackend()).toHaveAttribute('data-backend', 'wasm');
    await expect(page.getByTestId('timings')).toContainText('train');
    await expect(page.getByTestId('deviations')).toContainText('paper-faithful');
    expect(await lab.chartMarks('chart-spearman')).toBeGreaterThan(0);
    expect(await lab.chartMarks('chart-loss')).toBeGreaterThan(0);
    await lab.screenshot('03-results-window');
    await lab.screenshot('03-results-panel', lab.results());

    await lab.reload();
    await expect(lab.runRows()).toHaveCount(1);
    await expect(lab.results()).toBeVisible();
    expect(await lab.metric('improvement')).toBe(improvement);
  });

  test('exports the result as JSON and each chart as SVG and PNG', async ({ lab, page }) => {
    await lab.open();
    await lab.runToCompletion();

    const json = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]).then(([d]) => d);
    expect(json.suggestedFilename()).toMatch(/^clf-mlp-beta-0\.5-4-000-pairs-[0-9a-f]{8}\.json$/);
    const result = JSON.parse(await readFile(await json.path(), 'utf8'));
    expect(result.format).toBe('reward-lab.result/1');
    expect(result.spec.annotation.beta).toBe(0.5);
    expect(result.backend.name).toBe('wasm');
    expect(result.summary.improvement.mean).toBe(await lab.metric('improvement'));

    const bon = page.getByTestId('chart-bon');
    const svg = await Promise.all([page.waitForEvent('download'), bon.getByRole('button', { name: 'Export Best-of-N as SVG' }).click()]).then(([d]) => d);
    expect(svg.suggestedFilename()).toMatch(/best-of-n\.svg$/);
    const svgText = await readFile(await svg.path(), 'utf8');
    expect(svgText).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svgText).toContain('Best-of-N');
    expect(svgText).toContain('oracle (golden reward picks)');
    expect(svgText).toContain('<path');

    const png = await Promise.all([page.waitForEvent('download'), bon.getByRole('button', { name: 'Export Best-of-N as PNG' }).click()]).then(([d]) => d);
    const pngBytes = await readFile(await png.path());
    expect([...pngBytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // 2× the on-screen width: crisp in slides.
    const width = pngBytes.readUInt32BE(16);
    const box = await bon.locator('svg.recharts-surface').boundingBox();
    expect(width).toBe(Math.round((box?.width ?? 0) * 2));

    const spearmanPng = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export Spearman per test prompt as PNG' }).click(),
    ]).then(([d]) => d);
    expect(spearmanPng.suggestedFilename()).toMatch(/spearman-per-test-prompt\.png$/);
  });
});
