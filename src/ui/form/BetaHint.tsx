import { pct } from '../format.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { withAnnotation } from '../specEdit.ts';

/** The paper's β grid, plus a perfect annotator. */
const BETA_CHOICES = [0.5, 0.7, 1, 3, 5, 10, -1] as const;

/** Live expected label-error for the β being typed, and one-click paper values. */
export function BetaHint() {
  const beta = useLab((s) => s.draft.annotation.beta);
  const noise = useLab((s) => s.labelNoise);
  const { editSpec } = useActions();
  const current = noise.value?.beta === beta ? noise.value.points.find((p) => p.beta === beta) : undefined;
  let expected: string;
  if (beta < 0) expected = 'β < 0: a perfect annotator, no label errors.';
  else if (noise.status === 'error') expected = `expected label error unavailable: ${noise.error}`;
  else if (current) expected = `≈ ${pct(current.errorRate)} of labels expected wrong (random same-prompt pairs, s = ${noise.value?.scale.toPrecision(3)}).`;
  else expected = 'computing the expected label error…';
  return (
    <>
      <span className="live-value" data-testid="expected-label-error" aria-live="polite">
        {expected}
      </span>
      <span className="chips" role="group" aria-label="Paper values of β">
        {BETA_CHOICES.map((b) => (
          <button
            key={b}
            type="button"
            className={b === beta ? 'chip is-on' : 'chip'}
            aria-pressed={b === beta}
            onClick={() => editSpec((s) => withAnnotation(s, { beta: b }))}
          >
            {b < 0 ? 'perfect' : b}
          </button>
        ))}
      </span>
    </>
  );
}
