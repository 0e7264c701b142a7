/**
 * The learned lip cue, SyncNet-style: a small network embeds each frame's lip shape (lip_shape.ts) and one embeds
 * the matching audio frames (the front end's 17 values: onset, 8 band levels, their rises); the lag curve is the mean
 * over embedding channels of the full-length correlation of the two (lag_curve.ts fullXcorr), read by the same curve
 * statistics and calibration as the hand cue. Trained contrastively (lip_train.ts): a 1 s lip window against the
 * audio at 2 * maxShift + 1 candidate lags, one of them right, cross-entropy over the lags of the windows'
 * correlations, so training and inference score a lag the same way.
 *
 *   lips [B, T, 80] ─ linear 80→hidden, GELU ─ conv k (time) → dim ─┐ z-score over time, per channel
 *   audio [B, T', 17] ─ linear 17→hidden, GELU ─ conv k (time) → dim ─┘ mean_t,c v[t, c] a[t + l, c] = score(l)
 */
import { type Graph, type Scope, type Tensor, concat, stack } from '../../engine/index.js';
import { conv1dTime, linear } from '../../nn/index.js';
import { AUDIO_DIM } from './features.js';
import { fullXcorr } from './lag_curve.js';
import { LIP_DIM } from './lip_shape.js';

export interface LipNetConfig {
  /** Width of each encoder's per-frame layer. */
  hidden: number;
  /** Embedding channels. */
  dim: number;
  /** Temporal kernel of the encoders' convolution (frames at 25 Hz). */
  kernel: number;
  /** Training window (frames). */
  window: number;
  /** Training lags -maxShift..maxShift (frames). */
  maxShift: number;
}

export const LIP_NET_DEFAULT: LipNetConfig = { hidden: 16, dim: 8, kernel: 5, window: 25, maxShift: 15 };

/** Lip shapes are centered per clip (a speaker's resting mouth is not a movement) and scaled to about unit size. */
const LIP_SCALE = 5;

function encoder(p: Scope, x: Tensor, cfg: LipNetConfig): Tensor {
  const h = linear(p.scope('in'), x, cfg.hidden).gelu(); // [B, T, hidden]
  return conv1dTime(p.scope('conv'), h, { out: cfg.dim, kernel: cfg.kernel }); // [B, T, dim]
}

/** Per-frame embeddings of lips [B, T, LIP_DIM] and audio [B, T', AUDIO_DIM] (prepared by prepareLipInputs). */
export function lipEmbeddings(p: Scope, lips: Tensor, audio: Tensor, cfg: LipNetConfig): { v: Tensor; a: Tensor } {
  return { v: encoder(p.scope('video'), lips, cfg), a: encoder(p.scope('audio'), audio, cfg) };
}

/** Z-score over time (axis 1) per channel: x [B, T, D] -> [B, T, D]. */
function zscore(x: Tensor): Tensor {
  const c = x.sub(x.mean([1], true));
  return c.div(c.square().mean([1], true).add(1e-4).sqrt());
}

/**
 * Training loss: lips [B, W, LIP_DIM], audio [B, W + 2K, AUDIO_DIM] (audio frame i pairs with lip frame i - l at lag
 * index l), target [B] int64 (the right lag index, 0..2K) -> cross-entropy over the 2K + 1 lags, and accuracy.
 */
export function lipSyncLoss(
  p: Scope,
  lips: Tensor,
  audio: Tensor,
  target: Tensor,
  cfg: LipNetConfig,
  far?: Tensor,
): { loss: Tensor; acc: Tensor } {
  const W = cfg.window;
  const { v, a } = lipEmbeddings(p, lips, audio, cfg);
  const vz = zscore(v); // [B, W, D]
  const scores: Tensor[] = [];
  for (let l = 0; l <= 2 * cfg.maxShift; l++) scores.push(vz.mul(zscore(a.slice([l], [l + W], [1]))).mean([1, 2])); // [B]
  // A learned sharpness: correlations live in [-1, 1], softmax needs a wider range.
  const scale = p.param('log_scale', [1], () => new Float32Array([Math.log(10)])).exp();
  let logits = stack(scores, 1); // [B, 2K + 1]
  if (far) logits = concat([logits, farScores(p, vz, far, cfg)], 1); // [B, 2K + 1 + M]
  logits = logits.mul(scale);
  const acc = logits.argmax(1).eq(target).cast('float32').mean();
  return { loss: logits.crossEntropy(target), acc };
}

/** Frames each far audio window carries beyond the lip window, so its convolution sees audio at both edges. */
export const farMargin = (cfg: LipNetConfig): number => cfg.kernel - 1;

/**
 * Scores of far-lag negatives: far [B, M, W + farMargin, AUDIO_DIM], audio windows more than maxShift frames from
 * the lip window (lip_train.ts), embedded like the near ones and cropped to W frames -> [B, M]. At inference the
 * curve spans +-50 frames; without them training never asks the net to rank a lag beyond +-maxShift.
 */
function farScores(p: Scope, vz: Tensor, far: Tensor, cfg: LipNetConfig): Tensor {
  const [B, M, A] = far.shape as number[];
  const W = cfg.window,
    left = farMargin(cfg) / 2;
  const rows = far.reshape([B * M, A, AUDIO_DIM]);
  const af = zscore(encoder(p.scope('audio'), rows, cfg).slice([left], [left + W], [1])); // [B*M, W, D]
  return vz
    .unsqueeze([1])
    .mul(af.reshape([B, M, W, cfg.dim]))
    .mean([2, 3]); // [B, M]
}

/** Rows [T, dim] minus their mean over the frames where mask is 1, times scale; 0 where mask is 0. */
export function centerRows(rows: Float32Array, dim: number, mask: Uint8Array, scale = 1): Float32Array {
  const T = mask.length;
  const mean = new Float64Array(dim);
  let n = 0;
  for (let t = 0; t < T; t++) {
    if (!mask[t]) continue;
    n++;
    for (let d = 0; d < dim; d++) mean[d] += rows[t * dim + d];
  }
  for (let d = 0; d < dim; d++) mean[d] /= Math.max(1, n);
  const out = new Float32Array(T * dim);
  for (let t = 0; t < T; t++)
    if (mask[t]) for (let d = 0; d < dim; d++) out[t * dim + d] = (rows[t * dim + d] - mean[d]) * scale;
  return out;
}

/** The network's inputs for one clip: lip shapes and audio rows, each centered over its own present frames. */
export function prepareLipInputs(
  lips: Float32Array,
  lipMask: Uint8Array,
  audio: Float32Array,
  audioMask: Uint8Array,
): { lips: Float32Array; audio: Float32Array } {
  return { lips: centerRows(lips, LIP_DIM, lipMask, LIP_SCALE), audio: centerRows(audio, AUDIO_DIM, audioMask) };
}

/** The inference graph over a whole clip of T frames: embeddings of both streams, [1, T, dim] each. */
export function lipInferenceGraph(g: Graph, p: Scope, cfg: LipNetConfig, T: number): { v: Tensor; a: Tensor } {
  const lips = g.input('lips', 'float32', [1, T, LIP_DIM]);
  const audio = g.input('audio', 'float32', [1, T, AUDIO_DIM]);
  return lipEmbeddings(p, lips, audio, cfg);
}

/** Lag curve from embeddings v, a [T * dim]: the mean over channels of fullXcorr (each on its own frames). */
export function embeddingCurve(
  v: Float32Array,
  a: Float32Array,
  dim: number,
  audioMask: Uint8Array,
  videoMask: Uint8Array,
): Float64Array {
  const T = audioMask.length;
  let curve: Float64Array | undefined;
  for (let d = 0; d < dim; d++) {
    const ad = Float32Array.from({ length: T }, (_, t) => a[t * dim + d]);
    const vd = Float32Array.from({ length: T }, (_, t) => v[t * dim + d]);
    const c = fullXcorr(ad, vd, audioMask, videoMask);
    if (!curve) curve = c;
    else for (let i = 0; i < c.length; i++) curve[i] += c[i];
  }
  return curve!.map((x) => x / dim);
}
