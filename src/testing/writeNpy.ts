/**
 * Writes .npy files for tests, in the layout numpy's `np.save` produces, with knobs to
 * produce the broken files the reader must reject.
 */
import { writeFile } from 'node:fs/promises';

export type WriteDtype = 'float16' | 'float32' | 'float64' | 'int32';

export interface NpyWriteOptions {
  shape: number[];
  /** Element values, C order; defaults to zeros. */
  values?: ArrayLike<number>;
  dtype?: WriteDtype;
  version?: 1 | 2 | 3;
  /** Replaces the descr written in the header (the data is still encoded as `dtype`). */
  descr?: string;
  fortranOrder?: boolean;
  /** Replaces the whole header dict text. */
  headerText?: string;
  /** Bytes of junk appended after the data. */
  trailingBytes?: number;
  /** Bytes cut from the end of the file. */
  truncateBytes?: number;
}

const DESCR: Record<WriteDtype, string> = { float16: '<f2', float32: '<f4', float64: '<f8', int32: '<i4' };
const SIZE: Record<WriteDtype, number> = { float16: 2, float32: 4, float64: 8, int32: 4 };

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** number → IEEE binary16 bits, round-to-nearest-even. */
export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // 1024 rolls into the first normal
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function formatShape(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** The magic, version, header length and padded header dict: everything before the data. */
export function encodeNpyHeader(options: Pick<NpyWriteOptions, 'shape' | 'dtype' | 'version' | 'descr' | 'fortranOrder' | 'headerText'>): Uint8Array {
  const dtype = options.dtype ?? 'float32';
  const version = options.version ?? 1;
  const dict =
    options.headerText ??
    `{'descr': '${options.descr ?? DESCR[dtype]}', 'fortran_order': ${options.fortranOrder ? 'True' : 'False'}, ` +
      `'shape': ${formatShape(options.shape)}, }`;
  const preamble = version === 1 ? 10 : 12;
  const unpadded = new TextEncoder().encode(dict).length + 1;
  // numpy pads with spaces so the data starts at a multiple of 64.
  const pad = (64 - ((preamble + unpadded) % 64)) % 64;
  const headerBytes = new TextEncoder().encode(dict + ' '.repeat(pad) + '\n');
  const out = new Uint8Array(preamble + headerBytes.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, preamble);
  return out;
}

export function encodeNpy(options: NpyWriteOptions): Uint8Array {
  const dtype = options.dtype ?? 'float32';
  const count = options.shape.reduce((a, b) => a * b, 1);
  const values = options.values ?? new Float64Array(count);
  if (values.length !== count) throw new Error(`${values.length} values for shape ${formatShape(options.shape)}`);
  const header = encodeNpyHeader(options);
  const dataOffset = header.length;

  const size = SIZE[dtype];
  const total = dataOffset + count * size + (options.trailingBytes ?? 0);
  const out = new Uint8Array(total);
  out.set(header);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const at = dataOffset + i * size;
    const v = values[i];
    if (dtype === 'float16') view.setUint16(at, floatToHalf(v), true);
    else if (dtype === 'float32') view.setFloat32(at, v, true);
    else if (dtype === 'float64') view.setFloat64(at, v, true);
    else view.setInt32(at, v, true);
  }
  for (let i = dataOffset + count * size; i < total; i++) out[i] = 0xab;
  return out.subarray(0, total - (options.truncateBytes ?? 0));
}

export async function writeNpy(path: string, options: NpyWriteOptions): Promise<void> {
  await writeFile(path, encodeNpy(options));
}
