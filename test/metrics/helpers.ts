import { Rng } from '../../src/util/rng.js';
import type { HostArray } from '../../src/io/array.js';

/** Shared test fixtures: seeded paired embeddings and plain float64 reference computations. */
export function pairedEmbeddings(n: number, d: number, noise: number, seed = 1): { a: HostArray; b: HostArray } {
  const rng = new Rng(seed);
  const a = new Float32Array(n * d);
  const b = new Float32Array(n * d);
  for (let i = 0; i < a.length; i++) {
    a[i] = rng.normal();
    b[i] = a[i] + noise * rng.normal();
  }
  return { a: { dtype: 'float32', shape: [n, d], data: a }, b: { dtype: 'float32', shape: [n, d], data: b } };
}

export function rows(x: HostArray): number[][] {
  const [n, d] = x.shape;
  return Array.from({ length: n }, (_, i) => Array.from(x.data.subarray(i * d, (i + 1) * d) as Float32Array));
}

export function normalize(v: number[]): number[] {
  const s = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => (s > 0 ? x / s : 0));
}

export function dot(u: number[], v: number[]): number {
  return u.reduce((a, x, i) => a + x * v[i], 0);
}

/** CLAP-style 0-based ranks of the true pair with a plain double loop (no ties expected). */
export function referenceRanks(a: number[][], b: number[][]): number[] {
  const an = a.map(normalize);
  const bn = b.map(normalize);
  return an.map((q, i) => {
    const own = dot(q, bn[i]);
    return bn.filter((c, j) => j !== i && dot(q, c) > own).length;
  });
}

export function close(actual: number, expected: number, tol: number, what = 'value'): void {
  if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${what}: expected ${expected} ± ${tol}, got ${actual}`);
}
