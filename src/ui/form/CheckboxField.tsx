import type { ReactNode } from 'react';
import { fieldId } from './fieldId.ts';

export interface CheckboxFieldProps {
  path: string;
  label: string;
  value: boolean;
  onValue: (value: boolean) => void;
  hint?: ReactNode;
  paper?: boolean;
}

export function CheckboxField({ path, label, value, onValue, hint, paper }: CheckboxFieldProps) {
  const id = fieldId(path);
  return (
    <div className="field field-check" data-path={path}>
      <input
        id={id}
        type="checkbox"
        checked={value}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(e) => onValue(e.target.checked)}
      />
      <label htmlFor={id} title={`spec: ${path}`}>
        {label}
      </label>
      {paper !== undefined && paper !== value && <span className="paper-badge">paper: {paper ? 'on' : 'off'}</span>}
      {hint && (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
    </div>
  );
}
