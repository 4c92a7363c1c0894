/**
 * The spec in the URL, Playground-style: `#v=1&annotation.beta=0.5&model.hidden=128,64`.
 * Only fields that differ from the paper defaults are written, so links stay short and read
 * like a list of what the experiment changed. The hash never reaches a server.
 */
import { defaultSpec, safeParseSpec, type ExperimentSpec, type SpecIssue } from '../core/spec.ts';

const URL_FORMAT_VERSION = '1';
const VERSION_KEY = 'v';

export type Leaf = number | string | boolean | number[];

/** Leaf values by dotted path; arrays are leaves (the spec's arrays are lists of numbers). */
export function flattenSpec(value: unknown, prefix = '', out = new Map<string, Leaf>()): Map<string, Leaf> {
  if (Array.isArray(value)) {
    out.set(prefix, value.map(Number));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) flattenSpec(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    out.set(prefix, value);
  }
  return out;
}

function sameLeaf(a: Leaf | undefined, b: Leaf | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  return Object.is(a, b);
}

/** The fields of `spec` that differ from `base`, plus the `kind` of every union object they sit in. */
export function specDiff(spec: ExperimentSpec, base: ExperimentSpec = defaultSpec()): Map<string, Leaf> {
  const mine = flattenSpec(spec);
  const theirs = flattenSpec(base);
  const out = new Map<string, Leaf>();
  for (const [path, value] of mine) {
    if (sameLeaf(value, theirs.get(path))) continue;
    // A discriminated union (dataset, scale) only parses with its `kind`, so it travels along.
    const parts = path.split('.');
    for (let i = 1; i < parts.length; i++) {
      const kindPath = [...parts.slice(0, i), 'kind'].join('.');
      const kind = mine.get(kindPath);
      if (kind !== undefined) out.set(kindPath, kind);
    }
    out.set(path, value);
  }
  return out;
}

const encodeLeaf = (value: Leaf) => (Array.isArray(value) ? value.map(String).join(',') : encodeURIComponent(String(value)));

export function specToHash(spec: ExperimentSpec): string {
  const parts = [`${VERSION_KEY}=${URL_FORMAT_VERSION}`];
  for (const [path, value] of specDiff(spec)) parts.push(`${path}=${encodeLeaf(value)}`);
  return `#${parts.join('&')}`;
}

export type HashSpec =
  | { kind: 'none' }
  | { kind: 'ok'; spec: ExperimentSpec }
  /** Some fields were unusable: the spec has the paper's values there, and `issues` says which and why. */
  | { kind: 'partial'; spec: ExperimentSpec; issues: SpecIssue[] }
  | { kind: 'invalid'; issues: SpecIssue[] };

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** Fields that exist only in a variant the paper defaults do not use (a custom scale, a file dataset). */
const VARIANT_FIELDS = ['annotation.scale.value', 'dataset.id', 'dataset.subsample.trainPrompts', 'dataset.subsample.testPrompts', 'dataset.subsample.seed'];

/** Reads a spec from a location hash; `none` when the hash carries no spec at all. */
export function specFromHash(hash: string): HashSpec {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const version = params.get(VERSION_KEY);
  if (version === null) return { kind: 'none' };
  if (version !== URL_FORMAT_VERSION) {
    return { kind: 'invalid', issues: [{ path: VERSION_KEY, message: `unknown link format v=${version} (this app reads v=${URL_FORMAT_VERSION})` }] };
  }
  const defaults = flattenSpec(defaultSpec());
  const known = new Set([...defaults.keys(), ...VARIANT_FIELDS]);
  const entries: [string, Leaf][] = [];
  const issues: SpecIssue[] = [];
  for (const [path, raw] of params) {
    if (path === VERSION_KEY) continue;
    if (!known.has(path) || path.split('.').some((k) => FORBIDDEN_KEYS.has(k))) issues.push({ path, message: 'not a spec field' });
    else entries.push([path, decodeLeaf(raw, defaults.get(path))]);
  }
  const built = build(entries);
  issues.push(...built.issues);
  const parsed = safeParseSpec(built.root);
  if (parsed.ok) return issues.length ? { kind: 'partial', spec: parsed.spec, issues } : { kind: 'ok', spec: parsed.spec };
  // Keep what can be kept: drop the fields the schema refused and read the rest again.
  const refused = parsed.issues.map((i) => fieldOf(i.path, entries));
  const retry = safeParseSpec(build(entries.filter(([path]) => !refused.some((r) => r !== null && (path === r || path.startsWith(`${r}.`))))).root);
  const all = [...issues, ...parsed.issues];
  return retry.ok && !refused.includes(null) ? { kind: 'partial', spec: retry.spec, issues: all } : { kind: 'invalid', issues: all };
}

/** The link field an issue is about: the issue's path or the nearest field above it (a list entry belongs to its list). */
function fieldOf(issuePath: string, entries: readonly [string, Leaf][]): string | null {
  const parts = issuePath.split('.');
  for (let i = parts.length; i > 0; i--) {
    const candidate = parts.slice(0, i).join('.');
    if (entries.some(([path]) => path === candidate || path.startsWith(`${candidate}.`))) return candidate;
  }
  return null;
}

function build(entries: readonly [string, Leaf][]): { root: Record<string, unknown>; issues: SpecIssue[] } {
  const root: Record<string, unknown> = {};
  const issues: SpecIssue[] = [];
  for (const [path, value] of entries) {
    if (!setPath(root, path.split('.'), value)) issues.push({ path, message: 'conflicts with another field of the link' });
  }
  return { root, issues };
}

/** Types a URL value by the default at its path; paths without a default (e.g. a custom scale's value) by its look. */
function decodeLeaf(raw: string, template: Leaf | undefined): Leaf {
  if (Array.isArray(template)) return raw === '' ? [] : raw.split(',').map((t) => (t.trim() === '' ? NaN : Number(t)));
  if (typeof template === 'number') return raw.trim() === '' ? NaN : Number(raw);
  if (typeof template === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (typeof template === 'string') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
}

function setPath(root: Record<string, unknown>, keys: string[], value: Leaf): boolean {
  let node = root;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : (node[key] = {});
    if (next === null || typeof next !== 'object' || Array.isArray(next)) return false;
    node = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (Object.hasOwn(node, last)) return false;
  node[last] = value;
  return true;
}
