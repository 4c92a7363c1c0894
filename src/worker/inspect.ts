import { summarizeSplit, type Dataset, type Split } from '../core/dataset.ts';
import { expectedSamePromptError, resolveScale } from '../core/labeler.ts';
import { histogram } from '../core/metrics.ts';
import type { DatasetInspection, LabelErrorTable, SplitInspection } from './filesProtocol.ts';

export const REWARD_BINS = 40;
/** The paper's annotation-quality grid (paper-targets T1). */
export const T1_BETAS: readonly number[] = [0.5, 0.7, 1, 3, 5, 10];

function inspectSplit(split: Split): SplitInspection {
  const { rewards, prompts, responsesPerPrompt: k } = split;
  const sums = new Float64Array(k);
  let sortedPrompts = 0;
  for (let p = 0; p < prompts; p++) {
    let sorted = true;
    for (let j = 0; j < k; j++) {
      const r = rewards[p * k + j];
      sums[j] += r;
      if (j > 0 && r < rewards[p * k + j - 1]) sorted = false;
    }
    if (sorted) sortedPrompts++;
  }
  return { summary: summarizeSplit(split), meanByRank: Array.from(sums, (s) => s / prompts), sortedPrompts };
}

/** T1 on this data: the expected error of random same-prompt labels, over every train prompt. */
export function labelErrorTable(dataset: Dataset, betas: readonly number[] = T1_BETAS): LabelErrorTable {
  const { train, info } = dataset;
  const stdScale = resolveScale({ kind: 'std' }, info, train.rewards).value;
  const taskScale = info.taskScale;
  const rate = (beta: number, scale: number) =>
    expectedSamePromptError(train.rewards, train.prompts, train.responsesPerPrompt, beta, scale, train.prompts);
  return {
    taskScale,
    stdScale,
    prompts: train.prompts,
    rows: betas.map((beta) => ({ beta, task: taskScale === null ? null : rate(beta, taskScale), std: stdScale > 0 ? rate(beta, stdScale) : 0 })),
  };
}

/** Everything the dataset inspector shows, from the rewards (in memory): no embedding is read. */
export function inspectDataset(dataset: Dataset): DatasetInspection {
  const train = inspectSplit(dataset.train);
  const test = inspectSplit(dataset.test);
  const lo = Math.min(train.summary.rewardMin, test.summary.rewardMin);
  const hi = Math.max(train.summary.rewardMax, test.summary.rewardMax);
  // A degenerate range (all rewards equal) still needs a valid histogram range.
  const [from, to] = hi > lo ? [lo, hi] : [lo - 0.5, lo + 0.5];
  return {
    info: dataset.info,
    train,
    test,
    trainRewards: histogram(dataset.train.rewards, REWARD_BINS, from, to),
    testRewards: histogram(dataset.test.rewards, REWARD_BINS, from, to),
    labelErrors: labelErrorTable(dataset),
  };
}
