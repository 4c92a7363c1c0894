import type { PaperTarget, Verdict } from '../../core/paperTargets.ts';

/** The claim's one-line verdicts: ✓ reproduced / ✗ not, with the numbers behind each. */
export function Verdicts({ verdicts, pending }: { verdicts: readonly Verdict[]; pending?: string }) {
  if (verdicts.length === 0) return <p className="muted verdict-pending">{pending ?? 'No verdict yet: it needs finished cells.'}</p>;
  const ok = verdicts.filter((v) => v.reproduced).length;
  return (
    <div className="verdicts" data-testid="verdicts" data-reproduced={ok} data-claims={verdicts.length}>
      <ul>
        {verdicts.map((v) => (
          <li key={v.claim} className={v.reproduced ? 'verdict is-ok' : 'verdict is-bad'} data-reproduced={v.reproduced}>
            <span className="verdict-mark" aria-hidden="true">
              {v.reproduced ? '✓' : '✗'}
            </span>
            <span className="sr-only">{v.reproduced ? 'reproduced:' : 'not reproduced:'}</span>
            <strong>{v.claim}</strong> <span className="verdict-detail">— {v.detail}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What the paper published for a target, each value marked exact or read off a figure. */
export function PublishedValues({ target }: { target: PaperTarget }) {
  return (
    <div className="published" data-testid="published">
      <h4>Published</h4>
      <p className="published-claim">
        <span className="muted">Claim:</span> {target.claim}
      </p>
      {target.published.length > 0 ? (
        <table className="compact">
          <thead>
            <tr>
              <th scope="col">value</th>
              <th scope="col">paper</th>
              <th scope="col">source</th>
            </tr>
          </thead>
          <tbody>
            {target.published.map((p) => (
              <tr key={p.label}>
                <th scope="row">{p.label}</th>
                <td className="num">{p.approx ? `≈${p.value}` : p.value}</td>
                <td>{p.approx ? <span className="approx">≈ read off a figure</span> : 'exact (table)'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">The paper states this claim qualitatively (orderings and signs): compare the verdicts, not decimals.</p>
      )}
      <p className="muted published-setting">Setting: {target.setting}</p>
    </div>
  );
}
