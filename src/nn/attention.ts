import { type Scope, type Tensor, init } from '../engine/index.js';
import { linear } from './linear.js';
import { type NormKind, norm } from './norm.js';
import { applyRope, ropeTable } from './positions.js';
import { nnShapeError, staticDim } from './util.js';

export interface AttentionConfig {
  heads: number;
  /** Width of the attention (q/k/v inner width; default: the query input's width). Must divide by heads. */
  dim?: number;
  /** Output width (default: the query input's width). */
  outDim?: number;
  /** Biases on the projections (default true). */
  bias?: boolean;
  /** Normalize q and k per head before the product (QK-norm, as MMAudio: 'rms'). Default none. */
  qkNorm?: NormKind | false;
  /** Score multiplier 1/temperature (default 1/sqrt(headDim)). */
  scale?: number;
  /** Learn the temperature: a per-head log scale `log_scale` [H, 1, 1] initialized at log(scale). */
  learnableScale?: boolean;
  /** Dropout on the attention weights (training graphs only). */
  dropout?: number;
}

/** Rotary positions for queries and keys (e.g. alignedRopePositions for streams at different rates). */
export interface RopePositions {
  q: ArrayLike<number>;
  /** Key positions (default: the query positions, for self-attention). */
  k?: ArrayLike<number>;
  theta?: number;
}

export interface AttentionInputs {
  /** Keys/values come from here (cross-attention); omitted = self-attention on x. [B, Tk, Dc] */
  context?: Tensor;
  /** Additive bias broadcastable to [B, H, Tq, Tk] (see masks.ts). */
  mask?: Tensor;
  rope?: RopePositions;
}

export interface AttentionResult {
  /** [B, Tq, outDim] */
  out: Tensor;
  /** Softmax weights [B, H, Tq, Tk] (rows sum to 1, masked keys exactly 0). Add it to a session's outputs for heat maps. */
  weights: Tensor;
}

/** [B, T, H*dh] -> [B, H, T, dh] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const w = staticDim(x, -1, 'splitHeads');
  if (w % heads !== 0) nnShapeError('attention', `width ${w} does not divide into ${heads} heads`, x);
  return x.reshape([x.shape[0], x.shape[1], heads, w / heads]).transpose([0, 2, 1, 3]);
}

/** [B, H, T, dh] -> [B, T, H*dh] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, dh] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([b, t, (h as number) * (dh as number)]);
}

/**
 * Scaled dot-product attention on split heads: q [B, H, Tq, dh], k/v [B, H, Tk, dh], optional additive mask.
 * q is expected to be already scaled. Returns out [B, H, Tq, dh] and weights [B, H, Tq, Tk].
 */
export function scaledDotProduct(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask?: Tensor,
  dropout = 0,
): { out: Tensor; weights: Tensor } {
  let scores = q.matmul(k.mT); // [B, H, Tq, Tk]
  if (mask) scores = scores.add(mask.cast(scores.dtype));
  const weights = scores.softmax(-1);
  const used = dropout > 0 ? weights.dropout(dropout) : weights;
  return { out: used.matmul(v), weights };
}

/**
 * Multi-head attention, self (no `context`) or cross (queries from x, keys/values from `context`).
 * Parameters: self `qkv` [D, 3*dim] (one fused projection); cross `q` [D, dim] and `kv` [Dc, 2*dim]; `out`
 * [dim, outDim]; with qkNorm `q_norm`, `k_norm`; with learnableScale `log_scale` [H, 1, 1].
 *
 * x: [B, Tq, D], context: [B, Tk, Dc] -> out [B, Tq, outDim], weights [B, H, Tq, Tk]
 *
 * @example
 *   const { out, weights } = multiHeadAttention(p.scope('attn'), x, { heads: 4 }, { mask: causalMask(g, T) });
 *   const { out: a2v } = multiHeadAttention(p.scope('a_from_v'), audio, { heads: 4 }, { context: video });
 */
export function multiHeadAttention(
  p: Scope,
  x: Tensor,
  cfg: AttentionConfig,
  inputs: AttentionInputs = {},
): AttentionResult {
  const d = staticDim(x, -1, 'multiHeadAttention');
  const dim = cfg.dim ?? d;
  const heads = cfg.heads;
  if (!(heads >= 1) || dim % heads !== 0)
    nnShapeError('multiHeadAttention', `dim ${dim} must divide into heads=${heads}`, x);
  const dh = dim / heads;
  const bias = cfg.bias ?? true;
  let q: Tensor, k: Tensor, v: Tensor; // [B, T, dim]
  if (inputs.context) {
    const [bx, bc] = [x.shape[0], inputs.context.shape[0]];
    if (typeof bx === 'number' && typeof bc === 'number' && bx !== bc)
      nnShapeError('multiHeadAttention', 'x and context batch sizes differ', x, inputs.context);
    q = linear(p.scope('q'), x, { out: dim, bias });
    [k, v] = linear(p.scope('kv'), inputs.context, { out: 2 * dim, bias }).split([dim, dim], -1);
  } else {
    [q, k, v] = linear(p.scope('qkv'), x, { out: 3 * dim, bias }).split([dim, dim, dim], -1);
  }
  let qh = splitHeads(q, heads); // [B, H, Tq, dh]
  let kh = splitHeads(k, heads); // [B, H, Tk, dh]
  const vh = splitHeads(v, heads); // [B, H, Tk, dh]
  if (cfg.qkNorm) {
    qh = norm(cfg.qkNorm, p.scope('q_norm'), qh);
    kh = norm(cfg.qkNorm, p.scope('k_norm'), kh);
  }
  if (inputs.rope) {
    const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
    const r = inputs.rope;
    qh = applyRope(qh, ropeTable(x.graph, r.q, dh, { theta: r.theta, dtype }));
    kh = applyRope(kh, ropeTable(x.graph, r.k ?? r.q, dh, { theta: r.theta, dtype }));
  }
  const scale = cfg.scale ?? 1 / Math.sqrt(dh);
  // Scaling q ([.., Tq, dh]) is cheaper than scaling the scores ([.., Tq, Tk]).
  qh = cfg.learnableScale
    ? qh.mul(p.param('log_scale', [heads, 1, 1], init.constant(Math.log(scale))).exp())
    : qh.mul(scale);
  const { out, weights } = scaledDotProduct(qh, kh, vh, inputs.mask, cfg.dropout ?? 0);
  return { out: linear(p.scope('out'), mergeHeads(out), { out: cfg.outDim ?? d, bias }), weights };
}

/** Self-attention: multiHeadAttention without a context. x [B, T, D] -> out [B, T, D], weights [B, H, T, T]. */
export function selfAttention(
  p: Scope,
  x: Tensor,
  cfg: AttentionConfig,
  inputs: Omit<AttentionInputs, 'context'> = {},
): AttentionResult {
  return multiHeadAttention(p, x, cfg, inputs);
}

/** Cross-attention: queries from x [B, Tq, D], keys/values from context [B, Tk, Dc] -> out [B, Tq, D], weights [B, H, Tq, Tk]. */
export function crossAttention(
  p: Scope,
  x: Tensor,
  context: Tensor,
  cfg: AttentionConfig,
  inputs: Omit<AttentionInputs, 'context'> = {},
): AttentionResult {
  return multiHeadAttention(p, x, cfg, { ...inputs, context });
}
