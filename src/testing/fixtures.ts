/** A small demo dataset and a spec that learns on it in about a second: shared by the CLI tests. */
export const SMALL_DEMO = { trainPrompts: 1500, responsesPerTrainPrompt: 10, testPrompts: 60, responsesPerTestPrompt: 50, dim: 16, seed: 3 };

export const SMALL_SPEC = {
  dataset: { kind: 'demo', ...SMALL_DEMO },
  annotation: { beta: 5, budget: 1500, scale: { kind: 'std' } },
  model: { objective: 'clf-mlp', hidden: [32], training: { batchSize: 256, epochs: 15 } },
  evaluation: { repeats: 10, heldOutPairs: 200 },
  seeds: [0],
};
