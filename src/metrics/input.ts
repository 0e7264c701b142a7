import { toFloat64, type HostArray } from '../io/array.js';
import { InputError, ShapeError } from '../util/errors.js';
import { matrix, type Matrix } from './linalg.js';

/**
 * What metric functions accept: a HostArray (from .npy/.safetensors or the engine), a Matrix, a plain
 * typed array or number array (a vector), or an array of rows. Every input is checked for shape and
 * finiteness up front, and errors name the argument.
 */
export type MatrixInput = HostArray | Matrix | number[][];
export type VectorInput = HostArray | Float32Array | Float64Array | Int32Array | number[];

function isHost(x: unknown): x is HostArray {
  return typeof x === 'object' && x !== null && 'shape' in x && 'dtype' in x;
}

function checkFinite(data: ArrayLike<number>, name: string, cols: number): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      const where = cols > 0 ? `row ${Math.floor(i / cols)}, column ${i % cols}` : `index ${i}`;
      throw new ShapeError(`${name} contains ${v} at ${where}; metrics need finite values`, { field: name, index: i });
    }
  }
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A 2-D view [rows, cols] (float32 or float64 data, never modified). HostArrays of rank > 2 are flattened to [prod(leading), last] only
 * when `flattenLeading` is set (e.g. [B, T, D] frames); rank 1 becomes [n, 1] only with `allowVector`.
 */
export function asMatrix(
  x: MatrixInput,
  name: string,
  opts: { flattenLeading?: boolean; allowVector?: boolean } = {},
): Matrix {
  let m: Matrix;
  if (Array.isArray(x)) {
    const rows = x.length;
    const cols = rows ? x[0].length : 0;
    const data = new Float64Array(rows * cols);
    x.forEach((r, i) => {
      if (r.length !== cols)
        throw new ShapeError(`${name}: row ${i} has ${r.length} values, row 0 has ${cols}`, { field: name });
      data.set(r, i * cols);
    });
    m = matrix(rows, cols, data);
  } else if (isHost(x)) {
    const shape = x.shape;
    // float32/float64 data is used as is (no copy); other dtypes are widened to float64
    const data = x.data instanceof Float32Array || x.data instanceof Float64Array ? x.data : toFloat64(x);
    if (shape.length === 2) m = matrix(shape[0], shape[1], data);
    else if (shape.length === 1 && opts.allowVector) m = matrix(shape[0], 1, data);
    else if (shape.length > 2 && opts.flattenLeading) {
      const cols = shape[shape.length - 1];
      m = matrix(
        shape.slice(0, -1).reduce((a, b) => a * b, 1),
        cols,
        data,
      );
    } else {
      const want = opts.flattenLeading ? '[N, D] or [..., D]' : opts.allowVector ? '[N] or [N, D]' : '[N, D]';
      throw new ShapeError(`${name} has shape ${shapeText(shape)}; expected ${want}`, {
        field: name,
        shape,
        expected: want,
      });
    }
  } else {
    m = x;
    if (m.data.length !== m.rows * m.cols)
      throw new ShapeError(`${name}: ${m.data.length} values do not fill [${m.rows}, ${m.cols}]`, { field: name });
  }
  checkFinite(m.data, name, m.cols);
  return m;
}

/** A float64 vector; HostArrays must be rank 1 (or [N, 1]). */
export function asVector(x: VectorInput, name: string): Float64Array {
  let v: Float64Array;
  if (isHost(x)) {
    const s = x.shape;
    if (!(s.length === 1 || (s.length === 2 && s[1] === 1))) {
      throw new ShapeError(`${name} has shape ${shapeText(s)}; expected [N]`, {
        field: name,
        shape: s,
        expected: '[N]',
      });
    }
    v = toFloat64(x);
  } else v = x instanceof Float64Array ? x : Float64Array.from(x);
  checkFinite(v, name, 0);
  return v;
}

/** Checks that two matrices hold the same number of paired rows and the same width. */
export function checkPaired(a: Matrix, b: Matrix, nameA: string, nameB: string, sameWidth = true): void {
  if (a.rows !== b.rows) {
    throw new ShapeError(`${nameA} has ${a.rows} rows but ${nameB} has ${b.rows}; rows must be paired one to one`, {
      field: nameB,
      expected: a.rows,
      got: b.rows,
    });
  }
  if (sameWidth && a.cols !== b.cols) {
    throw new ShapeError(
      `${nameA} is [${a.rows}, ${a.cols}] but ${nameB} is [${b.rows}, ${b.cols}]; embedding widths must match`,
      {
        field: nameB,
        expected: a.cols,
        got: b.cols,
      },
    );
  }
}

export function checkNonEmpty(n: number, name: string, min = 1): void {
  if (n < min)
    throw new InputError(`${name} needs at least ${min} item${min === 1 ? '' : 's'}, got ${n}`, {
      field: name,
      expected: min,
      got: n,
    });
}

/** Rows scaled to unit L2 norm (zero rows stay zero); norms in float64, output in the asked precision. */
export function l2Normalize(x: Matrix, precision: 'float32' | 'float64' = 'float64'): Matrix {
  const out = precision === 'float32' ? new Float32Array(x.data.length) : new Float64Array(x.data.length);
  if (x.data instanceof Float32Array) normalizeRows(x.data, out, x.rows, x.cols);
  else normalizeRows(x.data, out, x.rows, x.cols);
  return matrix(x.rows, x.cols, out);
}

function normalizeRows(
  src: Float32Array | Float64Array,
  dst: Float32Array | Float64Array,
  rows: number,
  cols: number,
): void {
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const v = src[off + j];
      s += v * v;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < cols; j++) dst[off + j] = src[off + j] * inv;
  }
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length ? s / values.length : NaN;
}

/** Median of a copy (average of the two middle values for even n). */
export function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  if (!n) return NaN;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}
