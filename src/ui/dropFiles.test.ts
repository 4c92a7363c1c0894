import { describe, expect, it } from 'vitest';
import { filesFromDrop } from './dropFiles.ts';

/** Minimal FileSystemEntry doubles: a file, and a folder that hands out its entries in batches. */
const fileEntry = (file: File) => ({ isFile: true, isDirectory: false, name: file.name, file: (ok: (f: File) => void) => ok(file) }) as unknown as FileSystemEntry;
function folderEntry(name: string, children: FileSystemEntry[], batch = 2): FileSystemEntry {
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader() {
      let at = 0;
      return {
        readEntries(ok: (entries: FileSystemEntry[]) => void) {
          ok(children.slice(at, at + batch));
          at += batch;
        },
      };
    },
  } as unknown as FileSystemEntry;
}

describe('dropped files and folders', () => {
  it('walks dropped folders (reading every batch of entries) and keeps dropped files', async () => {
    const f = (name: string) => new File(['x'], name);
    const nested = folderEntry('deeper', [fileEntry(f('c.npy'))]);
    const folder = folderEntry('data', [fileEntry(f('a.npy')), fileEntry(f('b.npy')), nested, fileEntry(f('d.npy'))]);
    const files = await filesFromDrop({ entries: [folder, fileEntry(f('e.npy'))], files: [] });
    expect(files.map((x) => x.name)).toEqual(['a.npy', 'b.npy', 'c.npy', 'd.npy', 'e.npy']);
  });

  it('falls back to the plain file list when the browser gives no entries', async () => {
    const list = [new File(['x'], 'a.npy')];
    expect(await filesFromDrop({ entries: [], files: list })).toBe(list);
  });
});
