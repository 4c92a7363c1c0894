import type { Progress } from '../core/progress.ts';

/** Renders engine progress on stderr: one rewritten line on a terminal, sparse lines otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream, quiet: boolean): (p: Progress) => void {
  let lastLine = '';
  let lastPrinted = 0;
  let streamStart: { at: number; rows: number } | null = null;
  return (p) => {
    if (quiet) return;
    const pct = `${(p.fraction * 100).toFixed(0).padStart(3)}%`;
    const eta = p.etaSeconds === null ? '' : ` ETA ${formatSeconds(p.etaSeconds)}`;
    let rate = '';
    if (p.rows) {
      if (streamStart === null || p.rows.done < streamStart.rows) streamStart = { at: Date.now(), rows: p.rows.done };
      const seconds = (Date.now() - streamStart.at) / 1000;
      if (seconds > 0.5) rate = ` (${Math.round((p.rows.done - streamStart.rows) / seconds).toLocaleString('en-US')} rows/s)`;
    } else {
      streamStart = null;
    }
    const line = `${pct} [${p.stage}] ${p.message}${rate}${eta}`;
    if (stream.isTTY) {
      stream.write(`\r${line.slice(0, (stream.columns ?? 120) - 1).padEnd(lastLine.length)}`);
      if (p.stage === 'done') stream.write('\n');
      lastLine = line;
      return;
    }
    const now = Date.now();
    if (p.stage === 'done' || now - lastPrinted > 2000 || p.stage !== lastLine) {
      stream.write(`${line}\n`);
      lastPrinted = now;
      lastLine = p.stage;
    }
  };
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
