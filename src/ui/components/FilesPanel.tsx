import { useState, type DragEvent } from 'react';
import { NPY_LAYOUT_SHAPES, type NpyLayout } from '../../core/npyDataset.ts';
import type { FilePlan, FilesProgress, PlannedSplit, SplitName } from '../../worker/protocol.ts';
import { dropEntries, filesFromDrop } from '../dropFiles.ts';
import { MIN_MEMORY_CAP_BYTES } from '../filesSlice.ts';
import { duration, int } from '../format.ts';
import { bytes, ioParts } from '../ioFormat.ts';
import { useActions, useLab } from '../storeContext.tsx';
import '../files.css';

const SPLITS: readonly SplitName[] = ['train', 'test'];
const MIB = 1 << 20;

/**
 * Opening dataset files: pick files or a folder (or drop them), see what they hold and how
 * they pair up before anything is loaded, answer layout questions, load, and get back to the demo.
 */
export function FilesPanel() {
  const files = useLab((s) => s.files);
  const namedId = useLab((s) => (s.draft.dataset.kind === 'files' ? s.draft.dataset.id : null));
  const runBusy = useLab((s) => s.run.status === 'running' || s.run.status === 'cancelling');
  const { pickFiles, openFiles, cancelFilesTask, closeFiles, runOnOpenedFiles } = useActions();
  const [dragging, setDragging] = useState(false);
  const { plan, opened, task } = files;
  const busy = task !== null || runBusy;
  const openedId = opened?.value.plan.id ?? null;
  const pick = (list: FileList | null) => {
    if (list && list.length > 0) void pickFiles(Array.from(list));
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (busy) return;
    const drop = dropEntries(e.dataTransfer);
    void filesFromDrop(drop).then((list) => {
      if (list.length > 0) void pickFiles(list);
    });
  };
  const planned = plan.status === 'ready' ? plan.value : null;
  const canLoad = planned !== null && planned.questions.length === 0 && !busy;

  return (
    <section className="panel files-panel" aria-labelledby="files-title" data-testid="files-panel">
      <div className="panel-head">
        <h2 id="files-title">Dataset files</h2>
        {openedId && <span className="badge badge-loaded">loaded: {openedId}</span>}
      </div>
      <p className="muted">
        The published embeddings as <span className="mono">.npy</span> pairs in either layout (<span className="mono">embd_…/reward_…</span> (N, K, D) or{' '}
        <span className="mono">EMBD-…/REWARD-…</span> (K, N, D)), or a Reward Lab pack (<span className="mono">train.arrow</span> +{' '}
        <span className="mono">test.arrow</span>). The files stay on this machine: the engine reads them in chunks, never whole, and never uploads them.
      </p>
      {namedId !== null && namedId !== openedId && (
        <p className="notice notice-warn" data-testid="files-needed">
          This spec names the dataset files <strong className="mono">{namedId}</strong>. Links and past runs carry the settings, never the data: pick the
          files again to run it.
        </p>
      )}
      <div
        className={dragging ? 'file-drop is-dragging' : 'file-drop'}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="file-drop"
      >
        <label className={busy ? 'file-button is-disabled' : 'file-button'}>
          Choose files…
          <input type="file" multiple accept=".npy,.arrow" className="sr-only" disabled={busy} data-testid="pick-files" onChange={(e) => pick(e.target.files)} />
        </label>
        <label className={busy ? 'file-button is-disabled' : 'file-button'}>
          Choose a folder…
          <input
            type="file"
            className="sr-only"
            disabled={busy}
            data-testid="pick-folder"
            ref={(el) => {
              if (el) el.webkitdirectory = true;
            }}
            onChange={(e) => pick(e.target.files)}
          />
        </label>
        <span className="muted">or drop files or a folder here</span>
        <MemoryCap />
      </div>
      {plan.status === 'loading' && <p className="muted" role="status">Reading the files&rsquo; headers…</p>}
      {plan.status === 'error' && (
        <p className="field-error files-error" role="alert" data-testid="files-error">
          {plan.error}
        </p>
      )}
      {planned && <PlanView plan={planned} disabled={busy} />}
      {task?.kind === 'open' && (
        <FilesTaskProgress label="Loading" progress={task.progress} onCancel={cancelFilesTask} testId="files-progress" />
      )}
      {files.openError && (
        <p className="field-error files-error" role="alert" data-testid="files-error">
          {files.openError}
        </p>
      )}
      <div className="files-actions">
        {planned && (
          <button type="button" className="primary" disabled={!canLoad} onClick={() => void openFiles()} data-testid="load-files">
            {openedId && openedId !== planned.id ? `Load ${planned.id} (replaces ${openedId})` : openedId === planned.id ? 'Load again' : 'Load dataset'}
          </button>
        )}
        {planned && planned.questions.length > 0 && <span className="field-error">Answer the layout question{planned.questions.length > 1 ? 's' : ''} above to load.</span>}
        {opened && (
          <button type="button" onClick={closeFiles} disabled={busy} data-testid="close-files">
            Use the demo instead
          </button>
        )}
      </div>
      {opened && (
        <p className="files-loaded" role="status" data-testid="files-loaded">
          Loaded <strong className="mono">{opened.value.plan.id}</strong> in {duration(opened.value.openMs)} ({bytes(opened.value.bytesRead)} read: headers and
          rewards; the embeddings stay in the files).{' '}
          {namedId === openedId ? (
            'Experiments now run on it.'
          ) : (
            <>
              The spec runs on another dataset.{' '}
              <button type="button" className="small" onClick={runOnOpenedFiles} disabled={busy} data-testid="use-files">
                Run on {openedId}
              </button>
            </>
          )}
        </p>
      )}
    </section>
  );
}

function MemoryCap() {
  const cap = useLab((s) => s.files.memoryCapBytes);
  const { setMemoryCap } = useActions();
  const [text, setText] = useState(String(cap / MIB));
  const value = Number(text);
  const bad = !(Number.isFinite(value) && value * MIB >= MIN_MEMORY_CAP_BYTES);
  return (
    <div className="memory-cap">
      <label htmlFor="memory-cap">Memory cap for embeddings (MiB)</label>
      <input
        id="memory-cap"
        type="text"
        inputMode="numeric"
        value={text}
        aria-invalid={bad ? true : undefined}
        aria-describedby="memory-cap-hint"
        data-testid="memory-cap"
        onChange={(e) => {
          setText(e.target.value);
          const v = Number(e.target.value);
          if (Number.isFinite(v)) setMemoryCap(v * MIB);
        }}
      />
      <span id="memory-cap-hint" className="field-hint">
        {bad ? `at least ${MIN_MEMORY_CAP_BYTES / MIB} MiB` : 'training rows and one scoring chunk; default 1024'}
      </span>
    </div>
  );
}

function PlanView({ plan, disabled }: { plan: FilePlan; disabled: boolean }) {
  return (
    <div className="files-plan" data-testid="files-plan" data-format={plan.format}>
      <p>
        {plan.format === 'npy' ? '.npy dataset' : 'Reward Lab Arrow pack'} <strong className="mono">{plan.id}</strong>
        {plan.info.task !== 'unknown' ? ` · task ${plan.info.task}` : ' · task unknown (use the std reward scale)'}
        {plan.info.generator ? ` · generator ${plan.info.generator}` : ''}
        {plan.info.embedder ? ` · embedder ${plan.info.embedder}` : ''}
      </p>
      <div className="table-scroll">
        <table className="plan-table" aria-label="How the files pair up">
          <thead>
            <tr>
              <th scope="col">Split</th>
              <th scope="col">Holds</th>
              <th scope="col">File</th>
              <th scope="col">Shape</th>
              <th scope="col">dtype</th>
              <th scope="col" className="num">Size</th>
            </tr>
          </thead>
          <tbody>
            {plan.files.map((f) => (
              <tr key={f.name} data-testid={`plan-${f.split}-${f.role}`}>
                <td>{f.split}</td>
                <td>{f.role === 'split' ? 'embeddings + rewards' : f.role}</td>
                <td className="mono file-name">{f.name}</td>
                <td className="mono">({f.shape.join(', ')})</td>
                <td className="mono">{f.dtype}</td>
                <td className="num">{bytes(f.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {SPLITS.map((split) => (
        <SplitLayout key={split} plan={plan} split={plan.splits[split]} disabled={disabled} />
      ))}
      {plan.ignored.length > 0 && (
        <p className="muted" data-testid="files-ignored">
          Ignored {plan.ignored.length === 1 ? 'a file that plays' : `${plan.ignored.length} files that play`} no dataset role:{' '}
          <span className="mono">{plan.ignored.slice(0, 12).join(', ')}</span>
          {plan.ignored.length > 12 ? ', …' : ''}
        </p>
      )}
    </div>
  );
}

const DECIDED: Record<NonNullable<PlannedSplit['decidedBy']>, string> = {
  evidence: 'detected',
  override: 'set by you',
  format: 'fixed by the format',
};

function SplitLayout({ plan, split, disabled }: { plan: FilePlan; split: PlannedSplit; disabled: boolean }) {
  const selection = useLab((s) => s.files.selection);
  const { setLayout } = useActions();
  const question = plan.questions.find((q) => q.split === split.split) ?? null;
  const chosen = typeof selection?.layout === 'string' ? selection.layout : (selection?.layout?.[split.split] ?? null);
  const name = `layout-${split.split}`;
  const dims = split.prompts !== null ? `${int(split.prompts)} prompts × ${int(split.responsesPerPrompt ?? 0)} responses, D = ${split.dim}` : `D = ${split.dim}`;
  return (
    <div className={question ? 'split-layout has-question' : 'split-layout'} data-testid={`layout-${split.split}`} data-layout={split.layout ?? 'open'}>
      <p>
        <strong>{split.split === 'train' ? 'Train' : 'Test'} split:</strong> {dims}.{' '}
        {split.layoutText ? (
          <>
            Layout <span className="mono">{split.layoutText}</span>, {split.decidedBy ? DECIDED[split.decidedBy] : ''}
          </>
        ) : (
          <>Layout undecided</>
        )}
        {split.decidedBy === 'evidence' || split.decidedBy === 'override' ? <span className="muted"> — {split.reason}</span> : null}
        {split.decidedBy === 'format' ? <span className="muted"> — {split.reason}</span> : null}
      </p>
      {split.evidence.length > 0 && (
        <details className="evidence">
          <summary>Evidence</summary>
          <ul>
            {split.evidence.map((c) => (
              <li key={c.kind}>
                <strong>{c.kind}</strong>: {c.layout ? <span className="mono">{NPY_LAYOUT_SHAPES[c.layout]}</span> : 'no answer'} — {c.detail}
              </li>
            ))}
          </ul>
        </details>
      )}
      {plan.format === 'npy' && (
        <fieldset className="layout-choice" disabled={disabled}>
          <legend>{question ? question.text : `Read the ${split.split} files as`}</legend>
          {question && <p className="question-why">{question.why}</p>}
          <div className="radio-row radio-row-3">
            {!question && (
              <label className={chosen === null ? 'radio is-checked' : 'radio'}>
                <input type="radio" name={name} checked={chosen === null} onChange={() => void setLayout(split.split, null)} />
                <span className="radio-label">as detected</span>
                <span className="radio-detail">from names, shapes and rank order</span>
              </label>
            )}
            {/* A question lists the likelier answer first. */}
            {(question ? question.choices.map((c) => c.layout) : (['NKD', 'KND'] as const satisfies readonly NpyLayout[])).map((layout) => {
              const label = question?.choices.find((c) => c.layout === layout)?.label;
              return (
                <label key={layout} className={chosen === layout ? 'radio is-checked' : 'radio'}>
                  <input type="radio" name={name} value={layout} checked={chosen === layout} onChange={() => void setLayout(split.split, layout)} />
                  <span className="radio-label">{NPY_LAYOUT_SHAPES[layout]}</span>
                  <span className="radio-detail">{label ?? (layout === 'NKD' ? 'prompt-major (embd_…)' : 'response-major (EMBD-…)')}</span>
                </label>
              );
            })}
          </div>
        </fieldset>
      )}
    </div>
  );
}

export function FilesTaskProgress({ label, progress, onCancel, testId }: { label: string; progress: FilesProgress | null; onCancel: () => void; testId: string }) {
  const io = progress?.io;
  const fraction = io && io.bytesTotal ? Math.min(1, io.bytesRead / io.bytesTotal) : null;
  return (
    <div className="files-progress" data-testid={testId}>
      <div className="progress-label">
        <span>
          {label}
          {progress?.message ? `: ${progress.message}` : '…'}
        </span>
        {fraction !== null && <span>{Math.round(fraction * 100)}%</span>}
      </div>
      <progress max={1} value={fraction ?? undefined} aria-label={`${label} progress`} />
      <div className="progress-detail" aria-live="polite">
        {io ? ioParts(io).join(' · ') : 'starting…'}
        <button type="button" className="small" onClick={onCancel} data-testid={`${testId}-cancel`}>
          Cancel
        </button>
      </div>
    </div>
  );
}
