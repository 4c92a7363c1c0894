import { parseSpec, type ExperimentSpec } from './spec.ts';

/**
 * Named starting points. `paper` is the schema's defaults (method.md); `quick-demo` is sized so
 * BT vs CLF under noisy labels (β = 0.5) finishes in seconds on a laptop CPU, and shows the
 * paper's central effect on the demo dataset.
 */
export const PRESETS = {
  paper: () => parseSpec({}),
  'quick-demo': () =>
    parseSpec({
      dataset: { kind: 'demo', trainPrompts: 4000, testPrompts: 200, dim: 64 },
      annotation: { beta: 0.5, budget: 4000 },
      model: { objective: 'clf-mlp', hidden: [128, 64], training: { batchSize: 1024 } },
      evaluation: { repeats: 20 },
      seeds: [0],
    }),
} satisfies Record<string, () => ExperimentSpec>;

export type PresetName = keyof typeof PRESETS;
