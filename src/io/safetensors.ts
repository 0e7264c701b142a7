import { writeFileAtomic } from '../util/atomic.js';
import { BYTES_PER_ELEMENT, HostArray, HostDType, allocData, bfloat16ToFloat, halfToFloat } from './array.js';
import { BoundedFile, BufferSource, excerpt, safeNumel, type ByteSource } from './file.js';

/**
 * safetensors: an 8-byte little-endian header length, a JSON header mapping names to
 * {dtype, shape, data_offsets}, then the raw little-endian tensor bytes. Readable by Python's
 * `safetensors` and by PyTorch (safetensors.torch.load_file).
 */
const TO_FILE: Record<HostDType, string> = {
  float32: 'F32',
  float64: 'F64',
  int8: 'I8',
  int16: 'I16',
  int32: 'I32',
  int64: 'I64',
  uint8: 'U8',
  uint16: 'U16',
  uint32: 'U32',
  bool: 'BOOL',
};
const FROM_FILE: Record<string, HostDType> = Object.fromEntries(
  Object.entries(TO_FILE).map(([k, v]) => [v, k as HostDType]),
);

export interface SafetensorsFile {
  tensors: Map<string, HostArray>;
  metadata: Record<string, string>;
}

/** Serializes named arrays (and string metadata) to safetensors bytes. Names are written sorted. */
export function encodeSafetensors(
  tensors: Map<string, HostArray> | Record<string, HostArray>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: TO_FILE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data start to 8 bytes
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const parts: Uint8Array[] = [head, Buffer.from(json, 'utf8')];
  for (const [, t] of entries) parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return parts;
}

/** Writes a safetensors file atomically. */
export function saveSafetensors(
  path: string,
  tensors: Map<string, HostArray> | Record<string, HostArray>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** The largest JSON header accepted (the format's own limit is 100 MB). */
const MAX_HEADER = 100_000_000;

/** Parses safetensors bytes; `source` names the file in error messages. F16/BF16 are widened to float32. */
export function decodeSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsFile {
  return readSafetensors(new BufferSource(buf, source, 'safetensors'));
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
  n: number;
}

/** Parses safetensors from a checked byte source: header, then each tensor's range, all checked against the size first. */
function readSafetensors(src: ByteSource): SafetensorsFile {
  const bad = (why: string, details: Record<string, unknown> = {}) => src.invalid(why, details);
  if (src.size < 8)
    throw bad(`it has ${src.size} bytes, fewer than the 8-byte header length`, { expected: 8, got: src.size });
  const lenBytes = src.read(0, 8, 'the header length');
  const headerLen64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen64 > BigInt(src.size - 8)) {
    throw bad(`header length ${headerLen64} runs past the end of the file (${src.size} bytes)`, {
      expected: String(headerLen64 + 8n),
      got: src.size,
    });
  }
  const headerLen = Number(headerLen64);
  if (headerLen > MAX_HEADER)
    throw bad(`header length ${headerLen} exceeds the format's ${MAX_HEADER}-byte limit`, { got: headerLen });
  let header: unknown;
  const text = Buffer.from(src.read(8, headerLen, 'the header')).toString('utf8');
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw bad(`header is not JSON (${(err as Error).message}): ${excerpt(text, 80)}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw bad(
      `header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}, got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}`,
    );
  }
  const dataStart = 8 + headerLen;
  const dataLen = src.size - dataStart;
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    const label = `tensor "${excerpt(name, 80)}"`;
    if (name === '__metadata__') {
      if (
        info === null ||
        typeof info !== 'object' ||
        Array.isArray(info) ||
        Object.values(info).some((v) => typeof v !== 'string')
      ) {
        throw bad('__metadata__ must be an object of string values');
      }
      metadata = info as Record<string, string>;
      continue;
    }
    if (info === null || typeof info !== 'object' || Array.isArray(info))
      throw bad(`${label} must be an object {dtype, shape, data_offsets}`);
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') throw bad(`${label} has no dtype string`);
    if (!Array.isArray(shape)) throw bad(`${label} has no shape array`);
    const n = safeNumel(shape);
    if (n === null)
      throw bad(
        `${label} has shape [${excerpt(shape.join(', '), 60)}]; dims must be non-negative integers with a product below 2^53`,
      );
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw bad(`${label} has no data_offsets [begin, end] of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) {
      throw bad(`${label} data [${begin}, ${end}) lies outside the ${dataLen} data bytes of the file`, {
        expected: end,
        got: dataLen,
        tensor: name,
      });
    }
    const width = dtype === 'F16' || dtype === 'BF16' ? 2 : FROM_FILE[dtype] ? BYTES_PER_ELEMENT[FROM_FILE[dtype]] : 0;
    if (!width)
      throw bad(
        `${label} has unsupported dtype ${excerpt(dtype, 20)} (supported: F16, BF16, ${Object.keys(FROM_FILE).join(', ')})`,
        { tensor: name, got: dtype },
      );
    if (end - begin !== n * width) {
      throw bad(`${label} has ${end - begin} bytes, expected ${n * width} for ${dtype} [${shape.join(', ')}]`, {
        tensor: name,
        expected: n * width,
        got: end - begin,
      });
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end, n });
  }
  const last = entries.reduce((m, e) => Math.max(m, e.end), 0);
  if (last !== dataLen)
    throw bad(`the file has ${dataLen - last} bytes beyond the last tensor's data (which ends at ${last})`, {
      expected: last,
      got: dataLen,
    });
  const tensors = new Map<string, HostArray>();
  for (const { name, dtype, shape, begin, end, n } of entries) {
    if (dtype === 'F16' || dtype === 'BF16') {
      const bytes = src.read(dataStart + begin, end - begin, `tensor "${name}"`);
      const out = new Float32Array(n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const conv = dtype === 'F16' ? halfToFloat : bfloat16ToFloat;
      for (let i = 0; i < n; i++) out[i] = conv(dv.getUint16(2 * i, true));
      tensors.set(name, { dtype: 'float32', shape, data: out });
      continue;
    }
    const hostType = FROM_FILE[dtype];
    const data = allocData(hostType, n);
    // a copy: file offsets need not be aligned for typed-array views
    src.readInto(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dataStart + begin, `tensor "${name}"`);
    tensors.set(name, { dtype: hostType, shape, data });
  }
  return { tensors, metadata };
}

/** Reads a safetensors file with bounded reads: the header first, then only the ranges it declares, each checked. */
export function loadSafetensors(path: string): SafetensorsFile {
  const file = BoundedFile.open(path, 'safetensors');
  try {
    return readSafetensors(file);
  } finally {
    file.close();
  }
}
