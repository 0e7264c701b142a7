/**
 * Per-frame supervision of the two stream encoders from the scene's ground truth (src/data/avqa/frame_labels.ts): the
 * stand-in for FAVOR's pretrained encoders (EVA-ViT/InstructBLIP, Whisper), which we cannot have here. Each head is
 * linear per token and max-pooled over the frame's tokens ("some patch shows a red square", "some 20 ms frame holds
 * a drum hit"), so with `frameProbe` (encoder outputs behind stopGradient) it is a linear probe of what the encoders
 * already represent, and with `frameAux` > 0 it trains them.
 *
 *   visual [B, F, Nv, Dv] -> linear -> max over Nv -> [B, F, 69] looks, colors, shapes on screen (BCE, frame_visual)
 *   audio  [B, F, 25, Da] -> linear -> max over 25 -> [B, F, 4]  sounds hit         (BCE against frame_audio)
 *   with `tokenAux` > 0 (stage 1), the visual head's per-token logits [B, F, Nv, 69] also get a BCE against per-token
 *   labels (tokenLabels: each object labels the token holding its centre), × tokenAux: the max over tokens leaves
 *   one token per label with a gradient and lets a shape be called from one object and its colour from another; the
 *   per-token targets train every token and tie each object's colour to its shape on one token (docs/favor.md)
 *   with `hitAux` > 0 (stage 1), a third head on the visual tokens (linear, max over Nv) -> [B, F, 69]: which looks,
 *   colours and shapes hit the wall in the frame's half second (BCE against frame_hits, × hitAux), what counting,
 *   order, "right after" and sync questions ask about; the tokens need `frameContext` to see an impact at all
 *   metrics: the BCEs (summed over a frame's labels, mean over real frames) and per-frame exact-match accuracies
 *   (every label of the frame right) of the looks, the colors, the shapes and the sounds; frame_audio_silent is
 *   the accuracy of answering "no hit" everywhere, the baseline of frame_audio_acc.
 */
import type { Graph, Scope, Tensor } from '../../engine/index.js';
import { FRAME_SOUNDS, FRAME_VISUAL, FRAME_VISUAL_PARTS } from '../../data/avqa/index.js';
import { MAX_CLASSES } from '../../data/synth/classes.js';
import { binaryCrossEntropyWithLogits, linear, maskedMean } from '../../nn/index.js';
import { AUDIO_PER_FRAME, type FavorConfig } from './config.js';

export interface FrameStreams {
  visual: Tensor; // [B, F', Nv, Dv]
  audio: Tensor; // [B, F', 25, Da]
  frameMask: Tensor; // [B, F']
}

export interface FrameLabelInputs {
  visual: Tensor; // [B, F, FRAME_VISUAL]
  audio: Tensor; // [B, F, FRAME_SOUNDS]
  /** Which objects hit the wall per frame (frameLabels' hits), present when the query head predicts them. */
  hits?: Tensor; // [B, F, FRAME_VISUAL]
  /** Impacts heard per frame (frameLabels' audioOnsets), present for countTokens 'onsets'. */
  audioOnsets?: Tensor; // [B, F, FRAME_SOUNDS]
  /** Wall hits per frame (frameLabels' hitOnsets), present for countTokens 'onsets' with the hits. */
  hitOnsets?: Tensor; // [B, F, FRAME_VISUAL]
  /** Impacts heard per 50 Hz audio token (frameLabels' audioTokenOnsets), present for stage 1's onsetAux. */
  audioTokenOnsets?: Tensor; // [B, F, 25, FRAME_SOUNDS]
  /** The voices of the impacts around each 50 Hz token (frameLabels' audioTokenVoices), for stage 1's voiceAux. */
  audioTokenVoices?: Tensor; // [B, F, 25, MAX_CLASSES]
  /** Per-token visual labels (tokenLabels), present when the token loss is on. */
  tokens?: Tensor; // [B, F, Nv, FRAME_VISUAL]
}

/** Which optional label inputs a graph declares (frameLabelInputs). */
export interface FrameLabelNeeds {
  /** Visual tokens per frame of the per-token labels (0: none). */
  visualTokens?: number;
  /** Which objects hit the wall per frame. */
  hits?: boolean;
  /** The counted labels per frame (and the counted hits with `hits`). */
  onsets?: boolean;
  /** The impacts heard per 50 Hz audio token. */
  tokenOnsets?: boolean;
  /** The voices of the impacts around each 50 Hz audio token. */
  tokenVoices?: boolean;
}

/** Declares the per-frame label inputs of a graph: the visual and audio ones, and those `needs` names. */
export function frameLabelInputs(
  g: Graph,
  batch: number,
  frames: number,
  needs: FrameLabelNeeds = {},
): FrameLabelInputs {
  const { visualTokens = 0, hits = false, onsets = false, tokenOnsets = false, tokenVoices = false } = needs;
  return {
    visual: g.input('frame_visual', 'float32', [batch, frames, FRAME_VISUAL]),
    audio: g.input('frame_audio', 'float32', [batch, frames, FRAME_SOUNDS]),
    ...(hits ? { hits: g.input('frame_hits', 'float32', [batch, frames, FRAME_VISUAL]) } : {}),
    ...(onsets ? { audioOnsets: g.input('frame_audio_onsets', 'float32', [batch, frames, FRAME_SOUNDS]) } : {}),
    ...(onsets && hits ? { hitOnsets: g.input('frame_hit_onsets', 'float32', [batch, frames, FRAME_VISUAL]) } : {}),
    ...(tokenOnsets
      ? {
          audioTokenOnsets: g.input('frame_audio_token_onsets', 'float32', [
            batch,
            frames,
            AUDIO_PER_FRAME,
            FRAME_SOUNDS,
          ]),
        }
      : {}),
    ...(tokenVoices
      ? {
          audioTokenVoices: g.input('frame_audio_token_voices', 'float32', [
            batch,
            frames,
            AUDIO_PER_FRAME,
            MAX_CLASSES,
          ]),
        }
      : {}),
    ...(visualTokens > 0
      ? { tokens: g.input('frame_tokens', 'float32', [batch, frames, visualTokens, FRAME_VISUAL]) }
      : {}),
  };
}

/** Fraction of real frames whose every label the logits get right (logit > 0 <=> label 1). */
export function frameExactMatch(logits: Tensor, labels: Tensor, valid: Tensor): Tensor {
  const wrong = logits.gt(0).cast('float32').sub(labels).abs().sum([2]); // [B, F]
  return maskedMean(wrong.lt(0.5).cast('float32'), valid); // []
}

/** Per-frame visual labels or logits [B, F, 69] cut into their looks [.., 54], colours [.., 9] and shapes [.., 6]. */
export const visualParts = (x: Tensor): Tensor[] => x.split([...FRAME_VISUAL_PARTS], 2);

/** One head: per-token linear [B, F, N, classes], and its max over the frame's tokens [B, F, classes]. */
export function frameHead(
  p: Scope,
  tokens: Tensor,
  classes: number,
  probe: boolean,
): { perToken: Tensor; frame: Tensor } {
  const x = probe ? tokens.stopGradient() : tokens; // [B, F, N, D]
  const perToken = linear(p, x, classes); // [B, F, N, classes]
  return { perToken, frame: perToken.max([2]) }; // [B, F, classes]
}

/**
 * The heads' logits: visual [B, F', 69] and audio [B, F', 4] (what stage 1 is evaluated on, pretrain.ts), the visual
 * head's per-token logits [B, F', Nv, 69], and with `hits` the hit head's [B, F', 69].
 */
export function frameLogits(
  p: Scope,
  s: FrameStreams,
  probe: boolean,
  hits = false,
): { visual: Tensor; audio: Tensor; visualTokens: Tensor; hits?: Tensor } {
  const visual = frameHead(p.scope('visual'), s.visual, FRAME_VISUAL, probe);
  return {
    visual: visual.frame, // [B, F', 69]
    audio: frameHead(p.scope('audio'), s.audio, FRAME_SOUNDS, probe).frame, // [B, F', 4]
    visualTokens: visual.perToken, // [B, F', Nv, 69]
    ...(hits ? { hits: frameHead(p.scope('hits'), s.visual, FRAME_VISUAL, probe).frame } : {}), // [B, F', 69]
  };
}

/**
 * Pads axis 1 (frames) of per-frame labels [B, F, C] or per-token labels [B, F, N, C] to `frames` (the inputs padded
 * to whole windows), at the end.
 */
export function padFrames(x: Tensor, frames: number): Tensor {
  const extra = frames - (x.shape[1] as number);
  if (!extra) return x;
  const ends = x.shape.map((_, axis) => (axis === 1 ? extra : 0));
  return x.pad([...x.shape.map(() => 0), ...ends]); // [B, F', (N,) C]
}

export function frameAuxLoss(
  p: Scope,
  s: FrameStreams,
  labels: FrameLabelInputs,
  cfg: FavorConfig,
): { loss: Tensor; metrics: Record<string, Tensor> } {
  const frames = s.frameMask.shape[1] as number;
  const valid = s.frameMask; // [B, F']
  const visual = padFrames(labels.visual, frames); // [B, F', 69]
  const audio = padFrames(labels.audio, frames); // [B, F', 4]
  const withHits = !!labels.hits && cfg.hitAux > 0;
  const heads = frameLogits(p, s, cfg.frameProbe, withHits);
  const { visual: vLogits, audio: aLogits, visualTokens } = heads; // [B, F', 69], [B, F', 4], [B, F', Nv, 69]
  const perLabel = valid.unsqueeze([2]); // [B, F', 1]
  // Summed over a frame's labels (mean over frames): a mean over 54 mostly-absent looks would scale their gradient
  // down 54-fold, and measured, left the visual encoder at the prior (docs/favor.md).
  const vBce = binaryCrossEntropyWithLogits(vLogits, visual, perLabel).mul(FRAME_VISUAL); // []
  const aBce = binaryCrossEntropyWithLogits(aLogits, audio, perLabel).mul(FRAME_SOUNDS); // []
  const silent = audio.sum([2]).lt(0.5).cast('float32'); // [B, F']
  const [lg, lb] = [vLogits, visual].map(visualParts); // looks, colors, shapes [B, F', n]
  const metrics: Record<string, Tensor> = {
    frame_visual_bce: vBce,
    frame_audio_bce: aBce,
    frame_look_acc: frameExactMatch(lg[0], lb[0], valid),
    frame_color_acc: frameExactMatch(lg[1], lb[1], valid),
    frame_shape_acc: frameExactMatch(lg[2], lb[2], valid),
    frame_audio_acc: frameExactMatch(aLogits, audio, valid),
    frame_audio_silent: maskedMean(silent, valid),
  };
  // A probe trains its heads only (factor 1: the factor would only rescale their learning rate).
  const factor = cfg.frameProbe ? 1 : cfg.frameAux;
  let loss = vBce.add(aBce).mul(factor); // []
  if (labels.tokens && cfg.tokenAux > 0) {
    // Summed over a token's labels like the frame BCE, mean over the real frames' tokens.
    const tBce = binaryCrossEntropyWithLogits(
      visualTokens,
      padFrames(labels.tokens, frames),
      perLabel.unsqueeze([3]),
    ).mul(FRAME_VISUAL); // []
    metrics.frame_token_bce = tBce;
    loss = loss.add(tBce.mul(cfg.tokenAux));
  }
  if (withHits) {
    const hitLabels = padFrames(labels.hits!, frames); // [B, F', 69]
    const hBce = binaryCrossEntropyWithLogits(heads.hits!, hitLabels, perLabel).mul(FRAME_VISUAL); // []
    const [hitLooks, trueLooks] = [heads.hits!, hitLabels].map((x) => visualParts(x)[0]); // [B, F', 54]: which object hit
    metrics.frame_hit_bce = hBce;
    metrics.frame_hit_acc = frameExactMatch(hitLooks, trueLooks, valid);
    metrics.frame_hit_none = maskedMean(trueLooks.sum([2]).lt(0.5).cast('float32'), valid);
    loss = loss.add(hBce.mul(cfg.hitAux));
  }
  return { loss, metrics };
}
