import { type Initializer, type Scope, type Tensor, init } from '../engine/index.js';
import { staticDim } from './util.js';

export interface LinearConfig {
  /** Output width. */
  out: number;
  /** Add a bias (default true). */
  bias?: boolean;
  /** Weight initializer (default Xavier uniform; `init.zeros()` for zero-initialized output layers). */
  weightInit?: Initializer;
  biasInit?: Initializer;
}

/**
 * y = x W + b over the last axis. Parameters: `weight` [in, out] (the engine's matmul layout; PyTorch's is the
 * transpose), `bias` [out].
 *
 * x: [..., in] -> [..., out]
 *
 * @example
 *   const h = linear(p.scope('proj'), x, 128);                          // x [B, T, 512] -> [B, T, 128]
 *   const y = linear(p.scope('head'), h, { out: 1, bias: false });     // [B, T, 1]
 */
export function linear(p: Scope, x: Tensor, cfg: LinearConfig | number): Tensor {
  const c = typeof cfg === 'number' ? { out: cfg } : cfg;
  const inDim = staticDim(x, -1, 'linear');
  const w = p.param('weight', [inDim, c.out], c.weightInit ?? init.xavierUniform());
  if (c.bias === false) return x.matmul(w);
  return x.linear(w, p.param('bias', [c.out], c.biasInit ?? init.zeros()));
}
