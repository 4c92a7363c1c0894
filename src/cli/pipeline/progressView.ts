/**
 * Progress of a pipeline step on stderr: on a terminal, a bar with rate and ETA plus one line
 * per worker, redrawn in place; otherwise (logs, CI) a summary line every few seconds and one
 * line per finished shard.
 */
import { formatDuration } from '../../core/pipelinePlan.ts';
import type { ProgressSnapshot } from '../../core/pipelineProtocol.ts';

export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.floor(f * width);
  const part = f * width - full >= 0.5 && full < width ? '▌' : '';
  return `${'█'.repeat(full)}${part}${'░'.repeat(width - full - part.length)}`;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** Most useful first (a narrow terminal cuts the end): percent, ETA, rate, counts, shards. */
export function summaryLine(s: ProgressSnapshot): string {
  const pct = `${(s.fraction * 100).toFixed(0).padStart(3)}%`;
  const eta = s.etaSeconds === null ? '' : `  ETA ${formatDuration(s.etaSeconds)}`;
  const rate = s.rate === null ? '' : `  ${s.rate >= 10 ? n(s.rate) : s.rate.toFixed(1)} ${s.unit}/s`;
  const extra = [s.retries > 0 ? `${s.retries} retried` : '', s.failed > 0 ? `${s.failed} failed` : ''].filter(Boolean).join(', ');
  return `${s.step.padEnd(8)} ${bar(s.fraction, 20)} ${pct}${eta}${rate}  ${n(s.doneUnits)}/${n(s.totalUnits)} ${s.unit}  (shards ${s.shardsDone}/${s.shardsTotal}${extra ? `, ${extra}` : ''})`;
}

export function workerLine(w: ProgressSnapshot['workers'][number]): string {
  if (!w.ready) return `  ${w.worker.padEnd(10)} loading models…`;
  if (w.shard === null) return `  ${w.worker.padEnd(10)} idle`;
  return `  ${w.worker.padEnd(10)} ${w.shard}  ${bar(w.fraction, 12)} ${(w.fraction * 100).toFixed(0).padStart(3)}%`;
}

export class ProgressView {
  private drawn = 0;
  private lastDraw = 0;
  private lastSummary = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly quiet: boolean,
    private readonly summaryEveryMs = 10_000,
  ) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** A per-shard line: printed in logs (no terminal), where there are no live bars to show it. */
  detail(line: string): void {
    if (!this.quiet && !this.tty) this.stream.write(`${line}\n`);
  }

  /** A message that stays (shard finished, warning); on a terminal it goes above the bars. */
  log(line: string, important = false): void {
    if (this.quiet && !important) return;
    if (this.tty) this.clear();
    this.stream.write(`${line}\n`);
  }

  update(s: ProgressSnapshot, now: number, force = false): void {
    if (this.quiet) return;
    if (this.tty) {
      if (!force && now - this.lastDraw < 200) return;
      this.lastDraw = now;
      this.clear();
      const cols = (this.stream.columns ?? 120) - 1;
      const lines = [summaryLine(s), ...s.workers.map(workerLine)].map((l) => l.slice(0, cols));
      this.stream.write(`${lines.join('\n')}\n`);
      this.drawn = lines.length;
      return;
    }
    if (force || now - this.lastSummary >= this.summaryEveryMs) {
      this.lastSummary = now;
      this.stream.write(`${summaryLine(s)}\n`);
    }
  }

  private clear(): void {
    if (this.drawn > 0) this.stream.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  /** Leaves the last state on screen. */
  finish(s: ProgressSnapshot, now: number): void {
    if (this.quiet) return;
    if (this.tty) {
      this.clear();
      this.stream.write(`${summaryLine(s)}\n`);
    } else this.update(s, now, true);
  }
}
