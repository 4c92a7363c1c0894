/** The lab's opened dataset files, as the sweep runner needs them (the one place that reads the files slice). */
import { loadedShape } from '../filesSlice.ts';
import type { LabStore } from '../store.ts';
import type { OpenFiles } from './sweepStore.ts';

export function labFiles(lab: LabStore): () => OpenFiles | null {
  return () => {
    const files = lab.getState().files;
    const shape = loadedShape(files);
    return shape && files.opened ? { selection: files.opened.selection, shape, memoryCapBytes: files.memoryCapBytes } : null;
  };
}
