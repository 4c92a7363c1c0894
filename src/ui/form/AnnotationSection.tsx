import type { PairingSpec, ScaleSpec } from '../../core/spec.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { withAnnotation, withPairing, withScale } from '../specEdit.ts';
import { BetaHint } from './BetaHint.tsx';
import { CheckboxField } from './CheckboxField.tsx';
import { FormSection } from './FormSection.tsx';
import { NumberField } from './NumberField.tsx';
import { PAPER } from './paper.ts';
import { SelectField, type Option } from './SelectField.tsx';

const scales = (task: string): Option<ScaleSpec['kind']>[] => [
  { value: 'task', label: `per-task (${task})` },
  { value: 'std', label: 'std of rewards' },
  { value: 'custom', label: 'custom' },
];
const CANDIDATES: Option<PairingSpec['candidates']>[] = [
  { value: 'random', label: 'random (any 2)' },
  { value: 'similar', label: 'similar (mid ranks)' },
  { value: 'diversified', label: 'diversified (ends)' },
];
const SCOPES: Option<PairingSpec['scope']>[] = [
  { value: 'same-prompt', label: 'same prompt' },
  { value: 'cross-prompt', label: 'across prompts' },
];
const CONVENTIONS: Option<PairingSpec['convention']>[] = [
  { value: 'one-per-prompt', label: 'one per prompt' },
  { value: 'multi-per-prompt', label: 'several per prompt' },
];

export function AnnotationSection() {
  const annotation = useLab((s) => s.draft.annotation);
  // The per-task constant of the data the spec runs on: the demo's, or the opened files' task.
  const taskScale = useLab((s) => {
    if (s.draft.dataset.kind === 'demo') return 'demo: 1';
    const info = s.files.opened?.value.plan.id === s.draft.dataset.id ? s.files.opened.value.inspection.info : null;
    return info === null ? 'files not open' : info.taskScale === null ? 'none: no task' : `${info.task}: ${info.taskScale}`;
  });
  const { editSpec } = useActions();
  const { scale, pairing } = annotation;
  const paperPairing = PAPER.annotation.pairing;
  const setPairing = (patch: Partial<PairingSpec>) => editSpec((s) => withPairing(s, patch));
  return (
    <FormSection title="Annotation" prefixes={['annotation']} summary={`β ${annotation.beta}, ${annotation.budget.toLocaleString('en-US')} pairs`}>
      <NumberField
        path="annotation.beta"
        label="β: annotation quality"
        value={annotation.beta}
        paper={PAPER.annotation.beta}
        onValue={(beta) => editSpec((s) => withAnnotation(s, { beta }))}
        hint={<BetaHint />}
      />
      <div className="field-grid">
        <NumberField
          path="annotation.budget"
          label="Budget (annotated pairs)"
          value={annotation.budget}
          paper={PAPER.annotation.budget}
          onValue={(budget) => editSpec((s) => withAnnotation(s, { budget }))}
        />
        <SelectField
          path="annotation.scale.kind"
          label="Reward scale s"
          value={scale.kind}
          options={scales(taskScale)}
          paper={PAPER.annotation.scale.kind}
          onValue={(kind) => editSpec((s) => withScale(s, kind === 'custom' ? { kind, value: scale.kind === 'custom' ? scale.value : 1 } : { kind }))}
        />
        {scale.kind === 'custom' && (
          <NumberField path="annotation.scale.value" label="Custom scale value" value={scale.value} onValue={(value) => editSpec((s) => withScale(s, { kind: 'custom', value }))} />
        )}
      </div>
      <div className="field-grid">
        <SelectField path="annotation.pairing.candidates" label="Candidates" value={pairing.candidates} options={CANDIDATES} paper={paperPairing.candidates} onValue={(candidates) => setPairing({ candidates })} />
        <SelectField path="annotation.pairing.scope" label="Pair scope" value={pairing.scope} options={SCOPES} paper={paperPairing.scope} onValue={(scope) => setPairing({ scope })} />
        <SelectField path="annotation.pairing.convention" label="Pairs per prompt" value={pairing.convention} options={CONVENTIONS} paper={paperPairing.convention} onValue={(convention) => setPairing({ convention })} />
        <NumberField
          path="annotation.pairing.pairsPerPrompt"
          label="How many (if several)"
          value={pairing.pairsPerPrompt}
          paper={paperPairing.pairsPerPrompt}
          disabled={pairing.convention === 'one-per-prompt'}
          onValue={(pairsPerPrompt) => setPairing({ pairsPerPrompt })}
        />
      </div>
      <CheckboxField
        path="annotation.pairing.orderFlip"
        label="Randomly flip the order of each pair"
        value={pairing.orderFlip}
        paper={paperPairing.orderFlip}
        onValue={(orderFlip) => setPairing({ orderFlip })}
      />
    </FormSection>
  );
}
