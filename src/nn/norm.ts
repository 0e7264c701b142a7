import { type Scope, type Tensor, init } from '../engine/index.js';
import { cachedConstant, staticDim } from './util.js';

export interface NormConfig {
  eps?: number;
  /** Learn a scale (and, for layerNorm, a shift). false gives the parameter-free norm adaLN modulates (default true). */
  affine?: boolean;
}

/**
 * LayerNorm over the last axis (one ONNX LayerNormalization node). Parameters `scale` [D] (ones), `bias` [D] (zeros).
 *
 * x: [..., D] -> [..., D]
 *
 * @example
 *   const h = layerNorm(p.scope('norm1'), x);                 // x [B, T, 64] -> [B, T, 64]
 *   const bare = layerNorm(p, x, { affine: false });          // no parameters (what adaLN modulates)
 */
export function layerNorm(p: Scope, x: Tensor, cfg: NormConfig = {}): Tensor {
  const d = staticDim(x, -1, 'layerNorm');
  const eps = cfg.eps ?? 1e-5;
  if (cfg.affine === false) {
    // A constant ones scale keeps the single fused kernel; no parameters are declared.
    return x.layerNorm(onesLike(x, d), undefined, eps);
  }
  return x.layerNorm(p.param('scale', [d], init.ones()), p.param('bias', [d], init.zeros()), eps);
}

/**
 * RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * scale. Parameter `scale` [D] (ones) when affine.
 *
 * x: [..., D] -> [..., D]
 */
export function rmsNorm(p: Scope, x: Tensor, cfg: NormConfig = {}): Tensor {
  const d = staticDim(x, -1, 'rmsNorm');
  const scale = cfg.affine === false ? onesLike(x, d) : p.param('scale', [d], init.ones());
  return x.rmsNorm(scale, cfg.eps ?? 1e-6);
}

export type NormKind = 'layer' | 'rms';

/** layerNorm or rmsNorm by name (configs pick one with a string). */
export function norm(kind: NormKind, p: Scope, x: Tensor, cfg: NormConfig = {}): Tensor {
  return kind === 'rms' ? rmsNorm(p, x, cfg) : layerNorm(p, x, cfg);
}

function onesLike(x: Tensor, d: number): Tensor {
  return cachedConstant(x.graph, `ones:${d}:${x.dtype}`, () =>
    x.graph.constant({
      dtype: x.dtype,
      shape: [d],
      data: x.dtype === 'float64' ? new Float64Array(d).fill(1) : new Float32Array(d).fill(1),
    }),
  );
}
