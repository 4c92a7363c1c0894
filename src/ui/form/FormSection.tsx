import { useState, type ReactNode } from 'react';
import { useLab } from '../storeContext.tsx';

export interface FormSectionProps {
  title: string;
  /** One line shown next to the title, so a closed section still says what it holds. */
  summary?: string;
  /** Spec path prefixes of the section's fields: a section with a problem opens itself. */
  prefixes: readonly string[];
  initiallyOpen?: boolean;
  children: ReactNode;
}

export function FormSection({ title, summary, prefixes, initiallyOpen = true, children }: FormSectionProps) {
  const [open, setOpen] = useState(initiallyOpen);
  const hasIssue = useLab((s) => s.validation.issues.some((i) => prefixes.some((p) => i.path === p || i.path.startsWith(`${p}.`))));
  return (
    <details className="form-section" open={open || hasIssue} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <span className="section-title">{title}</span>
        {summary && <span className="section-summary">{summary}</span>}
        {hasIssue && <span className="section-issue">needs attention</span>}
      </summary>
      <div className="section-body">{children}</div>
    </details>
  );
}
