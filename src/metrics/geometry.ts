/**
 * Alignment and uniformity (Wang & Isola 2020, ssnl/align_uniform) and the blockwise squared-distance
 * kernel they share with the k-NN mutual-information estimator.
 */

import { asMatrix, checkNonEmpty, checkPaired, l2Normalize, type MatrixInput } from './input.js';
import type { Matrix } from './linalg.js';
import { type Graph } from '../engine/graph.js';
import type { Tensor } from '../engine/tensor.js';
import { add, exp, maximum, mul } from '../engine/ops/elementwise.js';
import { gemm } from '../engine/ops/nn.js';
import { runGraph, type MetricsGraph, type Precision } from './ort.js';
import { blockRows } from './sweep.js';
import { InputError } from '../util/errors.js';

/** Squared L2 norm of each row. */
export function squaredNorms(x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let j = 0; j < x.cols; j++) s += x.data[i * x.cols + j] ** 2;
    out[i] = s;
  }
  return out;
}

/** d2 = |x_i|^2 + |y_j|^2 - 2 x_i·y_j, clamped at 0: [R, N] from x [R, D], y [N, D] and their squared norms. */
function sqDist(g: Graph, p: Precision): Tensor {
  const [x, y] = [g.input('x', p, ['R', 'D']), g.input('y', p, ['N', 'D'])];
  const [nx, ny] = [g.input('nx', p, ['R', 1]), g.input('ny', p, [1, 'N'])];
  return maximum(add(add(gemm(x, y, undefined, { transB: true, alpha: -2 }), nx), ny), 0);
}

const sqDistGraph: MetricsGraph = (g, p) => ({ d2: sqDist(g, p) });

/** Σ_j exp(-t d2_ij) per row, via a GEMM with ones. */
const expSumGraph: MetricsGraph = (g, p) => {
  const d2 = sqDist(g, p);
  const [negT, ones] = [g.input('negT', p, [1]), g.input('ones', p, ['N', 1])];
  return { rowSum: gemm(exp(mul(d2, negT)), ones) };
};

/** Squared Euclidean distances from rows r0..r1 of x to every row of y: a [r1 - r0, y.rows] block. */
export async function distanceBlock(
  x: Matrix,
  nx: Float64Array,
  y: Matrix,
  ny: Float64Array,
  r0: number,
  r1: number,
  precision: Precision = 'float64',
): Promise<Float32Array | Float64Array> {
  const out = await runGraph('sqdist', precision, sqDistGraph, {
    x: { data: x.data.subarray(r0 * x.cols, r1 * x.cols), dims: [r1 - r0, x.cols] },
    y: { data: y.data, dims: [y.rows, y.cols] },
    nx: { data: nx.subarray(r0, r1), dims: [r1 - r0, 1] },
    ny: { data: ny, dims: [1, y.rows] },
  });
  return out.d2.data;
}

/**
 * alignment = mean_i ‖x_i - y_i‖^alpha over positive pairs of L2-normalized embeddings (alpha = 2):
 * [0, 4] for alpha = 2, lower is better.
 */
export function alignmentLoss(a: MatrixInput, b: MatrixInput, alpha = 2): number {
  const x = l2Normalize(asMatrix(a, 'a'));
  const y = l2Normalize(asMatrix(b, 'b'));
  checkPaired(x, y, 'a', 'b');
  checkNonEmpty(x.rows, 'a');
  let s = 0;
  for (let i = 0; i < x.rows; i++) {
    let d = 0;
    for (let j = 0; j < x.cols; j++) d += (x.data[i * x.cols + j] - y.data[i * x.cols + j]) ** 2;
    s += Math.pow(Math.sqrt(d), alpha);
  }
  return s / x.rows;
}

/**
 * uniformity = log mean_{i<j} exp(-t ‖x_i - x_j‖²) over L2-normalized embeddings (t = 2): in [-4t, 0],
 * i.e. [-8, 0] for t = 2; lower (more negative) means more uniformly spread on the sphere.
 */
export async function uniformityLoss(a: MatrixInput, t = 2, opts: { precision?: Precision } = {}): Promise<number> {
  const x = l2Normalize(asMatrix(a, 'x'));
  if (x.rows < 2)
    throw new InputError(`uniformity needs at least 2 embeddings, got ${x.rows}`, {
      field: 'x',
      expected: 2,
      got: x.rows,
    });
  const n = x.rows;
  const norms = squaredNorms(x);
  const blk = blockRows(n, 4_000_000);
  let total = 0;
  for (let r0 = 0; r0 < n; r0 += blk) {
    const r1 = Math.min(n, r0 + blk);
    const out = await runGraph('expsum', opts.precision ?? 'float32', expSumGraph, {
      x: { data: x.data.subarray(r0 * x.cols, r1 * x.cols), dims: [r1 - r0, x.cols] },
      y: { data: x.data, dims: [n, x.cols] },
      nx: { data: norms.subarray(r0, r1), dims: [r1 - r0, 1] },
      ny: { data: norms, dims: [1, n] },
      negT: { data: new Float64Array([-t]), dims: [1] },
      ones: { data: new Float64Array(n).fill(1), dims: [n, 1] },
    });
    for (const v of out.rowSum.data) total += v;
  }
  // the diagonal contributes exp(0) = 1 per row (its computed distance is 0 up to round-off)
  const offDiagonal = Math.max(total - n, 0);
  return Math.log(offDiagonal / (n * (n - 1)));
}
