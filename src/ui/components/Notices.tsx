import { useActions, useLab } from '../storeContext.tsx';

/** Problems outside the form: a shared link that could not be opened, storage or backend failures. */
export function Notices() {
  const link = useLab((s) => s.linkProblem);
  const storage = useLab((s) => s.storageError);
  const backend = useLab((s) => (s.backend.status === 'error' ? s.backend.error : null));
  const { dismissLinkProblem } = useActions();
  if (!link && !storage && !backend) return null;
  return (
    <div className="notices">
      {link && (
        <div className="notice notice-warn" role="alert" data-testid="link-problem">
          {link.partial ? (
            <>
              <strong>Parts of the shared link could not be used.</strong> Those fields keep the paper&rsquo;s values; the rest of the link is in the form.
            </>
          ) : (
            <>
              <strong>The shared link could not be opened.</strong> The form shows the quick demo instead.
            </>
          )}
          <ul>
            {link.issues.map((i) => (
              <li key={`${i.path}:${i.message}`}>
                <span className="mono">{i.path || 'spec'}</span>: {i.message}
              </li>
            ))}
          </ul>
          <button type="button" className="small" onClick={dismissLinkProblem}>
            Dismiss
          </button>
        </div>
      )}
      {storage && (
        <div className="notice notice-warn" role="alert">
          Storage: {storage}
        </div>
      )}
      {backend && (
        <div className="notice notice-error" role="alert">
          No compute backend could be started: {backend}
        </div>
      )}
    </div>
  );
}
