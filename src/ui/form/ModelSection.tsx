import type { ModelSpec } from '../../core/spec.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { withEnsemble, withModel } from '../specEdit.ts';
import { FormSection } from './FormSection.tsx';
import { ListField } from './ListField.tsx';
import { NumberField } from './NumberField.tsx';
import { PAPER } from './paper.ts';
import { RadioField } from './RadioField.tsx';
import { SelectField, type Option } from './SelectField.tsx';

const OBJECTIVES = [
  { value: 'bt-mlp', label: 'BT-MLP', detail: 'Bradley–Terry on pairs' },
  { value: 'clf-mlp', label: 'CLF-MLP', detail: 'classifier on winners/losers' },
  { value: 'clf-gbdt', label: 'CLF-GBDT', detail: 'boosted trees on winners/losers' },
] as const satisfies readonly (Option<ModelSpec['objective']> & { detail: string })[];
const INITS: Option<ModelSpec['init']>[] = [
  { value: 'pytorch', label: 'PyTorch (paper)' },
  { value: 'glorot', label: 'Glorot (tfjs)' },
];
const AGGREGATIONS: Option<ModelSpec['ensemble']['aggregation']>[] = [
  { value: 'mean', label: 'mean' },
  { value: 'min', label: 'min (worst case)' },
  { value: 'first', label: 'first member' },
];

export function ModelSection() {
  const model = useLab((s) => s.draft.model);
  const { editSpec } = useActions();
  return (
    <FormSection title="Model" prefixes={['model.objective', 'model.hidden', 'model.init', 'model.ensemble']} summary={`${model.objective === 'bt-mlp' ? 'BT' : 'CLF'}-MLP ${model.hidden.join('→')}`}>
      <RadioField path="model.objective" label="Objective" value={model.objective} options={OBJECTIVES} onValue={(objective) => editSpec((s) => withModel(s, { objective }))} />
      <div className="field-grid">
        <ListField path="model.hidden" label="Hidden widths" value={model.hidden} paper={PAPER.model.hidden} onValue={(hidden) => editSpec((s) => withModel(s, { hidden }))} hint="D → widths → 1, ReLU" />
        <SelectField path="model.init" label="Initialisation" value={model.init} options={INITS} paper={PAPER.model.init} onValue={(init) => editSpec((s) => withModel(s, { init }))} />
        <NumberField path="model.ensemble.size" label="Ensemble size" value={model.ensemble.size} paper={PAPER.model.ensemble.size} onValue={(size) => editSpec((s) => withEnsemble(s, { size }))} />
        <SelectField
          path="model.ensemble.aggregation"
          label="Ensemble aggregation"
          value={model.ensemble.aggregation}
          options={AGGREGATIONS}
          paper={PAPER.model.ensemble.aggregation}
          disabled={model.ensemble.size < 2}
          onValue={(aggregation) => editSpec((s) => withEnsemble(s, { aggregation }))}
        />
      </div>
    </FormSection>
  );
}
