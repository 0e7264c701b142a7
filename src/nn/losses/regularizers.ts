import type { Tensor } from '../../engine/index.js';
import { eye, nnShapeError, staticDim } from '../util.js';
import { l2Normalize } from './common.js';

/**
 * FAVOR's diversity loss (AudioVisualLLM model/openllama.py, calc_diversity_loss): the mean off-diagonal cosine
 * similarity between the query outputs of each window,
 *   cos_ij = q_i . q_j / (|q_i| |q_j| + 1e-9),  loss = sum_{n, i != j} cos_ij / (N (Q^2 - Q)).
 * FAVOR weights it by 0.01.
 *
 * q: [N, Q, D] (Q-Former outputs per window) -> []
 *
 * @example
 *   const loss = task.add(diversityLoss(qformerOut).mul(0.01));
 */
export function diversityLoss(q: Tensor): Tensor {
  if (q.shape.length !== 3) nnShapeError('diversityLoss', 'q must be [N, Q, D]', q);
  const nq = staticDim(q, 1, 'diversityLoss');
  if (nq < 2) nnShapeError('diversityLoss', 'needs at least 2 queries', q);
  const norms = q.square().sum(-1, true).sqrt(); // [N, Q, 1]
  const cos = q.matmul(q.mT).div(norms.matmul(norms.mT).add(1e-9)); // [N, Q, Q]
  const off = eye(q, nq).neg().add(1);
  return cos
    .mul(off)
    .sum([1, 2])
    .mean()
    .div(nq * nq - nq);
}

const entropy = (w: Tensor, eps: number): Tensor => w.mul(w.add(eps).log()).sum(-1).neg(); // over the last axis

/** Mean entropy (nats) of attention rows: w [..., Tk] (rows summing to 1) -> []. */
export function attentionEntropy(w: Tensor, eps = 1e-9): Tensor {
  return entropy(w, eps).mean();
}

/**
 * Attention-entropy diversity: mean_q H(w_q) - H(mean_q w_q) over the queries of each head (minus the generalised
 * Jensen-Shannon divergence between the queries' attention rows). It is <= 0 and lowest (-log Q at best) when each
 * query attends sharply to keys no other query uses; it is 0 when all queries attend alike (collapse).
 *
 * w: [..., Q, Tk] attention weights -> []
 */
export function attentionDiversityLoss(w: Tensor, eps = 1e-9): Tensor {
  if (w.shape.length < 2) nnShapeError('attentionDiversityLoss', 'weights must be [..., Q, Tk]', w);
  return entropy(w, eps)
    .mean(-1)
    .sub(entropy(w.mean(-2), eps))
    .mean();
}

export interface SmoothnessConfig {
  /** Weight of the first-order term mean |x_{t+1} - x_t|^2 (default 1). */
  first?: number;
  /** Weight of the second-order term mean |x_{t+1} - 2 x_t + x_{t-1}|^2 (default 0). */
  second?: number;
}

/**
 * Temporal smoothness: weighted mean squared first and second differences along time (axis 1).
 *
 * x: [B, T, ...] (T static, >= 3 when the second order is used) -> []
 *
 * @example
 *   const smooth = temporalSmoothnessLoss(frameEmb, { first: 1, second: 0.5 }); // frameEmb [B, T, D]
 */
export function temporalSmoothnessLoss(x: Tensor, cfg: SmoothnessConfig = {}): Tensor {
  const t = staticDim(x, 1, 'temporalSmoothnessLoss');
  const { first = 1, second = 0 } = cfg;
  const d1 = x.slice([1], [t], [1]).sub(x.slice([0], [t - 1], [1])); // [B, T-1, ...]
  let loss: Tensor | undefined = first ? d1.square().mean().mul(first) : undefined;
  if (second) {
    if (t < 3) nnShapeError('temporalSmoothnessLoss', 'second order needs T >= 3', x);
    const d2 = d1.slice([1], [t - 1], [1]).sub(d1.slice([0], [t - 2], [1])); // [B, T-2, ...]
    const s = d2.square().mean().mul(second);
    loss = loss ? loss.add(s) : s;
  }
  if (!loss) nnShapeError('temporalSmoothnessLoss', 'both weights are 0', x);
  return loss;
}

/**
 * VICReg variance term: mean over features of relu(gamma - sqrt(var + eps)), var unbiased over the batch. Keeps
 * every embedding dimension spread (anti-collapse).
 *
 * x: [N, D] -> []
 */
export function varianceLoss(x: Tensor, gamma = 1, eps = 1e-4): Tensor {
  const n = staticDim(x, 0, 'varianceLoss');
  if (x.shape.length !== 2 || n < 2) nnShapeError('varianceLoss', 'x must be [N >= 2, D]', x);
  const c = x.sub(x.mean(0, true));
  const variance = c
    .square()
    .sum(0)
    .div(n - 1); // [D]
  return variance.add(eps).sqrt().neg().add(gamma).relu().mean();
}

/** VICReg covariance term: sum of squared off-diagonal covariances / D. x: [N, D] -> [] */
export function covarianceLoss(x: Tensor): Tensor {
  const n = staticDim(x, 0, 'covarianceLoss');
  const d = staticDim(x, 1, 'covarianceLoss');
  const c = x.sub(x.mean(0, true));
  const cov = c.mT.matmul(c).div(n - 1); // [D, D]
  return cov.square().mul(eye(x, d).neg().add(1)).sum().div(d);
}

/**
 * Wang & Isola uniformity: log mean_{i != j} exp(-t |x_i - x_j|^2) (= their pdist form over i < j). Pass
 * L2-normalized embeddings. Lower is more uniform on the sphere.
 *
 * x: [N, D] -> []
 */
export function uniformityLoss(x: Tensor, t = 2): Tensor {
  const n = staticDim(x, 0, 'uniformityLoss');
  if (n < 2) nnShapeError('uniformityLoss', 'needs N >= 2', x);
  const sq = x.square().sum(-1, true); // [N, 1]
  const d2 = sq.add(sq.mT).sub(x.matmul(x.mT).mul(2)).relu(); // [N, N] squared distances (relu: rounding below 0)
  return d2
    .mul(-t)
    .exp()
    .mul(eye(x, n).neg().add(1))
    .sum()
    .div(n * n - n)
    .log();
}

/**
 * Wang & Isola alignment: mean |x_i - y_i|_2^alpha over pairs (pass L2-normalized embeddings).
 *
 * x, y: [N, D] -> []
 */
export function alignUniformAlignLoss(x: Tensor, y: Tensor, alpha = 2): Tensor {
  const d = x.sub(y).square().sum(-1);
  return (alpha === 2 ? d : d.add(1e-12).pow(alpha / 2)).mean();
}

export interface AntiCollapseConfig {
  variance?: number;
  covariance?: number;
  uniformity?: number;
}

/**
 * Variance / uniformity anti-collapse: variance * varianceLoss(x) + covariance * covarianceLoss(x) + uniformity *
 * uniformityLoss(l2n(x)). Defaults 1, 0, 0.1.
 *
 * x: [N, D] -> []
 *
 * @example
 *   const reg = antiCollapseLoss(videoEmb, { variance: 1, uniformity: 0.1 }); // videoEmb [B, D]
 */
export function antiCollapseLoss(x: Tensor, cfg: AntiCollapseConfig = {}): Tensor {
  const { variance = 1, covariance = 0, uniformity = 0.1 } = cfg;
  let loss = varianceLoss(x).mul(variance);
  if (covariance) loss = loss.add(covarianceLoss(x).mul(covariance));
  if (uniformity) loss = loss.add(uniformityLoss(l2Normalize(x)).mul(uniformity));
  return loss;
}
