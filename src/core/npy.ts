/**
 * NumPy `.npy` reading, host-independent: header parsing, size checks and decoding of
 * little-endian float16/32/64 data to float32. File access lives with the host (see
 * src/cli/npyDataset.ts); everything here works on byte arrays so a browser worker can
 * feed it slices of a `File` just as Node feeds it positional reads.
 *
 * Format reference: numpy/lib/format.py. A file is the magic `\x93NUMPY`, a major and
 * minor version byte, the header length (uint16 LE for 1.0, uint32 LE for 2.0/3.0), the
 * header — a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and a final newline (latin-1 for 1.0/2.0, UTF-8 for 3.0) — and then
 * the raw data.
 *
 * Byte order: numpy always writes '<' for little-endian multi-byte types, so '<' is what
 * we expect. '=' (native order) is accepted as little-endian too, because every platform
 * that produces these datasets is little-endian; '>' (big-endian) and '|' ("not
 * applicable", only valid for 1-byte types) are rejected for floats.
 */

export type NpyDtype = 'float16' | 'float32' | 'float64';

export interface NpyHeader {
  /** "1.0", "2.0" or "3.0". */
  version: string;
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first data byte: preamble plus declared header length. */
  dataOffset: number;
  bytesPerElement: number;
  elementCount: number;
  dataBytes: number;
}

export class NpyFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NpyFormatError';
  }
}

/**
 * Leading bytes to read before parsing: a 1.0 header is at most 10 + 65535 bytes, so this
 * always holds one. 2.0/3.0 headers may in principle be longer (they exist for huge
 * structured dtypes); `npyHeaderEnd` tells how many bytes such a header needs.
 */
export const NPY_HEADER_PROBE_BYTES = 10 + 0xffff;

export const NPY_DTYPE_BYTES: Readonly<Record<NpyDtype, number>> = {
  float16: 2,
  float32: 4,
  float64: 8,
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAGIC_TEXT = '\\x93NUMPY';

/**
 * Validates the preamble (magic, version, header length) and returns the byte offset
 * where the data starts, i.e. how many leading bytes `parseNpyHeader` needs. Needs at
 * least 10 bytes (12 for versions 2.0/3.0).
 */
export function npyHeaderEnd(bytes: Uint8Array, fileName: string): number {
  return readPreamble(bytes, fileName).dataOffset;
}

interface Preamble {
  major: number;
  minor: number;
  headerStart: number;
  dataOffset: number;
}

function readPreamble(bytes: Uint8Array, fileName: string): Preamble {
  if (bytes.length === 0) {
    throw new NpyFormatError(
      `${fileName} is empty (0 bytes); a .npy file starts with the 6-byte magic ${MAGIC_TEXT}`,
    );
  }
  const magicSeen = Math.min(bytes.length, MAGIC.length);
  for (let i = 0; i < magicSeen; i++) {
    if (bytes[i] !== MAGIC[i]) throw notNpy(bytes, fileName);
  }
  if (bytes.length < 10) {
    throw new NpyFormatError(
      `${fileName} is too short to be a .npy file: ${bytes.length} bytes, ` +
        `but the magic, version and header length alone take at least 10`,
    );
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (minor !== 0 || major < 1 || major > 3) {
    throw new NpyFormatError(
      `${fileName} uses .npy format version ${major}.${minor}; supported versions are 1.0, 2.0 and 3.0`,
    );
  }
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = bytes[8] | (bytes[9] << 8);
  } else {
    if (bytes.length < 12) {
      throw new NpyFormatError(
        `${fileName} is too short: a version ${major}.0 .npy file needs 12 bytes before its header, ` +
          `but only ${bytes.length} are available`,
      );
    }
    headerStart = 12;
    // Multiplication instead of `<< 24` keeps lengths ≥ 2 GiB positive.
    headerLength = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16);
    headerLength += bytes[11] * 0x1000000;
  }
  return { major, minor, headerStart, dataOffset: headerStart + headerLength };
}

function notNpy(bytes: Uint8Array, fileName: string): NpyFormatError {
  const head = Array.from(bytes.subarray(0, 8));
  const hex = head.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = head.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  // A zip signature is the common mix-up: an .npz archive renamed or chosen by mistake.
  const hint =
    bytes[0] === 0x50 && bytes[1] === 0x4b ? ' (this looks like a zip/.npz archive; extract the .npy arrays from it)' : '';
  return new NpyFormatError(
    `${fileName} is not a .npy file: it starts with bytes ${hex} ("${text}")${hint}; ` +
      `expected the magic ${MAGIC_TEXT}`,
  );
}

/**
 * Parses the header from the first bytes of a file. `bytes` must hold at least the
 * whole header (`dataOffset` bytes); read `NPY_HEADER_PROBE_BYTES` (or the file, when
 * shorter) to be sure.
 */
export function parseNpyHeader(bytes: Uint8Array, fileName: string): NpyHeader {
  const pre = readPreamble(bytes, fileName);
  if (bytes.length < pre.dataOffset) {
    throw new NpyFormatError(
      `${fileName}: its version ${pre.major}.0 header ends at byte ${pre.dataOffset} ` +
        `(${pre.headerStart}-byte preamble + ${pre.dataOffset - pre.headerStart}-byte header), ` +
        `but only ${bytes.length} bytes are available; ${pre.dataOffset} bytes are needed to read the header`,
    );
  }
  const raw = bytes.subarray(pre.headerStart, pre.dataOffset);
  const text = pre.major === 3 ? decodeUtf8(raw, fileName) : decodeLatin1(raw);
  const dict = new PyLiteralParser(text, fileName).parseHeaderDict();

  const expectedKeys = ['descr', 'fortran_order', 'shape'];
  const missing = expectedKeys.filter((k) => !dict.has(k));
  const extra = [...dict.keys()].filter((k) => !expectedKeys.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new NpyFormatError(
      `${fileName}: malformed .npy header ${quoteHeader(text)}: ` +
        (missing.length > 0 ? `missing key(s) ${missing.map((k) => `'${k}'`).join(', ')}` : '') +
        (missing.length > 0 && extra.length > 0 ? '; ' : '') +
        (extra.length > 0 ? `unexpected key(s) ${extra.map((k) => `'${k}'`).join(', ')}` : '') +
        `; expected exactly 'descr', 'fortran_order' and 'shape'`,
    );
  }

  const dtype = parseDescr(dict.get('descr') as PyValue, fileName);

  const fortran = dict.get('fortran_order') as PyValue;
  if (fortran.t !== 'bool') {
    throw new NpyFormatError(
      `${fileName}: malformed .npy header: 'fortran_order' is ${describePy(fortran)}, expected True or False`,
    );
  }
  if (fortran.v) {
    throw new NpyFormatError(
      `${fileName} is stored in Fortran (column-major) order; only C (row-major) order is supported. ` +
        `Re-save it with np.save(path, np.ascontiguousarray(arr))`,
    );
  }

  const shapeValue = dict.get('shape') as PyValue;
  if (shapeValue.t !== 'tuple' && shapeValue.t !== 'list') {
    throw new NpyFormatError(
      `${fileName}: malformed .npy header: 'shape' is ${describePy(shapeValue)}, expected a tuple of integers`,
    );
  }
  const shape: number[] = [];
  for (const item of shapeValue.items) {
    if (item.t !== 'int' || item.v < 0) {
      throw new NpyFormatError(
        `${fileName}: malformed .npy header: shape entry ${describePy(item)} is not a non-negative integer`,
      );
    }
    shape.push(item.v);
  }

  const bytesPerElement = NPY_DTYPE_BYTES[dtype];
  const elementCount = shape.reduce((a, b) => a * b, 1);
  const dataBytes = elementCount * bytesPerElement;
  if (!Number.isSafeInteger(dataBytes)) {
    throw new NpyFormatError(`${fileName}: shape ${formatShape(shape)} is too large to address`);
  }
  return {
    version: `${pre.major}.${pre.minor}`,
    dtype,
    shape,
    dataOffset: pre.dataOffset,
    bytesPerElement,
    elementCount,
    dataBytes,
  };
}

/** Throws unless the file holds exactly the data its header declares. */
export function checkDataSize(header: NpyHeader, fileSize: number, fileName: string): void {
  const expected = header.dataOffset + header.dataBytes;
  if (fileSize === expected) return;
  const what = `shape ${formatShape(header.shape)} ${header.dtype} needs ${header.dataBytes} data bytes after the ${header.dataOffset}-byte header (${expected} bytes in all)`;
  if (fileSize < expected) {
    const actualData = Math.max(0, fileSize - header.dataOffset);
    throw new NpyFormatError(
      `${fileName} is truncated: ${what}, but the file has ${fileSize} bytes (${actualData} data bytes, ` +
        `${expected - fileSize} missing)`,
    );
  }
  throw new NpyFormatError(
    `${fileName} has ${fileSize - expected} trailing bytes beyond its declared data: ${what}, ` +
      `but the file has ${fileSize} bytes`,
  );
}

/** "(3, 4)", with Python's one-tuple comma: "(5,)". */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Float32Array | null = null;

/** IEEE 754 binary16 bits → number, including subnormals, ±0, ±Infinity and NaN. */
export function halfToFloat(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  let magnitude: number;
  if (exponent === 0) magnitude = mantissa * 2 ** -24;
  else if (exponent === 0x1f) magnitude = mantissa === 0 ? Infinity : NaN;
  else magnitude = (0x400 + mantissa) * 2 ** (exponent - 25);
  return bits & 0x8000 ? -magnitude : magnitude;
}

function getHalfTable(): Float32Array {
  // 65536 entries (256 KiB) once beats per-element branching on multi-GB float16 files.
  if (halfTable === null) {
    halfTable = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/**
 * Little-endian `dtype` bytes → float32 values. `bytes` may start at any byte offset.
 * With `out`, the values are written to its start and a view of exactly that length is
 * returned (so a scratch buffer can be reused across chunks).
 */
export function decodeToFloat32(bytes: Uint8Array, dtype: NpyDtype, out?: Float32Array): Float32Array {
  const size = NPY_DTYPE_BYTES[dtype];
  if (bytes.length % size !== 0) {
    throw new RangeError(`${bytes.length} bytes are not a whole number of ${size}-byte ${dtype} values`);
  }
  const n = bytes.length / size;
  let dst: Float32Array;
  if (out === undefined) dst = new Float32Array(n);
  else if (out.length < n) throw new RangeError(`output holds ${out.length} values, ${n} needed`);
  else dst = out.length === n ? out : out.subarray(0, n);

  switch (dtype) {
    case 'float32': {
      if (LITTLE_ENDIAN_HOST) {
        // A byte copy into the (aligned) destination needs no alignment of the source.
        new Uint8Array(dst.buffer, dst.byteOffset, n * 4).set(bytes);
      } else {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let i = 0; i < n; i++) dst[i] = view.getFloat32(i * 4, true);
      }
      break;
    }
    case 'float64': {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) dst[i] = view.getFloat64(i * 8, true);
      break;
    }
    case 'float16': {
      const table = getHalfTable();
      for (let i = 0; i < n; i++) dst[i] = table[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
      break;
    }
  }
  return dst;
}

// ---------------------------------------------------------------------------------------
// The header dict: a restricted Python literal parser (numpy itself uses ast.literal_eval).

type PyValue =
  | { t: 'str'; v: string }
  | { t: 'int'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'tuple'; items: PyValue[] }
  | { t: 'list'; items: PyValue[] }
  | { t: 'dict'; entries: Map<string, PyValue> };

function describePy(v: PyValue): string {
  switch (v.t) {
    case 'str':
      return `the string '${v.v}'`;
    case 'int':
      return `the integer ${v.v}`;
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'tuple':
      return `a ${v.items.length}-tuple`;
    case 'list':
      return `a ${v.items.length}-element list`;
    case 'dict':
      return 'a dict';
  }
}

function quoteHeader(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 160 ? `${t.slice(0, 160)}…` : t);
}

class PyLiteralParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly fileName: string,
  ) {}

  parseHeaderDict(): Map<string, PyValue> {
    this.skipSpace();
    const value = this.parseValue();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('unexpected text after the closing brace');
    if (value.t !== 'dict') this.fail(`the header is ${describePy(value)}, expected a dict`, 0);
    return value.entries;
  }

  private fail(what: string, at = this.pos): never {
    const where = at >= this.text.length ? 'where the header ends early' : `at character ${at}`;
    throw new NpyFormatError(
      `${this.fileName}: malformed .npy header ${quoteHeader(this.text)}: ${what} ${where}; ` +
        `expected a dict like {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`,
    );
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private parseValue(): PyValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === undefined) this.fail('expected a value');
    if (c === '{') return this.parseDict();
    if (c === '(') return this.parseSequence(')', 'tuple');
    if (c === '[') return this.parseSequence(']', 'list');
    if (c === "'" || c === '"') return { t: 'str', v: this.parseString() };
    const word = /^(?:True|False|None|-?\d+L?)/.exec(this.text.slice(this.pos, this.pos + 32));
    if (word === null) this.fail(`unexpected character ${JSON.stringify(c)}`);
    const start = this.pos;
    this.pos += word[0].length;
    // A word glued to more identifier characters (e.g. "Truest") is not a literal.
    if (/[\w]/.test(this.text[this.pos] ?? '')) this.fail('unexpected identifier', start);
    if (word[0] === 'True') return { t: 'bool', v: true };
    if (word[0] === 'False') return { t: 'bool', v: false };
    if (word[0] === 'None') return { t: 'none' };
    // Python 2 era files write long integers with an 'L' suffix.
    const v = Number(word[0].replace(/L$/, ''));
    if (!Number.isSafeInteger(v)) this.fail(`integer ${word[0]} is out of range`, start);
    return { t: 'int', v };
  }

  private parseString(): string {
    const quote = this.text[this.pos++];
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === quote) return out;
      if (c === '\\') {
        const e = this.text[this.pos++];
        if (e === undefined) break;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      } else if (c === '\n') {
        break;
      } else {
        out += c;
      }
    }
    return this.fail('unterminated string');
  }

  private parseSequence(close: ')' | ']', t: 'tuple' | 'list'): PyValue {
    this.pos++;
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        // "(5)" is just 5 in Python; numpy writes one-tuples as "(5,)".
        if (t === 'tuple' && items.length === 1 && !sawComma) return items[0];
        return { t, items } as PyValue;
      }
      items.push(this.parseValue());
      this.skipSpace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        sawComma = true;
      } else if (this.text[this.pos] !== close) {
        this.fail(`expected ',' or '${close}'`);
      }
    }
  }

  private parseDict(): PyValue {
    this.pos++;
    const entries = new Map<string, PyValue>();
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return { t: 'dict', entries };
      }
      const keyAt = this.pos;
      const key = this.parseValue();
      if (key.t !== 'str') this.fail(`dict key ${describePy(key)} is not a string`, keyAt);
      if (entries.has(key.v)) this.fail(`duplicate key '${key.v}'`, keyAt);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after key '${key.v}'`);
      this.pos++;
      entries.set(key.v, this.parseValue());
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail("expected ',' or '}'");
    }
  }
}

function decodeLatin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function decodeUtf8(bytes: Uint8Array, fileName: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new NpyFormatError(`${fileName}: the version 3.0 header is not valid UTF-8`, { cause });
  }
}

const KIND_NAMES: Record<string, string> = {
  b: 'bool',
  i: 'int',
  u: 'uint',
  f: 'float',
  c: 'complex',
  O: 'object',
  S: 'bytes',
  a: 'bytes',
  U: 'str',
  V: 'void',
  M: 'datetime64',
  m: 'timedelta64',
};

const FLOAT_BY_SIZE: Record<string, NpyDtype> = { '2': 'float16', '4': 'float32', '8': 'float64' };

function parseDescr(value: PyValue, fileName: string): NpyDtype {
  const expected = 'expected float16, float32 or float64 (descr <f2, <f4 or <f8)';
  if (value.t === 'list') {
    throw new NpyFormatError(
      `${fileName} holds a structured (record) dtype with ${value.items.length} field(s); ${expected}`,
    );
  }
  if (value.t !== 'str') {
    throw new NpyFormatError(`${fileName}: malformed .npy header: 'descr' is ${describePy(value)}; ${expected}`);
  }
  const descr = value.v;
  const m = /^([<>|=]?)([a-zA-Z])(\d*)(.*)$/.exec(descr);
  if (m === null) {
    throw new NpyFormatError(`${fileName}: unrecognised dtype descr '${descr}'; ${expected}`);
  }
  const [, order, kind, size, rest] = m;
  const dtype = kind === 'f' && rest === '' ? FLOAT_BY_SIZE[size] : undefined;
  if (dtype === undefined) {
    const kindName = KIND_NAMES[kind];
    const bits = size !== '' && kindName !== undefined && 'biufc'.includes(kind) ? String(Number(size) * 8) : '';
    const name = kindName === undefined ? 'unknown' : kind === 'b' ? 'bool' : `${kindName}${bits}`;
    throw new NpyFormatError(`${fileName} has dtype ${name} ('${descr}'), which is not supported; ${expected}`);
  }
  if (order === '>') {
    throw new NpyFormatError(
      `${fileName} is stored big-endian ('${descr}'); only little-endian ('<${kind}${size}') is supported. ` +
        `Convert it with arr.astype('<${kind}${size}')`,
    );
  }
  if (order === '|') {
    throw new NpyFormatError(
      `${fileName}: byte order '|' (not applicable) in '${descr}' is invalid for ${NPY_DTYPE_BYTES[dtype]}-byte ` +
        `${dtype} data; expected little-endian '<${kind}${size}'`,
    );
  }
  return dtype;
}
