import { useRef } from 'react';
import { time } from '../format.ts';
import { useSweep, useSweepActions } from './sweepContext.tsx';
import { isSweepBusy } from './sweepStore.ts';

const STATUS_TEXT: Record<string, string> = {
  running: 'interrupted',
  paused: 'paused',
  cancelled: 'cancelled',
  finished: 'finished',
  failed: 'failed',
  imported: 'opened from file',
};

/** Sweeps kept in this browser, and the door for merged results of the CLI. */
export function StoredSweeps() {
  const stored = useSweep((s) => s.stored);
  const activeId = useSweep((s) => s.active?.record.id ?? null);
  const busy = useSweep((s) => isSweepBusy(s.active?.status));
  const { open, remove } = useSweepActions();
  return (
    <div className="stored-sweeps">
      <OpenResultFile />
      {stored.length === 0 ? (
        <p className="muted">No stored sweeps yet. Finished cells of every sweep are kept here, across reloads.</p>
      ) : (
        <div className="table-scroll">
          <table className="run-table" data-testid="stored-sweeps">
            <thead>
              <tr>
                <th scope="col">Sweep</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Cells
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {stored.map((r) => (
                <tr key={r.id} className={r.id === activeId ? 'is-active' : undefined}>
                  <td>
                    <button type="button" className="link-button" disabled={busy} onClick={() => void open(r.id)} aria-current={r.id === activeId ? 'true' : undefined}>
                      {r.name}
                    </button>
                    <div className="run-meta">
                      {time(r.updatedAt)} · {r.origin === 'file' ? 'from a file' : 'run here'} · {Object.keys(r.spec.axes).join(', ') || 'seeds only'}
                    </div>
                  </td>
                  <td>{STATUS_TEXT[r.status] ?? r.status}</td>
                  <td className="num">
                    {r.done}/{r.total}
                  </td>
                  <td className="actions">
                    <button type="button" className="small danger" disabled={busy && r.id === activeId} onClick={() => void remove(r.id)} aria-label={`Delete sweep ${r.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Opens a merged result set ('reward-lab.sweep/1') from `reward-lab merge` or an export of this app. */
export function OpenResultFile() {
  const input = useRef<HTMLInputElement>(null);
  const busy = useSweep((s) => isSweepBusy(s.active?.status));
  const { importResult } = useSweepActions();
  return (
    <div className="open-file">
      <button type="button" onClick={() => input.current?.click()} disabled={busy}>
        Open merged result JSON…
      </button>
      <input
        ref={input}
        type="file"
        accept=".json,application/json"
        className="sr-only"
        tabIndex={-1}
        aria-label="Merged sweep result file"
        data-testid="open-sweep-file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void file.text().then(importResult);
        }}
      />
      <span className="muted">from <span className="mono">reward-lab merge</span> (sweep-result.json) or an export of this page</span>
    </div>
  );
}
