/**
 * The Node host's door to .npy datasets: a folder on disk becomes FileSources for the core
 * reader (src/core/npyDataset.ts), which does all matching, validation and reading.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { DatasetError, openNpyDataset, selectNpyDatasetFiles } from '../core/npyDataset.ts';
import type {
  DatasetQuestionError,
  NpyDataset,
  NpyLayout,
  NpyLayoutChoice,
  NpySplitName,
  OpenNpyOptions,
} from '../core/npyDataset.ts';
import { FileSource } from './fileSource.ts';

async function listFileNames(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name).sort();
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ENOTDIR') {
      throw new DatasetError(`${dir} is not a directory: give the folder that holds the .npy files`, { cause });
    }
    throw new DatasetError(`cannot read the dataset directory ${dir}: ${(cause as Error).message}`, { cause });
  }
}

async function closeAll(sources: readonly FileSource[]): Promise<void> {
  await Promise.all(sources.map((s) => s.close()));
}

async function openFiles(dir: string, names: readonly string[]): Promise<FileSource[]> {
  const opened: FileSource[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      opened.push(await FileSource.open(path));
    } catch (cause) {
      await closeAll(opened);
      throw new DatasetError(`cannot open ${path}: ${(cause as Error).message}`, { cause });
    }
  }
  return opened;
}

/**
 * Opens the .npy dataset in a folder. Only files whose names play a dataset role are
 * opened, so a folder may hold anything else. The caller must `close()` the result.
 */
export async function openNpyDirectory(dir: string, options: OpenNpyOptions = {}): Promise<NpyDataset> {
  const names = selectNpyDatasetFiles(await listFileNames(dir), dir);
  const sources = await openFiles(dir, names);
  try {
    return await openNpyDataset(sources, options);
  } catch (error) {
    await closeAll(sources);
    throw error;
  }
}

export const LAYOUT_OPTION_FORMS = 'NKD, KND, or one per split such as train=KND,test=NKD';

/** `--layout` as given on the command line, case-insensitive; null when it is not one of LAYOUT_OPTION_FORMS. */
export function parseLayoutOption(value: string): NpyLayoutChoice | null {
  const whole = value.trim().toUpperCase();
  if (whole === 'NKD' || whole === 'KND') return whole;
  const perSplit: Partial<Record<NpySplitName, NpyLayout>> = {};
  for (const part of value.split(',')) {
    const m = /^\s*(train|test)\s*=\s*(nkd|knd)\s*$/i.exec(part);
    if (m === null) return null;
    perSplit[m[1].toLowerCase() === 'train' ? 'train' : 'test'] = m[2].toUpperCase() === 'NKD' ? 'NKD' : 'KND';
  }
  return perSplit;
}

/**
 * The shortest `--layout` that answers `split` with `layout` without changing how the
 * other split is read.
 */
function answerFlag(error: DatasetQuestionError, split: NpySplitName, layout: NpyLayout): string {
  const otherName: NpySplitName = split === 'train' ? 'test' : 'train';
  const other = error.plan.splits[otherName];
  if (other.layout === null || other.layout === layout) return `--layout ${layout}`;
  const keepOther = other.decidedBy === 'override' ? `,${otherName}=${other.layout}` : '';
  return `--layout ${split}=${layout}${keepOther}`;
}

/** The questions of a DatasetQuestionError, each with the flags that answer it. */
export function explainQuestions(error: DatasetQuestionError): string {
  const lines = [`the layout of the dataset cannot be decided from its files; please answer:`];
  for (const q of error.questions) {
    lines.push(`  ${q.text}`, `    (${q.why})`);
    for (const c of q.choices) lines.push(`    ${answerFlag(error, q.split, c.layout).padEnd(30)} ${c.label}`);
  }
  return lines.join('\n');
}
