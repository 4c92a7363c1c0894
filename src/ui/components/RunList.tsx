import { duration, num, signed, time } from '../format.ts';
import { useActions, useLab } from '../storeContext.tsx';

export function RunList() {
  const runs = useLab((s) => s.runs);
  const activeId = useLab((s) => s.activeRunId);
  const compareIds = useLab((s) => s.compareIds);
  const { viewRun, toggleCompare, deleteRun } = useActions();
  return (
    <div className="table-scroll">
      <table className="run-table" data-testid="run-list">
        <thead>
          <tr>
            <th scope="col">Compare</th>
            <th scope="col">Run</th>
            <th scope="col" className="num">Improvement</th>
            <th scope="col" className="num">Spearman</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} className={r.id === activeId ? 'is-active' : undefined} data-run-id={r.id}>
              <td>
                <input type="checkbox" checked={compareIds.includes(r.id)} onChange={() => toggleCompare(r.id)} aria-label={`Compare ${r.label} (${time(r.createdAt)})`} />
              </td>
              <td>
                <button type="button" className="link-button" onClick={() => viewRun(r.id)} aria-current={r.id === activeId ? 'true' : undefined}>
                  {r.label}
                </button>
                <div className="run-meta">
                  {time(r.createdAt)} · {r.backend.name} · {duration(r.timings.totalMs)}
                  {r.spec.seeds.length > 1 ? ` · ${r.spec.seeds.length} seeds` : ''}
                </div>
              </td>
              <td className="num">{signed(r.metrics.improvement.mean)}</td>
              <td className="num">{num(r.metrics.spearman.mean)}</td>
              <td className="actions">
                <button type="button" className="small danger" onClick={() => void deleteRun(r.id)} aria-label={`Delete run ${r.label} (${time(r.createdAt)})`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
