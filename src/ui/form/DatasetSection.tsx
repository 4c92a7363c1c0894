import { useLab, useActions } from '../storeContext.tsx';
import { withDataset } from '../specEdit.ts';
import { FormSection } from './FormSection.tsx';
import { NumberField } from './NumberField.tsx';
import { PAPER } from './paper.ts';

const paperDemo = PAPER.dataset.kind === 'demo' ? PAPER.dataset : null;

export function DatasetSection() {
  const dataset = useLab((s) => s.draft.dataset);
  const { editSpec } = useActions();
  if (dataset.kind !== 'demo') {
    return (
      <FormSection title="Dataset" prefixes={['dataset']} summary={`files: ${dataset.id}`}>
        <p className="muted">This spec names a file dataset; the app runs the synthetic demo only. Use the CLI for dataset files.</p>
      </FormSection>
    );
  }
  const set = (patch: Parameters<typeof withDataset>[1]) => editSpec((s) => withDataset(s, patch));
  return (
    <FormSection
      title="Dataset (synthetic demo)"
      prefixes={['dataset']}
      initiallyOpen={false}
      summary={`${dataset.trainPrompts.toLocaleString('en-US')} × ${dataset.responsesPerTrainPrompt} train, D ${dataset.dim}`}
    >
      <div className="field-grid">
        <NumberField path="dataset.trainPrompts" label="Train prompts" value={dataset.trainPrompts} paper={paperDemo?.trainPrompts} onValue={(v) => set({ trainPrompts: v })} />
        <NumberField path="dataset.responsesPerTrainPrompt" label="Responses per train prompt (K)" value={dataset.responsesPerTrainPrompt} paper={paperDemo?.responsesPerTrainPrompt} onValue={(v) => set({ responsesPerTrainPrompt: v })} />
        <NumberField path="dataset.testPrompts" label="Test prompts" value={dataset.testPrompts} paper={paperDemo?.testPrompts} onValue={(v) => set({ testPrompts: v })} />
        <NumberField path="dataset.responsesPerTestPrompt" label="Responses per test prompt (L)" value={dataset.responsesPerTestPrompt} paper={paperDemo?.responsesPerTestPrompt} onValue={(v) => set({ responsesPerTestPrompt: v })} />
        <NumberField path="dataset.dim" label="Embedding size (D)" value={dataset.dim} paper={paperDemo?.dim} onValue={(v) => set({ dim: v })} />
        <NumberField path="dataset.seed" label="Dataset seed" value={dataset.seed} paper={paperDemo?.seed} onValue={(v) => set({ seed: v })} />
      </div>
    </FormSection>
  );
}
