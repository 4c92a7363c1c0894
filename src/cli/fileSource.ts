import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ByteSource } from '../core/bytes.ts';

/** A file on disk as a ByteSource: positional reads on one open handle. */
export class FileSource implements ByteSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly name: string,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileSource> {
    const fh = await open(path, 'r');
    try {
      return new FileSource(fh, basename(path), (await fh.stat()).size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async read(offset: number, length: number, _signal?: AbortSignal, target?: Uint8Array): Promise<Uint8Array> {
    // Straight into the caller's buffer when it gives one: no allocation and no second copy.
    const into = target?.subarray(0, length) ?? new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(into, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new RangeError(`${this.name} ended at byte ${offset + done} while reading ${length} bytes at ${offset}; was it changed after it was opened?`);
      }
      done += bytesRead;
    }
    return into;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
