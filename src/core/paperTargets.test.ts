import { beforeAll, describe, expect, it } from 'vitest';
import { activateWasmBackend } from '../testing/tf.ts';
import { makeDemoDataset } from './demo.ts';
import { datasetFromSpec, runExperiment } from './experiment.ts';
import { labelErrorTable, labelErrorVerdicts, qTable, qVerdicts, rewardGapTable, rewardGapVerdicts, sweepVerdicts, targetSweep } from './paperTargets.ts';
import { demoDatasetSchema } from './spec.ts';
import { expandSweep, type CellResult } from './sweep.ts';

beforeAll(activateWasmBackend);

const demoSpec = demoDatasetSchema.parse({ kind: 'demo', trainPrompts: 4000, testPrompts: 150, dim: 64 });

describe('paper targets without training', () => {
  it('T7: the Q table matches the paper to 3 decimals', () => {
    const rows = qTable();
    expect(rows.map((r) => r.variance)).toEqual([1, 2, 4, 10]);
    rows.forEach((r) => expect(r.computed).toBeCloseTo(r.published, 3));
    expect(qVerdicts(rows)[0]).toMatchObject({ reproduced: true, detail: expect.stringMatching(/^4\/4 values agree/) });
  });

  it('T1: the demo data is calibrated like the published data (≈5% at β = 10, ≈38% at β = 0.5)', () => {
    const rows = labelErrorTable(makeDemoDataset(demoSpec));
    expect(rows).toHaveLength(12); // 6 β × {task constant, reward std}
    const task = rows.filter((r) => r.scale === 'task');
    expect(task.map((r) => r.beta)).toEqual([0.5, 0.7, 1, 3, 5, 10]);
    expect(task.every((r, i) => i === 0 || r.expectedError < task[i - 1].expectedError)).toBe(true);
    expect(labelErrorVerdicts(rows).map((v) => v.reproduced)).toEqual([true, true]);
  });

  it('T6: reward gaps per pairing mode, ordered as the paper describes', () => {
    const rows = rewardGapTable(makeDemoDataset(demoSpec), 2000);
    expect(rows).toHaveLength(6);
    const gap = (c: string, s: string) => rows.find((r) => r.candidates === c && r.scope === s)!.meanAbsRewardGap;
    expect(gap('diversified', 'same-prompt')).toBeGreaterThan(gap('random', 'same-prompt'));
    expect(gap('random', 'same-prompt')).toBeGreaterThan(gap('similar', 'same-prompt'));
    expect(rewardGapVerdicts(rows).map((v) => v.claim)).toHaveLength(2);
  });
});

describe('paper targets as sweeps', () => {
  it('builds each grid on the open dataset, sized down by default', () => {
    const t2 = targetSweep('T2', demoSpec, 4000, 150, 'small');
    expect(t2.axes).toEqual({ 'model.objective': ['bt-mlp', 'clf-mlp', 'clf-gbdt'] });
    expect(expandSweep(t2)).toHaveLength(6);
    const full = targetSweep('T5', demoSpec, 40_000, 2000, 'full');
    expect(expandSweep(full)).toHaveLength(3 * 2 * 3 * 5);
    expect(expandSweep(full)[0].spec.model.hidden).toEqual([1024, 512]);
    const files = targetSweep('T2', { kind: 'files', id: 'x' }, 40_000, 2000, 'small');
    expect(expandSweep(files)[0].spec.dataset).toEqual({ kind: 'files', id: 'x', subsample: { testPrompts: 300, seed: 0 } });
    expect(() => targetSweep('T7', demoSpec, 1, 1, 'small')).toThrow(/needs no training/);
  });

  it('T2 at small size on the demo reproduces "classification ≥ BT" under noisy labels', async () => {
    const sweep = targetSweep('T2', demoSpec, 4000, 150, 'small');
    (sweep.base as { annotation: { beta: number } }).annotation.beta = 0.5;
    const cells: CellResult[] = [];
    for (const cell of expandSweep(sweep)) {
      const result = await runExperiment(cell.spec, datasetFromSpec(cell.spec)!);
      cells.push({ cellKey: cell.key, axes: cell.axes, seed: cell.seed, result });
    }
    const verdicts = sweepVerdicts('T2', cells);
    expect(verdicts.map((v) => v.claim)).toEqual(['CLF-MLP ≥ BT', 'CLF-GBDT ≥ BT']);
    expect(verdicts[0].reproduced).toBe(true);
  });
});
