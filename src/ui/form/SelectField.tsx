import type { ReactNode } from 'react';
import { describedBy, FieldFrame } from './Field.tsx';
import { fieldId } from './fieldId.ts';
import { useFieldIssue } from './useFieldIssue.ts';

export interface Option<T extends string> {
  value: T;
  label: string;
}

export interface SelectFieldProps<T extends string> {
  path: string;
  label: string;
  value: T;
  options: readonly Option<T>[];
  onValue: (value: T) => void;
  hint?: ReactNode;
  paper?: T;
  disabled?: boolean;
}

export function SelectField<T extends string>({ path, label, value, options, onValue, hint, paper, disabled }: SelectFieldProps<T>) {
  const error = useFieldIssue(path);
  const labelOf = (v: T | undefined) => options.find((o) => o.value === v)?.label ?? v;
  return (
    <FieldFrame path={path} label={label} error={error} hint={hint} paper={paper === undefined || paper === value ? null : labelOf(paper)}>
      <select
        id={fieldId(path)}
        value={value}
        disabled={disabled}
        aria-describedby={describedBy(path, Boolean(hint), error)}
        onChange={(e) => {
          const next = options.find((o) => o.value === e.target.value);
          if (next) onValue(next.value);
        }}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}
