import { useMemo, useState } from 'react';
import { useLab } from '../storeContext.tsx';
import { runLabel } from '../runSummary.ts';
import { AXES, axisDef, parseSeeds, parseValues, type AxisDef, type NumberAxis } from './axes.ts';
import { checkGrid, sweepFromDraft, type AxisDraft } from './sweepData.ts';
import { useSweep, useSweepActions } from './sweepContext.tsx';
import { isSweepBusy } from './sweepStore.ts';

/** Axes (fields with lists of values) and seeds over the spec in the form; Start runs the grid. */
export function SweepEditor() {
  const draft = useSweep((s) => s.draft);
  const busy = useSweep((s) => isSweepBusy(s.active?.status));
  const validation = useLab((s) => s.validation);
  const labBusy = useLab((s) => s.run.status === 'running' || s.run.status === 'cancelling');
  const { editDraft, begin, openFiles } = useSweepActions();
  const [textErrors, setTextErrors] = useState<Record<string, string>>({});

  const base = validation.ok ? validation.spec : null;
  const check = useMemo(() => (base ? checkGrid(sweepFromDraft(draft, base), openFiles()?.shape ?? null) : null), [draft, base, openFiles]);
  const unused = AXES.filter((a) => !draft.axes.some((x) => x.path === a.path));
  const textIssues = Object.values(textErrors);
  const canStart = check?.ok === true && textIssues.length === 0 && !busy && !labBusy;
  const cellCount = check ? (check.ok ? check.cells.length : check.cellCount) : null;

  const setAxis = (i: number, axis: AxisDraft) => editDraft((d) => ({ ...d, axes: d.axes.map((a, j) => (j === i ? axis : a)) }));
  const setError = (key: string, message: string | null) =>
    setTextErrors((e) => {
      const next = { ...e };
      if (message === null) delete next[key];
      else next[key] = message;
      return next;
    });

  return (
    <div className="sweep-editor" data-testid="sweep-editor">
      <p className="muted">
        Base: the spec in the form{base ? <> — <strong>{runLabel(base)}</strong></> : null}. Each axis replaces one of its fields with each of its values; every combination runs once per seed.
      </p>
      {!base && <p className="field-error">Fix the form&apos;s problems first: the sweep varies a valid spec.</p>}
      <div className="axis-list">
        {draft.axes.map((axis, i) => {
          const def = axisDef(axis.path);
          return (
            <fieldset key={axis.path} className="axis-row" data-path={axis.path}>
              <legend className="sr-only">Axis {i + 1}</legend>
              <label className="axis-field">
                <span>Field</span>
                <select
                  value={axis.path}
                  aria-label={`Axis ${i + 1} field`}
                  onChange={(e) => {
                    const next = axisDef(e.target.value);
                    if (next) setAxis(i, { path: next.path, values: [...next.defaults] });
                    setError(axis.path, null);
                  }}
                >
                  {[def, ...unused].filter((a): a is AxisDef => a !== undefined).map((a) => (
                    <option key={a.path} value={a.path}>
                      {a.label}
                    </option>
                  ))}
                </select>
              </label>
              <div className="axis-values">
                {def?.kind === 'choice' ? (
                  <div role="group" aria-label={`${def.label} values`} className="choice-row">
                    {def.options.map((o) => (
                      <label key={o.value} className="choice">
                        <input
                          type="checkbox"
                          checked={axis.values.includes(o.value)}
                          onChange={(e) => {
                            const on = e.target.checked;
                            setAxis(i, { ...axis, values: def.options.map((x) => x.value).filter((v) => (v === o.value ? on : axis.values.includes(v))) });
                          }}
                        />
                        {o.label}
                      </label>
                    ))}
                  </div>
                ) : def ? (
                  <ValuesField
                    label={`${def.label} values`}
                    values={axis.values as number[]}
                    parse={(text) => parseValues(text, def as NumberAxis)}
                    onValues={(values) => setAxis(i, { ...axis, values })}
                    onError={(m) => setError(axis.path, m)}
                  />
                ) : (
                  <span className="mono">{JSON.stringify(axis.values)}</span>
                )}
              </div>
              <button
                type="button"
                className="small danger"
                aria-label={`Remove axis ${def?.label ?? axis.path}`}
                onClick={() => {
                  setError(axis.path, null);
                  editDraft((d) => ({ ...d, axes: d.axes.filter((_, j) => j !== i) }));
                }}
              >
                Remove
              </button>
            </fieldset>
          );
        })}
      </div>
      <div className="editor-row">
        <button type="button" className="small" disabled={unused.length === 0} onClick={() => editDraft((d) => ({ ...d, axes: [...d.axes, { path: unused[0].path, values: [...unused[0].defaults] }] }))}>
          Add axis
        </button>
        <ValuesField label="Seeds" values={draft.seeds} parse={parseSeeds} onValues={(seeds) => editDraft((d) => ({ ...d, seeds }))} onError={(m) => setError('seeds', m)} inline />
        <label className="inline-field">
          <span>Name</span>
          <input type="text" value={draft.name} onChange={(e) => editDraft((d) => ({ ...d, name: e.target.value }))} aria-label="Sweep name" />
        </label>
      </div>
      <div className="editor-row">
        <button type="button" className="primary" disabled={!canStart} onClick={() => check?.ok && void begin(check.spec)} data-testid="start-sweep">
          Start sweep
        </button>
        <span className="muted" data-testid="grid-size">
          {cellCount === null ? '' : `${cellCount} cell${cellCount === 1 ? '' : 's'}: ${draft.axes.map((a) => a.values.length).join(' × ') || '1'} × ${draft.seeds.length} seed${draft.seeds.length === 1 ? '' : 's'}`}
        </span>
        {busy && <span className="muted">A sweep is running.</span>}
        {labBusy && <span className="muted">A single run is using the engine.</span>}
      </div>
      {(textIssues.length > 0 || (check && !check.ok)) && (
        <div className="issue-list" role="alert">
          <p>The grid cannot run yet:</p>
          <ul>
            {textIssues.map((m) => (
              <li key={m}>{m}</li>
            ))}
            {check && !check.ok && check.issues.slice(0, 8).map((i) => <li key={`${i.path}:${i.message}`}>{i.message}</li>)}
          </ul>
        </div>
      )}
    </div>
  );
}

interface ValuesFieldProps {
  label: string;
  values: readonly number[];
  parse: (text: string) => { ok: true; values: number[] } | { ok: false; message: string };
  onValues: (values: number[]) => void;
  onError: (message: string | null) => void;
  inline?: boolean;
}

/** A list of numbers typed as "0.5, 1, 10": keeps the text as typed, reports what it cannot read. */
function ValuesField({ label, values, parse, onValues, onError, inline }: ValuesFieldProps) {
  const [text, setText] = useState(values.join(', '));
  const [error, setError] = useState<string | null>(null);
  return (
    <label className={inline ? 'inline-field' : 'values-field'}>
      <span>{label}</span>
      <input
        type="text"
        value={text}
        aria-invalid={error ? true : undefined}
        spellCheck={false}
        autoComplete="off"
        onChange={(e) => {
          setText(e.target.value);
          const r = parse(e.target.value);
          const message = r.ok ? null : `${label}: ${r.message}`;
          setError(message);
          onError(message);
          if (r.ok) onValues(r.values);
        }}
      />
    </label>
  );
}
