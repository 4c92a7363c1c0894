import { useState, type ReactNode } from 'react';
import { useActions } from '../storeContext.tsx';
import { describedBy, FieldFrame } from './Field.tsx';
import { fieldId } from './fieldId.ts';
import { useFieldIssue } from './useFieldIssue.ts';

export interface NumberFieldProps {
  path: string;
  label: string;
  value: number;
  onValue: (value: number) => void;
  hint?: ReactNode;
  paper?: number;
  disabled?: boolean;
}

/** Reads "", "abc" or "1e-" as no number; "1e-3", "  2 " and "-1" as numbers. */
export function parseNumber(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * A text box for one number. It keeps what the user typed (so "0.50" or a half-typed "1e-"
 * stay as typed); unreadable text is reported as a field error and the spec keeps its last value.
 */
export function NumberField({ path, label, value, onValue, hint, paper, disabled }: NumberFieldProps) {
  const { setTextError } = useActions();
  const error = useFieldIssue(path);
  const [text, setText] = useState(String(value));
  const [shown, setShown] = useState(value);
  // The value changed elsewhere (a preset chip, another control): show it.
  if (!Object.is(value, shown)) {
    setShown(value);
    setText(String(value));
  }
  return (
    <FieldFrame path={path} label={label} error={error} hint={hint} paper={paper === undefined || Object.is(paper, value) ? null : paper.toLocaleString('en-US')}>
      <input
        id={fieldId(path)}
        type="text"
        inputMode="decimal"
        autoComplete="off"
        spellCheck={false}
        value={text}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(path, Boolean(hint), error)}
        onChange={(e) => {
          const next = e.target.value;
          setText(next);
          const n = parseNumber(next);
          if (n === null) {
            setTextError(path, next.trim() === '' ? 'enter a number' : `"${next.trim()}" is not a number`);
          } else {
            setTextError(path, null);
            setShown(n);
            onValue(n);
          }
        }}
      />
    </FieldFrame>
  );
}
