import type { GbdtSpec, ModelSpec } from '../../core/spec.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { withEnsemble, withModel } from '../specEdit.ts';
import { FormSection } from './FormSection.tsx';
import { ListField } from './ListField.tsx';
import { NumberField } from './NumberField.tsx';
import { PAPER } from './paper.ts';
import { RadioField } from './RadioField.tsx';
import { SelectField, type Option } from './SelectField.tsx';
import './gbdt.css';

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
  const gbdt = model.objective === 'clf-gbdt';
  const summary = gbdt ? `CLF-GBDT ${model.gbdt.trees} trees × ${model.gbdt.leaves} leaves` : `${model.objective === 'bt-mlp' ? 'BT' : 'CLF'}-MLP ${model.hidden.join('→')}`;
  return (
    <FormSection title="Model" prefixes={['model.objective', 'model.hidden', 'model.init', 'model.gbdt', 'model.ensemble']} summary={summary}>
      <RadioField path="model.objective" label="Objective" value={model.objective} options={OBJECTIVES} onValue={(objective) => editSpec((s) => withModel(s, { objective }))} />
      {gbdt && <GbdtFields gbdt={model.gbdt} />}
      <div className="field-grid">
        {!gbdt && (
          <>
            <ListField path="model.hidden" label="Hidden widths" value={model.hidden} paper={PAPER.model.hidden} onValue={(hidden) => editSpec((s) => withModel(s, { hidden }))} hint="D → widths → 1, ReLU" />
            <SelectField path="model.init" label="Initialisation" value={model.init} options={INITS} paper={PAPER.model.init} onValue={(init) => editSpec((s) => withModel(s, { init }))} />
          </>
        )}
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

/** The boosted trees' settings (LightGBM's defaults are the paper's): shown for CLF-GBDT in place of the MLP's. */
function GbdtFields({ gbdt }: { gbdt: GbdtSpec }) {
  const { editSpec } = useActions();
  const paper = PAPER.model.gbdt;
  const set = (patch: Partial<GbdtSpec>) => editSpec((s) => withModel(s, { gbdt: { ...s.model.gbdt, ...patch } }));
  return (
    <>
      <div className="field-grid" data-testid="gbdt-fields">
        <NumberField path="model.gbdt.trees" label="Trees" value={gbdt.trees} paper={paper.trees} onValue={(trees) => set({ trees })} hint="boosting rounds, all grown (no early stop)" />
        <NumberField path="model.gbdt.leaves" label="Leaves per tree" value={gbdt.leaves} paper={paper.leaves} onValue={(leaves) => set({ leaves })} hint="leaf-wise growth" />
        <NumberField path="model.gbdt.learningRate" label="Learning rate (shrinkage)" value={gbdt.learningRate} paper={paper.learningRate} onValue={(learningRate) => set({ learningRate })} />
        <NumberField path="model.gbdt.minDataInLeaf" label="Min data in leaf" value={gbdt.minDataInLeaf} paper={paper.minDataInLeaf} onValue={(minDataInLeaf) => set({ minDataInLeaf })} />
      </div>
      <details className="more-fields">
        <summary>More tree settings</summary>
        <div className="field-grid">
          <NumberField path="model.gbdt.minSumHessianInLeaf" label="Min hessian sum in leaf" value={gbdt.minSumHessianInLeaf} paper={paper.minSumHessianInLeaf} onValue={(minSumHessianInLeaf) => set({ minSumHessianInLeaf })} />
          <NumberField path="model.gbdt.lambdaL2" label="L2 regularisation λ" value={gbdt.lambdaL2} paper={paper.lambdaL2} onValue={(lambdaL2) => set({ lambdaL2 })} />
          <NumberField path="model.gbdt.maxBin" label="Histogram bins per feature" value={gbdt.maxBin} paper={paper.maxBin} onValue={(maxBin) => set({ maxBin })} />
          <NumberField path="model.gbdt.binSampleCount" label="Rows sampled for bin edges" value={gbdt.binSampleCount} paper={paper.binSampleCount} onValue={(binSampleCount) => set({ binSampleCount })} />
        </div>
      </details>
    </>
  );
}
