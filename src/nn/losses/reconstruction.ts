import { type Tensor, concat } from '../../engine/index.js';
import type { Rng } from '../../util/rng.js';
import { nnShapeError, staticDim } from '../util.js';
import { l2Normalize, maskedMean, sameShape } from './common.js';

export interface MultiScaleConfig {
  /** Temporal pooling factors (default [1, 2, 4]); frames past the last whole block are dropped at that scale. */
  scales?: number[];
  l1?: number;
  l2?: number;
  /** Weight of (1 - cosine) per frame (default 1). */
  cosine?: number;
}

/**
 * Multi-scale reconstruction: at each scale s, average-pool pred and target over blocks of s frames and add
 * l1 * mean|p - t| + l2 * mean(p - t)^2 + cosine * mean(1 - cos(p_t, t_t)); the result is the mean over scales.
 * Coarse scales reward getting the slow envelope right even when frame-exact detail is off.
 *
 * pred, target: [B, T, D] -> []
 *
 * @example
 *   const rec = multiScaleReconstructionLoss(predictedAudio, audioFeat, { scales: [1, 2, 4] }); // [B, T, Da] each
 */
export function multiScaleReconstructionLoss(pred: Tensor, target: Tensor, cfg: MultiScaleConfig = {}): Tensor {
  sameShape('multiScaleReconstructionLoss', pred, target);
  if (pred.shape.length !== 3) nnShapeError('multiScaleReconstructionLoss', 'expected [B, T, D]', pred);
  const t = staticDim(pred, 1, 'multiScaleReconstructionLoss');
  const d = staticDim(pred, 2, 'multiScaleReconstructionLoss');
  const { scales = [1, 2, 4], l1 = 1, l2 = 1, cosine = 1 } = cfg;
  const terms: Tensor[] = [];
  for (const s of scales) {
    const blocks = Math.floor(t / s);
    if (blocks < 1) nnShapeError('multiScaleReconstructionLoss', `scale ${s} is longer than T = ${t}`, pred);
    const pool = (x: Tensor) =>
      s === 1
        ? x
        : x
            .slice([0], [blocks * s], [1])
            .reshape([x.shape[0], blocks, s, d])
            .mean(2); // [B, T/s, D]
    const p = pool(pred);
    const y = pool(target);
    const diff = p.sub(y);
    let term = diff.abs().mean().mul(l1).add(diff.square().mean().mul(l2));
    if (cosine) term = term.add(l2Normalize(p).mul(l2Normalize(y)).sum(-1).neg().add(1).mean().mul(cosine));
    terms.push(term.unsqueeze([0]));
  }
  return concat(terms, 0).mean();
}

export interface AlignmentConfig {
  /** 'cosine' (default): 1 - cos(a, b); 'l2': |l2n(a) - l2n(b)|^2 (= 2 - 2 cos). */
  kind?: 'cosine' | 'l2';
  /** Valid rows/frames ([B] or [B, T], bool or 0/1), e.g. real (unpadded) frames. */
  valid?: Tensor;
}

/**
 * The design source 000 alignment loss: pull paired embeddings together, per clip ([B, D]) or per frame ([B, T, D]), as the
 * mean (over valid rows) of 1 - cosine. Use with a contrastive loss, which also pushes non-pairs apart.
 *
 * a, b: [B, D] or [B, T, D] -> []
 *
 * @example
 *   const align = alignmentLoss(videoFrames, audioFrames, { valid: frameMask }); // [B, T, D] each, frameMask [B, T]
 */
export function alignmentLoss(a: Tensor, b: Tensor, cfg: AlignmentConfig = {}): Tensor {
  sameShape('alignmentLoss', a, b);
  const cos = l2Normalize(a).mul(l2Normalize(b)).sum(-1); // [B] or [B, T]
  const per = cfg.kind === 'l2' ? cos.neg().add(1).mul(2) : cos.neg().add(1);
  return maskedMean(per, cfg.valid);
}

/**
 * Numerically stable binary cross-entropy on logits: max(x, 0) - x y + log(1 + exp(-|x|)), masked mean. For the
 * per-frame alignment head of design source 000 (logits [B, T], targets 1 for in-sync frames, 0 for shifted ones).
 *
 * logits, targets: same shape (targets float in [0, 1]) -> []
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, valid?: Tensor): Tensor {
  sameShape('binaryCrossEntropyWithLogits', logits, targets);
  const loss = logits.relu().sub(logits.mul(targets)).add(logits.abs().neg().exp().add(1).log());
  return maskedMean(loss, valid);
}

/** Softplus log(1 + e^z), stable for large |z|: a positive rate whose gradient stays bounded (an exp rate overshoots). */
export function softplus(z: Tensor): Tensor {
  return z.relu().add(z.abs().neg().exp().add(1).log());
}

/**
 * Poisson negative log-likelihood of counts under positive rates, rate - count log(rate + 1e-6) (each count's own
 * log-factorial dropped), summed over the last axis, masked mean over the rest.
 *
 * rate, counts: same shape [..., C] -> []; valid: [...] (bool or 0/1)
 */
export function poissonNll(rate: Tensor, counts: Tensor, valid?: Tensor): Tensor {
  sameShape('poissonNll', rate, counts);
  return maskedMean(rate.sub(counts.mul(rate.add(1e-6).log())).sum([-1]), valid);
}

export interface CrossEntropyConfig {
  /** Label smoothing epsilon (torch semantics: target = (1 - eps) one-hot + eps / C). Default 0. */
  labelSmoothing?: number;
  /** Valid items (same shape as labels, bool or 0/1): the loss is the mean over valid items only. */
  valid?: Tensor;
}

/**
 * Softmax cross-entropy with label smoothing and masking (wraps the engine's crossEntropy).
 *
 * logits: [..., C], labels: [...] int64 -> []
 */
export function crossEntropyLoss(logits: Tensor, labels: Tensor, cfg: CrossEntropyConfig = {}): Tensor {
  const eps = cfg.labelSmoothing ?? 0;
  let per = logits.crossEntropy(labels, 'none'); // [...]
  if (eps > 0) per = per.mul(1 - eps).add(logits.logSoftmax(-1).mean(-1).neg().mul(eps));
  return maskedMean(per, cfg.valid);
}

/**
 * Flow-matching interpolant (MMAudio flow_matching.py): x_t = (1 - (1 - sigmaMin) t) x0 + t x1, t per item.
 *
 * x0 (noise), x1 (data): [B, ...], t: [B] -> [B, ...]
 */
export function flowInterpolate(x0: Tensor, x1: Tensor, t: Tensor, sigmaMin = 0): Tensor {
  sameShape('flowInterpolate', x0, x1);
  const tb = t.reshape([t.shape[0], ...x0.shape.slice(1).map(() => 1)]); // [B, 1, ...]
  return x0.mul(tb.mul(-(1 - sigmaMin)).add(1)).add(x1.mul(tb));
}

/** Target velocity x1 - (1 - sigmaMin) x0. */
export function flowVelocity(x0: Tensor, x1: Tensor, sigmaMin = 0): Tensor {
  return x1.sub(x0.mul(1 - sigmaMin));
}

/**
 * Flow-matching MSE (MMAudio's only loss): mean (pred - (x1 - (1 - sigmaMin) x0))^2.
 *
 * pred, x0, x1: [B, ...] -> []
 *
 * @example
 *   const xt = flowInterpolate(noise, latent, t);            // t [B] fed from sampleLogitNormal(rng, B)
 *   const loss = flowMatchingLoss(velocityNet(p, xt, t), noise, latent);
 */
export function flowMatchingLoss(pred: Tensor, x0: Tensor, x1: Tensor, sigmaMin = 0): Tensor {
  sameShape('flowMatchingLoss', pred, x1);
  return pred
    .sub(flowVelocity(x0, x1, sigmaMin))
    .square()
    .mean();
}

/** Host-side t ~ sigmoid(N(mean, scale)) (MMAudio's logit-normal time sampling), n values. */
export function sampleLogitNormal(rng: Rng, n: number, mean = 0, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => 1 / (1 + Math.exp(-(mean + scale * rng.normal()))));
}
