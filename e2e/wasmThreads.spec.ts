import { expect, test } from './fixtures.ts';

const TINY =
  '#v=1&dataset.kind=demo&dataset.trainPrompts=300&dataset.testPrompts=40&dataset.responsesPerTestPrompt=20&dataset.dim=16' +
  '&annotation.beta=1&annotation.budget=300&model.objective=clf-mlp&model.hidden=16&model.training.epochs=2&model.training.batchSize=256' +
  '&evaluation.bonN=1,5,20&evaluation.repeats=5&evaluation.heldOutPairs=200&seeds=0';

// The production build, served cross-origin isolated (vite.config.ts), starts tfjs's threaded
// wasm binary in the engine worker with one XNNPACK thread per core (src/worker/wasmThreads.ts).
test('the production build runs wasm with one thread per core and the relaxed-SIMD GEMM, and records both', async ({ lab, page }) => {
  await lab.open(TINY);
  const { isolated, cores } = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
  expect(isolated, 'the page is cross-origin isolated').toBe(true);

  await lab.chooseBackend('wasm');
  await lab.runToCompletion();
  await expect(lab.resultBackend()).toHaveAttribute('data-backend', 'wasm');
  const text = (await lab.resultBackend().textContent()) ?? '';
  // One thread per core, within the glue's pool of 8; a single core runs the single-threaded build.
  const threads = Number(/(\d+) threads/.exec(text)?.[1] ?? 1);
  expect(threads, `result backend "${text}"`).toBe(Math.min(8, cores));
  // Our relaxed-SIMD GEMM ran the products; with threads its workers started from the minified
  // script (a worker that fails to start leaves XNNPACK in charge, and the label says so).
  expect(text).toContain('relaxed-SIMD GEMM');
  expect(Number.isFinite(await lab.metric('improvement'))).toBe(true);
});
