import type * as tf from '@tensorflow/tfjs';
import type { GbdtModel } from './gbdt.ts';
import { trainGbdtMember } from './gbdtMember.ts';
import { disposeMlp, type MlpParams } from './mlp.ts';
import type { MemberReport } from './result.ts';
import { Rng } from './rng.ts';
import type { ExperimentSpec } from './spec.ts';
import { toTrainingRows, trainMember, type EpochRecord, type GatheredRows } from './train.ts';

/** A trained reward model of either family, as scoring needs it. */
export type TrainedModel = { kind: 'mlp'; params: MlpParams } | { kind: 'gbdt'; model: GbdtModel };

export interface TrainedEnsemble {
  models: TrainedModel[];
  reports: MemberReport[];
}

export interface MemberHooks {
  signal?: AbortSignal;
  /** `within` is the member's own progress in [0, 1]. */
  onProgress?: (member: number, within: number, detail: { epoch?: number; epochs?: number; step?: number; steps?: number; message: string }) => void;
  onEpoch?: (member: number, record: EpochRecord) => void;
}

/** Member i of seed s trains with seed s·42 + i (method.md §4), on the same annotations. */
export const memberSeed = (seed: number, member: number) => seed * 42 + member;

export async function trainEnsemble(spec: ExperimentSpec, rows: GatheredRows, seed: number, hooks: MemberHooks = {}): Promise<TrainedEnsemble> {
  const models: TrainedModel[] = [];
  const reports: MemberReport[] = [];
  const size = spec.model.ensemble.size;
  const objective = spec.model.objective;
  let tensorRows: { embeddings: tf.Tensor2D } | null = null;
  try {
    for (let m = 0; m < size; m++) {
      const rng = Rng.fromSeed(memberSeed(seed, m));
      const label = `${objective} member ${m + 1}/${size}`;
      if (objective === 'clf-gbdt') {
        const trained = await trainGbdtMember(spec.model, rows, rng, {
          signal: hooks.signal,
          onTree: (tree, trees) => hooks.onProgress?.(m, tree / trees, { epoch: tree, epochs: trees, message: `training ${label}, tree ${tree}/${trees}` }),
        });
        trained.curve.forEach((record) => hooks.onEpoch?.(m, record));
        models.push({ kind: 'gbdt', model: trained.model });
        reports.push({ seed: memberSeed(seed, m), epochsRun: trained.curve.length, stoppedEarly: false, finalEpoch: trained.curve.length, bestEpoch: bestOf(trained.curve), curve: trained.curve });
        continue;
      }
      tensorRows ??= toTrainingRows(rows);
      const epochs = spec.model.training.epochs;
      const trained = await trainMember(spec.model, { ...tensorRows, winners: rows.winners, losers: rows.losers }, rng, {
        signal: hooks.signal,
        onStep: (step, steps, epoch) =>
          hooks.onProgress?.(m, (epoch - 1 + step / steps) / epochs, { epoch, epochs, step, steps, message: `training ${label}, epoch ${epoch}` }),
        onEpoch: (record) => hooks.onEpoch?.(m, record),
      });
      models.push({ kind: 'mlp', params: trained.params });
      reports.push({
        seed: memberSeed(seed, m),
        epochsRun: trained.epochsRun,
        stoppedEarly: trained.stoppedEarly,
        finalEpoch: trained.finalEpoch,
        bestEpoch: trained.bestEpoch,
        curve: trained.curve,
      });
    }
  } catch (error) {
    models.forEach(disposeModel);
    throw error;
  } finally {
    tensorRows?.embeddings.dispose();
  }
  return { models, reports };
}

export function disposeModel(model: TrainedModel): void {
  if (model.kind === 'mlp') disposeMlp(model.params);
}

function bestOf(curve: EpochRecord[]): number {
  return curve.reduce((best, r) => (r.valLoss < best.valLoss ? r : best), curve[0]).epoch;
}
