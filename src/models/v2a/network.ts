/**
 * v2a's flow network (MMAudio's networks.py, scaled down): predicts the flow velocity of the audio latent at time t
 * given frame tokens, sync features and text.
 *
 *   x_t    [B, Ta, M] -> Conv(k7), SiLU, Linear                                -> a  [B, Ta, D]
 *   visual, motion, text, drops -> conditions.ts                              -> v  [B, Tv, D], s [B, Ts, D], w [B, L, D]
 *   global c = MLP(timestep(t)) + MLP(mean v + masked mean w)                  -> c  [B, D]
 *   per-token c_a = c + Interp_{Ts -> Ta}(s)   (nearest-exact; no sync: c)     -> ca [B, Ta, D]
 *   N1 joint blocks: adaLN (6 vectors) per stream from (ca, c, c), QK-RMSNorm, ONE attention over [a | v | w],
 *                    RoPE on a (0..Ta-1) and v (aligned: i * 31.25 / 8), none on w; the last block updates a only
 *   N2 audio blocks: adaLN-zero DiT blocks on a, conditioned on ca, RoPE
 *   final: adaLN(a; c) -> Linear                                               -> velocity [B, Ta, M]
 */
import { type Graph, type Scope, type Tensor, concat, constant, full } from '../../engine/index.js';
import {
  adaLN,
  alignedRopePositions,
  conv1dTime,
  ditBlock,
  jointBlock,
  keyPaddingMask,
  linear,
  mlp,
  timestepEmbedding,
} from '../../nn/index.js';
import { LATENT_RATE, type Sequence, type V2aConfig, VISUAL_FPS } from './config.js';
import { syncFeatures, textTokens, visualTokens } from './conditions.js';

/** The network's inputs (names are the graph inputs `declareInputs` creates). */
export interface V2aInputs {
  xt: Tensor; // [B, Ta, M] float
  t: Tensor; // [B] flow time in [0, 1]
  visual: Tensor; // [B, Tv, P] 8 fps frames in [0, 1]
  motion: Tensor; // [B, Ts, P] 25 fps frame differences
  text: Tensor; // [B, L] int64 word ids
  textValid: Tensor; // [B, L] 1 = word, 0 = padding
  dropVideo: Tensor; // [B] 1 = no video (empty visual and sync conditions)
  dropText: Tensor; // [B] 1 = no text (empty text condition)
}

/** The condition inputs and t as graph inputs (the names `conditionFeeds` in sampler.ts fills). */
export function declareConditions(g: Graph, batch: number, seq: Sequence, pixels: number): Omit<V2aInputs, 'xt'> {
  return {
    t: g.input('t', 'float32', [batch]),
    visual: g.input('visual', 'float32', [batch, seq.visual, pixels]),
    motion: g.input('motion', 'float32', [batch, seq.sync, pixels]),
    text: g.input('text', 'int64', [batch, seq.text]),
    textValid: g.input('text_valid', 'float32', [batch, seq.text]),
    dropVideo: g.input('drop_video', 'float32', [batch]),
    dropText: g.input('drop_text', 'float32', [batch]),
  };
}

/** Every input of the inference graph, x_t included. */
export function declareInputs(g: Graph, batch: number, seq: Sequence, pixels: number): V2aInputs {
  return { ...declareConditions(g, batch, seq, pixels), xt: g.input('xt', 'float32', [batch, seq.latent, seq.mels]) };
}

/** RoPE positions of the audio and visual streams: aligned puts visual frame i at audio frame i * 31.25 / 8. */
export function ropePositions(seq: Sequence, aligned: boolean): { audio: Float32Array; visual: Float32Array } {
  const audio = Float32Array.from({ length: seq.latent }, (_, i) => i);
  const visual = aligned
    ? alignedRopePositions(seq.visual, VISUAL_FPS, LATENT_RATE)
    : Float32Array.from({ length: seq.visual }, (_, i) => i);
  return { audio, visual };
}

/** Constant [Ta, Ts]: row j picks sync frame floor((j + 0.5) * Ts / Ta) (PyTorch's nearest-exact). */
function nearestExact(g: Graph, ta: number, ts: number): Tensor {
  const m = new Array<number>(ta * ts).fill(0);
  for (let j = 0; j < ta; j++) m[j * ts + Math.min(ts - 1, Math.floor(((j + 0.5) * ts) / ta))] = 1;
  return constant(g, m, 'float32', [ta, ts]);
}

export interface V2aOutputs {
  velocity: Tensor; // [B, Ta, M]
  /** Frame tokens as encoded (empty where the video is dropped), for the auxiliary class loss. */
  visual: Tensor; // [B, Tv, D]
  /** Joint attention weights of the first joint block [B, H, Ta+Tv+L, Ta+Tv+L]. */
  weights?: Tensor;
}

export function v2aFlow(p: Scope, x: V2aInputs, cfg: V2aConfig, seq: Sequence): V2aOutputs {
  const g = x.xt.graph;
  const [B, Ta, M] = x.xt.shape as number[];
  const D = cfg.dim;
  let a = linear(p.scope('audio_in.proj'), conv1dTime(p.scope('audio_in.conv'), x.xt, { out: D, kernel: 7 }).silu(), D); // [B, Ta, D]
  let v = visualTokens(p.scope('visual'), x.visual, x.dropVideo, cfg); // [B, Tv, D]
  const encoded = v;
  const s = syncFeatures(p.scope('sync'), x.motion, x.dropVideo, cfg); // [B, Ts, D]
  const text = textTokens(p.scope('text'), x.text, x.textValid, x.dropText, cfg); // [B, L, D], [B, L]
  let w = text.tokens;
  const textMean = w
    .mul(text.valid.unsqueeze([2]))
    .sum([1])
    .div(text.valid.sum([1], true).maximum(1)); // [B, D]
  const pooled = linear(p.scope('cond.visual'), v.mean([1]), D).add(linear(p.scope('cond.text'), textMean, D)); // [B, D]
  const tEmb = mlp(p.scope('cond.time'), timestepEmbedding(x.t, 256), { hidden: D, out: D, activation: 'silu' }); // [B, D]
  const c = tEmb.add(mlp(p.scope('cond.pooled'), pooled, { hidden: D, out: D, activation: 'silu' })); // [B, D]
  const sync = linear(p.scope('sync.to_cond'), nearestExact(g, Ta, seq.sync).matmul(s), D); // [B, Ta, D]
  const ca = cfg.syncFeatures ? c.unsqueeze([1]).add(sync) : c; // [B, Ta, D] or [B, D]
  const pos = ropePositions(seq, cfg.alignedRope);
  const valid = concat([full(g, [B, Ta + seq.visual], 1, 'float32'), text.valid], 1); // [B, Ta + Tv + L]
  const mask = keyPaddingMask(valid); // [B, 1, 1, Ta + Tv + L]
  const block = { heads: cfg.heads, qkNorm: 'rms' as const, mlpRatio: cfg.mlpRatio, activation: 'gelu' as const };
  let weights: Tensor | undefined;
  for (let i = 0; i < cfg.jointBlocks; i++) {
    const last = i === cfg.jointBlocks - 1;
    const r = jointBlock(p.scope(`joint${i}`), [a, v, w], [ca, c, c], block, {
      rope: [pos.audio, pos.visual, undefined],
      mask,
      preOnly: [false, last, last],
    });
    [a, v, w] = r.outs; // [B, Ta, D], [B, Tv, D], [B, L, D]
    weights ??= r.weights;
  }
  for (let i = 0; i < cfg.audioBlocks; i++)
    a = ditBlock(p.scope(`audio${i}`), a, ca, block, { rope: { q: pos.audio } }).out; // [B, Ta, D]
  const velocity = linear(p.scope('final.proj'), adaLN(p.scope('final'), a, c), M); // [B, Ta, M]
  return { velocity, visual: encoded, weights };
}
