import type { Scope, Tensor } from '../engine/index.js';
import { linear } from './linear.js';
import { staticDim } from './util.js';

export type Activation = 'gelu' | 'relu' | 'silu' | 'tanh' | 'swiglu';

export interface MlpConfig {
  /** Hidden width (default 4 x input width; for swiglu the width of each of the two branches). */
  hidden?: number;
  /** Output width (default: the input width). */
  out?: number;
  /** Default 'gelu' (exact erf GELU). 'swiglu' = (silu(x W1) * x W3) W2, as MMAudio's text MLP / LLaMA. */
  activation?: Activation;
  /** Dropout on the hidden layer (training graphs only; default 0). */
  dropout?: number;
  bias?: boolean;
}

/** Applies a pointwise activation by name (swiglu is not pointwise: use mlp). */
export function activate(x: Tensor, act: Exclude<Activation, 'swiglu'>): Tensor {
  switch (act) {
    case 'gelu':
      return x.gelu();
    case 'relu':
      return x.relu();
    case 'silu':
      return x.silu();
    case 'tanh':
      return x.tanh();
  }
}

/**
 * Two-layer feed-forward block. Parameters: `fc1`, `fc2` (and `fc3`, the SwiGLU gate branch).
 *
 * x: [..., D] -> [..., out ?? D]
 *
 * @example
 *   const y = mlp(p.scope('mlp'), x, { hidden: 256 });                        // GELU, [B, T, 64] -> [B, T, 64]
 *   const z = mlp(p.scope('ffn'), x, { hidden: 128, activation: 'swiglu', out: 32 }); // [B, T, 32]
 */
export function mlp(p: Scope, x: Tensor, cfg: MlpConfig = {}): Tensor {
  const d = staticDim(x, -1, 'mlp');
  const hidden = cfg.hidden ?? 4 * d;
  const act = cfg.activation ?? 'gelu';
  const bias = cfg.bias ?? true;
  let h: Tensor; // [..., hidden]
  if (act === 'swiglu')
    h = linear(p.scope('fc1'), x, { out: hidden, bias })
      .silu()
      .mul(linear(p.scope('fc3'), x, { out: hidden, bias }));
  else h = activate(linear(p.scope('fc1'), x, { out: hidden, bias }), act);
  if (cfg.dropout) h = h.dropout(cfg.dropout);
  return linear(p.scope('fc2'), h, { out: cfg.out ?? d, bias });
}
