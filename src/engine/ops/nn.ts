import { type Attr, type Dim, attr, isFloat, sameShape, shapeError } from '../graph.js';
import { broadcastShapes, normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, mul, rsqrt, neg } from './elementwise.js';
import { concat, gatherElements, reshape, slice, squeeze, unsqueeze, pad } from './movement.js';
import { mean, sum, logSoftmax } from './reduce.js';

/** Batched, broadcasting matrix product (numpy matmul semantics; 1-D operands are promoted and squeezed back). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length === 0 || b.shape.length === 0)
    shapeError('MatMul', 'operands must have rank >= 1', [a.shape, b.shape]);
  if (a.shape.length === 1) return squeeze(matmul(unsqueeze(a, [0]), b), [-2]);
  if (b.shape.length === 1) return squeeze(matmul(a, unsqueeze(b, [1])), [-1]);
  if (a.dtype !== b.dtype || !isFloat(a.dtype))
    shapeError('MatMul', `needs matching float dtypes (${a.dtype}, ${b.dtype})`, [a.shape, b.shape]);
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) shapeError('MatMul', `inner dims differ (${k} vs ${k2})`, [a.shape, b.shape]);
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return a.graph.emit('MatMul', [a, b], {}, [{ dtype: a.dtype, shape: [...batch, m, n] }])[0];
}

export interface GemmOptions {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

/**
 * General matrix product, one ONNX Gemm node: alpha * op(a) @ op(b) + beta * c for 2-D a and b, where op transposes
 * when `transA` / `transB` is set and c (optional) broadcasts to the [M, N] result. Its gradients are Gemms too.
 */
export function gemm(a: Tensor, b: Tensor, c?: Tensor, opts: GemmOptions = {}): Tensor {
  const { alpha = 1, beta = 1, transA = false, transB = false } = opts;
  if (a.shape.length !== 2 || b.shape.length !== 2) shapeError('Gemm', 'a and b must be 2-D', [a.shape, b.shape]);
  if (a.dtype !== b.dtype || !isFloat(a.dtype) || (c && c.dtype !== a.dtype))
    shapeError('Gemm', `needs matching float dtypes (${a.dtype}, ${b.dtype}${c ? `, ${c.dtype}` : ''})`, [
      a.shape,
      b.shape,
    ]);
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [k2, n] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== k2) shapeError('Gemm', `inner dims differ (${k} vs ${k2})`, [a.shape, b.shape]);
  if (c && (c.shape.length > 2 || !sameShape(broadcastShapes('Gemm', c.shape, [m, n]), [m, n])))
    shapeError('Gemm', `c must broadcast to [${m}, ${n}]`, [a.shape, b.shape, c.shape]);
  const attrs: Record<string, Attr> = {};
  if (alpha !== 1) attrs.alpha = attr.float(alpha);
  if (c && beta !== 1) attrs.beta = attr.float(beta);
  if (transA) attrs.transA = attr.int(1);
  if (transB) attrs.transB = attr.int(1);
  return a.graph.emit('Gemm', c ? [a, b, c] : [a, b], attrs, [{ dtype: a.dtype, shape: [m, n] }])[0];
}

/** x[..., K] @ w[K, N] (+ b[N]). */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  if (w.shape.length !== 2) shapeError('Linear', 'weight must be [in, out]', [x.shape, w.shape]);
  const y = matmul(x, w);
  return b ? add(y, b) : y;
}

/**
 * Layer normalization over the trailing axes from `axis` (ONNX LayerNormalization, one fused kernel). The node's
 * Mean and InvStdDev outputs are kept for the gradient.
 */
export function layerNorm(x: Tensor, scale: Tensor, bias?: Tensor, eps = 1e-5, axis = -1): Tensor {
  const a = normAxis('LayerNormalization', axis, x.shape.length, x.shape);
  const normShape = x.shape.slice(a);
  if (scale.shape.length !== normShape.length || scale.shape.some((d, i) => d !== normShape[i])) {
    shapeError('LayerNormalization', `scale must have the normalized shape [${normShape.join(', ')}]`, [
      x.shape,
      scale.shape,
    ]);
  }
  if (bias && bias.shape.join() !== scale.shape.join())
    shapeError('LayerNormalization', 'bias must match scale', [scale.shape, bias.shape]);
  const stats: Dim[] = x.shape.map((d, i) => (i < a ? d : 1));
  return x.graph.emit(
    'LayerNormalization',
    bias ? [x, scale, bias] : [x, scale],
    { axis: attr.int(a), epsilon: attr.float(eps) },
    [
      { dtype: x.dtype, shape: x.shape },
      // Mean and InvStdDev are float32 whatever x is (the ONNX stash type); the gradient casts them back.
      { dtype: 'float32', shape: stats },
      { dtype: 'float32', shape: stats },
    ],
  )[0];
}

/** RMS normalization over the last axis: x / sqrt(mean(x^2) + eps) * scale. */
export function rmsNorm(x: Tensor, scale: Tensor, eps = 1e-6): Tensor {
  if (scale.shape.length !== 1 || scale.shape[0] !== x.shape[x.shape.length - 1])
    shapeError('RMSNorm', 'scale must be [D] for x [..., D]', [x.shape, scale.shape]);
  const r = rsqrt(add(mean(mul(x, x), -1, { keepdims: true }), eps));
  return mul(mul(x, r), scale);
}

export type Reduction = 'mean' | 'sum' | 'none';

/** Softmax cross-entropy: logits [..., C], integer labels [...] -> mean (or sum / per-item) negative log-likelihood. */
export function crossEntropy(logits: Tensor, labels: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (labels.dtype !== 'int64')
    shapeError('CrossEntropy', `labels must be int64, got ${labels.dtype}`, [logits.shape, labels.shape]);
  if (labels.shape.length !== logits.shape.length - 1 || labels.shape.some((d, i) => d !== logits.shape[i])) {
    shapeError('CrossEntropy', 'labels must have the logits shape without the class axis', [
      logits.shape,
      labels.shape,
    ]);
  }
  const picked = squeeze(gatherElements(logSoftmax(logits, -1), unsqueeze(labels, [-1]), -1), [-1]); // [...]
  const nll = neg(picked);
  return reduction === 'none' ? nll : reduction === 'sum' ? sum(nll) : mean(nll);
}

/**
 * Inverted dropout with a mask drawn by the runner each step (graph.randomInputs). `maskShape` may be broadcastable
 * to x's shape (e.g. one mask per token). p = 0 returns x unchanged.
 */
export function dropout(x: Tensor, p: number, maskShape?: number[]): Tensor {
  if (!(p >= 0 && p < 1)) shapeError('Dropout', `p must be in [0, 1), got ${p}`, [x.shape]);
  if (p === 0) return x;
  const shape = maskShape ?? x.shape;
  if (!shape.every((d) => typeof d === 'number')) shapeError('Dropout', 'mask shape must be static', [x.shape]);
  broadcastShapes('Dropout', x.shape, shape);
  const mask = x.graph.randomInput({ dtype: x.dtype, shape: shape as number[], kind: 'dropoutMask', p });
  return mul(x, mask);
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number | [number, number];
  dilation?: number;
  groups?: number;
  /** Force the slices + MatMul lowering (used for float64, which ORT's Conv lacks, and to cross-check the Conv rule). */
  lowered?: boolean;
}

/** Output length of a 1-D convolution. */
export const convOutLength = (t: number, k: number, stride: number, dilation: number, pl: number, pr: number): number =>
  Math.floor((t + pl + pr - dilation * (k - 1) - 1) / stride) + 1;

/**
 * 1-D convolution x [B, C, T] * w [O, C/groups, K] (+ b [O]) -> [B, O, T'] as one ONNX Conv node (MLAS im2col +
 * GEMM). Its gradient rule uses ConvTranspose for dx and an explicit im2col GEMM for dw (groups = 1). Grouped and
 * float64 convolutions (ORT has no float64 Conv) are lowered to strided slices + one batched MatMul, which the
 * primitive rules differentiate.
 */
export function conv1d(x: Tensor, w: Tensor, b?: Tensor, opts: Conv1dOptions = {}): Tensor {
  const { stride = 1, dilation = 1, groups = 1 } = opts;
  const [pl, pr] = typeof opts.padding === 'number' ? [opts.padding, opts.padding] : (opts.padding ?? [0, 0]);
  if (x.shape.length !== 3 || w.shape.length !== 3)
    shapeError('Conv1d', 'x must be [B, C, T] and w [O, C/groups, K]', [x.shape, w.shape]);
  const [B, C, T] = x.shape;
  const [O, Cg, K] = w.shape as number[];
  if (typeof C !== 'number' || typeof T !== 'number')
    shapeError('Conv1d', 'channel and time dims must be static', [x.shape, w.shape]);
  if (C % groups !== 0 || O % groups !== 0 || Cg !== C / groups)
    shapeError('Conv1d', `channels do not fit groups=${groups}`, [x.shape, w.shape]);
  if (b && (b.shape.length !== 1 || b.shape[0] !== O)) shapeError('Conv1d', `bias must be [${O}]`, [w.shape, b.shape]);
  const Tout = convOutLength(T, K, stride, dilation, pl, pr);
  if (Tout <= 0) shapeError('Conv1d', 'input too short for the kernel', [x.shape, w.shape]);
  if (groups === 1 && x.dtype === 'float32' && !opts.lowered) {
    const attrs = {
      kernel_shape: attr.ints([K]),
      strides: attr.ints([stride]),
      dilations: attr.ints([dilation]),
      pads: attr.ints([pl, pr]),
      group: attr.int(1),
    };
    return x.graph.emit('Conv', b ? [x, w, b] : [x, w], attrs, [{ dtype: x.dtype, shape: [B, O, Tout] }])[0];
  }
  const cols = im2col(x, K, stride, dilation, pl, pr, Tout); // [B, C, K, Tout]
  const y = reshape(matmul(reshape(w, [groups, O / groups, Cg * K]), reshape(cols, [B, groups, Cg * K, Tout])), [
    B,
    O,
    Tout,
  ]); // [B, O, Tout]
  return b ? add(y, reshape(b, [O, 1])) : y;
}

/** The K taps of a 1-D convolution window as [B, C, K, Tout] (strided slices of the padded input). */
export function im2col(
  x: Tensor,
  K: number,
  stride: number,
  dilation: number,
  pl: number,
  pr: number,
  Tout: number,
): Tensor {
  const xp = pad(x, [0, 0, pl, 0, 0, pr]);
  const taps = [...Array(K).keys()].map((k) =>
    unsqueeze(slice(xp, [k * dilation], [k * dilation + (Tout - 1) * stride + 1], [2], [stride]), [2]),
  ); // [B, C, 1, Tout]
  return concat(taps, 2);
}
