import type { Scope, Tensor } from '../engine/index.js';
import { type AttentionConfig, type AttentionInputs, type AttentionResult, multiHeadAttention } from './attention.js';
import { adaLNModulation, gatedResidual, modulate } from './adaln.js';
import { type Activation, mlp } from './mlp.js';
import { type NormKind, layerNorm, norm } from './norm.js';
import { staticDim } from './util.js';

export interface BlockConfig extends AttentionConfig {
  /** MLP hidden width = mlpRatio * D (default 4). */
  mlpRatio?: number;
  activation?: Activation;
  /** Norm before attention and MLP (default 'layer'). */
  norm?: NormKind;
  /** Dropout on each residual branch (training graphs only). */
  residualDropout?: number;
}

const drop = (x: Tensor, p?: number): Tensor => (p ? x.dropout(p) : x);
const ffn = (p: Scope, x: Tensor, cfg: BlockConfig): Tensor => {
  const d = staticDim(x, -1, 'block');
  return mlp(p, x, { hidden: Math.round((cfg.mlpRatio ?? 4) * d), activation: cfg.activation });
};

/**
 * Pre-norm transformer encoder block: x + Attn(Norm(x)), then + MLP(Norm(.)). With `context` in `inputs` the attention
 * is cross-attention (keys/values from the context, normalized by its own `norm_ctx`). Parameters: `norm1`, `attn`,
 * `norm2`, `mlp` (+ `norm_ctx`).
 *
 * x: [B, T, D] -> out [B, T, D], weights [B, H, T, Tk]
 *
 * @example
 *   const { out, weights } = transformerBlock(p.scope('block0'), x, { heads: 4 }, { mask: causalMask(g, 50) }); // x [B, 50, 64]
 *   const c = transformerBlock(p.scope('x0'), audio, { heads: 4 }, { context: video }).out;               // [B, Ta, D]
 */
export function transformerBlock(p: Scope, x: Tensor, cfg: BlockConfig, inputs: AttentionInputs = {}): AttentionResult {
  const kind = cfg.norm ?? 'layer';
  const context = inputs.context ? norm(kind, p.scope('norm_ctx'), inputs.context) : undefined;
  const a = multiHeadAttention(p.scope('attn'), norm(kind, p.scope('norm1'), x), cfg, { ...inputs, context });
  const h = x.add(drop(a.out, cfg.residualDropout)); // [B, T, D]
  const out = h.add(drop(ffn(p.scope('mlp'), norm(kind, p.scope('norm2'), h), cfg), cfg.residualDropout));
  return { out, weights: a.weights };
}

/**
 * MulT crossmodal block: the target stream queries the source stream (target = Q, source = K/V), pre-LayerNorm on
 * both, residual, then a feed-forward block. Positions are the caller's (MulT adds sinusoids to both streams first).
 *
 * target: [B, Tt, D], source: [B, Ts, Ds] -> out [B, Tt, D], weights [B, H, Tt, Ts]
 *
 * @example
 *   const a = addSinusoidal(audio), v = addSinusoidal(video);
 *   const aFromV = crossModalBlock(p.scope('a_with_v'), a, v, { heads: 4 }).out;   // MulT 'av': audio queries video
 */
export function crossModalBlock(
  p: Scope,
  target: Tensor,
  source: Tensor,
  cfg: BlockConfig,
  inputs: Omit<AttentionInputs, 'context'> = {},
): AttentionResult {
  return transformerBlock(p, target, cfg, { ...inputs, context: source });
}

/**
 * adaLN-zero transformer block (DiT; MMAudio's MMDitSingleBlock without its convolutions): parameter-free
 * LayerNorms, six modulation vectors from `cond` (shift/scale/gate for attention and for the MLP), gated residuals.
 * The modulation projection is zero-initialized, so the block starts as the identity. Parameters: `mod`, `attn`,
 * `mlp`.
 *
 * x: [B, T, D], cond: [B, C] (global) or [B, T, C] (per token) -> out [B, T, D], weights [B, H, T, T]
 *
 * @example
 *   const c = mlp(p.scope('t_embed'), timestepEmbedding(t, 64), { out: 64 });   // t [B] -> [B, 64]
 *   const { out } = ditBlock(p.scope('dit0'), latent, c, { heads: 4, qkNorm: 'rms' }); // latent [B, T, 64]
 */
export function ditBlock(
  p: Scope,
  x: Tensor,
  cond: Tensor,
  cfg: BlockConfig,
  inputs: AttentionInputs = {},
): AttentionResult {
  const d = staticDim(x, -1, 'ditBlock');
  const [shiftA, scaleA, gateA, shiftM, scaleM, gateM] = adaLNModulation(p.scope('mod'), cond, { chunks: 6, dim: d });
  const a = multiHeadAttention(
    p.scope('attn'),
    modulate(layerNorm(p, x, { affine: false, eps: 1e-6 }), shiftA, scaleA),
    cfg,
    inputs,
  );
  const h = gatedResidual(x, drop(a.out, cfg.residualDropout), gateA);
  const m = ffn(p.scope('mlp'), modulate(layerNorm(p, h, { affine: false, eps: 1e-6 }), shiftM, scaleM), cfg);
  return { out: gatedResidual(h, drop(m, cfg.residualDropout), gateM), weights: a.weights };
}
