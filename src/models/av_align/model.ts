import { type Graph, type Scope, type Tensor, concat, constant, init } from '../../engine/index.js';
import { linear } from '../../nn/linear.js';
import { mlp } from '../../nn/mlp.js';
import { layerNorm } from '../../nn/norm.js';
import { addSinusoidal } from '../../nn/positions.js';
import { conv1dTime } from '../../nn/conv.js';
import { crossModalBlock, transformerBlock } from '../../nn/blocks.js';
import { bilinearGatedFusion, gatedFusion } from '../../nn/fusion.js';
import type { FeatureStats } from './data.js';

/**
 * av-align, the design source 000 audio-visual model, as thin functions over symbolic tensors:
 *   video/audio encoders: standardize (frozen train-set stats) -> linear + LayerNorm -> sinusoidal positions ->
 *     temporal conv -> self-attention blocks                                        h_v, h_a  [B, T, D]
 *   contrastive embeddings: per-frame projection, flattened, L2-normalized       e_v, e_a  [B, T*E]
 *     (flattening keeps WHEN things happen, which is what tells two AV-Synth clips apart)
 *   cross-modal transformer: video attends audio and audio attends video        f_v, f_a  [B, T, D]
 *   fusion (gated or bilinear) -> per-frame alignment head                            s  [B, T] in (0, 1)
 *   audio-feature decoder: standardized audio features predicted from the VIDEO encoder alone  [B, T, Da]
 */
export interface AvAlignConfig {
  dim: number;
  heads: number;
  /** self-attention blocks per encoder */
  encoderLayers: number;
  /** cross-modal blocks (0 for the retrieval dual encoder) */
  crossLayers: number;
  /** per-frame embedding width (clip embedding = frames * embedDim) */
  embedDim: number;
  fusion: 'gated' | 'bilinear';
  /** temporal conv kernel in the encoders (odd; 1 disables it) */
  convKernel: number;
  loss: { nce: number; recon: number; align: number; smooth: number; uniformity: number };
}

export const avAlignSmall = (): AvAlignConfig => ({
  dim: 64,
  heads: 4,
  encoderLayers: 1,
  crossLayers: 1,
  embedDim: 8,
  fusion: 'gated',
  convKernel: 3,
  loss: { nce: 1, recon: 1, align: 0.5, smooth: 0.5, uniformity: 0.1 },
});

export const avAlignTiny = (): AvAlignConfig => ({ ...avAlignSmall(), dim: 32, heads: 2 });

export const avAlignBase = (): AvAlignConfig => ({
  ...avAlignSmall(),
  dim: 128,
  heads: 4,
  encoderLayers: 2,
  crossLayers: 2,
});

/** x [B, T, Din] -> (x - mean) / std with frozen statistics (saved with the weights). */
function standardize(p: Scope, x: Tensor, mean: Float32Array | undefined, std: Float32Array | undefined): Tensor {
  const d = x.shape[2] as number;
  const m = p.param('mean', [d], mean ? () => mean : init.zeros(), { trainable: false });
  const s = p.param('std', [d], std ? () => std : init.ones(), { trainable: false });
  return x.sub(m).div(s);
}

/** One modality's encoder: features [B, T, Din] -> h [B, T, D]. */
export function encodeModality(
  p: Scope,
  x: Tensor,
  c: AvAlignConfig,
  stats?: { mean: Float32Array; std: Float32Array },
): Tensor {
  let h = standardize(p.scope('input'), x, stats?.mean, stats?.std);
  h = layerNorm(p.scope('in_norm'), linear(p.scope('in_proj'), h, c.dim)); // [B, T, D]
  h = addSinusoidal(h);
  // a short temporal convolution sees frame differences (motion onsets, audio attacks) directly
  if (c.convKernel > 1) h = h.add(conv1dTime(p.scope('conv'), h, { out: c.dim, kernel: c.convKernel }).gelu()); // [B, T, D]
  for (let i = 0; i < c.encoderLayers; i++)
    h = transformerBlock(p.scope(`block${i}`), h, { heads: c.heads, mlpRatio: 2 }).out;
  return layerNorm(p.scope('out_norm'), h);
}

const l2normalize = (x: Tensor): Tensor => x.mul(x.square().sum(-1, true).add(1e-12).rsqrt());

/** Per-frame projection, flattened and normalized: h [B, T, D] -> [B, T*E]. */
export function clipEmbedding(p: Scope, h: Tensor, c: AvAlignConfig): Tensor {
  const [b, t] = [h.shape[0], h.shape[1] as number];
  const e = linear(p, h, c.embedDim); // [B, T, E]
  return l2normalize(e.reshape([b, t * c.embedDim]));
}

export interface DualOutputs {
  hv: Tensor; // [B, T, D]
  ha: Tensor; // [B, T, D]
  ev: Tensor; // [B, T*E]
  ea: Tensor; // [B, T*E]
}

/** The dual encoder shared with av-retrieval (same parameter names, so either checkpoint serves `attune index`). */
export function dualEncode(
  p: Scope,
  video: Tensor,
  audio: Tensor,
  c: AvAlignConfig,
  stats?: FeatureStats,
): DualOutputs {
  const hv = encodeModality(p.scope('video_enc'), video, c, stats && { mean: stats.videoMean, std: stats.videoStd });
  const ha = encodeModality(p.scope('audio_enc'), audio, c, stats && { mean: stats.audioMean, std: stats.audioStd });
  return { hv, ha, ev: clipEmbedding(p.scope('video_embed'), hv, c), ea: clipEmbedding(p.scope('audio_embed'), ha, c) };
}

export interface AlignOutputs {
  /** per-frame alignment logits [B, T] (sigmoid = probability that frame t is in sync) */
  logits: Tensor;
  /** softmax weights of each cross-modal layer: audio frames (queries) over video frames (keys) [B, H, T, T] */
  audioToVideo: Tensor[];
  /** ... and video frames (queries) over audio frames (keys) [B, H, T, T] */
  videoToAudio: Tensor[];
}

/**
 * Cross-modal transformer (video queries audio, audio queries video) + fusion + alignment head, with the
 * attention weights each cross-modal layer already computes (for heat maps; returning them adds no nodes).
 * h_v, h_a [B, T, D] -> logits [B, T] and weights [B, H, T, T] per layer.
 */
export function alignForward(p: Scope, hv: Tensor, ha: Tensor, c: AvAlignConfig): AlignOutputs {
  let v = hv;
  let a = ha;
  const audioToVideo: Tensor[] = [];
  const videoToAudio: Tensor[] = [];
  for (let i = 0; i < c.crossLayers; i++) {
    const s = p.scope(`cross${i}`);
    const nv = crossModalBlock(s.scope('v_from_a'), v, a, { heads: c.heads, mlpRatio: 2 });
    const na = crossModalBlock(s.scope('a_from_v'), a, v, { heads: c.heads, mlpRatio: 2 });
    videoToAudio.push(nv.weights);
    audioToVideo.push(na.weights);
    [v, a] = [nv.out, na.out];
  }
  const f = c.fusion === 'gated' ? gatedFusion(p.scope('fusion'), v, a) : bilinearGatedFusion(p.scope('fusion'), v, a); // [B, T, D]
  return { logits: mlp(p.scope('align_head'), f, { hidden: c.dim, out: 1 }).squeeze([2]), audioToVideo, videoToAudio }; // logits [B, T]
}

/** alignForward's logits only: h_v, h_a [B, T, D] -> [B, T]. */
export function alignLogits(p: Scope, hv: Tensor, ha: Tensor, c: AvAlignConfig): Tensor {
  return alignForward(p, hv, ha, c).logits;
}

/** The audio-feature decoder: standardized audio features predicted from video only. h_v [B, T, D] -> [B, T, Da]. */
export function predictAudioFeatures(p: Scope, hv: Tensor, audioDim: number, c: AvAlignConfig): Tensor {
  return mlp(p, hv, { hidden: 2 * c.dim, out: audioDim });
}

/** Audio rolled by one clip along the batch: every video gets another clip's sound (the negatives). [B, ...] */
export function rollBatch(x: Tensor): Tensor {
  const b = x.shape[0] as number;
  const [head, tail] = x.split([1, b - 1], 0);
  return concat([tail, head], 0);
}

/** Standardized audio (the decoder's target), no gradient. */
export function audioTarget(p: Scope, audio: Tensor): Tensor {
  const s = p.scope('audio_enc').scope('input');
  const d = audio.shape[2] as number;
  return audio
    .sub(s.param('mean', [d], init.zeros(), { trainable: false }))
    .div(s.param('std', [d], init.ones(), { trainable: false }))
    .stopGradient();
}

/** Labels for [positives; negatives] alignment scores: [2B, T] of 1s then 0s. */
export function alignLabels(g: Graph, b: number, t: number): Tensor {
  return constant(
    g,
    Array.from({ length: 2 * b * t }, (_, i) => (i < b * t ? 1 : 0)),
    'float32',
    [2 * b, t],
  );
}
