/**
 * Blocked dense kernels whose O(n^3) part is GEMMs in ONNX Runtime, for n in the thousands (2048-d
 * feature covariances): semidefinite Cholesky, and symmetric eigenvalues by the two-stage reduction
 * dense -> band (block Householder, GEMM-rich) -> tridiagonal (Givens bulge chasing on the band, O(n^2 b))
 * -> Sturm bisection. Matrices are row-major n x n Float64Arrays.
 */

import { concat } from '../engine/ops/movement.js';
import { gemm } from '../engine/ops/nn.js';
import { runGraph, type MetricsGraph, type Precision } from './ort.js';

/** C - U Wᵀ */
const updateGraph: MetricsGraph = (g, p) => {
  const [u, w, c] = [g.input('u', p, ['K', 'W']), g.input('w', p, ['K', 'W']), g.input('c', p, ['K', 'K'])];
  return { out: gemm(u, w, c, { transB: true, alpha: -1 }) };
};

/**
 * One two-sided block-reflector update, all in ORT: with Q = I - V T Vᵀ,
 * X = A V T, Z = Tᵀ Vᵀ X, Y = X - V Z / 2, and Qᵀ A Q = A - V Yᵀ - Y Vᵀ = A - [V Y][Y V]ᵀ.
 */
const twoSidedUpdateGraph: MetricsGraph = (g, p) => {
  const [a, v, t] = [g.input('a', p, ['K', 'K']), g.input('v', p, ['K', 'R']), g.input('t', p, ['R', 'R'])];
  const x = gemm(gemm(a, v), t); // [K, R]
  const vtx = gemm(v, x, undefined, { transA: true }); // [R, R]
  const z = gemm(t, vtx, undefined, { transA: true }); // [R, R]
  const y = gemm(v, z, x, { alpha: -0.5 }); // [K, R]
  const u = concat([v, y], 1); // [K, 2R]
  const w = concat([y, v], 1); // [K, 2R]
  return { out: gemm(u, w, a, { transB: true, alpha: -1 }) };
};

async function gemmUpdate(
  c: Float64Array,
  k: number,
  u: Float64Array,
  w: Float64Array,
  width: number,
  precision: Precision,
): Promise<Float64Array> {
  const out = await runGraph('gemmupdate', precision, updateGraph, {
    u: { data: u, dims: [k, width] },
    w: { data: w, dims: [k, width] },
    c: { data: c, dims: [k, k] },
  });
  return toF64(out.out.data);
}

function toF64(d: Float32Array | Float64Array): Float64Array {
  return d instanceof Float64Array ? d : Float64Array.from(d);
}

/** The trailing (m - s) x (m - s) block of an m x m matrix, copied contiguous. */
function trailing(a: Float64Array, m: number, s: number): Float64Array {
  const k = m - s;
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) out.set(a.subarray((s + i) * m + s, (s + i) * m + m), i * k);
  return out;
}

/**
 * Right-looking blocked Cholesky of a symmetric PSD matrix (lower L, row-major). A pivot at or below
 * `floor` zeroes its column (the matrix does not span that direction), as in the unblocked version.
 */
export async function blockedCholeskyPsd(
  s: Float64Array,
  n: number,
  floor: number,
  nb = 96,
  precision: Precision = 'float64',
): Promise<Float64Array> {
  const l = new Float64Array(n * n);
  let cur: Float64Array = Float64Array.from(s);
  let m = n;
  for (let k0 = 0; k0 < n; k0 += nb) {
    const w = Math.min(nb, m);
    const rest = m - w;
    // factor the w x w diagonal block and solve the panel below it, in place in cur
    for (let j = 0; j < w; j++) {
      let d = cur[j * m + j];
      for (let p = 0; p < j; p++) d -= cur[j * m + p] ** 2;
      const ljj = d > floor ? Math.sqrt(d) : 0;
      cur[j * m + j] = ljj;
      for (let i = j + 1; i < m; i++) {
        if (ljj === 0) {
          cur[i * m + j] = 0;
          continue;
        }
        let v = cur[i * m + j];
        for (let p = 0; p < j; p++) v -= cur[i * m + p] * cur[j * m + p];
        cur[i * m + j] = v / ljj;
      }
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < Math.min(w, i + 1); j++) l[(k0 + i) * n + k0 + j] = cur[i * m + j];
    if (rest <= 0) break;
    const panel = new Float64Array(rest * w);
    for (let i = 0; i < rest; i++) panel.set(cur.subarray((w + i) * m, (w + i) * m + w), i * w);
    cur = await gemmUpdate(trailing(cur, m, w), rest, panel, panel, w, precision);
    m = rest;
  }
  return l;
}

/**
 * Householder QR of a k x w panel (row-major, in place): returns V (k x r, unit lower trapezoidal) and
 * T (r x r upper triangular) with H_0 ... H_{r-1} = I - V T Vᵀ; the panel is left holding R on top.
 */
function panelQr(p: Float64Array, k: number, w: number): { v: Float64Array; t: Float64Array; r: number } {
  const r = Math.min(w, k - 1);
  const v = new Float64Array(k * r);
  const t = new Float64Array(r * r);
  const tau = new Float64Array(r);
  for (let j = 0; j < r; j++) {
    let norm2 = 0;
    for (let i = j; i < k; i++) norm2 += p[i * w + j] ** 2;
    const alpha = p[j * w + j];
    const norm = Math.sqrt(norm2);
    if (norm === 0 || norm2 === alpha * alpha) {
      // nothing below the diagonal to annihilate: identity reflector
      v[j * r + j] = 1;
      tau[j] = 0;
    } else {
      const beta = alpha >= 0 ? -norm : norm;
      tau[j] = (beta - alpha) / beta;
      const scale = 1 / (alpha - beta);
      v[j * r + j] = 1;
      for (let i = j + 1; i < k; i++) v[i * r + j] = p[i * w + j] * scale;
      p[j * w + j] = beta;
      for (let i = j + 1; i < k; i++) p[i * w + j] = 0;
      // apply H = I - tau v vᵀ to the remaining columns
      for (let c = j + 1; c < w; c++) {
        let s = 0;
        for (let i = j; i < k; i++) s += v[i * r + j] * p[i * w + c];
        s *= tau[j];
        for (let i = j; i < k; i++) p[i * w + c] -= s * v[i * r + j];
      }
    }
    // T[0:j, j] = -tau_j T[0:j, 0:j] Vᵀ[:, 0:j] v_j ; T[j, j] = tau_j
    const vtv = new Float64Array(j);
    for (let q = 0; q < j; q++) {
      let s = 0;
      for (let i = j; i < k; i++) s += v[i * r + q] * v[i * r + j];
      vtv[q] = s;
    }
    for (let q = 0; q < j; q++) {
      let s = 0;
      for (let z = q; z < j; z++) s += t[q * r + z] * vtv[z];
      t[q * r + j] = -tau[j] * s;
    }
    t[j * r + j] = tau[j];
  }
  return { v, t, r };
}

/**
 * Stage 1: reduces a symmetric matrix to a symmetric band matrix of half-bandwidth b with the same
 * eigenvalues (orthogonal similarity). Returns the band in dense n x n storage (both triangles).
 */
export async function reduceToBand(
  s: Float64Array,
  n: number,
  b: number,
  precision: Precision = 'float64',
): Promise<Float64Array> {
  const band = new Float64Array(n * n);
  let cur: Float64Array = Float64Array.from(s);
  let m = n;
  for (let j0 = 0; ; j0 += b) {
    const k = m - b;
    if (k <= 1) {
      for (let i = 0; i < m; i++) band.set(cur.subarray(i * m, i * m + m), (j0 + i) * n + j0);
      break;
    }
    for (let i = 0; i < b; i++) band.set(cur.subarray(i * m, i * m + b), (j0 + i) * n + j0);
    const panel = new Float64Array(k * b);
    for (let i = 0; i < k; i++) panel.set(cur.subarray((b + i) * m, (b + i) * m + b), i * b);
    const { v, t, r } = panelQr(panel, k, b);
    for (let i = 0; i < Math.min(k, b); i++) {
      for (let c = i; c < b; c++) {
        band[(j0 + b + i) * n + j0 + c] = panel[i * b + c];
        band[(j0 + c) * n + j0 + b + i] = panel[i * b + c];
      }
    }
    const a22 = trailing(cur, m, b);
    const out = await runGraph('twosided', precision, twoSidedUpdateGraph, {
      a: { data: a22, dims: [k, k] },
      v: { data: v, dims: [k, r] },
      t: { data: t, dims: [r, r] },
    });
    cur = toF64(out.out.data);
    m = k;
  }
  return band;
}

/**
 * Stage 2: a symmetric band matrix (half-bandwidth b, given in dense storage) to tridiagonal form by
 * Givens rotations, chasing each bulge down the band (Schwarz). Works on compact lower-band storage
 * with one extra diagonal for the single bulge: L[i * w + d] = A[i][i - d], d = 0 .. b + 1. Returns the
 * diagonal and the subdiagonal (off[i] couples i-1 and i).
 */
export function bandToTridiagonal(
  dense: Float64Array,
  n: number,
  b: number,
): { diag: Float64Array; off: Float64Array } {
  const w = b + 2;
  const band = new Float64Array(n * w);
  for (let i = 0; i < n; i++) for (let d = 0; d <= Math.min(i, b); d++) band[i * w + d] = dense[i * n + i - d];
  const at = (i: number, j: number): number => {
    const d = i - j;
    return d >= 0 && d < w ? band[i * w + d] : 0;
  };
  // rotate rows/columns p, p+1 so that the entry y at (p+1, col) becomes zero against x at (p, col)
  const rotate = (p: number, x: number, y: number): void => {
    const q = p + 1;
    const r = Math.hypot(x, y);
    const c = x / r;
    const s = y / r;
    // columns left of p: entries (p, k) and (q, k) live in rows p and q
    for (let k = Math.max(0, p - w + 1); k < p; k++) {
      const dp = p - k;
      const ap = band[p * w + dp];
      const aq = dp + 1 < w ? band[q * w + dp + 1] : 0;
      band[p * w + dp] = c * ap + s * aq;
      if (dp + 1 < w) band[q * w + dp + 1] = c * aq - s * ap;
    }
    // rows below q: entries (k, p) and (k, q) live in row k
    for (let k = q + 1; k < Math.min(n, q + w); k++) {
      const dq = k - q;
      const aq = band[k * w + dq];
      const ap = dq + 1 < w ? band[k * w + dq + 1] : 0;
      if (dq + 1 < w) band[k * w + dq + 1] = c * ap + s * aq;
      band[k * w + dq] = c * aq - s * ap;
    }
    const app = band[p * w];
    const aqq = band[q * w];
    const apq = band[q * w + 1];
    band[p * w] = c * c * app + 2 * c * s * apq + s * s * aqq;
    band[q * w] = s * s * app - 2 * c * s * apq + c * c * aqq;
    band[q * w + 1] = c * s * (aqq - app) + (c * c - s * s) * apq;
  };
  for (let j = 0; j < n - 2; j++) {
    for (let i = Math.min(j + b, n - 1); i >= j + 2; i--) {
      const y = band[i * w + i - j];
      if (y === 0) continue;
      rotate(i - 1, at(i - 1, j), y);
      band[i * w + i - j] = 0;
      // chase the bulge created at (i + b, i - 1) down the band
      for (let col = i - 1, row = i + b; row < n; col = row - 1, row += b) {
        const z = band[row * w + row - col];
        if (z === 0) break;
        rotate(row - 1, at(row - 1, col), z);
        band[row * w + row - col] = 0;
      }
    }
  }
  const diag = new Float64Array(n);
  const off = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    diag[i] = band[i * w];
    if (i > 0) off[i] = band[i * w + 1];
  }
  return { diag, off };
}
