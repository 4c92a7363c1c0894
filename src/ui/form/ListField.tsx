import { useState, type ReactNode } from 'react';
import { useActions } from '../storeContext.tsx';
import { describedBy, FieldFrame } from './Field.tsx';
import { fieldId } from './fieldId.ts';
import { parseNumber } from './NumberField.tsx';
import { useFieldIssue } from './useFieldIssue.ts';

export interface ListFieldProps {
  path: string;
  label: string;
  value: readonly number[];
  onValue: (value: number[]) => void;
  hint?: ReactNode;
  paper?: readonly number[];
}

const show = (values: readonly number[]) => values.join(', ');

/** Reads "1, 2 5" as [1, 2, 5]; returns the first unreadable entry instead when there is one. */
function parseNumberList(text: string): { ok: true; values: number[] } | { ok: false; bad: string } {
  const tokens = text.split(/[\s,;]+/).filter(Boolean);
  const values: number[] = [];
  for (const t of tokens) {
    const n = parseNumber(t);
    if (n === null) return { ok: false, bad: t };
    values.push(n);
  }
  return { ok: true, values };
}

/** A comma-separated list of numbers (widths, the N grid, seeds). */
export function ListField({ path, label, value, onValue, hint, paper }: ListFieldProps) {
  const { setTextError } = useActions();
  const error = useFieldIssue(path);
  const [text, setText] = useState(show(value));
  const [shown, setShown] = useState(show(value));
  if (show(value) !== shown) {
    setShown(show(value));
    setText(show(value));
  }
  return (
    <FieldFrame path={path} label={label} error={error} hint={hint} paper={paper === undefined || show(paper) === show(value) ? null : show(paper)}>
      <input
        id={fieldId(path)}
        type="text"
        autoComplete="off"
        spellCheck={false}
        value={text}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(path, Boolean(hint), error)}
        onChange={(e) => {
          const next = e.target.value;
          setText(next);
          const parsed = parseNumberList(next);
          if (!parsed.ok) {
            setTextError(path, `"${parsed.bad}" is not a number`);
          } else {
            setTextError(path, null);
            setShown(show(parsed.values));
            onValue(parsed.values);
          }
        }}
      />
    </FieldFrame>
  );
}
