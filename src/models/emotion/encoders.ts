/**
 * The two stream encoders, trained here from scratch (no BERT / wav2vec2 on a 2-core machine):
 *
 *   words  [B, W] ids (hashed vocabulary) ─ embedding ─ + positions ─ transformer blocks (key padding) ─▶ [B, W, D]
 *   audio  [B, F, 83] log-mel + prosody ─ linear ─ 2 convs (k) ─ + positions transformer blocks ─────▶ [B, F, D]
 *
 * Positions are absolute (sinusoids) and relative (where in the item: (i + 0.5) / valid count, as 4 sin/cos pairs
 * through a linear map), so the k-th of n words can find the matching stretch of an utterance of any length.
 * Padded words and frames are masked as keys everywhere; their own rows are computed but never pooled.
 */
import { type Tensor, concat, constant, init, type Scope } from '../../engine/index.js';
import { addSinusoidal, conv1dTime, keyPaddingMask, layerNorm, linear, transformerBlock } from '../../nn/index.js';
import { WORD_BUCKETS, type EmotionModelConfig } from './config.js';

/** tokens [B, W] int64, valid [B, W] float -> [B, W, D] */
export function textEncoder(p: Scope, tokens: Tensor, valid: Tensor, cfg: EmotionModelConfig, drop: number): Tensor {
  const table = p.param('embed', [WORD_BUCKETS, cfg.dim], init.normal(0.1)); // [V, D]
  let h = addSinusoidal(table.gather(tokens, 0)).add(relativePosition(p.scope('relpos'), valid, cfg.dim)); // [B, W, D]
  const mask = keyPaddingMask(valid); // [B, 1, 1, W]
  for (let i = 0; i < cfg.textLayers; i++) {
    h = transformerBlock(
      p.scope(`block${i}`),
      h,
      { heads: cfg.heads, mlpRatio: 2, residualDropout: drop },
      { mask },
    ).out; // [B, W, D]
  }
  return layerNorm(p.scope('norm'), h); // [B, W, D]
}

/** audio [B, F, AUDIO_DIM], valid [B, F] float -> [B, F, D] */
export function audioEncoder(p: Scope, audio: Tensor, valid: Tensor, cfg: EmotionModelConfig, drop: number): Tensor {
  const keep = valid.unsqueeze([2]); // [B, F, 1]: padding stays 0 through the convolutions
  let h = linear(p.scope('in'), audio, cfg.dim).mul(keep); // [B, F, D]
  for (let i = 0; i < 2; i++) {
    h = h.add(conv1dTime(p.scope(`conv${i}`), h, { out: cfg.dim, kernel: cfg.kernel }).gelu()).mul(keep); // [B, F, D]
  }
  h = addSinusoidal(layerNorm(p.scope('conv_norm'), h)).add(relativePosition(p.scope('relpos'), valid, cfg.dim)); // [B, F, D]
  const mask = keyPaddingMask(valid); // [B, 1, 1, F]
  for (let i = 0; i < cfg.audioLayers; i++) {
    h = transformerBlock(
      p.scope(`block${i}`),
      h,
      { heads: cfg.heads, mlpRatio: 2, residualDropout: drop },
      { mask },
    ).out; // [B, F, D]
  }
  return layerNorm(p.scope('norm'), h); // [B, F, D]
}

/** Relative position features of each step: valid [B, T] -> [B, T, D] (0 at padding). */
function relativePosition(p: Scope, valid: Tensor, dim: number): Tensor {
  const t = valid.shape[1] as number;
  const index = constant(
    valid.graph,
    Array.from({ length: t }, (_, i) => i + 0.5),
    'float32',
    [1, t],
  ); // [1, T]
  const rel = index.div(valid.sum([1], true).maximum(1)).unsqueeze([2]); // [B, T, 1]
  const freqs = constant(
    valid.graph,
    [1, 2, 3, 4].map((k) => k * Math.PI),
    'float32',
    [1, 1, 4],
  ); // [1, 1, 4]
  const angles = rel.mul(freqs); // [B, T, 4]
  return linear(p, concat([angles.sin(), angles.cos()], 2), dim).mul(valid.unsqueeze([2])); // [B, T, D]
}
