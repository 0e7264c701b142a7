/**
 * Context for the frozen audio tokens before synchronization (`model.audioContext`, stage 2; docs/favor.md, session
 * 8). The stage-1 audio encoder sees ±2 frames at 50 Hz (kernel 5) and was trained through a max over each visual
 * frame's 25 tokens (frame_aux.ts), so a sound's onset lives on one or a few of those 25 tokens. The Q-Former reads a
 * window's 10 × 25 joined tokens by softmax attention, which averages a sparse onset away, and must keep the position
 * of one token among 250 to know *when*. FAVOR's audio tokens come from Whisper, each with the whole clip's context;
 * this gives every slot of a frame what its frame heard:
 *
 *   'none'      audio tokens as the encoder gives them                                  [B, F, 25, Da]
 *   'frameMax'  each token + the max over its frame's 25 tokens (no parameters)          [B, F, 25, Da]
 *   'frameBlock' a trainable stand-in: slot positions + one transformer block within each frame's 25 tokens
 *               (pre-norm, residual), so every slot can attend to the frame's onset      [B, F, 25, Da]
 */
import { init, type Scope, type Tensor } from '../../engine/index.js';
import { transformerBlock } from '../../nn/index.js';
import type { FavorConfig } from './config.js';

export type FavorAudioContext = 'none' | 'frameMax' | 'frameBlock';

/** audio [B, F, 25, Da] -> [B, F, 25, Da] with `cfg.audioContext` applied (parameters, if any, under `p`). */
export function audioContext(p: Scope, audio: Tensor, cfg: Pick<FavorConfig, 'audioContext' | 'heads'>): Tensor {
  if (cfg.audioContext === 'none') return audio;
  if (cfg.audioContext === 'frameBlock') {
    const [b, f, s, d] = audio.shape as number[];
    const slots = p.param('pos', [s, d], init.normal(0.02)); // [25, Da]
    const perFrame = audio.add(slots).reshape([b * f, s, d]); // [B*F, 25, Da]
    return transformerBlock(p.scope('block'), perFrame, { heads: cfg.heads, mlpRatio: 2 }).out.reshape([b, f, s, d]);
  }
  const frameMax = audio.max([2], true); // [B, F, 1, Da]: what any of the frame's 25 tokens shows
  return audio.add(frameMax); // [B, F, 25, Da]
}
