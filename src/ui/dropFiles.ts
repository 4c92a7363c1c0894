/**
 * The files of a drag-and-drop: dropped files as they are, dropped folders walked for the
 * files inside them. Only handles are collected; nothing is read.
 */

/** Takes what the drop offers; call it inside the drop event (its items expire with the event). */
export function dropEntries(transfer: DataTransfer): { entries: FileSystemEntry[]; files: File[] } {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(transfer.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
  }
  return { entries, files: Array.from(transfer.files ?? []) };
}

/** The files under the dropped entries (folders recursively); the plain file list when entries are unavailable. */
export async function filesFromDrop(drop: { entries: FileSystemEntry[]; files: File[] }): Promise<File[]> {
  if (drop.entries.length === 0) return drop.files;
  const out: File[] = [];
  for (const entry of drop.entries) await walk(entry, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (isFile(entry)) {
    out.push(await new Promise<File>((resolve, reject) => entry.file(resolve, reject)));
  } else if (isDirectory(entry)) {
    const reader = entry.createReader();
    // readEntries returns a directory's entries in batches, until an empty one.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out);
    }
  }
}

const isFile = (e: FileSystemEntry): e is FileSystemFileEntry => e.isFile;
const isDirectory = (e: FileSystemEntry): e is FileSystemDirectoryEntry => e.isDirectory;
