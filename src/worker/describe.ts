import type { Dataset } from '../core/dataset.ts';
import { inspectDataset } from './inspect.ts';
import type { DatasetDescription } from './protocol.ts';

/** What the dataset panel shows: split sizes, reward statistics, reward histograms and the inspection. */
export function describeDataset(dataset: Dataset, buildMs: number): DatasetDescription {
  const inspection = inspectDataset(dataset);
  return {
    info: dataset.info,
    train: inspection.train.summary,
    test: inspection.test.summary,
    trainRewards: inspection.trainRewards,
    testRewards: inspection.testRewards,
    buildMs,
    inspection,
  };
}
