import { type Dim, type Shape, shapeError } from './graph.js';

/** Numpy broadcasting of two shapes. Symbolic dims must match by name (or meet a 1). */
export function broadcastShapes(op: string, a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else shapeError(op, `cannot broadcast dim ${da} with ${db}`, [a, b]);
  }
  return out;
}

/** Normalizes a possibly negative axis against a rank, throwing a ShapeError when out of range. */
export function normAxis(op: string, axis: number, rank: number, shape: Shape): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) shapeError(op, `axis ${axis} out of range for rank ${rank}`, [shape]);
  return a;
}

export function normAxes(op: string, axes: readonly number[], rank: number, shape: Shape): number[] {
  const out = axes.map((a) => normAxis(op, a, rank, shape));
  if (new Set(out).size !== out.length) shapeError(op, `repeated axes ${axes.join(', ')}`, [shape]);
  return out.sort((x, y) => x - y);
}

/** Product of static dims, or null when any is symbolic. */
export function staticNumel(s: Shape): number | null {
  let n = 1;
  for (const d of s) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** Inverse of a permutation. */
export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
