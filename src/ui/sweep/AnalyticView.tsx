import { paperTarget } from '../../core/paperTargets.ts';
import { duration, num, pct } from '../format.ts';
import type { AnalyticResult } from '../../worker/paperProtocol.ts';
import { PublishedValues, Verdicts } from './TargetParts.tsx';

/** T1, T6 or T7 reproduced on the open dataset: the computed table beside the published values. */
export function AnalyticView({ result }: { result: AnalyticResult }) {
  const target = paperTarget(result.id);
  return (
    <div className="repro" data-testid={`target-${result.id}`}>
      <div className="repro-grid">
        <div>
          <h4>
            This data{result.datasetId ? <span className="muted"> · {result.datasetId}</span> : null}
          </h4>
          <AnalyticTable result={result} />
          <p className="muted repro-note">Computed in the worker in {duration(result.ms)}; no training.</p>
        </div>
        <PublishedValues target={target} />
      </div>
      <Verdicts verdicts={result.verdicts} />
    </div>
  );
}

function AnalyticTable({ result }: { result: AnalyticResult }) {
  switch (result.id) {
    case 'T1': {
      const betas = [...new Set(result.rows.map((r) => r.beta))];
      const scales = [...new Set(result.rows.map((r) => r.scale))];
      const at = (beta: number, scale: string) => result.rows.find((r) => r.beta === beta && r.scale === scale);
      return (
        <table className="compact analytic-table">
          <caption className="sr-only">Expected label error of random same-prompt pairs</caption>
          <thead>
            <tr>
              <th scope="col">β</th>
              {scales.map((s) => (
                <th key={s} scope="col" className="num">
                  error, scale {s === 'task' ? 'task constant' : 'reward std'} ({num(at(betas[0], s)?.scaleValue, 3)})
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {betas.map((b) => (
              <tr key={b}>
                <th scope="row">{b}</th>
                {scales.map((s) => (
                  <td key={s} className="num">
                    {pct(at(b, s)?.expectedError)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      );
    }
    case 'T6':
      return (
        <table className="compact analytic-table">
          <caption className="sr-only">Mean reward gap of annotated pairs per pairing mode</caption>
          <thead>
            <tr>
              <th scope="col">candidates</th>
              <th scope="col">scope</th>
              <th scope="col" className="num">
                mean |Δr|
              </th>
            </tr>
          </thead>
          <tbody>
            {result.rows.map((r) => (
              <tr key={`${r.candidates}-${r.scope}`}>
                <th scope="row">{r.candidates}</th>
                <td>{r.scope}</td>
                <td className="num">{num(r.meanAbsRewardGap)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td colSpan={3} className="muted">
                {result.budget.toLocaleString('en-US')} pairs per mode, seed {result.seed}
              </td>
            </tr>
          </tfoot>
        </table>
      );
    case 'T7':
      return (
        <table className="compact analytic-table" data-testid="q-table">
          <caption className="sr-only">Q = E[σ(|W|)] against the paper&apos;s table</caption>
          <thead>
            <tr>
              <th scope="col">β²σ²</th>
              <th scope="col" className="num">
                computed
              </th>
              <th scope="col" className="num">
                published
              </th>
              <th scope="col">
                <span className="sr-only">agrees</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {result.rows.map((r) => {
              const ok = Math.abs(r.computed - r.published) < 5e-4;
              return (
                <tr key={r.variance}>
                  <th scope="row">{r.variance}</th>
                  <td className="num">{r.computed.toFixed(4)}</td>
                  <td className="num">{r.published.toFixed(4)}</td>
                  <td className={ok ? 'verdict-cell is-ok' : 'verdict-cell is-bad'}>{ok ? '✓' : '✗'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      );
  }
}
