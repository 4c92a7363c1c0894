import { z } from 'zod';

/**
 * The worker protocol (pipeline/python/protocol.py is the other side; pipeline/README.md
 * documents it). The orchestrator starts one worker per GPU as
 *
 *   PYTHON WORKER STEP --config RUN_CONFIG --stdin
 *
 * and writes one shard per line on its stdin, `{"split": "train", "shard": 3}`; closing stdin
 * tells the worker to exit. The worker writes JSON lines on stdout, one event each:
 *
 *   {"event": "start", "step": "sample", "pid": 123, "device": "cuda:0 NVIDIA H100", "protocol": 1}
 *       models loaded, ready for shards
 *   {"event": "progress", "split": "train", "shard": 3, "done": 120, "total": 409, "unit": "prompts"}
 *   {"event": "shard_done", "split": "train", "shard": 3, "prompts": 409, "kept": 401, "seconds": 12.5}
 *       the shard's folder is committed (its done.json exists)
 *   {"event": "error", "split": "train", "shard": 3, "message": "...", "fatal": false}
 *       the shard failed (no shard: the worker itself failed; fatal: it is exiting)
 *
 * Anything else on stdout is not an event (stray prints are logged, never trusted); logs go
 * to stderr.
 */

export const WORKER_PROTOCOL_VERSION = 1;

const shardFields = {
  split: z.enum(['train', 'test', 'all']),
  shard: z.number().int().nonnegative(),
};

const startEvent = z.object({
  event: z.literal('start'),
  step: z.string(),
  pid: z.number().int().optional(),
  device: z.string().optional(),
  engine: z.string().optional(),
  protocol: z.number().int().optional(),
});

const progressEvent = z.object({
  event: z.literal('progress'),
  split: shardFields.split.optional(),
  shard: shardFields.shard.optional(),
  done: z.number().nonnegative(),
  total: z.number().positive(),
  unit: z.string().optional(),
  message: z.string().optional(),
});

const shardDoneEvent = z.object({
  event: z.literal('shard_done'),
  ...shardFields,
  prompts: z.number().int().nonnegative().optional(),
  kept: z.number().int().nonnegative().optional(),
  seconds: z.number().nonnegative().optional(),
});

const errorEvent = z.object({
  event: z.literal('error'),
  message: z.string(),
  split: shardFields.split.optional(),
  shard: shardFields.shard.optional(),
  fatal: z.boolean().optional(),
  traceback: z.string().optional(),
});

export const workerEventSchema = z.discriminatedUnion('event', [startEvent, progressEvent, shardDoneEvent, errorEvent]);
export type WorkerEvent = z.infer<typeof workerEventSchema>;
export type StartEvent = z.infer<typeof startEvent>;
export type ProgressEvent = z.infer<typeof progressEvent>;
export type ShardDoneEvent = z.infer<typeof shardDoneEvent>;
export type ErrorEvent = z.infer<typeof errorEvent>;

export type ParsedLine =
  | { kind: 'event'; event: WorkerEvent }
  /** Not a JSON object with an "event": a stray print. */
  | { kind: 'noise'; text: string }
  /** A JSON object with an "event" that breaks the protocol. */
  | { kind: 'invalid'; text: string; reason: string };

export function parseWorkerLine(line: string): ParsedLine {
  const text = line.trim();
  if (!text.startsWith('{')) return { kind: 'noise', text };
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return { kind: 'noise', text };
  }
  if (obj === null || typeof obj !== 'object' || !('event' in obj)) return { kind: 'noise', text };
  const r = workerEventSchema.safeParse(obj);
  if (r.success) return { kind: 'event', event: r.data };
  const reason = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(event)'}: ${i.message}`).join('; ');
  return { kind: 'invalid', text, reason };
}

/** Cuts a byte stream's text into lines; the last, unfinished line waits for the next chunk. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.length > 0);
  }

  /** What is left when the stream ends. */
  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last.length > 0 ? [last] : [];
  }
}

/** The line the orchestrator writes to a worker's stdin to hand it a shard. */
export function shardRequest(split: string, index: number): string {
  return `${JSON.stringify({ split, shard: index })}\n`;
}

// ---------------------------------------------------------------------------------------
// Progress of a step: shards done, in flight, rate and ETA.

export interface WorkerView {
  worker: string;
  /** The shard it works on, or null when idle / loading. */
  shard: string | null;
  /** Fraction of that shard done. */
  fraction: number;
  ready: boolean;
}

export interface ProgressSnapshot {
  step: string;
  unit: string;
  doneUnits: number;
  totalUnits: number;
  fraction: number;
  /** Units per second over this session, null until measurable. */
  rate: number | null;
  etaSeconds: number | null;
  shardsDone: number;
  shardsTotal: number;
  retries: number;
  failed: number;
  workers: WorkerView[];
}

/**
 * Tracks one step's progress from worker events. Units (responses, or steps for SFT) weigh
 * shards by their work, so train and test shards count fairly. The rate is measured over
 * this session only (shards finished earlier are not "fast"), from the first worker that
 * became ready, so model loading does not skew it.
 */
export class StepProgress {
  private readonly units = new Map<string, number>();
  private readonly done = new Set<string>();
  private readonly partial = new Map<string, number>();
  private readonly workerState = new Map<string, WorkerView>();
  private sessionUnits = 0;
  private clockStart: number | null = null;
  private retryCount = 0;
  private failedCount = 0;

  constructor(
    readonly step: string,
    readonly unit: string,
    shards: ReadonlyArray<{ key: string; units: number }>,
    alreadyDone: ReadonlySet<string>,
  ) {
    for (const s of shards) {
      this.units.set(s.key, s.units);
      if (alreadyDone.has(s.key)) this.done.add(s.key);
    }
  }

  addWorker(worker: string): void {
    this.workerState.set(worker, { worker, shard: null, fraction: 0, ready: false });
  }

  removeWorker(worker: string): void {
    const w = this.workerState.get(worker);
    if (w?.shard) this.partial.delete(w.shard);
    this.workerState.delete(worker);
  }

  ready(worker: string, now: number): void {
    const w = this.workerState.get(worker);
    if (w) w.ready = true;
    if (this.clockStart === null) this.clockStart = now;
  }

  shardStarted(worker: string, key: string): void {
    const w = this.workerState.get(worker);
    if (w) {
      w.shard = key;
      w.fraction = 0;
    }
    this.partial.set(key, 0);
  }

  /** A progress event: `done` of `total` in the worker's own unit. */
  shardProgress(worker: string, key: string, done: number, total: number): void {
    const f = Math.min(1, Math.max(0, done / total));
    this.partial.set(key, f);
    const w = this.workerState.get(worker);
    if (w && w.shard === key) w.fraction = f;
  }

  shardDone(worker: string, key: string, now: number): void {
    if (this.clockStart === null) this.clockStart = now;
    this.partial.delete(key);
    if (!this.done.has(key)) {
      this.done.add(key);
      this.sessionUnits += this.units.get(key) ?? 0;
    }
    const w = this.workerState.get(worker);
    if (w && w.shard === key) {
      w.shard = null;
      w.fraction = 0;
    }
  }

  /** A failed attempt; `willRetry` says whether the shard goes back in the queue. */
  shardFailed(worker: string, key: string, willRetry: boolean): void {
    this.partial.delete(key);
    if (willRetry) this.retryCount++;
    else this.failedCount++;
    const w = this.workerState.get(worker);
    if (w && w.shard === key) {
      w.shard = null;
      w.fraction = 0;
    }
  }

  snapshot(now: number): ProgressSnapshot {
    let total = 0;
    let doneUnits = 0;
    for (const [key, u] of this.units) {
      total += u;
      if (this.done.has(key)) doneUnits += u;
    }
    let inFlight = 0;
    for (const [key, f] of this.partial) inFlight += f * (this.units.get(key) ?? 0);
    const sessionWork = this.sessionUnits + inFlight;
    const elapsed = this.clockStart === null ? 0 : (now - this.clockStart) / 1000;
    const rate = elapsed >= 1 && sessionWork > 0 ? sessionWork / elapsed : null;
    const remaining = Math.max(0, total - doneUnits - inFlight);
    return {
      step: this.step,
      unit: this.unit,
      doneUnits: doneUnits + inFlight,
      totalUnits: total,
      fraction: total > 0 ? (doneUnits + inFlight) / total : 1,
      rate,
      etaSeconds: rate === null ? null : remaining / rate,
      shardsDone: this.done.size,
      shardsTotal: this.units.size,
      retries: this.retryCount,
      failed: this.failedCount,
      workers: [...this.workerState.values()].map((w) => ({ ...w })),
    };
  }
}
