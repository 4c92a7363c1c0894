/**
 * Runs one step: one worker process per `gpus` entry (CUDA_VISIBLE_DEVICES set to it), shards
 * handed out one at a time from a shared queue (a fast GPU simply takes more), progress parsed
 * from the workers' JSON lines. A failed shard goes back in the queue until it has used its
 * retries; shards finished before are never redone. A worker that dies mid-shard is replaced;
 * one that fails before it is ready (a missing package, a bad model id) is not, since its
 * replacement would fail the same way.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { visibleDevices } from '../../core/pipelineConfig.ts';
import { shardKey, type PipelineStep, type Shard } from '../../core/pipelinePlan.ts';
import { LineSplitter, parseWorkerLine, shardRequest, StepProgress, type WorkerEvent } from '../../core/pipelineProtocol.ts';
import { paths, readDone, stepStates, workerScript, type RunConfig } from './layout.ts';
import type { ProgressView } from './progressView.ts';

export interface ShardFailure {
  key: string;
  attempts: number;
  message: string;
}

export interface StepOutcome {
  step: PipelineStep;
  /** Shards finished in this run. */
  ran: number;
  /** Shards that were already done. */
  skipped: number;
  failed: ShardFailure[];
  /** Why workers could not start, when none could. */
  fatal: string[];
  interrupted: boolean;
}

interface Slot {
  label: string;
  devices: string;
  crashes: number;
  retired: boolean;
}

interface Worker {
  slot: Slot;
  name: string;
  child: ChildProcessWithoutNullStreams;
  inflight: Shard | null;
  ready: boolean;
  closed: boolean;
  stderrTail: string[];
  fatal: string | null;
  log: WriteStream;
}

const MAX_SLOT_CRASHES = 3;

export interface StepRunOptions {
  view: ProgressView;
  signal: AbortSignal;
  now?: () => number;
}

function unitsOf(run: RunConfig, step: PipelineStep, shard: Shard): number {
  if (step === 'sft') return Math.max(1, run.counts.demonstrations);
  return (shard.end - shard.start) * run.responses[shard.split as 'train' | 'test'];
}

export async function runStep(run: RunConfig, step: PipelineStep, options: StepRunOptions): Promise<StepOutcome> {
  const now = options.now ?? Date.now;
  const { view, signal } = options;
  const states = await stepStates(run, step);
  const done = new Set(states.filter((s) => s.state.state === 'done').map((s) => shardKey(s.shard)));
  const queue = states.filter((s) => s.state.state !== 'done').map((s) => s.shard);
  const outcome: StepOutcome = { step, ran: 0, skipped: done.size, failed: [], fatal: [], interrupted: false };
  const progress = new StepProgress(
    step,
    step === 'sft' ? 'examples' : 'responses',
    states.map((s) => ({ key: shardKey(s.shard), units: unitsOf(run, step, s.shard) })),
    done,
  );
  if (queue.length === 0) {
    view.log(`${step}: all ${states.length} shard${states.length === 1 ? '' : 's'} already done`);
    return outcome;
  }
  view.log(`${step}: ${queue.length} of ${states.length} shard${states.length === 1 ? '' : 's'} to run${done.size > 0 ? ` (${done.size} done before, kept)` : ''}`);

  const attempts = new Map<string, number>();
  const lastError = new Map<string, string>();
  const retries = run.config.retries;
  const entries = step === 'sft' ? run.config.gpus.slice(0, 1) : run.config.gpus;
  const slots: Slot[] = entries.slice(0, Math.max(1, Math.min(entries.length, queue.length))).map((g) => ({
    label: g === 'cpu' ? 'cpu' : `gpu ${g}`,
    devices: visibleDevices(g),
    crashes: 0,
    retired: false,
  }));
  const logDir = paths.logs(run.outputDir);
  await mkdir(logDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const script = workerScript(run.config);
  const runConfigPath = paths.runConfig(run.outputDir);
  const workers = new Set<Worker>();
  const startFailures: string[] = [];
  let spawned = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));

  const redraw = (force = false) => view.update(progress.snapshot(now()), now(), force);

  const fail = (w: Worker, shard: Shard, message: string): void => {
    const key = shardKey(shard);
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    lastError.set(key, message);
    const willRetry = n <= retries && !signal.aborted;
    progress.shardFailed(w.name, key, willRetry);
    if (willRetry) {
      queue.push(shard);
      view.log(`${step}: shard ${key} failed on ${w.slot.label} (attempt ${n} of ${retries + 1}), will retry: ${message}`, true);
    } else {
      outcome.failed.push({ key, attempts: n, message });
      view.log(`${step}: shard ${key} failed for good after ${n} attempt${n === 1 ? '' : 's'}: ${message}`, true);
    }
  };

  // Idle workers wait (rather than exit) while shards are in flight elsewhere: a failure sends
  // its shard back to the queue. When nothing is queued or in flight, every worker is told to exit.
  const idle = new Set<Worker>();
  const dispatch = (): void => {
    for (const w of [...idle]) {
      const next = signal.aborted ? undefined : queue.shift();
      if (next === undefined) break;
      idle.delete(w);
      w.inflight = next;
      progress.shardStarted(w.name, shardKey(next));
      w.child.stdin.write(shardRequest(next.split, next.index));
    }
    const busy = [...workers].some((w) => w.inflight !== null);
    if (signal.aborted || (queue.length === 0 && !busy)) {
      for (const w of workers) {
        if (!w.closed) {
          w.closed = true;
          w.child.stdin.end();
        }
      }
    }
  };
  const feed = (w: Worker): void => {
    if (w.closed) return;
    idle.add(w);
    dispatch();
  };

  const onEvent = async (w: Worker, e: WorkerEvent): Promise<void> => {
    switch (e.event) {
      case 'start':
        w.ready = true;
        progress.ready(w.name, now());
        w.log.write(`[orchestrator] worker ready: ${JSON.stringify(e)}\n`);
        break;
      case 'progress':
        if (w.inflight && e.split === w.inflight.split && e.shard === w.inflight.index) progress.shardProgress(w.name, shardKey(w.inflight), e.done, e.total);
        break;
      case 'shard_done': {
        const shard = w.inflight;
        if (!shard || shard.split !== e.split || shard.index !== e.shard) {
          w.log.write(`[orchestrator] ignored shard_done for ${e.split}/${e.shard}: not the shard this worker was given\n`);
          break;
        }
        w.inflight = null;
        const marker = await readDone(paths.shardDir(run.outputDir, step, shard.split, shard.index));
        if (!marker || marker.fingerprint !== run.fingerprints[step]) {
          fail(w, shard, marker ? 'done.json carries another fingerprint (settings)' : 'the worker reported it done, but its folder has no done.json');
        } else {
          progress.shardDone(w.name, shardKey(shard), now());
          w.slot.crashes = 0;
          outcome.ran++;
          const kept = e.kept !== undefined && e.prompts !== undefined && e.kept !== e.prompts ? `, ${e.prompts - e.kept} prompts skipped` : '';
          view.detail(`${step}: shard ${shardKey(shard)} done on ${w.slot.label}${e.seconds !== undefined ? ` in ${e.seconds.toFixed(1)}s` : ''}${kept}`);
        }
        feed(w);
        break;
      }
      case 'error': {
        w.log.write(`[orchestrator] error event: ${e.message}\n${e.traceback ?? ''}\n`);
        if (e.split !== undefined && e.shard !== undefined && w.inflight && w.inflight.split === e.split && w.inflight.index === e.shard) {
          const shard = w.inflight;
          w.inflight = null;
          fail(w, shard, e.message);
          feed(w);
        } else {
          w.fatal = e.message;
        }
        break;
      }
    }
    redraw();
  };

  const start = (slot: Slot): void => {
    const name = slot.label;
    const child = spawn(run.config.python, [script, step, '--config', runConfigPath, '--stdin'], {
      env: { ...process.env, CUDA_VISIBLE_DEVICES: slot.devices, PYTHONUNBUFFERED: '1', TOKENIZERS_PARALLELISM: 'false' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    spawned++;
    const log = createWriteStream(join(logDir, `${step}-${slot.label.replace(/[^a-z0-9]+/gi, '')}-${stamp}-${spawned}.log`), { flags: 'a' });
    const w: Worker = { slot, name, child, inflight: null, ready: false, closed: false, stderrTail: [], fatal: null, log };
    workers.add(w);
    progress.addWorker(name);
    child.stdin.on('error', () => {}); // a dead worker's stdin; its exit is handled below
    const out = new LineSplitter();
    // Events are handled in order, one at a time (shard_done reads done.json first).
    let chain = Promise.resolve();
    const handle = (line: string) => {
      const parsed = parseWorkerLine(line);
      if (parsed.kind === 'event') chain = chain.then(() => onEvent(w, parsed.event));
      else if (parsed.kind === 'noise') log.write(`[stdout] ${parsed.text}\n`);
      else {
        log.write(`[stdout, not a valid event: ${parsed.reason}] ${parsed.text}\n`);
        view.log(`${step}: ${slot.label} sent a malformed event (${parsed.reason}); see ${log.path}`, true);
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => out.push(chunk).forEach(handle));
    const err = new LineSplitter();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      log.write(chunk);
      for (const l of err.push(chunk)) {
        w.stderrTail.push(l);
        if (w.stderrTail.length > 20) w.stderrTail.shift();
      }
    });
    let spawnError: string | null = null;
    child.on('error', (e) => {
      spawnError = `cannot start ${run.config.python}: ${e.message}`;
    });
    child.on('close', (code, sig) => {
      out.end().forEach(handle);
      w.stderrTail.push(...err.end());
      void chain.then(() => {
        workers.delete(w);
        idle.delete(w);
        progress.removeWorker(name);
        log.end();
        const how = sig ? `killed by ${sig}` : `exited with code ${code}`;
        const tail = w.stderrTail.slice(-5).join(' | ');
        if (w.inflight) {
          const shard = w.inflight;
          w.inflight = null;
          if (signal.aborted) queue.unshift(shard); // interrupted, not failed: the next run redoes it
          else if (w.ready) fail(w, shard, `the worker ${how} while on it${tail ? ` (stderr: ${tail})` : ''}`);
          else queue.unshift(shard); // it never began: not the shard's fault
        }
        const workLeft = queue.length > 0 && !signal.aborted;
        if (signal.aborted) {
          // stopping: neither a start failure nor a crash
        } else if (!w.ready && (code !== 0 || workLeft)) {
          slot.retired = true;
          const why = spawnError ?? w.fatal ?? `the worker ${how} before it was ready${tail ? `: ${tail}` : ''}`;
          startFailures.push(`${slot.label}: ${why} (log: ${log.path})`);
          view.log(`${step}: the worker on ${slot.label} failed to start: ${why}`, true);
        } else if (workLeft) {
          slot.crashes++;
          if (slot.crashes >= MAX_SLOT_CRASHES) {
            slot.retired = true;
            view.log(`${step}: ${slot.label} retired after ${slot.crashes} worker crashes in a row`, true);
          } else {
            view.log(`${step}: the worker on ${slot.label} ${how}; starting a new one`, true);
          }
        }
        if (workLeft && !slot.retired) start(slot);
        else dispatch(); // the shard it held may now be queued for an idle worker, or all is done
        if (workers.size === 0) {
          if (queue.length > 0 && !signal.aborted && slots.some((s) => !s.retired)) {
            const s = slots.find((x) => !x.retired);
            if (s) start(s);
            return;
          }
          finish();
        }
      });
    });
    feed(w);
  };

  const onAbort = (): void => {
    outcome.interrupted = true;
    for (const w of workers) {
      w.closed = true;
      w.child.kill('SIGTERM');
      setTimeout(() => w.child.kill('SIGKILL'), 5000).unref();
    }
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const ticker = setInterval(() => redraw(), 1000);
  try {
    for (const slot of slots) start(slot);
    await finished;
  } finally {
    clearInterval(ticker);
    signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted) outcome.interrupted = true;
  // Work left with no worker to do it: because none could start (fatal), or because the slots were retired.
  if (queue.length > 0 && !outcome.interrupted) {
    if (outcome.ran === 0 && startFailures.length > 0) outcome.fatal = startFailures;
    else {
      for (const shard of queue) {
        const key = shardKey(shard);
        if (!outcome.failed.some((f) => f.key === key)) {
          outcome.failed.push({ key, attempts: attempts.get(key) ?? 0, message: lastError.get(key) ?? `no worker left to run it (${startFailures.join('; ') || 'every worker slot retired'})` });
        }
      }
    }
  }
  view.finish(progress.snapshot(now()), now());
  return outcome;
}
