import type { Tensor } from '../engine/tensor.js';
import { cast, exp, greater, less, mul, sub } from '../engine/ops/elementwise.js';
import { gemm } from '../engine/ops/nn.js';
import { asPrecision, runGraph, type MetricsGraph, type Precision } from './ort.js';
import { matrix, type Matrix } from './linalg.js';

/**
 * One pass over the N x N similarity matrix S = A Bᵀ in row blocks, never holding all of it: for each
 * row block ONNX Runtime computes the block, compares it with the true-pair scores on the diagonal and
 * reduces it to per-row and per-column counts and log-sum-exps. This gives ranks in both directions
 * (retrieval metrics) and the InfoNCE losses in one GEMM pass.
 */
export interface SweepResult {
  /** per row i: #{j : S_ij > S_ii} and #{j != i : S_ij == S_ii} (a -> b retrieval) */
  greaterRow: Float64Array;
  tiedRow: Float64Array;
  /** per column j: #{i : S_ij > S_jj} and #{i != j : S_ij == S_jj} (b -> a retrieval) */
  greaterCol: Float64Array;
  tiedCol: Float64Array;
  /** logsumexp_j(scale * S_ij) and logsumexp_i(scale * S_ij) (only when asked for) */
  lseRow: Float64Array;
  lseCol: Float64Array;
  /** S_ii */
  diag: Float64Array;
}

/**
 * Graph for one row block. Counts are summed with GEMMs against ones vectors (multithreaded, much
 * faster than ReduceSum over axis 0 in ORT); ties are N - greater - less, so no float Equal is needed.
 * With `lse`, Σ exp(scale * (S - 1)) per row and column is returned too: rows are unit vectors, so
 * |S| <= 1 and the shift keeps every exponent <= 0.
 */
function sweepGraph(lse: boolean): MetricsGraph {
  return (g, p) => {
    const [a, b] = [g.input('a', p, ['R', 'D']), g.input('b', p, ['N', 'D'])];
    const [dRow, dCol] = [g.input('dRow', p, ['R', 1]), g.input('dCol', p, [1, 'N'])];
    const [onesN, onesB] = [g.input('onesN', p, ['N', 1]), g.input('onesB', p, [1, 'R'])];
    const s = gemm(a, b, undefined, { transB: true }); // [R, N]
    const sumRows = (x: Tensor) => gemm(x, onesN); // [R, 1]
    const sumCols = (x: Tensor) => gemm(onesB, x); // [1, N]
    const out: Record<string, Tensor> = {};
    for (const [cmp, ref, dir] of [
      [greater, dRow, 'Row'],
      [less, dRow, 'Row'],
      [greater, dCol, 'Col'],
      [less, dCol, 'Col'],
    ] as const) {
      const counted = cast(cmp(s, ref), p);
      out[`${cmp === greater ? 'greater' : 'less'}${dir}`] = dir === 'Row' ? sumRows(counted) : sumCols(counted);
    }
    if (lse) {
      const e = exp(mul(sub(s, 1), g.input('scale', p, [1])));
      out.expRow = sumRows(e);
      out.expCol = sumCols(e);
    }
    return out;
  };
}

const blockGemmGraph: MetricsGraph = (g, p) => ({
  s: gemm(g.input('a', p, ['R', 'D']), g.input('b', p, ['N', 'D']), undefined, { transB: true }),
});

/** Rows per block so that one block of S stays around 8M values. */
export function blockRows(n: number, target = 8_000_000): number {
  return Math.max(1, Math.min(n, Math.floor(target / Math.max(1, n))));
}

function rowsOf(m: Matrix, r0: number, r1: number): Float32Array | Float64Array {
  return m.data.subarray(r0 * m.cols, r1 * m.cols);
}

/**
 * The true-pair scores S_ii, taken from GEMM blocks of the same kind as the sweep's so that a pair tied
 * with its own score compares equal rather than differing in the last bit.
 */
async function diagonal(a: Matrix, b: Matrix, blk: number, precision: Precision): Promise<Float64Array> {
  const n = a.rows;
  const d = new Float64Array(n);
  for (let r0 = 0; r0 < n; r0 += blk) {
    const r1 = Math.min(n, r0 + blk);
    const out = await runGraph('blockgemm', precision, blockGemmGraph, {
      a: { data: rowsOf(a, r0, r1), dims: [r1 - r0, a.cols] },
      b: { data: rowsOf(b, r0, r1), dims: [r1 - r0, b.cols] },
    });
    const w = r1 - r0;
    for (let i = 0; i < w; i++) d[r0 + i] = out.s.data[i * w + i];
  }
  return d;
}

/**
 * Runs the sweep. `scale` (1 / temperature) is used only for the log-sum-exps, which are computed only
 * when `lse` is set and assume unit-norm rows.
 */
export async function similaritySweep(
  a0: Matrix,
  b0: Matrix,
  opts: {
    precision: Precision;
    lse?: boolean;
    scale?: number;
    blockRows?: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<SweepResult> {
  const n = a0.rows;
  const precision = opts.precision;
  // convert once, not per block
  const a = matrix(a0.rows, a0.cols, asPrecision(a0.data, precision));
  const b = matrix(b0.rows, b0.cols, asPrecision(b0.data, precision));
  const blk = opts.blockRows ?? blockRows(n);
  const lse = opts.lse ?? false;
  const scale = opts.scale ?? 1;
  const diag = await diagonal(a, b, blk, precision);
  const res: SweepResult = {
    greaterRow: new Float64Array(n),
    tiedRow: new Float64Array(n),
    greaterCol: new Float64Array(n),
    tiedCol: new Float64Array(n),
    lseRow: new Float64Array(n),
    lseCol: new Float64Array(n),
    diag,
  };
  const lessCol = new Float64Array(n);
  const expCol = new Float64Array(n);
  const feedsFixed = {
    b: { data: b.data, dims: [n, b.cols] },
    dCol: { data: diag, dims: [1, n] },
    onesN: { data: new Float64Array(n).fill(1), dims: [n, 1] },
    ...(lse ? { scale: { data: new Float64Array([scale]), dims: [1] } } : {}),
  };
  for (let r0 = 0; r0 < n; r0 += blk) {
    const r1 = Math.min(n, r0 + blk);
    const w = r1 - r0;
    const out = await runGraph(lse ? 'simsweep_lse' : 'simsweep', precision, sweepGraph(lse), {
      ...feedsFixed,
      a: { data: rowsOf(a, r0, r1), dims: [w, a.cols] },
      dRow: { data: diag.subarray(r0, r1), dims: [w, 1] },
      onesB: { data: new Float64Array(w).fill(1), dims: [1, w] },
    });
    for (let i = 0; i < w; i++) {
      res.greaterRow[r0 + i] = out.greaterRow.data[i];
      res.tiedRow[r0 + i] = n - 1 - out.greaterRow.data[i] - out.lessRow.data[i];
      if (lse) res.lseRow[r0 + i] = scale + Math.log(out.expRow.data[i]);
    }
    opts.onProgress?.(r1, n);
    for (let j = 0; j < n; j++) {
      res.greaterCol[j] += out.greaterCol.data[j];
      lessCol[j] += out.lessCol.data[j];
      if (lse) expCol[j] += out.expCol.data[j];
    }
  }
  for (let j = 0; j < n; j++) {
    res.tiedCol[j] = n - 1 - res.greaterCol[j] - lessCol[j];
    if (lse) res.lseCol[j] = scale + Math.log(expCol[j]);
  }
  return res;
}
