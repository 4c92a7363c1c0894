/**
 * Test doubles for sweeps: an engine whose cell runs finish when the test says so, answering the
 * paper calls with the worker's real code on a demo dataset (no tfjs needed for those).
 */
import { CancelledError } from '../../core/cancel.ts';
import { makeDemoDataset } from '../../core/demo.ts';
import type { ExperimentResult } from '../../core/result.ts';
import type { ExperimentSpec } from '../../core/spec.ts';
import { analyticTarget } from '../../worker/paperHost.ts';
import type { AnalyticOptions, AnalyticResult, AnalyticTargetId, PaperDataset, PromptCounts } from '../../worker/paperProtocol.ts';
import type { RunCallbacks, RunOptions } from '../../worker/protocol.ts';
import { fakeResult } from '../testing/fakes.ts';
import type { SweepEngine } from './sweepStore.ts';

interface PendingCell {
  spec: ExperimentSpec;
  callbacks: RunCallbacks;
  options?: RunOptions;
  resolve: (result: ExperimentResult) => void;
  reject: (error: Error) => void;
  settled: boolean;
}

export class FakeSweepEngine implements SweepEngine {
  runs: PendingCell[] = [];
  cancels = 0;
  analyticCalls: AnalyticTargetId[] = [];

  run(spec: ExperimentSpec, callbacks: RunCallbacks, options?: RunOptions): Promise<ExperimentResult> {
    return new Promise((resolve, reject) => {
      const cell: PendingCell = {
        spec,
        callbacks,
        options,
        settled: false,
        resolve: (r) => {
          cell.settled = true;
          resolve(r);
        },
        reject: (e) => {
          cell.settled = true;
          reject(e);
        },
      };
      this.runs.push(cell);
    });
  }

  cancel(): void {
    this.cancels++;
    const cell = this.pending();
    cell?.reject(new CancelledError());
  }

  async analyticTarget(id: AnalyticTargetId, dataset: PaperDataset | null, options: AnalyticOptions): Promise<AnalyticResult> {
    this.analyticCalls.push(id);
    if (dataset && dataset.kind !== 'demo') throw new Error('files are not used in these tests');
    return analyticTarget(id, dataset ? makeDemoDataset(dataset) : null, options);
  }

  async promptCounts(dataset: PaperDataset): Promise<PromptCounts> {
    if (dataset.kind !== 'demo') throw new Error('files are not used in these tests');
    return { train: dataset.trainPrompts, test: dataset.testPrompts };
  }

  /** The cell run in flight, if any. */
  pending(): PendingCell | undefined {
    const last = this.runs[this.runs.length - 1];
    return last && !last.settled ? last : undefined;
  }

  progress(fraction: number): void {
    this.pending()?.callbacks.onProgress({ stage: 'train', seedIndex: 0, seeds: 1, member: 0, members: 1, fraction, etaSeconds: 1, message: 'training' });
  }

  /** Finishes the running cell with a result whose improvement depends on its spec, so tables can be checked. */
  finish(totalMs = 1000): void {
    const cell = this.pending();
    if (!cell) throw new Error('no cell is running');
    const improvement = improvementOf(cell.spec);
    const result = fakeResult(cell.spec, { improvement });
    result.timings.totalMs = totalMs;
    cell.resolve(result);
  }

  fail(message: string): void {
    const cell = this.pending();
    if (!cell) throw new Error('no cell is running');
    cell.reject(new Error(message));
  }
}

/** A made-up improvement: CLF beats BT, better labels help, and the seed adds a little. */
export function improvementOf(spec: ExperimentSpec): number {
  return (spec.model.objective === 'clf-mlp' ? 1 : 0.5) + Math.min(spec.annotation.beta, 10) / 10 + spec.seeds[0] * 0.01;
}
