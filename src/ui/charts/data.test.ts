import { describe, expect, it } from 'vitest';
import { bonRows, curveRows, extent, histogramRows, logTicks, niceAxis, noiseRows, rewardRows } from './data.ts';

const bon = (n: number[], mean: number[]) => ({ n, mean, std: mean.map(() => 0.1), oracle: mean.map((m) => m + 1), random: mean.map(() => 0) });

describe('chart data', () => {
  it('merges best-of-N series on their N values, with ± std bands and references', () => {
    const rows = bonRows(
      [
        { label: 'a', color: 'red', bon: bon([1, 10], [0, 1]) },
        { label: 'b', color: 'blue', bon: bon([1, 5], [0, 0.5]) },
      ],
      bon([1, 10], [0, 1]),
    );
    expect(rows.map((r) => r.n)).toEqual([1, 5, 10]);
    expect(rows[1]).toEqual({ n: 5, mean1: 0.5, band1: [0.4, 0.6] });
    expect(rows[2]).toMatchObject({ n: 10, mean0: 1, band0: [0.9, 1.1], oracle: 2, random: 0 });
  });

  it('turns a histogram into bins with centres and shares', () => {
    expect(histogramRows({ edges: [0, 1, 2], counts: [1, 3] })).toEqual([
      { x: 0.5, lo: 0, hi: 1, count: 1, share: 0.25 },
      { x: 1.5, lo: 1, hi: 2, count: 3, share: 0.75 },
    ]);
    expect(rewardRows({ edges: [0, 1, 2], counts: [1, 1] }, { edges: [0, 1, 2], counts: [0, 4] })).toEqual([
      { x: 0.5, train: 0.5, test: 0 },
      { x: 1.5, train: 0.5, test: 1 },
    ]);
  });

  it('lines up training curves of members that stopped at different epochs', () => {
    const rows = curveRows([
      { label: 'm1', color: 'red', points: [{ epoch: 1, trainLoss: 1, valLoss: 2, valAccuracy: 0.5 }] },
      { label: 'm2', color: 'blue', points: [1, 2].map((epoch) => ({ epoch, trainLoss: epoch, valLoss: epoch, valAccuracy: 0.6 })) },
    ]);
    expect(rows).toEqual([
      { epoch: 1, trainLoss0: 1, valLoss0: 2, valAcc0: 0.5, trainLoss1: 1, valLoss1: 1, valAcc1: 0.6 },
      { epoch: 2, trainLoss1: 2, valLoss1: 2, valAcc1: 0.6 },
    ]);
  });

  it('sorts label-noise points and drops the perfect annotator (no place on a log axis)', () => {
    expect(noiseRows([{ beta: 3, errorRate: 0.1 }, { beta: 0.5, errorRate: 0.38 }, { beta: -1, errorRate: 0 }])).toEqual([
      { beta: 0.5, error: 0.38 },
      { beta: 3, error: 0.1 },
    ]);
  });

  it('picks nice axes and log ticks', () => {
    expect(niceAxis(0.062, 3.21)).toEqual({ domain: [0, 3.5], ticks: [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5] });
    expect(niceAxis(-0.01, 3.21).domain).toEqual([-0.5, 3.5]);
    expect(niceAxis(0.669, 0.696).ticks).toEqual([0.665, 0.67, 0.675, 0.68, 0.685, 0.69, 0.695, 0.7]);
    expect(niceAxis(-0.3, 0.9, 4).ticks).toEqual([-0.5, 0, 0.5, 1]);
    expect(niceAxis(0, 30).ticks).toEqual([0, 10, 20, 30]);
    expect(niceAxis(0, 7).ticks).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(niceAxis(2, 2).domain[0]).toBeLessThan(2);
    expect(logTicks(0.1, 30)).toEqual([0.1, 0.2, 0.5, 1, 2, 5, 10, 20]);
    expect(extent([3, [1, 5], undefined, NaN, 2])).toEqual([1, 5]);
  });
});
