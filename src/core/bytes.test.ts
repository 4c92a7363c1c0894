import { describe, expect, it } from 'vitest';
import { BlobSource, BytesSource, type ByteSource } from './bytes.ts';

describe('ByteSource implementations', () => {
  const data = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
  const sources: [string, ByteSource][] = [
    ['BytesSource', new BytesSource('a.bin', data)],
    ['BlobSource', new BlobSource(new Blob([data.slice()]), 'a.bin')],
  ];

  it.each(sources)('%s reads exactly the bytes asked for, into a caller\'s buffer when given', async (_name, source) => {
    expect(Array.from(await source.read(5, 7))).toEqual(Array.from(data.subarray(5, 12)));
    const into = new Uint8Array(16).fill(255);
    const got = await source.read(5, 7, undefined, into);
    expect(got.buffer).toBe(into.buffer);
    expect(got.byteOffset).toBe(0);
    expect(Array.from(got)).toEqual(Array.from(data.subarray(5, 12)));
    expect(Array.from(into.subarray(7))).toEqual(new Array(9).fill(255));
  });

  it.each(sources)('%s refuses reads past its end, naming itself', async (_name, source) => {
    await expect(source.read(60, 5)).rejects.toThrow('a.bin: read of 5 bytes at 60 is past its end (64 bytes)');
    await expect(source.read(-1, 1)).rejects.toThrow(RangeError);
  });
});
