import type { ReactNode } from 'react';
import { fieldId } from './fieldId.ts';

export interface FieldFrameProps {
  path: string;
  label: string;
  error: string | null;
  hint?: ReactNode;
  /** The paper's value as text, shown only when the field departs from it (null: it does not). */
  paper?: string | null;
  children: ReactNode;
}

/** Label, control, hint and validation message of one spec field, wired for screen readers. */
export function FieldFrame({ path, label, error, hint, paper, children }: FieldFrameProps) {
  const id = fieldId(path);
  return (
    <div className={`field${error ? ' has-error' : ''}`} data-path={path}>
      <div className="field-head">
        <label htmlFor={id} title={`spec: ${path}`}>
          {label}
        </label>
        {paper != null && (
          <span className="paper-badge" title="The paper's setting for this field">
            paper: {paper}
          </span>
        )}
      </div>
      {children}
      {hint && (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {error && (
        <div className="field-error" id={`${id}-error`} role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

/** aria-describedby for a control: its hint and error, when present. */
export function describedBy(path: string, hasHint: boolean, error: string | null): string | undefined {
  const id = fieldId(path);
  const ids = [hasHint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}
