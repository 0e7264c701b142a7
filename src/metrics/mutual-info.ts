/**
 * Two mutual-information estimates between paired embeddings: the InfoNCE lower bound (bounded by
 * log N, cheap, the quantity contrastive training maximizes) and the Kraskov-Stögbauer-Grassberger
 * k-nearest-neighbor estimator (algorithm 1), which is not bounded by log N but is biased in high
 * dimensions. Both in nats.
 */

import { asMatrix, checkPaired, type MatrixInput } from './input.js';
import { distanceBlock, squaredNorms } from './geometry.js';
import { blockRows } from './sweep.js';
import { retrieval, type InfoNceBound } from './retrieval.js';
import type { Precision } from './ort.js';
import { InputError } from '../util/errors.js';

/** ψ(x), the digamma function, for x > 0 (recurrence up to 10, then the asymptotic series). */
export function digamma(x: number): number {
  let r = 0;
  while (x < 10) {
    r -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  return r + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/** InfoNCE bound log N - L with cosine scores / temperature (see RetrievalResult.infoNce). */
export async function infoNceBound(
  a: MatrixInput,
  b: MatrixInput,
  opts: { temperature?: number; precision?: Precision } = {},
): Promise<InfoNceBound> {
  const r = await retrieval(a, b, { temperature: opts.temperature, precision: opts.precision });
  return r.infoNce!;
}

/** k-th smallest value of v[0..n) skipping index `skip` (quickselect on a scratch copy). */
function kthSmallest(v: ArrayLike<number>, n: number, skip: number, k: number, scratch: Float64Array): number {
  let m = 0;
  for (let j = 0; j < n; j++) if (j !== skip) scratch[m++] = v[j];
  let lo = 0;
  let hi = m - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = scratch[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (scratch[i] < pivot) i++;
      while (scratch[j] > pivot) j--;
      if (i <= j) {
        const t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return scratch[target];
}

/**
 * KSG estimator (Kraskov et al. 2004, eq. 8): I = ψ(k) + ψ(N) - <ψ(n_x + 1) + ψ(n_y + 1)>, where ε_i is
 * the distance to the k-th neighbor of point i in the joint space with the max-norm
 * max(‖x_i - x_j‖, ‖y_i - y_j‖) (Euclidean within each modality), and n_x(i), n_y(i) count points
 * strictly closer than ε_i in each marginal. O(N²) distances, computed blockwise in ONNX Runtime.
 * Duplicated points make ε_i = 0 and the estimate meaningless (an error is raised).
 */
export async function ksgMutualInformation(
  a: MatrixInput,
  b: MatrixInput,
  opts: { k?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<number> {
  const x = asMatrix(a, 'a');
  const y = asMatrix(b, 'b');
  checkPaired(x, y, 'a', 'b', false);
  const n = x.rows;
  const k = opts.k ?? 3;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`k must be a positive integer (got ${k})`, { field: 'k' });
  if (n <= k)
    throw new InputError(`the KSG estimator needs more than k = ${k} samples, got ${n}`, {
      field: 'a',
      expected: k + 1,
      got: n,
    });
  // distances in row blocks of both modalities (O(block * N) memory)
  const nx2 = squaredNorms(x);
  const ny2 = squaredNorms(y);
  const blk = blockRows(n, 2_000_000);
  const scratch = new Float64Array(n);
  const joint = new Float64Array(n);
  let sum = 0;
  for (let r0 = 0; r0 < n; r0 += blk) {
    const r1 = Math.min(n, r0 + blk);
    const dx2 = await distanceBlock(x, nx2, x, nx2, r0, r1);
    const dy2 = await distanceBlock(y, ny2, y, ny2, r0, r1);
    for (let i = 0; i < r1 - r0; i++) {
      const off = i * n;
      for (let j = 0; j < n; j++) joint[j] = Math.max(dx2[off + j], dy2[off + j]);
      const eps2 = kthSmallest(joint, n, r0 + i, k, scratch);
      if (eps2 === 0) {
        throw new InputError(
          `sample ${r0 + i} has ${k} or more exact duplicates in both a and b; the KSG estimator needs distinct points`,
          { field: 'a', index: r0 + i },
        );
      }
      let cx = 0;
      let cy = 0;
      for (let j = 0; j < n; j++) {
        if (j === r0 + i) continue;
        if (dx2[off + j] < eps2) cx++;
        if (dy2[off + j] < eps2) cy++;
      }
      sum += digamma(cx + 1) + digamma(cy + 1);
    }
    opts.onProgress?.(r1, n);
  }
  return digamma(k) + digamma(n) - sum / n;
}
