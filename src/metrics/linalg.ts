import { gemm } from '../engine/ops/nn.js';
import { runGraph, type MetricsGraph, type Precision } from './ort.js';
import { bandToTridiagonal, blockedCholeskyPsd, reduceToBand } from './eigen.js';
import { tridiagonalEigenvalues, tridiagonalise } from './tridiagonal.js';

/**
 * Dense linear algebra for the metrics. Matrix products run in ONNX Runtime (MLAS GEMM, float32 or
 * float64); the steps ONNX has no operator for (Cholesky and Householder panels, bulge chasing,
 * tridiagonal eigenvalues; eigen.ts, tridiagonal.ts) are float64 loops.
 */
export interface Matrix {
  rows: number;
  cols: number;
  /** row-major, rows * cols values */
  data: Float64Array | Float32Array;
}

export function matrix(rows: number, cols: number, data?: Float64Array | Float32Array): Matrix {
  return { rows, cols, data: data ?? new Float64Array(rows * cols) };
}

function gemmGraph(transA: boolean, transB: boolean): MetricsGraph {
  return (g, p) => {
    const a = g.input('a', p, transA ? ['K', 'M'] : ['M', 'K']);
    const b = g.input('b', p, transB ? ['N', 'K'] : ['K', 'N']);
    return { c: gemm(a, b, undefined, { transA, transB }) };
  };
}

/** op(A) @ op(B), where op transposes when asked. Returns a float64 matrix. */
export async function matmul(
  a: Matrix,
  b: Matrix,
  opts: { transA?: boolean; transB?: boolean; precision?: Precision } = {},
): Promise<Matrix> {
  const tA = opts.transA ? 1 : 0;
  const tB = opts.transB ? 1 : 0;
  const [m, ka] = tA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [kb, n] = tB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (ka !== kb) throw new Error(`internal: matmul inner dimensions differ (${ka} vs ${kb})`);
  if (m === 0 || n === 0) return matrix(m, n);
  if (ka === 0) return matrix(m, n);
  const out = await runGraph(`gemm${tA}${tB}`, opts.precision ?? 'float64', gemmGraph(tA === 1, tB === 1), {
    a: { data: a.data, dims: [a.rows, a.cols] },
    b: { data: b.data, dims: [b.rows, b.cols] },
  });
  return matrix(m, n, toF64(out.c.data));
}

function toF64(d: Float32Array | Float64Array): Float64Array {
  return d instanceof Float64Array ? d : Float64Array.from(d);
}

/** Column means in float64. */
export function columnMeans(x: Matrix): Float64Array {
  const mu = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) {
    const off = i * x.cols;
    for (let j = 0; j < x.cols; j++) mu[j] += x.data[off + j];
  }
  for (let j = 0; j < x.cols; j++) mu[j] /= x.rows;
  return mu;
}

/**
 * Sample covariance (divisor n - 1, like np.cov) and the mean. Centring is done in float64 first; the
 * Gram matrix Xcᵀ Xc is built from column blocks, computing only the blocks on and below the diagonal
 * (GEMMs in ORT) and mirroring the rest, which saves about a third of the work for wide features.
 */
export async function covariance(
  x: Matrix,
  precision: Precision = 'float64',
  blockCols = 512,
): Promise<{ mean: Float64Array; cov: Matrix }> {
  const mean = columnMeans(x);
  const d = x.cols;
  const n = x.rows;
  const nBlocks = Math.max(1, Math.ceil(d / blockCols));
  const width = Math.ceil(d / nBlocks);
  // centerd column blocks, stored transposed ([w, rows], the reduction axis contiguous: GEMM "NT"
  // layout, measurably faster in MLAS than Xᵀ X on row-major X); transposed in tiles of 64 rows
  const blocks: Matrix[] = [];
  for (let c0 = 0; c0 < d; c0 += width) {
    const w = Math.min(width, d - c0);
    const data = precision === 'float64' ? new Float64Array(n * w) : new Float32Array(n * w);
    for (let i0 = 0; i0 < n; i0 += 64) {
      const i1 = Math.min(n, i0 + 64);
      for (let j = 0; j < w; j++) {
        const mu = mean[c0 + j];
        const dst = j * n;
        for (let i = i0; i < i1; i++) data[dst + i] = x.data[i * d + c0 + j] - mu;
      }
    }
    blocks.push(matrix(w, n, data));
  }
  const cov = matrix(d, d);
  const scale = 1 / Math.max(1, n - 1);
  for (let bi = 0; bi < blocks.length; bi++) {
    for (let bj = 0; bj <= bi; bj++) {
      const g = await matmul(blocks[bi], blocks[bj], { transB: true, precision }); // [wi, wj]
      const r0 = bi * width;
      const c0 = bj * width;
      for (let i = 0; i < g.rows; i++) {
        for (let j = 0; j < g.cols; j++) {
          const v = g.data[i * g.cols + j] * scale;
          cov.data[(r0 + i) * d + c0 + j] = v;
          cov.data[(c0 + j) * d + r0 + i] = v;
        }
      }
    }
  }
  symmetrize(cov);
  return { mean, cov };
}

/** Averages a square matrix with its transpose in place (removes GEMM round-off asymmetry). */
export function symmetrize(a: Matrix): void {
  const n = a.rows;
  const d = a.data;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (d[i * n + j] + d[j * n + i]);
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
}

/**
 * Lower-triangular L with L Lᵀ = S for a symmetric positive SEMI-definite S. A pivot at or below
 * `tol * max(diag)` marks a direction S does not span; that column of L is set to zero, which keeps
 * L Lᵀ = S for singular covariances (rank < dimension) instead of failing or adding a ridge.
 */
export function choleskyPsd(s: Matrix, tol = 1e-12): Matrix {
  const n = s.rows;
  const a = Float64Array.from(s.data);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, a[i * n + i]);
  const floor = tol * maxDiag * n;
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j];
    for (let k = 0; k < j; k++) d -= a[rowJ + k] * a[rowJ + k];
    if (d <= floor) {
      for (let i = j; i < n; i++) a[i * n + j] = 0;
      continue;
    }
    const ljj = Math.sqrt(d);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let v = a[rowI + j];
      for (let k = 0; k < j; k++) v -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = v / ljj;
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) a[i * n + j] = 0;
  return matrix(n, n, a);
}

/**
 * Eigenvalues of a symmetric matrix (ascending): Householder reduction to tridiagonal form on the lower
 * triangle, then Sturm-sequence bisection. O(n^3) flops for the reduction, float64 throughout.
 */
export function symmetricEigenvalues(s: Matrix): Float64Array {
  const n = s.rows;
  const a = Float64Array.from(s.data);
  const diag = new Float64Array(n);
  const off = new Float64Array(n);
  tridiagonalise(a, n, diag, off);
  return tridiagonalEigenvalues(diag, off);
}

/** Above this size the blocked (GEMM-based) Cholesky and two-stage eigenvalue paths are used. */
const BLOCKED_FROM = 192;

/** choleskyPsd with the trailing updates done as ORT GEMMs for large matrices (same result). */
export async function choleskyPsdBlocked(s: Matrix, precision: Precision = 'float64', tol = 1e-12): Promise<Matrix> {
  const n = s.rows;
  if (n < BLOCKED_FROM) return choleskyPsd(s, tol);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, s.data[i * n + i]);
  const data = s.data instanceof Float64Array ? s.data : Float64Array.from(s.data);
  return matrix(n, n, await blockedCholeskyPsd(data, n, tol * maxDiag * n, 96, precision));
}

/**
 * Eigenvalues (ascending) of a symmetric matrix; large ones go dense -> band (GEMMs in ORT) -> tridiagonal
 * (Givens bulge chasing) -> bisection, small ones use the one-stage Householder path.
 */
export async function symmetricEigenvaluesBlocked(
  s: Matrix,
  precision: Precision = 'float64',
  bandwidth = 16,
): Promise<Float64Array> {
  const n = s.rows;
  if (n < BLOCKED_FROM) return symmetricEigenvalues(s);
  const data = s.data instanceof Float64Array ? s.data : Float64Array.from(s.data);
  const band = await reduceToBand(data, n, bandwidth, precision);
  const { diag, off } = bandToTridiagonal(band, n, bandwidth);
  return tridiagonalEigenvalues(diag, off);
}

/** Rows r0..r1 and columns c0..c1 of a matrix, copied contiguous. */
function block(a: Matrix, r0: number, r1: number, c0: number, c1: number): Matrix {
  const out = new Float64Array((r1 - r0) * (c1 - c0));
  for (let i = r0; i < r1; i++)
    for (let j = c0; j < c1; j++) out[(i - r0) * (c1 - c0) + j - c0] = a.data[i * a.cols + j];
  return matrix(r1 - r0, c1 - c0, out);
}

/**
 * Lᵀ S L for symmetric S and lower-triangular L, skipping the zero part of L: column block J of S L
 * only needs rows >= j0 of L, and block row I of Lᵀ (S L) only rows >= i0; only the lower block
 * triangle of the (symmetric) result is computed. About 3/8 of the work of two dense products.
 */
export async function congruenceLower(s: Matrix, l: Matrix, precision: Precision = 'float64'): Promise<Matrix> {
  const n = s.rows;
  const parts = n < BLOCKED_FROM ? 1 : 4;
  const w = Math.ceil(n / parts);
  const sl = matrix(n, n);
  for (let j0 = 0; j0 < n; j0 += w) {
    const j1 = Math.min(n, j0 + w);
    const p = await matmul(block(s, 0, n, j0, n), block(l, j0, n, j0, j1), { precision }); // [n, j1 - j0]
    for (let i = 0; i < n; i++) for (let j = j0; j < j1; j++) sl.data[i * n + j] = p.data[i * (j1 - j0) + j - j0];
  }
  const m = matrix(n, n);
  for (let i0 = 0; i0 < n; i0 += w) {
    const i1 = Math.min(n, i0 + w);
    const p = await matmul(block(l, i0, n, i0, i1), block(sl, i0, n, 0, i1), { transA: true, precision }); // [i1 - i0, i1]
    for (let i = i0; i < i1; i++) {
      for (let j = 0; j < i1; j++) {
        const v = p.data[(i - i0) * i1 + j];
        m.data[i * n + j] = v;
        m.data[j * n + i] = v;
      }
    }
  }
  symmetrize(m);
  return m;
}

/** Σ diag */
export function trace(a: Matrix): number {
  let t = 0;
  for (let i = 0; i < a.rows; i++) t += a.data[i * a.cols + i];
  return t;
}

/**
 * Tr(sqrtm(S1 S2)) for symmetric PSD S1, S2 without forming a non-symmetric square root:
 * with S1 = L Lᵀ, S1 S2 is similar to Lᵀ S2 L (symmetric PSD), so the trace is Σ sqrt(λ_i(Lᵀ S2 L)).
 * Tiny negative eigenvalues from round-off are clamped to zero.
 */
export async function traceSqrtProduct(s1: Matrix, s2: Matrix, precision: Precision = 'float64'): Promise<number> {
  const l = await choleskyPsdBlocked(s1, precision);
  const m = await congruenceLower(s2, l, precision);
  const eig = await symmetricEigenvaluesBlocked(m, precision);
  let t = 0;
  for (const v of eig) if (v > 0) t += Math.sqrt(v);
  return t;
}
