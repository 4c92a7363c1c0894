import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { isCancelled } from '../core/cancel.ts';
import { PRESETS } from '../core/presets.ts';
import type { ExperimentResult } from '../core/result.ts';
import { fakeResult } from '../ui/testing/fakes.ts';
import { createWorkerEngine, type WorkerLike } from './client.ts';
import { FilesHost } from './filesHost.ts';
import type { BackendChoice, BackendReport, BatchCallbacks, BatchOutcome, EngineApi, FileSelection, FilesCallbacks, RunCallbacks } from './protocol.ts';

/** The worker side of the test: an engine whose runs the test controls. */
class ScriptedEngine implements EngineApi {
  choices: BackendChoice[] = [];
  cancelled = 0;
  finishRun: ((result: ExperimentResult) => void) | null = null;
  private onCancel: (() => void) | null = null;
  constructor(private readonly honoursCancel: boolean) {}
  async selectBackend(choice: BackendChoice): Promise<BackendReport> {
    this.choices.push(choice);
    return { name: 'cpu', choice, adapter: null, simd: null, reason: 'test', candidates: [] };
  }
  describeDataset(): never {
    throw new Error('not used');
  }
  labelNoise(): never {
    throw new Error('not used');
  }
  run(_spec: Parameters<EngineApi['run']>[0], callbacks: RunCallbacks): Promise<ExperimentResult> {
    callbacks.onProgress({ stage: 'train', seedIndex: 0, seeds: 1, member: 0, members: 1, fraction: 0.1, etaSeconds: null, message: 'm' });
    return new Promise((resolve, reject) => {
      this.finishRun = resolve;
      if (this.honoursCancel) this.onCancel = () => reject(Object.assign(new Error('run cancelled'), { name: 'CancelledError' }));
    });
  }
  async passSize(specs: Parameters<EngineApi['passSize']>[0]): Promise<number> {
    return specs.length - 1;
  }
  /** Hands over a result per spec, each awaited (the page stores it), and reports the last one failed. */
  async runBatch(specs: Parameters<EngineApi['runBatch']>[0], callbacks: BatchCallbacks): Promise<BatchOutcome> {
    for (let i = 0; i + 1 < specs.length; i++) await callbacks.onResult(i, fakeResult(specs[i]));
    return { failure: { index: specs.length - 1, message: 'budget too large' } };
  }
  cancel(): void {
    this.cancelled++;
    this.onCancel?.();
  }
  readonly files = new FilesHost();
  filesCancelled = 0;
  planFiles = (selection: FileSelection) => this.files.planFiles(selection);
  openFiles = (selection: FileSelection, callbacks: FilesCallbacks) => this.files.openFiles(selection, callbacks);
  verifyFiles = (selection: FileSelection, callbacks: FilesCallbacks) => this.files.verify(selection, callbacks);
  cancelFiles(): void {
    this.filesCancelled++;
    this.files.cancel();
  }
}

/** A "worker" on a MessageChannel, with a crash button. */
class FakeWorker implements WorkerLike {
  private readonly channel = new MessageChannel();
  private readonly errorListeners: ((event: Event) => void)[] = [];
  terminated = false;
  constructor(readonly engine: ScriptedEngine) {
    Comlink.expose(engine, this.channel.port2);
  }
  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.channel.port1.postMessage(message, transfer ?? []);
  }
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    if (type === 'error') this.errorListeners.push(listener as (event: Event) => void);
    else this.channel.port1.addEventListener(type, listener);
    this.channel.port1.start();
  }
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    this.channel.port1.removeEventListener(type, listener);
  }
  terminate(): void {
    this.terminated = true;
    this.channel.port1.close();
  }
  crash(message: string): void {
    const event = Object.assign(new Event('error', { cancelable: true }), { message });
    this.errorListeners.forEach((l) => l(event));
  }
}

const workers: FakeWorker[] = [];
afterEach(() => {
  workers.forEach((w) => w.terminate());
  workers.length = 0;
});

function engineWith(honoursCancel: boolean) {
  const client = createWorkerEngine({
    forceCancelAfterMs: 50,
    spawnWorker: () => {
      const w = new FakeWorker(new ScriptedEngine(honoursCancel));
      workers.push(w);
      return w;
    },
  });
  return client;
}

const spec = PRESETS['quick-demo']();
const noCallbacks: RunCallbacks = { onProgress: () => undefined, onEpoch: () => undefined };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('worker client', () => {
  it('relays calls and progress callbacks, and returns the result', async () => {
    const client = engineWith(true);
    expect((await client.selectBackend('cpu')).name).toBe('cpu');
    const progress: number[] = [];
    const run = client.run(spec, { onProgress: (p) => progress.push(p.fraction), onEpoch: () => undefined });
    await wait(20);
    workers[0].engine.finishRun?.(fakeResult(spec));
    expect((await run).summary.improvement.mean).toBe(1.5);
    expect(progress).toEqual([0.1]);
  });

  it('relays a batch: each result reaches the page and is awaited there, then the outcome', async () => {
    const client = engineWith(true);
    const specs = [spec, { ...spec, seeds: [1] }, { ...spec, seeds: [2] }];
    expect(await client.passSize(specs)).toBe(2);
    const stored: number[] = [];
    const outcome = await client.runBatch(specs, {
      ...noCallbacks,
      onResult: async (i, result) => {
        await wait(10);
        stored.push(i, result.spec.seeds[0]);
      },
    });
    expect(stored).toEqual([0, 0, 1, 1]);
    expect(outcome).toEqual({ failure: { index: 2, message: 'budget too large' } });
  });

  it('cancels cooperatively when the worker listens', async () => {
    const client = engineWith(true);
    const run = client.run(spec, noCallbacks);
    await wait(20);
    client.cancel();
    const error = await run.catch((e: unknown) => e);
    expect(isCancelled(error)).toBe(true);
    expect(workers).toHaveLength(1);
  });

  it('replaces a worker that does not stop, on the same backend, so Cancel always works', async () => {
    const client = engineWith(false);
    await client.selectBackend('webgl');
    const run = client.run(spec, noCallbacks);
    await wait(20);
    client.cancel();
    const error = await run.catch((e: unknown) => e);
    expect(isCancelled(error)).toBe(true);
    expect(workers[0].terminated).toBe(true);
    expect(workers).toHaveLength(2);
    await wait(20);
    expect(workers[1].engine.choices).toEqual(['webgl']);
    expect((await client.selectBackend('cpu')).choice).toBe('cpu');
  });

  it('rejects the calls of a worker that dies mid-run and starts a fresh one', async () => {
    const client = engineWith(true);
    await client.selectBackend('auto');
    const run = client.run(spec, noCallbacks);
    await wait(20);
    workers[0].crash('wasm memory exhausted');
    await expect(run).rejects.toThrow('the engine worker stopped: wasm memory exhausted');
    expect(workers).toHaveLength(2);
  });

  it('relays dataset-file calls, their input errors with the reader\'s message, and their cancel', async () => {
    const client = engineWith(true);
    const error = await client.planFiles({ kind: 'files', files: [] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DatasetError', message: 'no files were picked' });
    client.cancelFiles();
    await wait(20);
    expect(workers[0].engine.filesCancelled).toBe(1);
  });

  it('fails every call, at once and later, when the worker cannot even start', async () => {
    const client = engineWith(true);
    const first = client.selectBackend('auto');
    workers[0].crash('');
    await expect(first).rejects.toThrow('its script failed to load or threw');
    await expect(client.selectBackend('wasm')).rejects.toThrow('the engine worker stopped');
    expect(workers).toHaveLength(1);
  });
});
