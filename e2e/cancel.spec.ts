import { expect, test } from './fixtures.ts';

// BT does not stop early on the demo, so four seeds of it give a run long enough to cancel.
const LONG_RUN =
  '#v=1&dataset.kind=demo&dataset.trainPrompts=4000&dataset.testPrompts=200&dataset.dim=64&annotation.beta=0.5' +
  '&annotation.budget=4000&model.hidden=128,64&model.training.batchSize=1024&evaluation.repeats=20&seeds=0,1,2,3';

test('cancels a run mid-way, stays usable and runs again', async ({ lab, page }) => {
  await lab.open(LONG_RUN);
  await lab.startRun();
  await expect(lab.progress()).toHaveAttribute('data-stage', 'train');
  await expect(lab.progress()).toContainText(/epoch [2-9]/);
  await expect(page.getByTestId('live-curves')).toBeVisible();
  await expect(lab.progress()).toContainText(/about .* left/);
  await lab.screenshot('04-running-window');
  expect(await lab.unlabelledControls()).toEqual([]);

  await lab.cancelButton().click();
  await expect(lab.runStatus()).toHaveAttribute('data-status', 'cancelled', { timeout: 10_000 });
  await expect(lab.runStatus()).toContainText('Nothing was recorded');
  await expect(page.getByText('No finished runs yet.')).toBeVisible();
  await expect(lab.cancelButton()).toBeDisabled();

  // Still usable: edit the spec and run to the end.
  await lab.preset('Quick demo');
  await lab.runToCompletion();
  expect(await lab.metric('improvement')).toBeGreaterThan(0);
});
