import { useLab } from '../storeContext.tsx';
import { fieldId } from '../form/fieldId.ts';

/** Why Run is disabled: every problem, each a button that moves focus to its field. */
export function IssueList() {
  const issues = useLab((s) => s.validation.issues);
  const focus = (path: string) => {
    const el = document.getElementById(fieldId(path)) ?? document.getElementById(fieldId(path.split('.').slice(0, -1).join('.')));
    if (!el) return;
    el.closest('details')?.setAttribute('open', '');
    el.focus();
  };
  return (
    <div className="issue-list" role="alert" data-testid="issues">
      <p>
        Fix {issues.length === 1 ? 'this problem' : `these ${issues.length} problems`} to run:
      </p>
      <ul>
        {issues.map((i) => (
          <li key={`${i.path}:${i.message}`}>
            <button type="button" className="link-button" onClick={() => focus(i.path)}>
              {i.path || 'spec'}
            </button>
            : {i.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
