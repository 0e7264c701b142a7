/** Small helpers for the nn tests: build a graph, run it once, read values. */
import { Graph, ParamStore, Scope, Session, type Tensor } from '../../src/engine/index.js';
import type { HostArray } from '../../src/io/array.js';
import { Rng } from '../../src/util/rng.js';

export type Feeds = Record<string, HostArray>;

export const f32 = (shape: number[], vals: ArrayLike<number>): HostArray => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(vals),
});
export const f64 = (shape: number[], vals: ArrayLike<number>): HostArray => ({
  dtype: 'float64',
  shape,
  data: Float64Array.from(vals),
});
export const i64 = (shape: number[], vals: number[]): HostArray => ({
  dtype: 'int64',
  shape,
  data: BigInt64Array.from(vals.map(BigInt)),
});
export const bool = (shape: number[], vals: number[]): HostArray => ({
  dtype: 'bool',
  shape,
  data: Uint8Array.from(vals),
});
export const vals = (a: HostArray): number[] => Array.from(a.data as ArrayLike<number>);

export function randn(shape: number[], seed = 1, dtype: 'float32' | 'float64' = 'float32'): HostArray {
  const r = new Rng(seed);
  const v = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal());
  return dtype === 'float32' ? f32(shape, v) : f64(shape, v);
}

/**
 * Traces build(g, p) once with the given input specs, runs it on feeds, returns outputs by name. The parameter store
 * is returned so tests can read or change parameters.
 */
export async function runOnce(
  inputs: Record<string, { dtype: 'float32' | 'float64' | 'int64' | 'bool'; shape: (number | string)[] }>,
  build: (x: Record<string, Tensor>, p: Scope, g: Graph) => Record<string, Tensor>,
  feeds: Feeds,
  store = new ParamStore(3),
): Promise<Record<string, HostArray>> {
  const g = new Graph();
  const xs: Record<string, Tensor> = {};
  for (const [name, s] of Object.entries(inputs)) xs[name] = g.input(name, s.dtype, s.shape);
  const outs = build(xs, new Scope(g, store), g);
  const session = await Session.create(g, outs, { threads: 1 });
  try {
    return await session.run({ ...feeds, ...store.feeds(g) });
  } finally {
    await session.release();
  }
}

/** Max |a - b| over two equally long arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Rows [i*n, (i+1)*n) of a flat array. */
export const row = (a: ArrayLike<number>, i: number, n: number): number[] => Array.from(a).slice(i * n, (i + 1) * n);
