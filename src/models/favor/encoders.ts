/**
 * FAVOR's two stream encoders and its synchronization step, trained from scratch here (the paper uses frozen
 * EVA-ViT + InstructBLIP for frames and Whisper for audio; favor_mult.md 1.2).
 *
 *   video [B, F, Nv, P]  (2 Hz frames, Nv patches of P = patch*patch*3 values)
 *     -> linear + patch positions + 1 transformer block within each frame      -> [B, F, Nv, Dv]
 *   audio [B, 25F, M]    (50 Hz log-mel, M bands)
 *     -> linear + temporal conv (residual) + LayerNorm                         -> [B, F, 25, Da]
 *   sync 'frame' (sequence_align_v2): pad both to S = max(Nv, 25) slots, join along features -> [B, F, S, Dv + Da]
 *
 * With `pixelDim` > 0 the frames first go through a per-pixel MLP (RGB -> pixelDim features, two GELU layers) and the
 * patches are cut from those features: a linear patch embedding of raw RGB can only see a patch's weighted mean
 * colour, in which a 5 px object is a few percent, and measured, could not learn which looks are on screen even when
 * supervised with them directly (docs/favor.md, Results).
 *
 * Synchronization itself has no parameters: slot s of frame t holds visual patch s and audio frame 25t + s, i.e. the
 * same half second.
 */
import { type Scope, type Tensor, concat, init } from '../../engine/index.js';
import { conv1dTime, layerNorm, linear, transformerBlock } from '../../nn/index.js';
import { AUDIO_PER_FRAME, type FavorConfig } from './config.js';

const staticShape = (x: Tensor): number[] => x.shape.map((d) => (typeof d === 'number' ? d : -1));

/** video [B, F, Nv, P] -> visual tokens [B, F, Nv, Dv] (each frame encoded on its own). */
export function visualEncoder(p: Scope, video: Tensor, cfg: FavorConfig): Tensor {
  const [b, f, nv] = staticShape(video);
  const patches = linear(p.scope('in'), video, cfg.visualDim); // [B, F, Nv, Dv]
  const pos = p.param('pos', [nv, cfg.visualDim], init.normal(0.02)); // [Nv, Dv]
  const perFrame = patches.add(pos).reshape([b * f, nv, cfg.visualDim]); // [B*F, Nv, Dv]
  const heads = Math.max(1, Math.min(cfg.heads, cfg.visualDim / 8));
  const out = transformerBlock(p.scope('block0'), perFrame, { heads, mlpRatio: 2 }).out; // [B*F, Nv, Dv]
  return layerNorm(p.scope('norm'), out).reshape([b, f, nv, cfg.visualDim]); // [B, F, Nv, Dv]
}

/** Frames [B, F, 32*32*3] -> per-pixel features [B, F, 32*32*C] (row-major y, x, feature, like the RGB frames). */
export function pixelFeatures(p: Scope, video: Tensor, channels: number): Tensor {
  const [b, f, values] = staticShape(video);
  const rgb = video.reshape([b, f, values / 3, 3]); // [B, F, 1024, 3]
  const h = linear(p.scope('l1'), rgb, channels).gelu(); // [B, F, 1024, C]
  const out = linear(p.scope('l2'), h, channels).gelu(); // [B, F, 1024, C]
  return out.reshape([b, f, (values / 3) * channels]); // [B, F, 1024*C]
}

/** audio [B, 25F, M] -> audio tokens [B, F, 25, Da] (one per 50 Hz frame, grouped by visual frame). */
export function audioEncoder(p: Scope, audio: Tensor, cfg: FavorConfig): Tensor {
  const [b, t] = staticShape(audio);
  const h = linear(p.scope('in'), audio, cfg.audioDim); // [B, 25F, Da]
  const c = conv1dTime(p.scope('conv'), h, { out: cfg.audioDim, kernel: cfg.audioKernel }).gelu(); // [B, 25F, Da]
  const out = layerNorm(p.scope('norm'), h.add(c)); // [B, 25F, Da]
  return out.reshape([b, t / AUDIO_PER_FRAME, AUDIO_PER_FRAME, cfg.audioDim]); // [B, F, 25, Da]
}

/** Zero-pads axis 2 (tokens per frame) of [B, F, n, D] to `slots`. */
export function padSlots(x: Tensor, slots: number): Tensor {
  const n = x.shape[2] as number;
  return n === slots ? x : x.pad([0, 0, 0, 0, 0, 0, slots - n, 0]); // [B, F, slots, D]
}

/** FAVOR synchronization: visual [B, F, Nv, Dv] + audio [B, F, 25, Da] -> joint [B, F, S, Dv + Da], S = max(Nv, 25). */
export function synchronize(visual: Tensor, audio: Tensor): Tensor {
  const slots = Math.max(visual.shape[2] as number, AUDIO_PER_FRAME);
  return concat([padSlots(visual, slots), padSlots(audio, slots)], 3); // [B, F, S, Dv + Da]
}
