import { deviationsOf } from '../../core/spec.ts';
import { useLab } from '../storeContext.tsx';

/** The named departures from the paper's protocol that a run of this spec will record. */
export function DeviationsNote() {
  const spec = useLab((s) => (s.validation.ok ? s.validation.spec : null));
  if (!spec) return null;
  const deviations = deviationsOf(spec);
  return (
    <div className="deviations-note" aria-label="Protocol deviations">
      <strong>Protocol:</strong>{' '}
      {deviations.length === 0 ? (
        <span>paper-faithful (no named deviations).</span>
      ) : (
        <ul>
          {deviations.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
