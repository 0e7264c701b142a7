import { type Dim, type Graph, type Tensor, constant } from '../engine/index.js';
import { ShapeError } from '../util/errors.js';

/** A dim that must be a number (feature widths, head counts, sequence lengths of constant masks). */
export function staticDim(x: Tensor, axis: number, op: string): number {
  const a = axis < 0 ? x.shape.length + axis : axis;
  const d: Dim | undefined = x.shape[a];
  if (typeof d !== 'number') {
    throw new ShapeError(`${op}: axis ${axis} of ${x.name} [${x.shape.join(', ')}] must be static, got ${String(d)}`, {
      op,
      shapes: [[...x.shape]],
      field: `axis ${axis}`,
    });
  }
  return d;
}

/** Throws a ShapeError naming the op, what was expected and the shapes seen. */
export function nnShapeError(op: string, why: string, ...xs: Tensor[]): never {
  throw new ShapeError(`${op}: ${why}; got ${xs.map((x) => `${x.name} [${x.shape.join(', ')}]`).join(' and ')}`, {
    op,
    shapes: xs.map((x) => [...x.shape]),
  });
}

/** A float constant of `like`'s dtype. */
export const floatConst = (like: Tensor, values: ArrayLike<number>, shape: number[]): Tensor =>
  constant(like.graph, Array.from(values), like.dtype, shape);

/** The [n, n] identity as a constant of `like`'s dtype. */
export function eye(like: Tensor, n: number): Tensor {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  return floatConst(like, v, [n, n]);
}

/** 0, 1, ..., n-1 as an int64 constant (class labels of a diagonal). */
export const arange = (like: Tensor, n: number): Tensor =>
  constant(
    like.graph,
    Array.from({ length: n }, (_, i) => i),
    'int64',
    [n],
  );

const constCache = new WeakMap<Graph, Map<string, Tensor>>();

/**
 * One constant per graph and key: masks and position tables are rebuilt by every layer that uses them, but the model
 * should store each only once.
 */
export function cachedConstant(g: Graph, key: string, make: () => Tensor): Tensor {
  let m = constCache.get(g);
  if (!m) constCache.set(g, (m = new Map()));
  const hit = m.get(key);
  if (hit) return hit;
  const t = make();
  m.set(key, t);
  return t;
}
