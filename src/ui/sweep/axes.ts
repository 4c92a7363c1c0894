/**
 * The spec fields a sweep can vary from the app, how each is edited (a choice among named
 * values, or a list of numbers) and how its values read in tables, legends and file names.
 */
import type { AxisValue } from '../../core/sweep.ts';

export interface ChoiceAxis {
  path: string;
  label: string;
  kind: 'choice';
  options: readonly { value: string; label: string }[];
  defaults: readonly string[];
}

export interface NumberAxis {
  path: string;
  label: string;
  kind: 'number';
  integer: boolean;
  /** Values must be > 0 (budgets, sizes, rates); β only needs to be non-zero. */
  positive: boolean;
  defaults: readonly number[];
}

export type AxisDef = ChoiceAxis | NumberAxis;

const choice = (path: string, label: string, options: [string, string][], defaults: string[]): ChoiceAxis => ({
  path,
  label,
  kind: 'choice',
  options: options.map(([value, l]) => ({ value, label: l })),
  defaults,
});
const numbers = (path: string, label: string, defaults: number[], integer: boolean, positive = true): NumberAxis => ({ path, label, kind: 'number', integer, positive, defaults });

export const OBJECTIVE_PATH = 'model.objective';

export const AXES: readonly AxisDef[] = [
  choice(OBJECTIVE_PATH, 'Objective', [['bt-mlp', 'BT-MLP'], ['clf-mlp', 'CLF-MLP'], ['clf-gbdt', 'CLF-GBDT']], ['bt-mlp', 'clf-mlp']),
  numbers('annotation.beta', 'β (annotation quality)', [0.5, 10], false, false),
  numbers('annotation.budget', 'Budget (pairs)', [1000, 2000, 4000], true),
  choice('annotation.pairing.candidates', 'Pair candidates', [['random', 'random'], ['similar', 'similar'], ['diversified', 'diversified']], ['random', 'similar', 'diversified']),
  choice('annotation.pairing.scope', 'Pair scope', [['same-prompt', 'same-prompt'], ['cross-prompt', 'cross-prompt']], ['same-prompt', 'cross-prompt']),
  choice('annotation.scale.kind', 'Reward scale', [['task', 'task constant'], ['std', 'reward std']], ['task', 'std']),
  numbers('model.ensemble.size', 'Ensemble size', [1, 5], true),
  choice('model.ensemble.aggregation', 'Ensemble aggregation', [['first', 'first'], ['mean', 'mean'], ['min', 'min']], ['first', 'mean', 'min']),
  numbers('model.training.lr', 'Learning rate', [1e-3, 3e-3], false),
  choice('model.training.split', 'Validation split', [['rows', 'by row'], ['pairs', 'by pair']], ['rows', 'pairs']),
  choice('model.training.epochMode', 'Epoch mode', [['random-subsets', 'subsets'], ['passes', 'passes']], ['random-subsets', 'passes']),
  numbers('model.gbdt.trees', 'GBDT trees', [50, 100], true),
  numbers('model.gbdt.leaves', 'GBDT leaves', [15, 31], true),
];

export function axisDef(path: string): AxisDef | undefined {
  return AXES.find((a) => a.path === path);
}

/** The short name of an axis: its label in the catalogue, else the last part of its path. */
export function axisLabel(path: string): string {
  return axisDef(path)?.label ?? path.split('.').at(-1) ?? path;
}

/** The label without its explanation in brackets, for table heads and legends: "β (annotation quality)" → "β". */
export function axisShort(path: string): string {
  return axisLabel(path).replace(/ \(.*\)$/, '');
}

/** How one value of an axis reads: the option's label for choices, the number as typed for numbers. */
export function valueLabel(path: string, value: AxisValue): string {
  const def = axisDef(path);
  if (def?.kind === 'choice') return def.options.find((o) => o.value === value)?.label ?? String(value);
  if (path === 'annotation.beta' && typeof value === 'number' && value < 0) return 'perfect';
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A line's name in a chart legend: the values of the other axes, e.g. "CLF-MLP · cross-prompt". */
export function comboLabel(axes: Record<string, AxisValue>): string {
  const parts = Object.entries(axes).map(([path, value]) => {
    const def = axisDef(path);
    const v = valueLabel(path, value);
    return def?.kind === 'choice' && path === OBJECTIVE_PATH ? v : `${axisShort(path)} ${v}`;
  });
  return parts.join(' · ') || 'all cells';
}

/** Reads "0.5, 1 10" as numbers; the first unreadable entry otherwise. */
export function parseValues(text: string, axis: NumberAxis): { ok: true; values: number[] } | { ok: false; message: string } {
  const tokens = text.split(/[\s,;]+/).filter(Boolean);
  if (tokens.length === 0) return { ok: false, message: 'give at least one value' };
  const values: number[] = [];
  for (const t of tokens) {
    const n = Number(t);
    if (!Number.isFinite(n)) return { ok: false, message: `"${t}" is not a number` };
    if (axis.integer && !Number.isInteger(n)) return { ok: false, message: `${t} is not a whole number` };
    if (axis.positive && n <= 0) return { ok: false, message: `${t} must be > 0` };
    values.push(n);
  }
  if (new Set(values).size !== values.length) return { ok: false, message: 'a value is listed twice' };
  return { ok: true, values };
}

export function parseSeeds(text: string): { ok: true; values: number[] } | { ok: false; message: string } {
  const r = parseValues(text, { path: 'seeds', label: 'Seeds', kind: 'number', integer: true, positive: false, defaults: [] });
  return r;
}
