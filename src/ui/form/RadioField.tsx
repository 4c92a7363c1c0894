import type { ReactNode } from 'react';
import type { Option } from './SelectField.tsx';
import { fieldId } from './fieldId.ts';
import { useFieldIssue } from './useFieldIssue.ts';

export interface RadioFieldProps<T extends string> {
  path: string;
  label: string;
  value: T;
  options: readonly (Option<T> & { detail?: string })[];
  onValue: (value: T) => void;
  hint?: ReactNode;
}

/** A choice shown in full (few options that matter a lot, e.g. the objective): arrow keys move between them. */
export function RadioField<T extends string>({ path, label, value, options, onValue, hint }: RadioFieldProps<T>) {
  const error = useFieldIssue(path);
  const id = fieldId(path);
  return (
    <fieldset className="field field-radio" data-path={path} aria-describedby={hint ? `${id}-hint` : undefined}>
      <legend title={`spec: ${path}`}>{label}</legend>
      <div className="radio-row">
        {options.map((o, i) => (
          <label key={o.value} className={o.value === value ? 'radio is-checked' : 'radio'}>
            <input
              id={i === 0 ? id : `${id}-${o.value}`}
              type="radio"
              name={id}
              value={o.value}
              checked={o.value === value}
              onChange={() => onValue(o.value)}
            />
            <span className="radio-label">{o.label}</span>
            {o.detail && <span className="radio-detail">{o.detail}</span>}
          </label>
        ))}
      </div>
      {hint && (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </fieldset>
  );
}
