/**
 * The emotion model's training loss: cross-entropy plus the seed's optional attention regularizers and an optional
 * word-timing term.
 *
 *   diversity   -mean_i H(alpha_i)               over the valid rows of both directions (the seed's L_diversity; minimizing
 *                                                it spreads attention)
 *   alignment   mean_ij sim(t_i, a_j) (1 - alpha_ij)^2  over valid (word, frame) pairs, sim = cosine of the encodings
 *   grounding   -mean_i log(sum_j alpha_ij span_ij)  over words with known times: text→audio mass inside the word
 */
import type { Tensor } from '../../engine/index.js';
import { crossEntropyLoss, l2Normalize } from '../../nn/index.js';
import type { EmotionModelConfig } from './config.js';
import type { EmotionOutputs } from './model.js';

export interface LossInputs {
  labels: Tensor; // [B] int64
  textValid: Tensor; // [B, W]
  audioValid: Tensor; // [B, F]
  present: Tensor; // [B, 2]
  /** 1 where frame j lies inside word i's spoken interval [B, W, F]; words without times are all 0. */
  spans: Tensor;
}

export interface LossTerms {
  loss: Tensor;
  metrics: Record<string, Tensor>;
}

export function emotionLoss(out: EmotionOutputs, x: LossInputs, cfg: EmotionModelConfig): LossTerms {
  const ce = crossEntropyLoss(out.logits, x.labels); // []
  let loss = ce;
  const metrics: Record<string, Tensor> = { ce };
  const both = x.present.slice([0], [1], [1]).mul(x.present.slice([1], [2], [1])); // [B, 1]
  const pairs = x.textValid
    .unsqueeze([2])
    .mul(x.audioValid.unsqueeze([1]))
    .mul(both.unsqueeze([2])); // [B, W, F]
  const ta = out.textToAudio?.mean([1]); // [B, W, F] (mean over heads)
  const at = out.audioToText?.mean([1]); // [B, F, W]
  if (cfg.entropyWeight > 0 && (ta || at)) {
    const rows: Tensor[] = [];
    if (ta) rows.push(meanRowEntropy(ta, x.textValid.mul(both))); // []
    if (at) rows.push(meanRowEntropy(at, x.audioValid.mul(both))); // []
    const h = rows.length === 2 ? rows[0].add(rows[1]).mul(0.5) : rows[0];
    metrics.entropy = h;
    loss = loss.sub(h.mul(cfg.entropyWeight));
  }
  if (cfg.alignWeight > 0 && ta && out.textStates && out.audioStates) {
    const sim = l2Normalize(out.textStates).matmul(l2Normalize(out.audioStates).mT); // [B, W, F]
    const term = sim.mul(ta.neg().add(1).square()).mul(pairs).sum().div(pairs.sum().maximum(1)); // []
    metrics.align = term;
    loss = loss.add(term.mul(cfg.alignWeight));
  }
  if (cfg.groundWeight > 0 && ta) {
    const timed = x.spans.max([2]).mul(x.textValid).mul(both); // [B, W]: words with a known interval
    const inside = ta.mul(x.spans).sum([2]); // [B, W]
    const term = inside.add(1e-6).log().neg().mul(timed).sum().div(timed.sum().maximum(1)); // []
    metrics.ground = term;
    loss = loss.add(term.mul(cfg.groundWeight));
  }
  return { loss, metrics };
}

/** Mean entropy of attention rows w [B, Q, K] over the valid rows valid [B, Q] -> [] */
function meanRowEntropy(w: Tensor, valid: Tensor): Tensor {
  const h = w.mul(w.add(1e-9).log()).sum([2]).neg(); // [B, Q]
  return h.mul(valid).sum().div(valid.sum().maximum(1));
}
