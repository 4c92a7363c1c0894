/**
 * `--data DIR` for Node hosts: a folder holds either a packed dataset (`train.arrow` +
 * `test.arrow`, written by `reward-lab pack`) or the published .npy files. The format is
 * read from the file names, and a folder holding both is refused rather than guessed at,
 * since a pack may be a subsample or float16 copy of the .npy files beside it.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { openArrowDataset, type ArrowDataset } from '../core/arrowFormat.ts';
import type { Dataset } from '../core/dataset.ts';
import { DatasetError } from '../core/datasetError.ts';
import type { NpyLayoutChoice } from '../core/npyDataset.ts';
import { FileSource } from './fileSource.ts';
import { openNpyDirectory } from './npyDataset.ts';

export const ARROW_TRAIN_FILE = 'train.arrow';
export const ARROW_TEST_FILE = 'test.arrow';

export interface OpenedData extends Dataset {
  readonly format: 'arrow' | 'npy';
  close(): Promise<void>;
}

export interface DataDirectoryOptions {
  /** Overrides the .npy layout the files imply (ignored for Arrow). */
  layout?: NpyLayoutChoice;
}

/** Opens DIR as an Arrow pack or a .npy dataset; the caller must `close()` the result. */
export async function openDataDirectory(dir: string, options: DataDirectoryOptions = {}): Promise<OpenedData> {
  // An unreadable folder falls through to the .npy opener, whose message names the problem.
  const names = await readdir(dir).catch(() => [] as string[]);
  const hasTrain = names.includes(ARROW_TRAIN_FILE);
  const hasTest = names.includes(ARROW_TEST_FILE);
  if (!hasTrain && !hasTest) {
    const npy = await openNpyDirectory(dir, options.layout !== undefined ? { layout: options.layout } : {});
    return Object.assign(npy, { format: 'npy' as const });
  }
  if (!(hasTrain && hasTest)) {
    throw new DatasetError(
      `${dir} holds ${hasTrain ? ARROW_TRAIN_FILE : ARROW_TEST_FILE} but no ${hasTrain ? ARROW_TEST_FILE : ARROW_TRAIN_FILE}; ` +
        `a packed dataset has both (see \`reward-lab pack\`)`,
    );
  }
  const npyFiles = names.filter((n) => /\.npy$/i.test(n));
  if (npyFiles.length > 0) {
    throw new DatasetError(
      `${dir} holds both a packed dataset (${ARROW_TRAIN_FILE}, ${ARROW_TEST_FILE}) and .npy files (${npyFiles.slice(0, 4).join(', ')}` +
        `${npyFiles.length > 4 ? ', …' : ''}); which one is meant is unclear: move one of them to its own folder`,
    );
  }
  const sources: FileSource[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(sources.map((s) => s.close()));
  };
  try {
    sources.push(await FileSource.open(join(dir, ARROW_TRAIN_FILE)));
    sources.push(await FileSource.open(join(dir, ARROW_TEST_FILE)));
    const ds: ArrowDataset = await openArrowDataset(sources[0], sources[1]);
    return { ...ds, format: 'arrow', close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
