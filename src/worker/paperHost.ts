/**
 * The analytic paper targets computed on a loaded dataset: closed forms over the rewards, no
 * training and no embeddings, so they answer in milliseconds in the worker.
 */
import type { Dataset } from '../core/dataset.ts';
import { labelErrorTable, labelErrorVerdicts, qTable, qVerdicts, rewardGapTable, rewardGapVerdicts } from '../core/paperTargets.ts';
import type { AnalyticOptions, AnalyticResult, AnalyticTargetId } from './paperProtocol.ts';

export function analyticTarget(id: AnalyticTargetId, dataset: Dataset | null, options: AnalyticOptions): AnalyticResult {
  const t0 = performance.now();
  const datasetId = dataset?.info.id ?? null;
  const done = <T extends object>(value: T) => ({ ...value, datasetId, ms: performance.now() - t0 });
  if (id === 'T7') {
    const rows = qTable();
    return done({ id, rows, verdicts: qVerdicts(rows) });
  }
  if (!dataset) throw new Error(`${id} is computed on a dataset: open one first`);
  if (id === 'T1') {
    const rows = labelErrorTable(dataset);
    return done({ id, rows, verdicts: labelErrorVerdicts(rows) });
  }
  const budget = Math.max(1, Math.min(options.budget, dataset.train.prompts));
  const rows = rewardGapTable(dataset, budget, options.seed);
  return done({ id, rows, verdicts: rewardGapVerdicts(rows), budget, seed: options.seed });
}
