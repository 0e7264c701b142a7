import { ShapeError } from '../util/errors.js';

/** Element types a host array can hold. float16/bfloat16 files are widened to float32 on read. */
export type HostDType =
  'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'bool';

export type HostData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

/** A dense, row-major (C order) array in host memory: the exchange type for files and metrics. */
export interface HostArray {
  dtype: HostDType;
  shape: number[];
  data: HostData;
}

export const BYTES_PER_ELEMENT: Record<HostDType, number> = {
  float32: 4,
  float64: 8,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  bool: 1,
};

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Allocates a zero-filled typed array for a dtype. */
export function allocData(dtype: HostDType, n: number): HostData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'uint32':
      return new Uint32Array(n);
  }
}

/** Builds a HostArray, checking that the data length matches the shape. */
export function hostArray(dtype: HostDType, shape: number[], data?: HostData): HostArray {
  const n = numel(shape);
  const d = data ?? allocData(dtype, n);
  if (d.length !== n) {
    throw new ShapeError(`array data has ${d.length} elements but shape [${shape.join(', ')}] needs ${n}`, {
      expected: n,
      got: d.length,
      shape,
    });
  }
  return { dtype, shape: [...shape], data: d };
}

/** Any numeric host array as float64 values (int64 via Number, exact below 2^53). */
export function toFloat64(a: HostArray): Float64Array {
  if (a.data instanceof Float64Array) return a.data;
  const out = new Float64Array(a.data.length);
  if (a.data instanceof BigInt64Array) for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]);
  else out.set(a.data as ArrayLike<number>);
  return out;
}

/** Any numeric host array as float32 values. */
export function toFloat32(a: HostArray): Float32Array {
  if (a.data instanceof Float32Array) return a.data;
  const out = new Float32Array(a.data.length);
  if (a.data instanceof BigInt64Array) for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]);
  else out.set(a.data as ArrayLike<number>);
  return out;
}

/** Converts IEEE half-precision bits to a float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Converts bfloat16 bits (the top half of a float32) to a float. */
export function bfloat16ToFloat(h: number): number {
  const buf = new Float32Array(1);
  new Uint32Array(buf.buffer)[0] = (h & 0xffff) << 16;
  return buf[0];
}

/** Throws a ShapeError naming `what` if any value is NaN or infinite. */
export function assertFinite(a: HostArray, what: string): void {
  if (!(a.data instanceof Float32Array || a.data instanceof Float64Array)) return;
  const d = a.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const index = unravel(i, a.shape);
      throw new ShapeError(`${what} contains ${d[i]} at index [${index.join(', ')}]; finite values are required`, {
        field: what,
        index,
      });
    }
  }
}

/** Flat index → multi-index for a row-major shape. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = flat % shape[k];
    flat = Math.floor(flat / shape[k]);
  }
  return idx;
}
