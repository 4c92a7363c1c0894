/**
 * Random-access bytes, whatever holds them: a `Blob`/`File` in the browser, a file handle in
 * Node, an in-memory array in tests. Readers of dataset formats take a ByteSource so the same
 * code streams multi-GB files in every host.
 */
export interface ByteSource {
  /** A name for messages (the file name, never a full path the user did not give). */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes from `offset`; rejects when the source ends early. */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/** A named source among several, e.g. the files of a picked folder. */
export type NamedSources = readonly ByteSource[];

export class BytesSource implements ByteSource {
  readonly size: number;

  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {
    this.size = bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} is past its end (${this.size} bytes)`);
    }
    return this.bytes.subarray(offset, offset + length);
  }
}

/** A Blob (or File) as a ByteSource: reads are `blob.slice(...).arrayBuffer()`, so nothing is loaded whole. */
export class BlobSource implements ByteSource {
  readonly size: number;

  constructor(
    private readonly blob: Blob,
    readonly name: string,
  ) {
    this.size = blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} is past its end (${this.size} bytes)`);
    }
    return new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
  }
}
