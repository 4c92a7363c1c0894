import { duration } from '../format.ts';
import { demoSizeIssue } from '../specEdit.ts';
import { useLab } from '../storeContext.tsx';
import { DatasetInspector } from './DatasetInspector.tsx';

/** The dataset the experiment runs on: what it is, how big, and how its rewards and labels behave. */
export function DatasetPanel() {
  const isFiles = useLab((s) => s.draft.dataset.kind === 'files');
  return isFiles ? <FilesDataset /> : <DemoDataset />;
}

function FilesDataset() {
  const id = useLab((s) => (s.draft.dataset.kind === 'files' ? s.draft.dataset.id : ''));
  const opened = useLab((s) => s.files.opened);
  const value = opened?.value.plan.id === id ? opened.value : null;
  return (
    <section className="panel" aria-labelledby="dataset-title" data-testid="dataset-panel" data-kind="files">
      <div className="panel-head">
        <h2 id="dataset-title">
          Dataset <span className="mono">{id}</span>
        </h2>
        {value && <span className="badge badge-loaded">{value.plan.format === 'npy' ? '.npy files' : 'Arrow pack'}</span>}
      </div>
      {value ? (
        <>
          <p className="lede">{value.inspection.info.description}</p>
          <DatasetInspector
            inspection={value.inspection}
            plan={value.plan}
            fileStem={id}
            extra={{ term: 'Loaded in', value: `${duration(value.openMs)}, in the worker` }}
          />
        </>
      ) : (
        <p className="muted">The files of this dataset are not open in this tab. Pick them under Dataset files to inspect and run it.</p>
      )}
    </section>
  );
}

function DemoDataset() {
  const dataset = useLab((s) => s.dataset);
  const tooBig = useLab((s) => (s.draft.dataset.kind === 'demo' ? (demoSizeIssue(s.draft.dataset)?.message ?? null) : null));
  const d = dataset.value;
  return (
    <section className="panel" aria-labelledby="dataset-title" data-testid="dataset-panel" data-kind="demo" aria-busy={dataset.status === 'loading'}>
      <div className="panel-head">
        <h2 id="dataset-title">
          Dataset {d && <span className="mono">{d.info.id}</span>}
        </h2>
        {d?.info.synthetic && <span className="badge badge-synthetic">synthetic</span>}
      </div>
      {dataset.status === 'error' && (
        <p className="field-error" role="alert">
          The dataset could not be built: {dataset.error}
        </p>
      )}
      {tooBig && (
        <p className="field-error" role="alert">
          Not built: {tooBig}.
        </p>
      )}
      {!d && !tooBig && dataset.status !== 'error' && <p className="muted">Building the demo dataset…</p>}
      {d && !tooBig && (
        <>
          <p className="lede">
            A made-up world where the <strong>golden reward is known exactly</strong>: each response is a point in a hidden 16-dimensional space, its
            reward a fixed nonlinear function of that point plus a per-prompt offset, and its &ldquo;LLM embedding&rdquo; a noisy random projection of
            the point. A reward model sees only embeddings and pairwise labels, so how well it recovers the golden reward can be measured exactly. It
            stands in for real embedding files; its numbers show the paper&rsquo;s effects, not its values.
          </p>
          <DatasetInspector inspection={d.inspection} plan={null} fileStem={d.info.id} extra={{ term: 'Built in', value: `${duration(d.buildMs)}, in the worker` }} />
        </>
      )}
    </section>
  );
}
