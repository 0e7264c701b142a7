import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { BYTES_PER_ELEMENT, HostArray, HostDType, allocData, bfloat16ToFloat, halfToFloat, numel } from './array.js';

/**
 * safetensors: an 8-byte little-endian header length, a JSON header mapping names to
 * {dtype, shape, data_offsets}, then the raw little-endian tensor bytes. Readable by Python's
 * `safetensors` and by PyTorch (safetensors.torch.load_file).
 */
const TO_FILE: Record<HostDType, string> = {
  float32: 'F32', float64: 'F64', int8: 'I8', int16: 'I16', int32: 'I32', int64: 'I64',
  uint8: 'U8', uint16: 'U16', uint32: 'U32', bool: 'BOOL',
};
const FROM_FILE: Record<string, HostDType> = Object.fromEntries(
  Object.entries(TO_FILE).map(([k, v]) => [v, k as HostDType]),
);

export interface SafetensorsFile {
  tensors: Map<string, HostArray>;
  metadata: Record<string, string>;
}

/** Serialises named arrays (and string metadata) to safetensors bytes. Names are written sorted. */
export function encodeSafetensors(tensors: Map<string, HostArray> | Record<string, HostArray>, metadata: Record<string, string> = {}): Uint8Array[] {
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
export function saveSafetensors(path: string, tensors: Map<string, HostArray> | Record<string, HostArray>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Parses safetensors bytes; `source` names the file in error messages. F16/BF16 are widened to float32. */
export function decodeSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const bad = (why: string) => new InputError(`${source}: not a valid safetensors file: ${why}`, { file: source });
  if (buf.byteLength < 8) throw bad('shorter than the 8-byte header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > buf.byteLength - 8) throw bad(`header length ${headerLen} exceeds file size ${buf.byteLength}`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, headerLen).toString('utf8'));
  } catch (err) {
    throw bad(`header is not JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, HostArray>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [begin, end] = offsets ?? [];
    if (!Array.isArray(shape) || typeof begin !== 'number' || typeof end !== 'number') throw bad(`tensor "${name}" has no shape or data_offsets`);
    if (dataStart + end > buf.byteLength || begin > end) throw bad(`tensor "${name}" data [${begin}, ${end}) lies outside the file`);
    const n = numel(shape);
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    if (dtype === 'F16' || dtype === 'BF16') {
      if (bytes.byteLength !== n * 2) throw bad(`tensor "${name}" has ${bytes.byteLength} bytes, expected ${n * 2}`);
      const out = new Float32Array(n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const conv = dtype === 'F16' ? halfToFloat : bfloat16ToFloat;
      for (let i = 0; i < n; i++) out[i] = conv(dv.getUint16(2 * i, true));
      tensors.set(name, { dtype: 'float32', shape, data: out });
      continue;
    }
    const hostType = FROM_FILE[dtype];
    if (!hostType) throw bad(`tensor "${name}" has unsupported dtype ${dtype}`);
    if (bytes.byteLength !== n * BYTES_PER_ELEMENT[hostType]) {
      throw bad(`tensor "${name}" has ${bytes.byteLength} bytes, expected ${n * BYTES_PER_ELEMENT[hostType]} for ${dtype} [${shape.join(', ')}]`);
    }
    const data = allocData(hostType, n);
    new Uint8Array(data.buffer).set(bytes); // copy: file offsets need not be aligned for typed-array views
    tensors.set(name, { dtype: hostType, shape, data });
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}

/** Reads a safetensors file. */
export function loadSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, { file: path });
  }
  return decodeSafetensors(buf, path);
}
