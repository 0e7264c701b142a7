import { type Graph, type Scope, type Tensor, concat, constant, init } from '../../engine/index.js';
import {
  addSinusoidal,
  conv1d,
  conv1dTime,
  layerNorm,
  linear,
  mlp,
  splitHeads,
  transformerBlock,
} from '../../nn/index.js';
import { VIDEO_DIM } from './features.js';
import { FRAMES_PER_CLASS, MAX_LAG, SYNC_CLASSES } from './result.js';

/**
 * av-sync: audio-visual offset classification on the +-2 s, 21-class grid, plus a synchronizability logit.
 *
 *   audio [B, T, 17] -> encoder -> keys    [B, H, T, dh]
 *   video [B, T, 34] -> encoder -> queries [B, H, T, dh]
 *   cross-modal attention scores S = q k^T / sqrt(dh)           [B, H, T, T]   (video frame t_v vs audio frame t_a)
 *   lag pooling: mean of S over each diagonal t_a - t_v = l      [B, H, 101]    (l = -50..50 frames at 25 Hz)
 *   lag head: conv1d over the lag axis (shift-equivariant)       [B, 101] -> every 5th lag = 21 class logits
 *   sync head: MLP on the lag-curve statistics                   [B] logit: does the window carry sync cues?
 *
 * Pooling the attention scores along diagonals makes "audio is l frames late" a feature the heads read directly,
 * like SyncNet's per-shift distances but learned and multi-head; masks (audio missing at a file's edges) drop
 * pairs from the means.
 */
export interface AvSyncConfig {
  dim: number;
  heads: number;
  /** Self-attention blocks per encoder (with sinusoidal positions). */
  layers: number;
  kernel: number;
  lagChannels: number;
  syncHidden: number;
  /**
   * Two more fixed channels: audio onsets against the motion change (|Δ log motion|, both signs) of the 4x4 cells
   * and the whole frame, z-scored per cell, then averaged and max-pooled over the cells: the sound-event cue of
   * onset_cue.ts (a cell whose motion stops or starts with the sound) in a form the lag head can read. Off by
   * default (the demo's model and older runs); on in the shipped weights (`--set model.changeCurves=true`).
   */
  changeCurves?: boolean;
}

export const avSyncTiny = (): AvSyncConfig => ({
  dim: 32,
  heads: 2,
  layers: 0,
  kernel: 5,
  lagChannels: 16,
  syncHidden: 16,
});
export const avSyncSmall = (): AvSyncConfig => ({
  dim: 64,
  heads: 4,
  layers: 0,
  kernel: 5,
  lagChannels: 32,
  syncHidden: 32,
});
export const avSyncBase = (): AvSyncConfig => ({
  dim: 128,
  heads: 8,
  layers: 1,
  kernel: 5,
  lagChannels: 64,
  syncHidden: 64,
});

export interface AvSyncOutputs {
  logits: Tensor; // [B, 21]
  syncLogit: Tensor; // [B]
  lagScores: Tensor; // [B, H, 101]
}

function encoder(p: Scope, x: Tensor, cfg: AvSyncConfig): Tensor {
  let h = linear(p.scope('in'), x, cfg.dim); // [B, T, D]
  h = h.add(conv1dTime(p.scope('conv'), h, { out: cfg.dim, kernel: cfg.kernel }).gelu()); // [B, T, D]
  h = layerNorm(p.scope('norm'), h);
  if (cfg.layers > 0) h = addSinusoidal(h);
  for (let i = 0; i < cfg.layers; i++)
    h = transformerBlock(p.scope(`block${i}`), h, { heads: cfg.heads, mlpRatio: 2 }).out;
  return h; // [B, T, D]
}

/** Constant [T*T, 2*maxLag+1]: column l sums the pairs (t, t + l - maxLag) of a flattened [T, T] score matrix. */
function diagonalPool(g: Graph, T: number, maxLag: number): Tensor {
  const L = 2 * maxLag + 1;
  const m = new Array<number>(T * T * L).fill(0);
  for (let t = 0; t < T; t++) {
    for (let l = -maxLag; l <= maxLag; l++) {
      const ta = t + l;
      if (ta >= 0 && ta < T) m[(t * T + ta) * L + l + maxLag] = 1;
    }
  }
  return constant(g, m, 'float32', [T * T, L]);
}

/**
 * audio [B, T, AUDIO_DIM], video [B, T, VIDEO_DIM], mask [B, T] (1 = both streams present) -> logits, syncLogit.
 */
export function avSync(p: Scope, audio: Tensor, video: Tensor, mask: Tensor, cfg: AvSyncConfig): AvSyncOutputs {
  const [B, T] = audio.shape as number[];
  const H = cfg.heads;
  const L = 2 * MAX_LAG + 1;
  const a = encoder(p.scope('audio'), audio, cfg);
  const v = encoder(p.scope('video'), video, cfg);
  const k = splitHeads(linear(p.scope('key'), a, cfg.dim), H); // [B, H, T, dh]
  const q = splitHeads(linear(p.scope('query'), v, cfg.dim), H).mul(1 / Math.sqrt(cfg.dim / H)); // [B, H, T, dh]
  const scores = q.matmul(k.mT); // [B, H, Tv, Ta]
  const pairs = mask.unsqueeze([2]).mul(mask.unsqueeze([1])); // [B, T, T]
  const pool = diagonalPool(audio.graph, T, MAX_LAG); // [T*T, L]
  const sums = scores
    .mul(pairs.unsqueeze([1]))
    .reshape([B, H, T * T])
    .matmul(pool); // [B, H, L]
  const counts = pairs
    .reshape([B, T * T])
    .matmul(pool)
    .maximum(1)
    .unsqueeze([1]); // [B, 1, L]
  const lagScores = sums.div(counts); // [B, H, L]
  // One fixed channel: the baseline's cross-correlation of onset strength against motion onsets, so training starts
  // from what xcorr knows and the attention heads learn what it misses.
  const onset = standardize(audio.slice([0], [1], [2]).reshape([B, T]), mask); // [B, T]
  const motionOnset = standardize(video.slice([VIDEO_DIM / 2], [VIDEO_DIM], [2]).sum([2]), mask); // [B, T]
  const fixed = (motion: Tensor) =>
    motion
      .unsqueeze([2])
      .mul(onset.unsqueeze([1]))
      .reshape([B, 1, T * T])
      .matmul(pool)
      .div(counts); // [B, 1, L]
  const channels = [lagScores, fixed(motionOnset)];
  if (cfg.changeCurves) {
    const levels = video.slice([0], [VIDEO_DIM / 2], [2]); // [B, T, 17]
    const change = levels
      .slice([1], [T], [1])
      .sub(levels.slice([0], [T - 1], [1]))
      .abs()
      .pad([0, 1, 0, 0, 0, 0]); // [B, T, 17]
    const perCell = standardize(change, mask.unsqueeze([2])); // [B, T, 17]
    channels.push(fixed(standardize(perCell.mean([2]), mask)), fixed(standardize(perCell.max([2]), mask)));
  }
  const curves = concat(channels, 1); // [B, H + 1 (+ 2), L]
  let x = conv1d(p.scope('lag0'), curves, { out: cfg.lagChannels, kernel: FRAMES_PER_CLASS }).gelu(); // [B, C, L]
  x = conv1d(p.scope('lag1'), x, { out: cfg.lagChannels, kernel: FRAMES_PER_CLASS }).gelu();
  const curve = conv1d(p.scope('lag_out'), x, { out: 1, kernel: 1 }).reshape([B, L]); // [B, L]
  const centers = curve.slice([0], [L], [1], [FRAMES_PER_CLASS]); // [B, 21]
  const logits = centers.add(p.param('class_bias', [SYNC_CLASSES], init.zeros()));
  // Synchronizability reads how peaked the lag curves are: max - mean, spread and mean per head and of the final curve.
  const stats = (c: Tensor, axis: number): Tensor[] => {
    const mean = c.mean([axis]);
    const spread = c
      .sub(c.mean([axis], true))
      .square()
      .mean([axis])
      .add(1e-6)
      .sqrt();
    return [c.max([axis]).sub(mean), spread, mean];
  };
  const feats = [...stats(curves, 2), ...stats(curve, 1).map((s) => s.unsqueeze([1]))]; // [B, H + 1] x3, [B, 1] x3
  const syncIn = concat(feats, -1); // [B, 3H + 6]
  const syncLogit = mlp(p.scope('sync'), syncIn, { hidden: cfg.syncHidden, out: 1 }).reshape([B]);
  return { logits, syncLogit, lagScores };
}

/** Masked z-score over time (axis 1): x [B, T] or [B, T, C], mask of the same rank -> x's shape (0 where masked). */
function standardize(x: Tensor, mask: Tensor): Tensor {
  const n = mask.sum([1], true).maximum(1); // [B, 1]
  const centerd = x.sub(x.mul(mask).sum([1], true).div(n)).mul(mask);
  const std = centerd.square().sum([1], true).div(n).add(1e-4).sqrt();
  return centerd.div(std);
}
