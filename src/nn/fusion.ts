import { type Scope, type Tensor, concat } from '../engine/index.js';
import { linear } from './linear.js';
import { layerNorm } from './norm.js';
import { nnShapeError, staticDim } from './util.js';

function sameWidth(op: string, a: Tensor, b: Tensor): number {
  const d = staticDim(a, -1, op);
  if (staticDim(b, -1, op) !== d) nnShapeError(op, 'inputs must have the same width', a, b);
  return d;
}

/**
 * Gated fusion: g = sigmoid(W [a; b] + c), out = g * a + (1 - g) * b, a per-feature convex mix. Parameter `gate`.
 *
 * a, b: [..., D] -> [..., D]
 *
 * @example
 *   const fused = gatedFusion(p.scope('fuse'), audioFromVideo, audio); // [B, T, D] each -> [B, T, D]
 */
export function gatedFusion(p: Scope, a: Tensor, b: Tensor): Tensor {
  const d = sameWidth('gatedFusion', a, b);
  const g = linear(p.scope('gate'), concat([a, b], -1), d).sigmoid(); // [..., D]
  return b.add(g.mul(a.sub(b)));
}

export interface BilinearFusionConfig {
  /** Rank of the low-rank bilinear interaction (default D). */
  rank?: number;
  /** Output width (default D). */
  out?: number;
}

/**
 * Bilinear gated fusion: a low-rank bilinear interaction z = P(tanh(U a) * tanh(V b)) (multiplicative a-b terms,
 * MLB-style), mixed with a linear path l = L [a; b] by a learned gate g = sigmoid(G [a; b]):
 * out = g * z + (1 - g) * l. Parameters `u`, `v`, `proj`, `lin`, `gate`.
 *
 * a: [..., Da], b: [..., Db] -> [..., out]
 *
 * @example
 *   const z = bilinearGatedFusion(p.scope('bil'), videoEmb, audioEmb, { rank: 64, out: 128 }); // [B, Dv], [B, Da] -> [B, 128]
 */
export function bilinearGatedFusion(p: Scope, a: Tensor, b: Tensor, cfg: BilinearFusionConfig = {}): Tensor {
  const d = staticDim(a, -1, 'bilinearGatedFusion');
  const rank = cfg.rank ?? d;
  const out = cfg.out ?? d;
  const z = linear(
    p.scope('proj'),
    linear(p.scope('u'), a, rank)
      .tanh()
      .mul(linear(p.scope('v'), b, rank).tanh()),
    out,
  ); // [..., out]
  const ab = concat([a, b], -1);
  const l = linear(p.scope('lin'), ab, out);
  const g = linear(p.scope('gate'), ab, out).sigmoid();
  return l.add(g.mul(z.sub(l)));
}

/**
 * Multi-level fusion of attended (cross-modal) and raw (unimodal) features: a gated projection of
 * [attended; raw; attended * raw] added to the raw features, then LayerNorm. Keeps the raw level reachable when the
 * attention is uninformative (the gate starts near 0.5; the residual keeps raw features intact).
 * Parameters `proj`, `gate`, `norm`.
 *
 * attended, raw: [..., D] -> [..., D]
 *
 * @example
 *   const v = multiLevelFusion(p.scope('v_levels'), crossModalBlock(p.scope('v_with_a'), video, audio, { heads: 4 }).out, video);
 */
export function multiLevelFusion(p: Scope, attended: Tensor, raw: Tensor): Tensor {
  const d = sameWidth('multiLevelFusion', attended, raw);
  const levels = concat([attended, raw, attended.mul(raw)], -1); // [..., 3D]
  const h = linear(p.scope('proj'), levels, d)
    .gelu()
    .mul(linear(p.scope('gate'), levels, d).sigmoid());
  return layerNorm(p.scope('norm'), raw.add(h));
}
