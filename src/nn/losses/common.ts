import type { Tensor } from '../../engine/index.js';
import { nnShapeError } from '../util.js';

/** x / max(||x||_2, eps) along `axis` (torch F.normalize). */
export function l2Normalize(x: Tensor, axis = -1, eps = 1e-12): Tensor {
  return x.div(x.square().sum(axis, true).sqrt().maximum(eps));
}

/** Row-wise cosine similarity matrix: a [N, D], b [M, D] -> [N, M] (after L2 normalization). */
export function cosineMatrix(a: Tensor, b: Tensor): Tensor {
  return l2Normalize(a).matmul(l2Normalize(b).mT);
}

/** Validity as a float tensor of x's dtype (bool -> 0/1). */
export function asWeights(valid: Tensor, like: Tensor): Tensor {
  return valid.cast(like.dtype);
}

/**
 * Mean of x over all elements, or over the valid ones: sum(x * valid) / max(sum(valid), 1); valid broadcasts to x
 * (bool or 0/1 float).
 */
export function maskedMean(x: Tensor, valid?: Tensor): Tensor {
  if (!valid) return x.mean();
  const w = asWeights(valid, x);
  // Each weight covers the x elements it broadcasts over: valid [B, T] against x [B, T, D] counts D per weight.
  const r = x.shape.length - w.shape.length;
  let cover = 1;
  x.shape.forEach((d, i) => {
    const wd = i >= r ? w.shape[i - r] : 1;
    if (wd === d) return;
    if (wd !== 1 || typeof d !== 'number')
      nnShapeError('maskedMean', 'valid must broadcast to x over static axes', x, valid);
    cover *= d;
  });
  return x.mul(w).sum().div(w.sum().mul(cover).maximum(1));
}

export function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    nnShapeError(op, 'inputs must have the same shape', a, b);
}
