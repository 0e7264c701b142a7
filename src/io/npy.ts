import { writeFileAtomic } from '../util/atomic.js';
import { BYTES_PER_ELEMENT, HostArray, HostDType, allocData, halfToFloat } from './array.js';
import { BoundedFile, BufferSource, excerpt, safeNumel, type ByteSource } from './file.js';

/**
 * NumPy .npy files (format versions 1-3): little- and big-endian, C and Fortran order, float16 widened
 * to float32. Arrays come back in C order whatever the file's order.
 */
const DESCR: Record<string, HostDType> = {
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  b1: 'bool',
};
const TO_DESCR: Record<HostDType, string> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  bool: '|b1',
};

/** The most header bytes accepted (NumPy itself refuses headers over 10 kB unless told otherwise). */
const MAX_HEADER = 1 << 20;

export function decodeNpy(buf: Uint8Array, source = '<buffer>'): HostArray {
  return readNpy(new BufferSource(buf, source, '.npy'));
}

/** Parses a .npy from any checked byte source: every length the file claims is checked against its size first. */
function readNpy(src: ByteSource): HostArray {
  const bad = (why: string, details: Record<string, unknown> = {}) => src.invalid(why, details);
  if (src.size < 10)
    throw bad(`it has ${src.size} bytes, fewer than the 10-byte preamble (\\x93NUMPY, version, header length)`, {
      expected: 10,
      got: src.size,
    });
  const pre = src.read(0, Math.min(12, src.size), 'the preamble');
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (magic.some((m, i) => pre[i] !== m)) throw bad('missing the \\x93NUMPY magic');
  const major = pre[6];
  if (major !== 1 && major !== 2 && major !== 3)
    throw bad(`unsupported format version ${major}.${pre[7]} (expected 1.0, 2.0 or 3.0)`, { got: major });
  const headerStart = major === 1 ? 10 : 12;
  if (src.size < headerStart)
    throw bad(`it has ${src.size} bytes, fewer than the ${headerStart}-byte preamble of version ${major}`);
  const view = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLen > MAX_HEADER)
    throw bad(`header length ${headerLen} exceeds the ${MAX_HEADER}-byte limit`, { got: headerLen });
  if (headerStart + headerLen > src.size) {
    throw bad(
      `header length ${headerLen} runs past the end of the file (${src.size} bytes; the header would end at byte ${headerStart + headerLen})`,
      {
        expected: headerStart + headerLen,
        got: src.size,
      },
    );
  }
  const header = Buffer.from(src.read(headerStart, headerLen, 'the header')).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortranText = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined || fortranText === undefined)
    throw bad(`header lacks descr, fortran_order or shape: ${excerpt(header)}`);
  const fortran = fortranText === 'True';
  const dims = shapeText
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const shape = dims.map((d) => (/^\d+L?$/.test(d) ? Number(d.replace('L', '')) : NaN));
  const n = safeNumel(shape);
  if (n === null)
    throw bad(`bad shape (${excerpt(shapeText, 60)}): dims must be non-negative integers with a product below 2^53`);
  const endian = descr[0];
  if (!'<>|='.includes(endian) || descr.length < 2)
    throw bad(`bad descr '${excerpt(descr, 40)}' (expected e.g. '<f4')`);
  const code = descr.slice(1);
  const dataStart = headerStart + headerLen;
  const little = endian !== '>';
  const dtype: HostDType | undefined = code === 'f2' ? 'float32' : DESCR[code];
  if (!dtype)
    throw bad(`unsupported dtype '${excerpt(descr, 40)}' (supported: float16/32/64, int8-64, uint8-32, bool)`, {
      got: descr,
    });
  const size = code === 'f2' ? 2 : BYTES_PER_ELEMENT[dtype];
  const dataBytes = n * size;
  const have = src.size - dataStart;
  if (dataBytes !== have) {
    const shapeStr = `(${shape.join(', ')})`;
    throw bad(
      have < dataBytes
        ? `data is truncated: shape ${shapeStr} of '${descr}' needs ${dataBytes} bytes after the header, the file has ${have}`
        : `the file has ${have - dataBytes} bytes beyond the data that shape ${shapeStr} of '${descr}' describes (${dataBytes} bytes)`,
      {
        expected: dataBytes,
        got: have,
        shape,
      },
    );
  }
  let flat: HostArray['data'];
  if (code === 'f2') {
    const raw = src.read(dataStart, dataBytes, 'the data');
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, little));
    flat = out;
  } else {
    flat = allocData(dtype, n);
    const bytes = new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength);
    src.readInto(bytes, dataStart, 'the data');
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

/** Reads a .npy file with bounded reads: only the ranges its header claims, each checked against the file size first. */
export function loadNpy(path: string): HostArray {
  const file = BoundedFile.open(path, '.npy');
  try {
    return readNpy(file);
  } finally {
    file.close();
  }
}

export function saveNpy(path: string, a: HostArray): void {
  writeFileAtomic(path, encodeNpy(a));
}
