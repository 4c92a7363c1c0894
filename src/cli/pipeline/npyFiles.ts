/** .npy files of the pipeline's shards: headers read with the engine's parser, data streamed in chunks. */
import { checkDataSize, decodeToFloat32, formatShape, NPY_HEADER_PROBE_BYTES, parseNpyHeader, type NpyHeader } from '../../core/npy.ts';
import { FileSource } from '../fileSource.ts';

export interface OpenedNpy {
  header: NpyHeader;
  source: FileSource;
}

/** Opens a .npy file and checks that its size matches its header. The caller closes `source`. */
export async function openNpy(path: string): Promise<OpenedNpy> {
  const source = await FileSource.open(path);
  try {
    const probe = await source.read(0, Math.min(source.size, NPY_HEADER_PROBE_BYTES));
    const header = parseNpyHeader(probe, source.name);
    checkDataSize(header, source.size, source.name);
    return { header, source };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** The data as float32 chunks of whole rows of `rowValues` values, about `chunkBytes` each. */
export async function* npyRows(npy: OpenedNpy, rowValues: number, chunkBytes = 8 << 20): AsyncGenerator<{ first: number; values: Float32Array }> {
  const { header, source } = npy;
  const rowBytes = rowValues * header.bytesPerElement;
  const rows = rowValues > 0 ? header.elementCount / rowValues : 0;
  const per = Math.max(1, Math.floor(chunkBytes / Math.max(1, rowBytes)));
  for (let first = 0; first < rows; first += per) {
    const count = Math.min(per, rows - first);
    const bytes = await source.read(header.dataOffset + first * rowBytes, count * rowBytes);
    yield { first, values: decodeToFloat32(bytes, header.dtype) };
  }
}

/** A version 1.0 float32 header for `shape`, padded as numpy pads it (data 64-byte aligned). */
export function npyHeaderBytes(shape: readonly number[]): Uint8Array {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${formatShape(shape)}, }`;
  dict += ' '.repeat(63 - ((10 + dict.length) % 64)) + '\n';
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  return out;
}
