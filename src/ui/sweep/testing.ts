/**
 * Test doubles for sweeps: an engine whose batches of cells finish when the test says so, answering the
 * paper calls with the worker's real code on a demo dataset (no tfjs needed for those).
 */
import { CancelledError } from '../../core/cancel.ts';
import { makeDemoDataset } from '../../core/demo.ts';
import type { ExperimentSpec } from '../../core/spec.ts';
import { analyticTarget } from '../../worker/paperHost.ts';
import type { AnalyticOptions, AnalyticResult, AnalyticTargetId, PaperDataset, PromptCounts } from '../../worker/paperProtocol.ts';
import type { BatchCallbacks, BatchOutcome, RunOptions } from '../../worker/protocol.ts';
import { fakeResult } from '../testing/fakes.ts';
import type { SweepEngine } from './sweepStore.ts';

/** A cell of a batch the runner started; `finish`/`fail` settle the batch's cells in order. */
interface PendingCell {
  spec: ExperimentSpec;
  callbacks: BatchCallbacks;
  options?: RunOptions;
  batch: PendingBatch;
  index: number;
  settled: boolean;
}

interface PendingBatch {
  cells: PendingCell[];
  resolve: (outcome: BatchOutcome) => void;
  reject: (error: Error) => void;
  /** The last result handed to the runner, awaited before the batch resolves (as the engine does). */
  delivered: Promise<void>;
}

export class FakeSweepEngine implements SweepEngine {
  /** Every cell the runner has started, in order. */
  runs: PendingCell[] = [];
  cancels = 0;
  analyticCalls: AnalyticTargetId[] = [];
  /** How many cells share a pass: what passSize answers at most. */
  passCells = 1;

  async passSize(specs: ExperimentSpec[]): Promise<number> {
    return Math.min(specs.length, this.passCells);
  }

  runBatch(specs: ExperimentSpec[], callbacks: BatchCallbacks, options?: RunOptions): Promise<BatchOutcome> {
    return new Promise((resolve, reject) => {
      const batch: PendingBatch = { cells: [], resolve, reject, delivered: Promise.resolve() };
      batch.cells = specs.map((spec, index) => ({ spec, callbacks, options, batch, index, settled: false }));
      this.runs.push(...batch.cells);
    });
  }

  cancel(): void {
    this.cancels++;
    const cell = this.pending();
    if (!cell) return;
    for (const c of cell.batch.cells) c.settled = true;
    cell.batch.reject(new CancelledError());
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

  /** The first cell without a result of the latest batch (an earlier one may belong to a page that is gone). */
  pending(): PendingCell | undefined {
    return this.runs.at(-1)?.batch.cells.find((c) => !c.settled);
  }

  progress(fraction: number): void {
    this.pending()?.callbacks.onProgress({ stage: 'train', seedIndex: 0, seeds: 1, member: 0, members: 1, fraction, etaSeconds: 1, message: 'training' });
  }

  /** Finishes the next cell of the batch with a result whose improvement depends on its spec, so tables can be checked. */
  finish(totalMs = 1000): void {
    const cell = this.pending();
    if (!cell) throw new Error('no cell is running');
    const result = fakeResult(cell.spec, { improvement: improvementOf(cell.spec) });
    result.timings.totalMs = totalMs;
    cell.settled = true;
    const { batch } = cell;
    batch.delivered = batch.delivered.then(() => cell.callbacks.onResult(cell.index, result));
    if (batch.cells.every((c) => c.settled)) void batch.delivered.then(() => batch.resolve({ failure: null }));
  }

  /** The next cell of the batch fails (its experiment, as the engine reports it); the batch ends. */
  fail(message: string): void {
    const cell = this.pending();
    if (!cell) throw new Error('no cell is running');
    for (const c of cell.batch.cells) c.settled = true;
    void cell.batch.delivered.then(() => cell.batch.resolve({ failure: { index: cell.index, message } }));
  }

  /** The batch in flight fails as a whole (a worker crash, say). */
  crash(message: string): void {
    const cell = this.pending();
    if (!cell) throw new Error('no cell is running');
    for (const c of cell.batch.cells) c.settled = true;
    cell.batch.reject(new Error(message));
  }
}

/** A made-up improvement: CLF beats BT, better labels help, and the seed adds a little. */
export function improvementOf(spec: ExperimentSpec): number {
  return (spec.model.objective === 'clf-mlp' ? 1 : 0.5) + Math.min(spec.annotation.beta, 10) / 10 + spec.seeds[0] * 0.01;
}
