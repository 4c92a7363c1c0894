import { useState } from 'react';
import { useLab, useActions } from '../storeContext.tsx';
import { withDataset, withSubsample, type FilesDatasetSpec, type FilesSubsample } from '../specEdit.ts';
import { CheckboxField } from './CheckboxField.tsx';
import { describedBy, FieldFrame } from './Field.tsx';
import { fieldId } from './fieldId.ts';
import { useFieldIssue } from './useFieldIssue.ts';
import { FormSection } from './FormSection.tsx';
import { NumberField } from './NumberField.tsx';
import { PAPER } from './paper.ts';

const paperDemo = PAPER.dataset.kind === 'demo' ? PAPER.dataset : null;

export function DatasetSection() {
  const dataset = useLab((s) => s.draft.dataset);
  const { editSpec } = useActions();
  if (dataset.kind !== 'demo') return <FilesDatasetSection dataset={dataset} />;
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

/** A file dataset: which files (opened under Dataset files) and an optional seeded prompt subsample. */
function FilesDatasetSection({ dataset }: { dataset: FilesDatasetSpec }) {
  const { editSpec } = useActions();
  const opened = useLab((s) => (s.files.opened?.value.plan.id === dataset.id ? s.files.opened.value.inspection : null));
  const sub = dataset.subsample;
  const set = (patch: Partial<FilesSubsample> | null) => editSpec((s) => withSubsample(s, patch));
  const of = (n: number | undefined) => (n === undefined ? '' : ` of ${n.toLocaleString('en-US')}`);
  const summary = sub ? `${dataset.id}, subsample ${sub.trainPrompts ?? 'all'} / ${sub.testPrompts ?? 'all'} prompts` : `files: ${dataset.id}`;
  return (
    <FormSection title="Dataset (files)" prefixes={['dataset']} summary={summary}>
      <div className="field" data-path="dataset.id">
        <span className="field-hint">
          Runs on <span className="mono">{dataset.id}</span>
          {opened ? `: ${opened.train.summary.prompts.toLocaleString('en-US')} train and ${opened.test.summary.prompts.toLocaleString('en-US')} test prompts.` : ', whose files are not open in this tab.'}
        </span>
        <button
          type="button"
          id={fieldId('dataset.id')}
          className="small"
          onClick={() => document.getElementById('files-title')?.scrollIntoView({ behavior: 'smooth', block: 'start' })}
        >
          {opened ? 'Show the dataset files' : 'Pick the files…'}
        </button>
      </div>
      <CheckboxField
        path="dataset.subsample"
        label="Subsample prompts (seeded; recorded as a deviation)"
        value={sub !== undefined}
        onValue={(on) => set(on ? {} : null)}
        hint="Runs on a uniform draw of prompts instead of the whole split: only their rows are read."
      />
      {sub && (
        <div className="field-grid">
          <CountField path="dataset.subsample.trainPrompts" label={`Train prompts${of(opened?.train.summary.prompts)}`} value={sub.trainPrompts} onValue={(v) => set({ trainPrompts: v })} />
          <CountField path="dataset.subsample.testPrompts" label={`Test prompts${of(opened?.test.summary.prompts)}`} value={sub.testPrompts} onValue={(v) => set({ testPrompts: v })} />
          <NumberField path="dataset.subsample.seed" label="Subsample seed" value={sub.seed} onValue={(v) => set({ seed: v })} />
        </div>
      )}
    </FormSection>
  );
}

/** A count where blank means "all": the spec leaves the field out. */
function CountField({ path, label, value, onValue }: { path: string; label: string; value: number | undefined; onValue: (v: number | undefined) => void }) {
  const { setTextError } = useActions();
  const error = useFieldIssue(path);
  const [text, setText] = useState(value === undefined ? '' : String(value));
  return (
    <FieldFrame path={path} label={label} error={error} hint="blank: all">
      <input
        id={fieldId(path)}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        value={text}
        placeholder="all"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(path, true, error)}
        onChange={(e) => {
          const next = e.target.value;
          setText(next);
          const t = next.trim();
          const n = Number(t);
          if (t === '') {
            setTextError(path, null);
            onValue(undefined);
          } else if (!Number.isFinite(n)) {
            setTextError(path, `"${t}" is not a number`);
          } else {
            setTextError(path, null);
            onValue(n);
          }
        }}
      />
    </FieldFrame>
  );
}
