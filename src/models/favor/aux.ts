/**
 * An auxiliary answer classifier that reads the AV tokens directly, so the encoders and the Q-Former get a short
 * gradient path from the answer early in training. Without it their only signal comes back through the language
 * model, which first learns each template's answer prior and then barely attends to the AV tokens (docs/favor.md,
 * Results). Training only: answers are still decoded by the language model.
 *
 *   text [B, Lt], questionMask [B, Lt] (1 on question words) -> mean of the LM's word embeddings     q [B, Dlm]
 *   AV tokens [B, M, Dlm], valid [B, M] -> one attention read with q as the query (padded windows masked) [B, Dlm]
 *   [read ; q] -> MLP -> logits over AVQA's closed answer set (avqaAnswers)                            [B, C]
 *   loss = cross-entropy against answer_class [B]
 */
import { type Scope, type Tensor, concat, init } from '../../engine/index.js';
import { MASK_VALUE, crossEntropyLoss, linear, mlp, poolValid } from '../../nn/index.js';
import type { FavorConfig } from './config.js';

export interface AnswerAuxInputs {
  text: Tensor; // [B, Lt] int64
  questionMask: Tensor; // [B, Lt] float 0/1
  answerClass: Tensor; // [B] int64
}

/** logits [B, C] of the auxiliary classifier; `lm` is the language model's scope (its word embeddings are shared). */
export function answerAuxLogits(
  p: Scope,
  lm: Scope,
  av: { tokens: Tensor; valid: Tensor },
  x: Omit<AnswerAuxInputs, 'answerClass'>,
  vocab: number,
  classes: number,
  cfg: FavorConfig,
): Tensor {
  const d = cfg.lmDim;
  const words = lm.param('embed', [vocab, d], init.normal(0.02)).gather(x.text, 0); // [B, Lt, Dlm]
  const q = poolValid(words, x.questionMask); // [B, Dlm]
  const query = linear(p.scope('query'), q, d).unsqueeze([1]); // [B, 1, Dlm]
  const keys = linear(p.scope('key'), av.tokens, d); // [B, M, Dlm]
  const scores = query.matmul(keys.mT).mul(1 / Math.sqrt(d)); // [B, 1, M]
  const weights = scores.add(av.valid.sub(1).mul(-MASK_VALUE).unsqueeze([1])).softmax(-1); // [B, 1, M]
  const read = weights.matmul(av.tokens).squeeze([1]); // [B, Dlm]
  const h = mlp(p.scope('mlp'), concat([read, q], 1), { hidden: 2 * d }); // [B, 2*Dlm]
  return linear(p.scope('out'), h, classes); // [B, C]
}

/** Cross-entropy of the auxiliary classifier (a scalar). */
export function answerAuxLoss(
  p: Scope,
  lm: Scope,
  av: { tokens: Tensor; valid: Tensor },
  x: AnswerAuxInputs,
  vocab: number,
  classes: number,
  cfg: FavorConfig,
): Tensor {
  return crossEntropyLoss(answerAuxLogits(p, lm, av, x, vocab, classes, cfg), x.answerClass); // []
}
