/**
 * Input a dataset reader cannot use: a missing or malformed file, shapes that disagree,
 * non-finite values. The message is written for the person who supplied the files, so
 * hosts show it as is; it never means a bug in Reward Lab.
 */
export class DatasetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
  }
}
