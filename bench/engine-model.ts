import type { Graph } from '../src/engine/graph.js';
import type { Tensor } from '../src/engine/tensor.js';
import { constant } from '../src/engine/ops/core.js';
import { crossEntropy } from '../src/engine/ops/nn.js';
import { Scope, init } from '../src/engine/params.js';

/**
 * The engine's reference model (issue 2, part D), also trained by `attune demo`: video tokens and audio
 * tokens projected to D, then blocks of pre-LayerNorm bidirectional cross-attention (audio queries
 * video, video queries audio) and a GELU FFN per stream; mean-pooled, projected and L2-normalized;
 * symmetric InfoNCE with a learnable temperature. bench/peer/engine_torch.py is the same model in
 * PyTorch: keep the two identical.
 */
export interface AvConfig {
  batch: number;
  videoTokens: number;
  videoDim: number;
  audioTokens: number;
  audioDim: number;
  dim: number;
  heads: number;
  ffnMult: number;
  blocks: number;
  embedDim: number;
}

export const referenceConfig: AvConfig = {
  batch: 32,
  videoTokens: 32,
  videoDim: 512,
  audioTokens: 128,
  audioDim: 128,
  dim: 256,
  heads: 4,
  ffnMult: 4,
  blocks: 2,
  embedDim: 128,
};

/** Tiny sizes for smoke runs (`--quick`). */
export const quickConfig: AvConfig = {
  batch: 8,
  videoTokens: 8,
  videoDim: 32,
  audioTokens: 16,
  audioDim: 16,
  dim: 32,
  heads: 4,
  ffnMult: 4,
  blocks: 1,
  embedDim: 16,
};

function linear(p: Scope, name: string, x: Tensor, inDim: number, outDim: number): Tensor {
  const s = p.scope(name);
  return x.linear(s.param('weight', [inDim, outDim], init.xavierUniform()), s.param('bias', [outDim], init.zeros()));
}

function norm(p: Scope, name: string, x: Tensor, d: number): Tensor {
  const s = p.scope(name);
  return x.layerNorm(s.param('weight', [d], init.ones()), s.param('bias', [d], init.zeros()));
}

/** Multi-head attention of x [B, Tq, D] over ctx [B, Tk, D] -> [B, Tq, D]. */
function crossAttention(p: Scope, x: Tensor, ctx: Tensor, c: AvConfig): Tensor {
  const [b, tq, tk, h, dh] = [x.shape[0], x.shape[1], ctx.shape[1], c.heads, c.dim / c.heads];
  const q = linear(p, 'q', x, c.dim, c.dim).reshape([b, tq, h, dh]).transpose([0, 2, 1, 3]); // [B, H, Tq, dh]
  const k = linear(p, 'k', ctx, c.dim, c.dim).reshape([b, tk, h, dh]).transpose([0, 2, 3, 1]); // [B, H, dh, Tk]
  const v = linear(p, 'v', ctx, c.dim, c.dim).reshape([b, tk, h, dh]).transpose([0, 2, 1, 3]); // [B, H, Tk, dh]
  const att = q
    .matmul(k)
    .mul(1 / Math.sqrt(dh))
    .softmax(-1); // [B, H, Tq, Tk]
  const y = att.matmul(v).transpose([0, 2, 1, 3]).reshape([b, tq, c.dim]); // [B, Tq, D]
  return linear(p, 'o', y, c.dim, c.dim);
}

function ffn(p: Scope, x: Tensor, c: AvConfig): Tensor {
  return linear(p, 'down', linear(p, 'up', x, c.dim, c.ffnMult * c.dim).gelu(), c.ffnMult * c.dim, c.dim);
}

function block(p: Scope, a: Tensor, v: Tensor, c: AvConfig): [Tensor, Tensor] {
  const na = norm(p, 'ln_a', a, c.dim);
  const nv = norm(p, 'ln_v', v, c.dim);
  a = a.add(crossAttention(p.scope('a_from_v'), na, nv, c));
  v = v.add(crossAttention(p.scope('v_from_a'), nv, na, c));
  a = a.add(ffn(p.scope('ffn_a'), norm(p, 'ln_a_ffn', a, c.dim), c));
  v = v.add(ffn(p.scope('ffn_v'), norm(p, 'ln_v_ffn', v, c.dim), c));
  return [a, v];
}

const l2normalize = (x: Tensor): Tensor => x.mul(x.square().sum(-1, true).add(1e-12).rsqrt());

/** video [B, Tv, Dv], audio [B, Ta, Da] -> unit-length embeddings ev, ea [B, E]. */
export function avEmbed(p: Scope, video: Tensor, audio: Tensor, c: AvConfig): { ev: Tensor; ea: Tensor } {
  let v = linear(p, 'video_in', video, c.videoDim, c.dim); // [B, Tv, D]
  let a = linear(p, 'audio_in', audio, c.audioDim, c.dim); // [B, Ta, D]
  for (let i = 0; i < c.blocks; i++) [a, v] = block(p.scope(`blocks.${i}`), a, v, c);
  const ev = l2normalize(linear(p, 'video_out', v.mean(1), c.dim, c.embedDim)); // [B, E]
  const ea = l2normalize(linear(p, 'audio_out', a.mean(1), c.dim, c.embedDim));
  return { ev, ea };
}

/** Symmetric InfoNCE over the batch: pair i of video and audio is the positive, the rest are negatives. */
export function infoNce(p: Scope, ev: Tensor, ea: Tensor, batch: number): Tensor {
  const logScale = p.param('log_scale', [], init.constant(Math.log(1 / 0.07)));
  const logits = ev.matmul(ea.mT).mul(logScale.exp()); // [B, B]
  const target = constant(
    ev.graph,
    Array.from({ length: batch }, (_, i) => i),
    'int64',
    [batch],
  );
  return crossEntropy(logits, target).add(crossEntropy(logits.mT, target)).mul(0.5);
}

/** Declares the data inputs and returns the training loss (the TrainStep `build` function). */
export function buildAvLoss(g: Graph, p: Scope, c: AvConfig): { loss: Tensor } {
  const video = g.input('video', 'float32', [c.batch, c.videoTokens, c.videoDim]);
  const audio = g.input('audio', 'float32', [c.batch, c.audioTokens, c.audioDim]);
  const { ev, ea } = avEmbed(p, video, audio, c);
  return { loss: infoNce(p, ev, ea, c.batch) };
}

/** Inference graph: inputs video and audio, outputs the two embeddings. */
export function buildAvEmbed(g: Graph, p: Scope, c: AvConfig): Record<string, Tensor> {
  const video = g.input('video', 'float32', [c.batch, c.videoTokens, c.videoDim]);
  const audio = g.input('audio', 'float32', [c.batch, c.audioTokens, c.audioDim]);
  const { ev, ea } = avEmbed(p, video, audio, c);
  return { video_embedding: ev, audio_embedding: ea };
}

/** Matmul FLOPs (2 per multiply-add) of one forward pass; a training step counts 3x (backward = 2 matmuls each). */
export function forwardFlops(c: AvConfig): number {
  const mm = (m: number, k: number, n: number) => 2 * m * k * n;
  const { batch: b, videoTokens: tv, audioTokens: ta, dim: d } = c;
  const attention = (tq: number, tk: number) => mm(b * tq, d, d) * 2 + mm(b * tk, d, d) * 2 + mm(b * tq, d, tk) * 2;
  const block = attention(ta, tv) + attention(tv, ta) + 2 * mm(b * (ta + tv), d, c.ffnMult * d);
  return (
    mm(b * tv, c.videoDim, d) +
    mm(b * ta, c.audioDim, d) +
    c.blocks * block +
    2 * mm(b, d, c.embedDim) +
    mm(b, c.embedDim, b)
  );
}
