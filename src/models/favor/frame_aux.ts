/**
 * Per-frame supervision of the two stream encoders from the scene's ground truth (src/data/avqa/frame_labels.ts): the
 * stand-in for FAVOR's pretrained encoders (EVA-ViT/InstructBLIP, Whisper), which we cannot have here. Each head is
 * linear per token and max-pooled over the frame's tokens ("some patch shows a red square", "some 20 ms frame holds
 * a drum hit"), so with `frameProbe` (encoder outputs behind stopGradient) it is a linear probe of what the encoders
 * already represent, and with `frameAux` > 0 it trains them.
 *
 *   visual [B, F, Nv, Dv] -> linear -> max over Nv -> [B, F, 54] looks on screen    (BCE against frame_visual)
 *   audio  [B, F, 25, Da] -> linear -> max over 25 -> [B, F, 4]  sounds hit         (BCE against frame_audio)
 *   metrics: the BCEs and per-frame exact-match accuracies (every label of the frame right); frame_audio_silent is
 *   the accuracy of answering "no hit" everywhere, the baseline of frame_audio_acc.
 */
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { FRAME_LOOKS, FRAME_SOUNDS } from '../../data/avqa/index.js';
import { binaryCrossEntropyWithLogits, linear, maskedMean } from '../../nn/index.js';
import type { FavorConfig } from './config.js';

export interface FrameStreams {
  visual: Tensor; // [B, F', Nv, Dv]
  audio: Tensor; // [B, F', 25, Da]
  frameMask: Tensor; // [B, F']
}

export interface FrameLabelInputs {
  visual: Tensor; // [B, F, FRAME_LOOKS]
  audio: Tensor; // [B, F, FRAME_SOUNDS]
}

/** Declares the per-frame label inputs of a graph. */
export function frameLabelInputs(g: Graph, batch: number, frames: number): FrameLabelInputs {
  return {
    visual: g.input('frame_visual', 'float32', [batch, frames, FRAME_LOOKS]),
    audio: g.input('frame_audio', 'float32', [batch, frames, FRAME_SOUNDS]),
  };
}

/** Fraction of real frames whose every label the logits get right (logit > 0 <=> label 1). */
function frameExactMatch(logits: Tensor, labels: Tensor, valid: Tensor): Tensor {
  const wrong = logits.gt(0).cast('float32').sub(labels).abs().sum([2]); // [B, F]
  return maskedMean(wrong.lt(0.5).cast('float32'), valid); // []
}

/** One head: per-token linear, max over the frame's tokens -> logits [B, F, classes]. */
function frameHead(p: Scope, tokens: Tensor, classes: number, probe: boolean): Tensor {
  const x = probe ? tokens.stopGradient() : tokens; // [B, F, N, D]
  return linear(p, x, classes).max([2]); // [B, F, classes]
}

export function frameAuxLoss(
  p: Scope,
  s: FrameStreams,
  labels: FrameLabelInputs,
  cfg: FavorConfig,
): { loss: Tensor; metrics: Record<string, Tensor> } {
  const frames = s.frameMask.shape[1] as number;
  const pad = (x: Tensor) => {
    const extra = frames - (x.shape[1] as number);
    return extra ? x.pad([0, 0, 0, 0, extra, 0]) : x; // [B, F', C]
  };
  const valid = s.frameMask; // [B, F']
  const visual = pad(labels.visual); // [B, F', 54]
  const audio = pad(labels.audio); // [B, F', 4]
  const vLogits = frameHead(p.scope('visual'), s.visual, FRAME_LOOKS, cfg.frameProbe); // [B, F', 54]
  const aLogits = frameHead(p.scope('audio'), s.audio, FRAME_SOUNDS, cfg.frameProbe); // [B, F', 4]
  const perLabel = valid.unsqueeze([2]); // [B, F', 1]
  const vBce = binaryCrossEntropyWithLogits(vLogits, visual, perLabel); // []
  const aBce = binaryCrossEntropyWithLogits(aLogits, audio, perLabel); // []
  const silent = audio.sum([2]).lt(0.5).cast('float32'); // [B, F']
  const metrics = {
    frame_visual_bce: vBce,
    frame_audio_bce: aBce,
    frame_visual_acc: frameExactMatch(vLogits, visual, valid),
    frame_audio_acc: frameExactMatch(aLogits, audio, valid),
    frame_audio_silent: maskedMean(silent, valid),
  };
  // A probe trains its heads only (factor 1: the factor would only rescale their learning rate).
  const factor = cfg.frameProbe ? 1 : cfg.frameAux;
  return { loss: vBce.add(aBce).mul(factor), metrics };
}
