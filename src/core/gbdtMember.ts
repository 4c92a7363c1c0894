import { throwIfCancelled } from './cancel.ts';
import { predictGbdt, trainGbdt, type GbdtModel } from './gbdt.ts';
import type { Rng } from './rng.ts';
import type { ModelSpec } from './spec.ts';
import { splitRows, type EpochRecord, type GatheredRows } from './train.ts';

/**
 * One CLF-GBDT member: boosted trees on the classification rows (winner → 1, loser → 0),
 * trained on the same train/validation split the MLPs use, so their validation numbers compare.
 * LightGBM's defaults have no early stopping; all `trees` are grown. The curve has one record
 * per tree (staged validation loss and accuracy), in place of an MLP's epochs.
 */

export interface TrainedGbdt {
  model: GbdtModel;
  curve: EpochRecord[];
}

export async function trainGbdtMember(
  model: ModelSpec,
  rows: GatheredRows,
  rng: Rng,
  callbacks: { signal?: AbortSignal; onTree?: (tree: number, trees: number) => void } = {},
): Promise<TrainedGbdt> {
  const pairs = rows.winners.length;
  if (pairs < 2) throw new RangeError(`training needs at least 2 annotated pairs, got ${pairs}`);
  const { train, val } = splitRows(pairs, model.training, rng.fork('split'));
  const trainSet = classificationRows(rows, train);
  const valSet = classificationRows(rows, val);
  const trainLosses: number[] = [];
  const gbdt = await trainGbdt(trainSet.x, train.length, rows.dim, trainSet.labels, model.gbdt, rng.fork('gbdt'), {
    signal: callbacks.signal,
    onTree: (tree, trees, loss) => {
      trainLosses.push(loss);
      callbacks.onTree?.(tree, trees);
    },
  });
  throwIfCancelled(callbacks.signal);
  return { model: gbdt, curve: stagedValidation(gbdt, valSet, trainLosses) };
}

function classificationRows(rows: GatheredRows, ids: Int32Array): { x: Float32Array; labels: Uint8Array } {
  const d = rows.dim;
  const x = new Float32Array(ids.length * d);
  const labels = new Uint8Array(ids.length);
  ids.forEach((id, i) => {
    const isWinner = (id & 1) === 0;
    const local = isWinner ? rows.winners[id >> 1] : rows.losers[id >> 1];
    x.set(rows.data.subarray(local * d, local * d + d), i * d);
    labels[i] = isWinner ? 1 : 0;
  });
  return { x, labels };
}

/** Validation log-loss and accuracy after each tree, by adding the trees' outputs one at a time. */
function stagedValidation(model: GbdtModel, val: { x: Float32Array; labels: Uint8Array }, trainLosses: number[]): EpochRecord[] {
  const n = val.labels.length;
  const scores = new Float32Array(n).fill(model.initScore);
  const single = new Float32Array(n);
  return model.trees.map((tree, t) => {
    predictGbdt({ dim: model.dim, initScore: 0, trees: [tree] }, val.x, n, model.dim, single);
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      scores[i] += single[i];
      const f = scores[i];
      const y = val.labels[i];
      // BCE with logits, stable: softplus(f) − f·y.
      loss += Math.max(f, 0) + Math.log1p(Math.exp(-Math.abs(f))) - f * y;
      if ((f > 0 ? 1 : 0) === y) correct++;
    }
    return { epoch: t + 1, trainLoss: trainLosses[t] ?? NaN, valLoss: loss / n, valAccuracy: correct / n };
  });
}
