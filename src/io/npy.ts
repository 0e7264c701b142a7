import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { BYTES_PER_ELEMENT, HostArray, HostDType, allocData, halfToFloat, numel } from './array.js';

/**
 * NumPy .npy files (format versions 1-3): little- and big-endian, C and Fortran order, float16 widened
 * to float32. Arrays come back in C order whatever the file's order.
 */
const DESCR: Record<string, HostDType> = {
  f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', b1: 'bool',
};
const TO_DESCR: Record<HostDType, string> = {
  float32: '<f4', float64: '<f8', int8: '|i1', int16: '<i2', int32: '<i4', int64: '<i8',
  uint8: '|u1', uint16: '<u2', uint32: '<u4', bool: '|b1',
};

export function decodeNpy(buf: Uint8Array, source = '<buffer>'): HostArray {
  const bad = (why: string) => new InputError(`${source}: not a valid .npy file: ${why}`, { file: source });
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (buf.byteLength < 10 || magic.some((m, i) => buf[i] !== m)) throw bad('missing the \\x93NUMPY magic');
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = Buffer.from(buf.buffer, buf.byteOffset + headerStart, headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1] === 'True';
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw bad(`header lacks descr or shape: ${header.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`bad shape (${shapeText})`);
  const endian = descr[0];
  const code = descr.slice(1);
  const n = numel(shape);
  const dataStart = headerStart + headerLen;
  const little = endian !== '>';
  let flat: HostArray['data'];
  let dtype: HostDType;
  if (code === 'f2') {
    if (buf.byteLength - dataStart < n * 2) throw bad(`data is truncated: expected ${n * 2} bytes`);
    dtype = 'float32';
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(dataStart + 2 * i, little));
    flat = out;
  } else {
    const t = DESCR[code];
    if (!t) throw bad(`unsupported dtype '${descr}' (supported: float16/32/64, int8-64, uint8-32, bool)`);
    dtype = t;
    const size = BYTES_PER_ELEMENT[t];
    if (buf.byteLength - dataStart < n * size) throw bad(`data is truncated: expected ${n * size} bytes for shape (${shape.join(', ')})`);
    flat = allocData(t, n);
    const bytes = new Uint8Array(flat.buffer);
    bytes.set(buf.subarray(dataStart, dataStart + n * size));
    if (!little && size > 1) {
      for (let i = 0; i < n; i++) bytes.subarray(i * size, (i + 1) * size).reverse();
    }
  }
  if (fortran && shape.length > 1) flat = fortranToC(flat, shape);
  return { dtype, shape, data: flat };
}

/** Reorders column-major data to row-major. */
function fortranToC(src: HostArray['data'], shape: number[]): HostArray['data'] {
  const n = src.length;
  const dst = new (src.constructor as new (n: number) => HostArray['data'])(n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  // Walk destination in C order; the source offset uses Fortran strides.
  const fStride = new Array<number>(rank);
  fStride[0] = 1;
  for (let k = 1; k < rank; k++) fStride[k] = fStride[k - 1] * shape[k - 1];
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let k = 0; k < rank; k++) off += idx[k] * fStride[k];
    (dst as any)[i] = (src as any)[off];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return dst;
}

export function encodeNpy(a: HostArray): Uint8Array[] {
  const shapeText = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${TO_DESCR[a.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  return [pre, Buffer.from(header, 'latin1'), new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength)];
}

export function loadNpy(path: string): HostArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, { file: path });
  }
  return decodeNpy(buf, path);
}

export function saveNpy(path: string, a: HostArray): void {
  writeFileAtomic(path, encodeNpy(a));
}
