import type { Dataset } from '../core/dataset.ts';
import { summarizeSplit } from '../core/dataset.ts';
import { histogram } from '../core/metrics.ts';
import type { DatasetDescription } from './protocol.ts';

const REWARD_BINS = 40;

/** What the dataset panel shows: split sizes, reward statistics and reward histograms. */
export function describeDataset(dataset: Dataset, buildMs: number): DatasetDescription {
  const train = summarizeSplit(dataset.train);
  const test = summarizeSplit(dataset.test);
  const lo = Math.min(train.rewardMin, test.rewardMin);
  const hi = Math.max(train.rewardMax, test.rewardMax);
  // A degenerate range (all rewards equal) still needs a valid histogram range.
  const [from, to] = hi > lo ? [lo, hi] : [lo - 0.5, lo + 0.5];
  return {
    info: dataset.info,
    train,
    test,
    trainRewards: histogram(dataset.train.rewards, REWARD_BINS, from, to),
    testRewards: histogram(dataset.test.rewards, REWARD_BINS, from, to),
    buildMs,
  };
}
