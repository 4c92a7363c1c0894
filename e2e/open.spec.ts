import { expect, test } from './fixtures.ts';

test.describe('opening the lab', () => {
  test('lands on the demo dataset, described, with the quick demo ready to run', async ({ lab, page }) => {
    await lab.open();
    const dataset = page.getByTestId('dataset-panel');
    await expect(dataset).toContainText('synthetic');
    await expect(dataset).toContainText('golden reward is known exactly');
    await expect(page.getByTestId('train-size')).toHaveText('4,000 prompts × 10 responses');
    await expect(page.getByTestId('test-size')).toHaveText('200 prompts × 100 responses');
    expect(await lab.chartMarks('chart-rewards')).toBeGreaterThan(0);
    expect(await lab.chartMarks('chart-noise')).toBeGreaterThan(0);
    await expect(page.getByTestId('expected-label-error')).toContainText(/≈ 3\d\.\d% of labels expected wrong/);
    await expect(lab.runButton()).toBeEnabled();
    await expect(page).toHaveURL(/#v=1&.*annotation\.beta=0\.5/);
    await lab.screenshot('01-start-1280');
  });

  test('serves the page and its worker under a same-origin Content-Security-Policy', async ({ page, lab }) => {
    const response = await page.goto('/');
    expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
    await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute('content', /connect-src 'self' data: blob:/);
    await lab.waitForBackend();
    const worker = page.workers()[0];
    expect(worker, 'the engine worker').toBeDefined();
    const workerResponse = await page.request.get(worker.url());
    expect(workerResponse.headers()['content-security-policy']).toContain("connect-src 'self'");
  });

  test('picks wasm automatically over a software WebGPU adapter and says why', async ({ lab, page }) => {
    await lab.open();
    await expect(lab.backendStatus()).toHaveAttribute('data-backend', 'wasm');
    await expect(lab.backendStatus()).toContainText('SIMD');
    await page.getByText('Why?').click();
    await expect(page.locator('.backend-details')).toContainText(/webgpu\s*(skipped|unavailable)/);
  });

  for (const width of [1280, 1920]) {
    test(`holds its layout at ${width} px`, async ({ lab, page }) => {
      await page.setViewportSize({ width, height: 1000 });
      await lab.open();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const [controls, main] = await Promise.all([page.locator('.controls').boundingBox(), page.locator('.main').boundingBox()]);
      expect(controls && main && controls.x + controls.width <= main.x).toBe(true);
      await lab.screenshot(`02-start-${width}`);
    });
  }
});
