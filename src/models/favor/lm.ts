/**
 * The small decoder-only language model that answers: word embeddings over the AVQA vocabulary, the AV tokens as a
 * prefix, causal self-attention over [AV tokens][question [SEP] answer [EOS]], a vocabulary head.
 *
 *   av [B, M, Dlm] (projected Q-Former queries; M = 0 for question-only), avValid [B, M] (0 = padded window)
 *   text [B, Lt] int64 -> embeddings                                               [B, Lt, Dlm]
 *   questionAv: av += linear(mean embedding of the question's words, before [SEP])  [B, M, Dlm]
 *   x = [av ; text] + sinusoidal positions                                         [B, M + Lt, Dlm]
 *   blocks: causal mask [S, S] + key padding over the AV tokens                    [B, H, S, S]
 *   logits at the text positions (position i predicts text token i + 1)             [B, Lt, V]
 *   avAttention: last block's attention from each text position to each AV token, mean over heads [B, Lt, M]
 *   states: the final normed hidden state at each text position, what the head reads  [B, Lt, Dlm]
 */
import { type Scope, type Tensor, concat, init } from '../../engine/index.js';
import {
  MASK_VALUE,
  addSinusoidal,
  causalMask,
  layerNorm,
  linear,
  poolValid,
  transformerBlock,
} from '../../nn/index.js';
import { WORD_SPECIALS } from '../../data/avqa/index.js';
import type { FavorConfig } from './config.js';

const SEP_ID = WORD_SPECIALS.indexOf('[SEP]');

/** Which text positions hold the question: the words before the first [SEP] (text [B, Lt] -> [B, Lt] 0/1). */
export function questionPositions(text: Tensor): Tensor {
  const lt = text.shape[1] as number;
  const upper = new Float32Array(lt * lt);
  for (let s = 0; s < lt; s++) upper.fill(1, s * lt + s, (s + 1) * lt); // [s, t] = 1 for t >= s
  const sepsSoFar = text
    .eq(SEP_ID)
    .cast('float32')
    .matmul(text.graph.constant({ dtype: 'float32', shape: [lt, lt], data: upper })); // [B, Lt]
  return sepsSoFar.lt(0.5).cast('float32'); // [B, Lt]
}

/** Where each of the words `ids` stands: text [B, Lt] -> [B, Lt, n] 0/1 (the copy paths' word lookups). */
export function wordsAt(text: Tensor, ids: number[]): Tensor {
  return concat(
    ids.map((id) => text.eq(id).cast('float32').unsqueeze([2])),
    2,
  ); // [B, Lt, n]
}

/**
 * The question's mean word embedding, projected [B, Dlm]: the words before the first [SEP] (found in the graph, so
 * greedy decoding gets it from the text alone; never the answer words, which would leak into the AV positions).
 */
function questionSummary(p: Scope, words: Tensor, text: Tensor): Tensor {
  return linear(p, poolValid(words, questionPositions(text)), words.shape[2] as number); // [B, Dlm]
}

export interface LmOutputs {
  logits: Tensor; // [B, Lt, V]
  avAttention?: Tensor; // [B, Lt, M]
  /** The hidden state the vocabulary head reads (probes of what the LM holds where it answers: docs/favor.md). */
  states: Tensor; // [B, Lt, Dlm]
}

export function languageModel(
  p: Scope,
  av: Tensor | undefined,
  avValid: Tensor | undefined,
  text: Tensor,
  vocab: number,
  cfg: FavorConfig,
): LmOutputs {
  const g = text.graph;
  const [b, lt] = text.shape as number[];
  const m = av ? (av.shape[1] as number) : 0;
  const embed = p.param('embed', [vocab, cfg.lmDim], init.normal(0.02)); // [V, Dlm]
  const words = embed.gather(text, 0); // [B, Lt, Dlm]
  const avIn = av && cfg.questionAv ? av.add(questionSummary(p.scope('question_av'), words, text).unsqueeze([1])) : av; // [B, M, Dlm]
  const x = addSinusoidal(avIn ? concat([avIn, words], 1) : words); // [B, S, Dlm]
  const s = m + lt;
  let mask: Tensor = causalMask(g, s); // [S, S]
  if (av && avValid) {
    const keyValid = concat(
      [avValid, g.constant({ dtype: 'float32', shape: [b, lt], data: new Float32Array(b * lt).fill(1) })],
      1,
    ); // [B, S]
    mask = mask.add(keyValid.sub(1).mul(-MASK_VALUE).unsqueeze([1, 2])); // [B, 1, S, S]
  }
  let h = x;
  let weights: Tensor | undefined;
  for (let i = 0; i < cfg.lmLayers; i++) {
    const r = transformerBlock(p.scope(`block${i}`), h, { heads: cfg.heads, mlpRatio: 4 }, { mask }); // [B, S, Dlm]
    h = r.out;
    weights = r.weights; // [B, H, S, S]
  }
  const textStates = layerNorm(p.scope('norm'), h).slice([m], [s], [1]); // [B, Lt, Dlm]
  const logits = linear(p.scope('head'), textStates, vocab); // [B, Lt, V]
  const avAttention = av && weights ? weights.slice([m, 0], [s, m], [2, 3]).mean([1]) : undefined; // [B, Lt, M]
  return { logits, avAttention, states: textStates };
}
