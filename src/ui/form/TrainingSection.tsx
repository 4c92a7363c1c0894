import type { TrainingSpec } from '../../core/spec.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { withTraining } from '../specEdit.ts';
import { CheckboxField } from './CheckboxField.tsx';
import { FormSection } from './FormSection.tsx';
import { NumberField } from './NumberField.tsx';
import { PAPER } from './paper.ts';
import { SelectField, type Option } from './SelectField.tsx';

const SPLITS: Option<TrainingSpec['split']>[] = [
  { value: 'rows', label: 'by row (paper)' },
  { value: 'pairs', label: 'by pair (corrected)' },
];
const EPOCH_MODES: Option<TrainingSpec['epochMode']>[] = [
  { value: 'random-subsets', label: 'subsets (paper)' },
  { value: 'passes', label: 'passes (corrected)' },
];

export function TrainingSection() {
  const t = useLab((s) => s.draft.model.training);
  const { editSpec } = useActions();
  const paper = PAPER.model.training;
  const set = (patch: Partial<TrainingSpec>) => editSpec((s) => withTraining(s, patch));
  // Boosted trees use only the validation split (for their per-tree curve); the optimiser fields are the MLP's.
  const mlp = useLab((s) => s.draft.model.objective !== 'clf-gbdt');
  const summary = mlp
    ? `Adam lr ${t.lr}, ≤ ${t.epochs} epochs, batch ${t.batchSize.toLocaleString('en-US')}`
    : `validation ${Math.round(t.validationFraction * 100)}% ${t.split === 'rows' ? 'by row' : 'by pair'} (trees: no epochs)`;
  return (
    <FormSection title="Training" prefixes={['model.training']} initiallyOpen={false} summary={summary}>
      <div className="field-grid">
        {mlp && (
          <>
            <NumberField path="model.training.lr" label="Learning rate (Adam)" value={t.lr} paper={paper.lr} onValue={(lr) => set({ lr })} />
            <NumberField path="model.training.epochs" label="Max epochs" value={t.epochs} paper={paper.epochs} onValue={(epochs) => set({ epochs })} />
            <NumberField path="model.training.batchSize" label="Batch size" value={t.batchSize} paper={paper.batchSize} onValue={(batchSize) => set({ batchSize })} />
          </>
        )}
        <NumberField path="model.training.validationFraction" label="Validation fraction" value={t.validationFraction} paper={paper.validationFraction} onValue={(validationFraction) => set({ validationFraction })} />
        {mlp && <NumberField path="model.training.patience" label="Early-stop patience" value={t.patience} paper={paper.patience} onValue={(patience) => set({ patience })} />}
        <SelectField path="model.training.split" label="Validation split" value={t.split} options={SPLITS} paper={paper.split} onValue={(split) => set({ split })} />
        {mlp && <SelectField path="model.training.epochMode" label="Epoch" value={t.epochMode} options={EPOCH_MODES} paper={paper.epochMode} onValue={(epochMode) => set({ epochMode })} />}
      </div>
      {mlp && (
        <CheckboxField
          path="model.training.rollback"
          label="Restore the best validation epoch at the end"
          value={t.rollback}
          paper={paper.rollback}
          onValue={(rollback) => set({ rollback })}
        />
      )}
    </FormSection>
  );
}
