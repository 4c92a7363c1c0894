import { adapterText } from '../backendText.ts';
import { useActions, useLab } from '../storeContext.tsx';
import type { BackendChoice } from '../../worker/protocol.ts';

const CHOICES: { value: BackendChoice; label: string }[] = [
  { value: 'auto', label: 'Automatic' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'wasm', label: 'WebAssembly (wasm)' },
  { value: 'webgl', label: 'WebGL' },
  { value: 'cpu', label: 'CPU (plain JS)' },
];

/** Which tfjs backend the worker computes on, why, and an override. */
export function BackendPicker() {
  const backend = useLab((s) => s.backend);
  const busy = useLab((s) => s.run.status === 'running' || s.run.status === 'cancelling');
  const { chooseBackend } = useActions();
  const report = backend.report;
  let status: string;
  if (backend.status === 'detecting') status = 'detecting…';
  else if (backend.status === 'error') status = `unavailable: ${backend.error}`;
  else status = report ? `${report.name}${adapterText(report) ? ` · ${adapterText(report)}` : ''}` : '—';
  return (
    <div className="backend-picker">
      <label htmlFor="backend-choice">Compute backend</label>
      <select
        id="backend-choice"
        value={backend.choice}
        disabled={busy || backend.status === 'detecting'}
        onChange={(e) => void chooseBackend(e.target.value as BackendChoice)}
        aria-describedby="backend-status"
      >
        {CHOICES.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      <span id="backend-status" className={`backend-status is-${backend.status}`} data-testid="backend-status" data-backend={report?.name ?? ''} aria-live="polite">
        {status}
      </span>
      {report && (
        <details
          className="backend-details"
          onKeyDown={(e) => {
            if (e.key === 'Escape') e.currentTarget.open = false;
          }}
        >
          <summary>Why?</summary>
          <div className="popover">
            <p>{report.reason}</p>
            <table>
              <tbody>
                {report.candidates.map((c) => (
                  <tr key={c.name}>
                    <th scope="row">{c.name}</th>
                    <td className={`candidate is-${c.status}`}>{c.status}</td>
                    <td>{c.note}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </div>
  );
}
