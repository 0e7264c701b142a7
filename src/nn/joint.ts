import { type Scope, type Tensor, concat } from '../engine/index.js';
import { adaLNModulation, gatedResidual, modulate } from './adaln.js';
import { type AttentionConfig, mergeHeads, scaledDotProduct, splitHeads } from './attention.js';
import type { BlockConfig } from './blocks.js';
import { linear } from './linear.js';
import { mlp } from './mlp.js';
import { layerNorm, norm } from './norm.js';
import { applyRope, ropeTable } from './positions.js';
import { nnShapeError, staticDim } from './util.js';

export interface JointInputs {
  /** Additive bias over the concatenated keys, broadcastable to [B, H, sum T, sum T]. */
  mask?: Tensor;
  /** RoPE positions per stream (undefined = no rotation for that stream, as MMAudio's text). Use alignedRopePositions. */
  rope?: (ArrayLike<number> | undefined)[];
  theta?: number;
}

export interface JointResult {
  /** One output per stream, [B, T_i, D]. */
  outs: Tensor[];
  /** [B, H, sum T, sum T] over the concatenated streams. */
  weights: Tensor;
}

/**
 * MMAudio joint attention: each stream has its own q/k/v and output projections (`s<i>.qkv`, `s<i>.out`), the
 * streams' tokens are concatenated [s0 | s1 | ...] and attend to each other in ONE softmax, then are split back.
 *
 * streams: [B, T_i, D] each (same D) -> outs [B, T_i, D], weights [B, H, sum T, sum T]
 *
 * @example
 *   const { outs: [lat, clip] } = jointAttention(p.scope('joint'), [latent, clipTok], { heads: 4, qkNorm: 'rms' }, {
 *     rope: [Array.from({ length: 250 }, (_, i) => i), alignedRopePositions(64, 8, 31.25)],
 *   });
 */
export function jointAttention(
  p: Scope,
  streams: Tensor[],
  cfg: AttentionConfig,
  inputs: JointInputs = {},
): JointResult {
  if (streams.length === 0) throw new RangeError('jointAttention: needs at least one stream');
  const d = staticDim(streams[0], -1, 'jointAttention');
  for (const s of streams)
    if (staticDim(s, -1, 'jointAttention') !== d)
      nnShapeError('jointAttention', 'all streams must have the same width', streams[0], s);
  const dim = cfg.dim ?? d;
  const dh = dim / cfg.heads;
  const qs: Tensor[] = [],
    ks: Tensor[] = [],
    vs: Tensor[] = [];
  streams.forEach((s, i) => {
    const sp = p.scope(`s${i}`);
    const [q, k, v] = linear(sp.scope('qkv'), s, { out: 3 * dim, bias: cfg.bias ?? true }).split([dim, dim, dim], -1);
    let qh = splitHeads(q, cfg.heads); // [B, H, T_i, dh]
    let kh = splitHeads(k, cfg.heads);
    if (cfg.qkNorm) {
      qh = norm(cfg.qkNorm, sp.scope('q_norm'), qh);
      kh = norm(cfg.qkNorm, sp.scope('k_norm'), kh);
    }
    const pos = inputs.rope?.[i];
    if (pos) {
      const table = ropeTable(s.graph, pos, dh, {
        theta: inputs.theta,
        dtype: s.dtype === 'float64' ? 'float64' : 'float32',
      });
      qh = applyRope(qh, table);
      kh = applyRope(kh, table);
    }
    qs.push(qh.mul(cfg.scale ?? 1 / Math.sqrt(dh)));
    ks.push(kh);
    vs.push(splitHeads(v, cfg.heads));
  });
  const { out, weights } = scaledDotProduct(concat(qs, 2), concat(ks, 2), concat(vs, 2), inputs.mask, cfg.dropout ?? 0); // [B, H, sum T, dh]
  const lengths = streams.map((s) => staticDim(s, 1, 'jointAttention'));
  const parts = lengths.length === 1 ? [out] : out.split(lengths, 2);
  return {
    outs: parts.map((o, i) => linear(p.scope(`s${i}`).scope('out'), mergeHeads(o), { out: d, bias: cfg.bias ?? true })),
    weights,
  };
}

/**
 * MMAudio's JointBlock: per stream adaLN-zero modulation from its condition (global [B, C] or per token [B, T, C]),
 * joint attention across all streams, gated residuals, per-stream MLPs. Streams with `preOnly` (the last joint
 * block's clip/text in MMAudio) feed the attention but are returned unchanged.
 *
 * streams: [B, T_i, D], conds: [B, C] or [B, T_i, C] per stream -> outs [B, T_i, D], weights [B, H, sum T, sum T]
 */
export function jointBlock(
  p: Scope,
  streams: Tensor[],
  conds: Tensor[],
  cfg: BlockConfig,
  inputs: JointInputs & { preOnly?: boolean[] } = {},
): JointResult {
  const d = staticDim(streams[0], -1, 'jointBlock');
  const mods = streams.map((_, i) => adaLNModulation(p.scope(`s${i}`).scope('mod'), conds[i], { chunks: 6, dim: d }));
  const normed = streams.map((s, i) => modulate(layerNorm(p, s, { affine: false, eps: 1e-6 }), mods[i][0], mods[i][1]));
  const att = jointAttention(p.scope('attn'), normed, cfg, inputs);
  const outs = streams.map((s, i) => {
    if (inputs.preOnly?.[i]) return s;
    const [, , gateA, shiftM, scaleM, gateM] = mods[i];
    const h = gatedResidual(s, att.outs[i], gateA);
    const m = mlp(
      p.scope(`s${i}`).scope('mlp'),
      modulate(layerNorm(p, h, { affine: false, eps: 1e-6 }), shiftM, scaleM),
      {
        hidden: Math.round((cfg.mlpRatio ?? 4) * d),
        activation: cfg.activation,
      },
    );
    return gatedResidual(h, m, gateM);
  });
  return { outs, weights: att.weights };
}
