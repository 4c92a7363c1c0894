/**
 * Reading the pipeline's prompt sources (JSONL and CSV; Parquet is turned into JSONL by the
 * Python helper first) into the rows the workers read, and the prompt template. Pure: the
 * host reads the files and hands the text in.
 */
import type { PromptSource } from './pipelineConfig.ts';

export class PromptSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptSourceError';
  }
}

/** One row of a prepared prompt file: its index in the source and the model-ready text. */
export interface PreparedPrompt {
  /** 0-based row of the source (after the header, for CSV): the prompt_id of the packed data. */
  id: number;
  prompt: string;
  /** Demonstrations only. */
  response?: string;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Returns rows of fields. */
export function parseCsv(text: string, name: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let line = 1;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < src.length) {
    const c = src[i];
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        if (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') {
          throw new PromptSourceError(`${name}: line ${line}: unexpected character after a closing quote`);
        }
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field.length === 0) {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += c === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new PromptSourceError(`${name}: a quoted field opened before line ${line} is never closed`);
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

function pickText(value: unknown, field: string, where: string): string {
  if (typeof value !== 'string') {
    throw new PromptSourceError(
      value === undefined ? `${where}: no "${field}" field` : `${where}: "${field}" is ${value === null ? 'null' : typeof value}, expected text`,
    );
  }
  if (value.trim().length === 0) throw new PromptSourceError(`${where}: "${field}" is empty`);
  return value;
}

/** Rows of a JSON-lines source (objects, one per line; blank lines skipped). */
export function readJsonlRows(text: string, source: PromptSource, name: string, withResponse: boolean): PreparedPrompt[] {
  const out: PreparedPrompt[] = [];
  const lines = text.split('\n');
  let id = 0;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line.length === 0) continue;
    if (source.limit !== undefined && id >= source.limit) break;
    const where = `${name} line ${n + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new PromptSourceError(`${where} is not valid JSON: ${(e as Error).message}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new PromptSourceError(`${where}: expected a JSON object per line`);
    const rec = obj as Record<string, unknown>;
    const row: PreparedPrompt = { id, prompt: pickText(rec[source.promptField], source.promptField, where) };
    if (withResponse) row.response = pickText(rec[source.responseField], source.responseField, where);
    out.push(row);
    id++;
  }
  return out;
}

/** Rows of a CSV source with a header row naming the columns. */
export function readCsvRows(text: string, source: PromptSource, name: string, withResponse: boolean): PreparedPrompt[] {
  const rows = parseCsv(text, name);
  if (rows.length === 0) return [];
  const header = rows[0];
  const col = (field: string): number => {
    const at = header.indexOf(field);
    if (at < 0) throw new PromptSourceError(`${name}: no column "${field}" in the header (columns: ${header.join(', ')})`);
    return at;
  };
  const p = col(source.promptField);
  const r = withResponse ? col(source.responseField) : -1;
  const out: PreparedPrompt[] = [];
  for (let i = 1; i < rows.length; i++) {
    if (source.limit !== undefined && out.length >= source.limit) break;
    const where = `${name} row ${i}`;
    const row: PreparedPrompt = { id: i - 1, prompt: pickText(rows[i][p], source.promptField, where) };
    if (withResponse) row.response = pickText(rows[i][r], source.responseField, where);
    out.push(row);
  }
  return out;
}

/** The model's input for a prompt: the template with `{prompt}` replaced (once). */
export function applyTemplate(template: string, prompt: string): string {
  const at = template.indexOf('{prompt}');
  return template.slice(0, at) + prompt + template.slice(at + '{prompt}'.length);
}

/** Prepared rows as JSON lines, ready for the workers. */
export function toJsonl(rows: readonly PreparedPrompt[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}

export interface PromptStats {
  count: number;
  meanChars: number;
}

export function promptStats(rows: readonly PreparedPrompt[]): PromptStats {
  let chars = 0;
  for (const r of rows) chars += r.prompt.length + (r.response?.length ?? 0);
  return { count: rows.length, meanChars: rows.length > 0 ? chars / rows.length : 0 };
}
