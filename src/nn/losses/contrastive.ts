import { type Scope, type Tensor, init } from '../../engine/index.js';
import { arange, eye, nnShapeError, staticDim } from '../util.js';
import { cosineMatrix } from './common.js';

/** CLIP's logit-scale initialization, log(1 / 0.07), and its clamp, log(100). */
export const LOGIT_SCALE_INIT = Math.log(1 / 0.07);
export const LOGIT_SCALE_MAX = Math.log(100);

export interface LogitScaleConfig {
  /** Initial log scale (default log(1/0.07)). */
  init?: number;
  /** Clamp of the log scale (default log(100), as CLIP; no gradient past it). */
  max?: number;
  /** Learn it (default true); false gives the constant exp(init). */
  learnable?: boolean;
}

/** The multiplier exp(min(logit_scale, max)) as a scalar tensor. Parameter `logit_scale` [] when learnable. */
export function logitScale(p: Scope, like: Tensor, cfg: LogitScaleConfig = {}): Tensor {
  const start = cfg.init ?? LOGIT_SCALE_INIT;
  const s =
    cfg.learnable === false
      ? like.graph.constant({
          dtype: like.dtype,
          shape: [],
          data: like.dtype === 'float64' ? Float64Array.of(start) : Float32Array.of(start),
        })
      : p.param('logit_scale', [], init.constant(start));
  return s.minimum(cfg.max ?? LOGIT_SCALE_MAX).exp();
}

function pairCheck(op: string, a: Tensor, b: Tensor): number {
  if (a.shape.length !== 2 || b.shape.length !== 2) nnShapeError(op, 'embeddings must be [B, D]', a, b);
  const n = staticDim(a, 0, op);
  if (b.shape[0] !== n || a.shape[1] !== b.shape[1])
    nnShapeError(op, 'a and b must both be [B, D] with the same B and D', a, b);
  return n;
}

export interface InfoNceConfig extends LogitScaleConfig {
  /** Cross-entropy both ways (a->b and b->a) and average (default true, CLIP/CLAP). */
  symmetric?: boolean;
}

export interface ContrastiveResult {
  loss: Tensor; // []
  logits: Tensor; // [B, B], row i = a_i against every b_j
  scale: Tensor; // []
}

/**
 * Symmetric InfoNCE (CLIP / CLAP ClipLoss): cosine logits scale * a_n b_n^T, cross-entropy with the diagonal as the
 * target, averaged over both directions. Parameter `logit_scale` (learnable, init log(1/0.07), clamped at log 100).
 *
 * a, b: [B, D] paired embeddings (row i of a goes with row i of b) -> loss []
 *
 * @example
 *   const { loss, logits } = infoNce(p.scope('clip'), videoEmb, audioEmb);
 */
export function infoNce(p: Scope, a: Tensor, b: Tensor, cfg: InfoNceConfig = {}): ContrastiveResult {
  const n = pairCheck('infoNce', a, b);
  const scale = logitScale(p, a, cfg);
  const logits = cosineMatrix(a, b).mul(scale); // [B, B]
  const labels = arange(a, n);
  const ab = logits.crossEntropy(labels);
  const loss = cfg.symmetric === false ? ab : ab.add(logits.mT.crossEntropy(labels)).mul(0.5);
  return { loss, logits, scale };
}

export interface HardNegativeConfig extends LogitScaleConfig {
  /**
   * 'reweight' (default): InfoNCE whose negatives are importance-weighted by exp(beta * cos) (Robinson et al. 2021,
   * hard-negative sampling), weights normalized to mean 1 and not differentiated; beta = 0 is plain InfoNCE.
   * 'hardest': VSE++ max-violation hinge, relu(margin - cos_ii + max_{j != i} cos_ij), both directions.
   */
  mode?: 'reweight' | 'hardest';
  /** Hardness concentration for 'reweight' (default 1). */
  beta?: number;
  /** Margin for 'hardest' (default 0.2). */
  margin?: number;
}

/** InfoNCE with hard-negative weights on logits [B, B] whose diagonal holds the positives (one direction). */
function reweightedNce(logits: Tensor, cos: Tensor, beta: number, n: number): Tensor {
  const off = eye(cos, n).neg().add(1); // [B, B], 1 off the diagonal
  const bc = cos.mul(beta).stopGradient();
  const meanExp = bc
    .exp()
    .mul(off)
    .sum(-1, true)
    .div(n - 1); // [B, 1]
  const logW = bc.sub(meanExp.log()).mul(off); // log weights of negatives, 0 for the positive
  return logits.add(logW).crossEntropy(arange(cos, n));
}

/**
 * NCE with hard-negative mining (see HardNegativeConfig.mode). Parameter `logit_scale` for 'reweight'.
 *
 * a, b: [B, D] -> loss []
 */
export function nceHardNegatives(p: Scope, a: Tensor, b: Tensor, cfg: HardNegativeConfig = {}): ContrastiveResult {
  const n = pairCheck('nceHardNegatives', a, b);
  if (n < 2) nnShapeError('nceHardNegatives', 'needs at least 2 pairs (negatives)', a);
  const cos = cosineMatrix(a, b); // [B, B]
  if (cfg.mode === 'hardest') {
    const margin = cfg.margin ?? 0.2;
    const pos = cos.mul(eye(cos, n)).sum(-1); // [B]
    const masked = cos.sub(eye(cos, n).mul(4)); // cosines are >= -1, so the diagonal can never be the max
    const hinge = (hardest: Tensor) => hardest.sub(pos).add(margin).relu().mean();
    const loss = hinge(masked.max(-1))
      .add(hinge(masked.max(0)))
      .mul(0.5);
    const one = a.graph.constant({
      dtype: a.dtype,
      shape: [],
      data: a.dtype === 'float64' ? Float64Array.of(1) : Float32Array.of(1),
    });
    return { loss, logits: cos, scale: one };
  }
  const beta = cfg.beta ?? 1;
  const scale = logitScale(p, a, cfg);
  const logits = cos.mul(scale);
  const loss = reweightedNce(logits, cos, beta, n)
    .add(reweightedNce(logits.mT, cos.mT, beta, n))
    .mul(0.5);
  return { loss, logits, scale };
}
