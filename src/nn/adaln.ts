/**
 * adaLN: LayerNorm without affine parameters, then a scale and shift predicted from a condition,
 * modulate(x) = x * (1 + scale) + shift (DiT / MMAudio). adaLN-zero also predicts gates for the residual branches and
 * zero-initializes the projection, so every gate (and scale, shift) starts at 0 and the block starts as the identity.
 */

import { type Scope, type Tensor, init } from '../engine/index.js';
import { linear } from './linear.js';
import { layerNorm } from './norm.js';
import { nnShapeError, staticDim } from './util.js';

/** x * (1 + scale) + shift; scale/shift broadcast against x ([B, 1, D] for a global condition, [B, T, D] per token). */
export function modulate(x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  return x.mul(scale.add(1)).add(shift);
}

export interface AdaLNConfig {
  /** Number of D-wide vectors to predict (adaLN: 2 = shift, scale; adaLN-zero block: 6). */
  chunks: number;
  /** Width of each vector (default: the condition width). */
  dim?: number;
  /** Zero-initialize the projection (adaLN-zero; default true). */
  zero?: boolean;
}

/**
 * The modulation vectors: SiLU(cond) -> Linear -> `chunks` pieces. Parameters `weight` [C, chunks*dim], `bias`.
 *
 * cond: [B, C] (global, returned as [B, 1, dim] each) or [B, T, C] (per token, e.g. MMAudio's extended_c; returned as
 * [B, T, dim] each)
 */
export function adaLNModulation(p: Scope, cond: Tensor, cfg: AdaLNConfig): Tensor[] {
  const c = staticDim(cond, -1, 'adaLNModulation');
  const dim = cfg.dim ?? c;
  if (cond.shape.length !== 2 && cond.shape.length !== 3)
    nnShapeError('adaLNModulation', 'cond must be [B, C] or [B, T, C]', cond);
  const zero = cfg.zero ?? true;
  let m = linear(p, cond.silu(), { out: cfg.chunks * dim, weightInit: zero ? init.zeros() : undefined }); // [B, (T,) chunks*dim]
  if (cond.shape.length === 2) m = m.unsqueeze([1]); // [B, 1, chunks*dim]
  return m.split(Array(cfg.chunks).fill(dim), -1);
}

/**
 * adaLN on its own: parameter-free LayerNorm of x, modulated by shift/scale from cond.
 *
 * x: [B, T, D], cond: [B, C] or [B, T, C] -> [B, T, D]
 */
export function adaLN(p: Scope, x: Tensor, cond: Tensor, opts: { zero?: boolean } = {}): Tensor {
  const d = staticDim(x, -1, 'adaLN');
  const [shift, scale] = adaLNModulation(p.scope('mod'), cond, { chunks: 2, dim: d, zero: opts.zero ?? false });
  return modulate(layerNorm(p, x, { affine: false, eps: 1e-6 }), shift, scale);
}

/** x + gate * branch: the gated residual of adaLN-zero blocks (gate 0 at initialization = identity). */
export function gatedResidual(x: Tensor, branch: Tensor, gate: Tensor): Tensor {
  return x.add(branch.mul(gate));
}
