import { asMeanStd, bestIndex, differingFields, METRIC_ROWS, specValue } from '../compare.ts';
import type { RunSummary } from '../runSummary.ts';
import { colorAt } from '../charts/data.ts';

/** Selected runs side by side: the spec fields that differ, then every metric (best marked). */
export function MetricsTable({ runs, labels }: { runs: readonly RunSummary[]; labels: readonly string[] }) {
  const fields = differingFields(runs);
  return (
    <div className="table-scroll">
      <table className="metrics-table" data-testid="metrics-table">
        <thead>
          <tr>
            <th scope="col">
              <span className="sr-only">Metric</span>
            </th>
            {runs.map((r, i) => (
              <th key={r.id} scope="col">
                <span className="swatch" style={{ background: colorAt(i) }} aria-hidden="true" />
                {labels[i]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {fields.length > 0 && (
            <tr className="group">
              <th scope="rowgroup" colSpan={runs.length + 1}>
                Spec fields that differ
              </th>
            </tr>
          )}
          {fields.map((f) => (
            <tr key={f}>
              <th scope="row" className="mono">
                {f}
              </th>
              {runs.map((r) => (
                <td key={r.id}>{specValue(r, f)}</td>
              ))}
            </tr>
          ))}
          <tr className="group">
            <th scope="rowgroup" colSpan={runs.length + 1}>
              Metrics (mean ± std over seeds)
            </th>
          </tr>
          {METRIC_ROWS.map((m) => {
            const best = bestIndex(runs, m);
            return (
              <tr key={m.key} data-metric={m.key}>
                <th scope="row" title={m.help}>
                  {m.label}
                </th>
                {runs.map((r, i) => {
                  const raw = m.value(r);
                  const v = asMeanStd(raw);
                  const spread = typeof raw === 'object' && r.spec.seeds.length > 1;
                  const text = v ? (spread ? `${m.render(v.mean)} ± ${m.render(v.std)}` : m.render(v.mean)) : String(raw);
                  return (
                    <td key={r.id} className={i === best ? 'num is-best' : 'num'} data-value={v?.mean}>
                      {text}
                      {i === best && <span className="sr-only"> (best)</span>}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
