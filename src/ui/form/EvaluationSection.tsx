import type { EvaluationSpec } from '../../core/spec.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { withEvaluation, withSeeds } from '../specEdit.ts';
import { FormSection } from './FormSection.tsx';
import { ListField } from './ListField.tsx';
import { NumberField } from './NumberField.tsx';
import { PAPER } from './paper.ts';
import { SelectField, type Option } from './SelectField.tsx';

const PROTOCOLS: Option<EvaluationSpec['protocol']>[] = [
  { value: 'nested', label: 'nested (paper)' },
  { value: 'independent', label: 'independent per N' },
];

export function EvaluationSection() {
  const ev = useLab((s) => s.draft.evaluation);
  const seeds = useLab((s) => s.draft.seeds);
  const testL = useLab((s) => (s.draft.dataset.kind === 'demo' ? s.draft.dataset.responsesPerTestPrompt : null));
  const { editSpec } = useActions();
  const paper = PAPER.evaluation;
  const capped = testL !== null && ev.bonN.some((n) => n > testL);
  return (
    <FormSection title="Evaluation and seeds" prefixes={['evaluation', 'seeds']} summary={`BoN N ≤ ${Math.max(...ev.bonN, 0)}, ${ev.repeats} repeats, ${seeds.length} seed${seeds.length === 1 ? '' : 's'}`}>
      <ListField
        path="evaluation.bonN"
        label="Best-of-N grid (N)"
        value={ev.bonN}
        paper={paper.bonN}
        onValue={(bonN) => editSpec((s) => withEvaluation(s, { bonN }))}
        hint={capped ? `N above L = ${testL} test responses per prompt is evaluated at N = ${testL}.` : undefined}
      />
      <div className="field-grid">
        <NumberField path="evaluation.repeats" label="Repeats (random subsets)" value={ev.repeats} paper={paper.repeats} onValue={(repeats) => editSpec((s) => withEvaluation(s, { repeats }))} />
        <SelectField path="evaluation.protocol" label="Subset protocol" value={ev.protocol} options={PROTOCOLS} paper={paper.protocol} onValue={(protocol) => editSpec((s) => withEvaluation(s, { protocol }))} />
        <NumberField path="evaluation.heldOutPairs" label="Held-out test pairs" value={ev.heldOutPairs} paper={paper.heldOutPairs} onValue={(heldOutPairs) => editSpec((s) => withEvaluation(s, { heldOutPairs }))} />
        <ListField path="seeds" label="Seeds" value={seeds} paper={PAPER.seeds} onValue={(next) => editSpec((s) => withSeeds(s, next))} hint="one full run per seed; mean ± std over seeds" />
      </div>
    </FormSection>
  );
}
