import { expect, test } from './fixtures.ts';

// Small shapes: WebGPU here is SwiftShader, a CPU emulation, correct but slow.
const TINY =
  '#v=1&dataset.kind=demo&dataset.trainPrompts=300&dataset.testPrompts=40&dataset.responsesPerTestPrompt=20&dataset.dim=16' +
  '&annotation.beta=1&annotation.budget=300&model.objective=clf-mlp&model.hidden=16&model.training.epochs=2&model.training.batchSize=256' +
  '&evaluation.bonN=1,5,20&evaluation.repeats=5&evaluation.heldOutPairs=200&seeds=0';

test('trains the same tiny experiment on WebGPU and on wasm, and records each backend', async ({ lab, page }) => {
  await lab.open(TINY);

  await lab.chooseBackend('webgpu');
  await expect(lab.backendStatus()).toContainText(/webgpu · .*swiftshader/i);
  await lab.runToCompletion(100_000);
  await expect(lab.resultBackend()).toHaveAttribute('data-backend', 'webgpu');
  await expect(lab.resultBackend()).toContainText(/swiftshader/i);
  const gpu = { improvement: await lab.metric('improvement'), spearman: await lab.metric('spearman') };
  await lab.screenshot('06-webgpu-result', lab.results());

  await lab.chooseBackend('wasm');
  await lab.runToCompletion();
  await expect(lab.resultBackend()).toHaveAttribute('data-backend', 'wasm');
  const wasm = { improvement: await lab.metric('improvement'), spearman: await lab.metric('spearman') };

  for (const r of [gpu, wasm]) {
    expect(Number.isFinite(r.improvement)).toBe(true);
    expect(r.spearman).toBeGreaterThan(-1);
    expect(r.spearman).toBeLessThanOrEqual(1);
  }
  // Same spec and seed: both backends learn from the same labels, so they agree closely.
  expect(Math.abs(gpu.spearman - wasm.spearman)).toBeLessThan(0.05);
  await expect(page.getByTestId('run-list')).toContainText('webgpu');
  await expect(page.getByTestId('run-list')).toContainText('wasm');
});
