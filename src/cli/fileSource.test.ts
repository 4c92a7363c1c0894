import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource } from './fileSource.ts';

describe('FileSource', () => {
  let dir: string;
  const bytes = new Uint8Array(3_000_003).map((_, i) => (i * 2_654_435_761) >>> 24);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reward-lab-file-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads any range into a new buffer or the one given', async () => {
    const path = join(dir, 'data.bin');
    await writeFile(path, bytes);
    const source = await FileSource.open(path);
    try {
      expect(source.size).toBe(bytes.length);
      expect(Buffer.from(await source.read(0, bytes.length)).equals(bytes)).toBe(true);
      expect(await source.read(5, 7)).toEqual(bytes.subarray(5, 12));
      const target = new Uint8Array(bytes.length);
      const got = await source.read(1_234_567, 1_700_001, undefined, target);
      expect(got.buffer).toBe(target.buffer);
      expect(Buffer.from(got).equals(bytes.subarray(1_234_567, 2_934_568))).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('says which file ended early, and where, when it shrank after it was opened', async () => {
    const path = join(dir, 'shrinking.bin');
    await writeFile(path, bytes);
    const source = await FileSource.open(path);
    try {
      await truncate(path, 2_000_000);
      await expect(source.read(1_000_000, 1_500_000)).rejects.toThrow(
        /shrinking\.bin ended at byte 2000000 while reading 1500000 bytes at 1000000; was it changed after it was opened\?/,
      );
    } finally {
      await source.close();
    }
  });
});
