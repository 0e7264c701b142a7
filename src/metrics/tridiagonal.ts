/**
 * Symmetric tridiagonal eigenvalue kernels in float64: one-stage Householder reduction of a dense
 * matrix (used below the blocked path's size), implicit QR with Wilkinson shifts, and Sturm bisection
 * as a fallback.
 */
/** In-place Householder tridiagonalisation using only the lower triangle; fills diag and off (off[i] couples i-1, i). */
export function tridiagonalise(a: Float64Array, n: number, diag: Float64Array, off: Float64Array): void {
  const p = new Float64Array(n);
  for (let i = n - 1; i >= 1; i--) {
    const rowI = i * n;
    const l = i; // u lives in a[i][0..l-1]
    let scale = 0;
    for (let k = 0; k < l; k++) scale += Math.abs(a[rowI + k]);
    if (l === 1 || scale === 0) {
      off[i] = a[rowI + i - 1];
      continue;
    }
    let h = 0;
    for (let k = 0; k < l; k++) {
      a[rowI + k] /= scale;
      h += a[rowI + k] * a[rowI + k];
    }
    const f = a[rowI + l - 1];
    const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    off[i] = scale * g;
    h -= f * g;
    a[rowI + l - 1] = f - g;
    // p = A u / h on the leading l x l block (lower triangle, contiguous rows)
    p.fill(0, 0, l);
    for (let j = 0; j < l; j++) {
      const rowJ = j * n;
      const uj = a[rowI + j];
      let acc = 0;
      for (let k = 0; k < j; k++) {
        const ajk = a[rowJ + k];
        acc += ajk * a[rowI + k];
        p[k] += ajk * uj;
      }
      p[j] += acc + a[rowJ + j] * uj;
    }
    let uDotP = 0;
    for (let k = 0; k < l; k++) {
      p[k] /= h;
      uDotP += a[rowI + k] * p[k];
    }
    const kk = uDotP / (h + h);
    for (let k = 0; k < l; k++) p[k] -= kk * a[rowI + k]; // q = p - K u
    // A -= u qᵀ + q uᵀ on the lower triangle
    for (let j = 0; j < l; j++) {
      const rowJ = j * n;
      const uj = a[rowI + j];
      const qj = p[j];
      for (let k = 0; k <= j; k++) a[rowJ + k] -= uj * p[k] + qj * a[rowI + k];
    }
  }
  for (let i = 0; i < n; i++) diag[i] = a[i * n + i];
}

/** Number of eigenvalues of the tridiagonal (d, e) below x (Sturm sequence; e[i] couples i-1 and i). */
function countBelow(d: Float64Array, e2: Float64Array, x: number, pivmin: number): number {
  let count = 0;
  let q = d[0] - x;
  if (Math.abs(q) < pivmin) q = -pivmin;
  if (q < 0) count++;
  for (let i = 1; i < d.length; i++) {
    q = d[i] - x - e2[i] / q;
    if (Math.abs(q) < pivmin) q = -pivmin;
    if (q < 0) count++;
  }
  return count;
}

/**
 * One implicit symmetric QR step with a Wilkinson shift on the unreduced block [p, q] of the tridiagonal
 * (a = diagonal, e[k] couples k and k+1): a Givens rotation seeded by the shifted first column, then
 * the bulge is chased down the block (Golub & Van Loan, algorithm 8.3.2).
 */
function implicitQrStep(a: Float64Array, e: Float64Array, p: number, q: number): void {
  const d = (a[q - 1] - a[q]) / 2;
  const b = e[q - 1];
  const mu = a[q] - (b * b) / (d + (d >= 0 ? 1 : -1) * Math.hypot(d, b));
  let x = a[p] - mu;
  let z = e[p];
  for (let k = p; k < q; k++) {
    const r = Math.hypot(x, z);
    const c = r === 0 ? 1 : x / r;
    const s = r === 0 ? 0 : z / r;
    if (k > p) e[k - 1] = r;
    const app = a[k];
    const aqq = a[k + 1];
    const apq = e[k];
    a[k] = c * c * app + 2 * c * s * apq + s * s * aqq;
    a[k + 1] = s * s * app - 2 * c * s * apq + c * c * aqq;
    e[k] = c * s * (aqq - app) + (c * c - s * s) * apq;
    if (k + 1 < q) {
      z = s * e[k + 1];
      e[k + 1] *= c;
      x = e[k];
    }
  }
}

/**
 * Eigenvalues (ascending) of a symmetric tridiagonal matrix by implicit QR with deflation, O(n^2);
 * null if it fails to converge (the caller then bisects).
 */
function tridiagonalEigenvaluesQr(diag: Float64Array, off: Float64Array): Float64Array | null {
  const n = diag.length;
  const a = Float64Array.from(diag);
  const e = new Float64Array(Math.max(0, n - 1));
  for (let k = 0; k + 1 < n; k++) e[k] = off[k + 1];
  let norm = 0;
  for (let k = 0; k < n; k++)
    norm = Math.max(norm, Math.abs(a[k]) + (k > 0 ? Math.abs(e[k - 1]) : 0) + (k + 1 < n ? Math.abs(e[k]) : 0));
  const tiny = Number.EPSILON * Number.EPSILON * norm;
  let q = n - 1;
  let steps = 0;
  while (q > 0) {
    while (q > 0 && Math.abs(e[q - 1]) <= Number.EPSILON * (Math.abs(a[q - 1]) + Math.abs(a[q])) + tiny) e[--q] = 0;
    if (q === 0) break;
    let p = q - 1;
    while (p > 0 && Math.abs(e[p - 1]) > Number.EPSILON * (Math.abs(a[p - 1]) + Math.abs(a[p])) + tiny) p--;
    if (p > 0) e[p - 1] = 0;
    if (++steps > 40 * n) return null;
    implicitQrStep(a, e, p, q);
  }
  return a.sort();
}

/** Eigenvalues of a symmetric tridiagonal matrix: implicit QR, or bisection if QR does not converge. */
export function tridiagonalEigenvalues(diag: Float64Array, off: Float64Array): Float64Array {
  return tridiagonalEigenvaluesQr(diag, off) ?? tridiagonalEigenvaluesBisect(diag, off);
}

/**
 * All eigenvalues (ascending) of a symmetric tridiagonal matrix by Sturm-sequence bisection inside the
 * Gershgorin interval. Each interval is split until it holds one eigenvalue or reaches round-off width;
 * intervals holding several eigenvalues share their counts, so the cost is about n * 60 Sturm sweeps.
 */
export function tridiagonalEigenvaluesBisect(d: Float64Array, e: Float64Array): Float64Array {
  const n = d.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  const e2 = new Float64Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    e2[i] = i > 0 ? e[i] * e[i] : 0;
    const r = (i > 0 ? Math.abs(e[i]) : 0) + (i + 1 < n ? Math.abs(e[i + 1]) : 0);
    lo = Math.min(lo, d[i] - r);
    hi = Math.max(hi, d[i] + r);
    norm = Math.max(norm, Math.abs(d[i]) + r);
  }
  const tol = 4 * Number.EPSILON * Math.max(norm, Number.MIN_VALUE);
  const pivmin = Number.MIN_VALUE * 1e10 + tol * tol;
  lo -= tol;
  hi += tol;
  // stack of intervals [a, b) with count(a) = ca, count(b) = cb eigenvalues below each end
  const stack: [number, number, number, number][] = [[lo, hi, 0, n]];
  while (stack.length) {
    const [a, b, ca, cb] = stack.pop()!;
    if (cb <= ca) continue;
    if (b - a <= tol + 2 * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b))) {
      for (let k = ca; k < cb; k++) out[k] = 0.5 * (a + b);
      continue;
    }
    const mid = 0.5 * (a + b);
    const cm = Math.min(Math.max(countBelow(d, e2, mid, pivmin), ca), cb);
    stack.push([a, mid, ca, cm], [mid, b, cm, cb]);
  }
  return out;
}
