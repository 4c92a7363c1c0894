import { describe, expect, it } from 'vitest';

import { applyTemplate, parseCsv, PromptSourceError, readCsvRows, readJsonlRows, toJsonl } from './pipelinePrompts.ts';

const src = { path: 'p', promptField: 'prompt', responseField: 'response' };

describe('prompt sources', () => {
  it('parses RFC 4180 CSV: quotes, commas, doubled quotes, newlines, CRLF, BOM', () => {
    const text = '\ufeffprompt,response\r\n"a, b","say ""hi"""\r\n"multi\nline",x\nplain,y\n';
    expect(parseCsv(text, 'f.csv')).toEqual([
      ['prompt', 'response'],
      ['a, b', 'say "hi"'],
      ['multi\nline', 'x'],
      ['plain', 'y'],
    ]);
    expect(() => parseCsv('a\n"open', 'f.csv')).toThrow(/f\.csv: a quoted field opened before line 2 is never closed/);
  });

  it('reads CSV rows by column name, with their source row as id', () => {
    const rows = readCsvRows('id,prompt,response\n7,hello,world\n8,"how, now",cow\n', src, 'f.csv', true);
    expect(rows).toEqual([
      { id: 0, prompt: 'hello', response: 'world' },
      { id: 1, prompt: 'how, now', response: 'cow' },
    ]);
    expect(() => readCsvRows('text\nx\n', src, 'f.csv', false)).toThrow('f.csv: no column "prompt" in the header (columns: text)');
    expect(readCsvRows('prompt\na\nb\nc\n', { ...src, limit: 2 }, 'f.csv', false).map((r) => r.prompt)).toEqual(['a', 'b']);
  });

  it('reads JSON lines and names the line of a bad one', () => {
    const ok = readJsonlRows('{"prompt":"a"}\n\n{"prompt":"b","x":1}\n', src, 'f.jsonl', false);
    expect(ok).toEqual([{ id: 0, prompt: 'a' }, { id: 1, prompt: 'b' }]);
    expect(() => readJsonlRows('{"prompt":"a"}\n{"prompt":', src, 'f.jsonl', false)).toThrow(/^f\.jsonl line 2 is not valid JSON/);
    expect(() => readJsonlRows('{"text":"a"}\n', src, 'f.jsonl', false)).toThrow('f.jsonl line 1: no "prompt" field');
    expect(() => readJsonlRows('{"prompt":"  "}\n', src, 'f.jsonl', false)).toThrow('f.jsonl line 1: "prompt" is empty');
    expect(() => readJsonlRows('{"prompt":"a","response":3}\n', src, 'f.jsonl', true)).toThrow('f.jsonl line 1: "response" is number, expected text');
    expect(() => readJsonlRows('[1]\n', src, 'f.jsonl', false)).toThrow(PromptSourceError);
  });

  it('applies the template once and writes JSON lines', () => {
    expect(applyTemplate('Human: {prompt}\n\nAssistant:', 'Hi {prompt}')).toBe('Human: Hi {prompt}\n\nAssistant:');
    expect(toJsonl([{ id: 3, prompt: 'a\nb' }])).toBe('{"id":3,"prompt":"a\\nb"}\n');
  });
});
