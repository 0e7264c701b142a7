/**
 * Count tokens (stage 2, `model.countTokens`): the clip's counts handed to the language model as tokens, so that it
 * reads a count instead of adding one up. Session 14 (docs/favor.md) found each frame's sounds in the Q-Former's
 * queries (a linear head reads all four right in 94 % of val frames) and count at 12.8-14.9 % whatever the number of
 * questions or queries: the LM does not learn to sum twenty frames from under 3 000 questions. Here the sum is
 * taken in the graph, off the query head (query_aux.ts) that already predicts each frame's labels, and the LM only
 * has to look the asked-about label's count up, which it learns well ("was X heard": 97-100 %).
 *
 *   frame logits [B, F', ...] (the query head: looks, sounds (+ hits) (+ counts per frame with 'onsets'))
 *     -> 'frames': the sounds (+ hits) 0/1 part, sigmoid: does the frame hold one     [B, F', C]   C = 4 (+69)
 *        'onsets': the counts part, softplus: how many the frame holds
 *     -> padded frames zeroed, summed over frames: the clip's expected count           [B, C]
 *     -> soft one-hot over the counts 0..12 (a Gaussian of sd 0.5 around it, normalised)  [B, C, 13]
 *     -> linear + a learned embedding per label                                         [B, C, Dlm]
 *
 * A number embedded as a soft one-hot, not as a scalar: a linear map of a scalar cannot make "7" and "8" separate
 * answers, a bump over 13 bins can. The answer loss reaches the query head through the bins (no stopGradient): the
 * counts are trained by what the questions ask as well as by the per-frame labels. 'frames' cannot count two
 * impacts of one sound in one half second; with perfect labels its sums give 57 % of AVQA's `count.heard` answers
 * (session 15), 'onsets' all of them.
 */
import { type Scope, type Tensor, init } from '../../engine/index.js';
import { AVQA_TOLERANCES, FRAME_SOUNDS, FRAME_VISUAL } from '../../data/avqa/index.js';
import { linear, softplus } from '../../nn/index.js';
import type { FavorConfig, FavorCountTokens } from './config.js';
import { type QueryHeadOutputs, queryHeadParts } from './query_aux.js';

/** Counts 0..maxCount (the largest count AVQA asks about) are the bins of a count token. */
export const COUNT_BINS = AVQA_TOLERANCES.maxCount + 1;
/** Width of a count's bump over the bins, in counts. */
export const COUNT_SD = 0.5;

/** Count tokens the LM reads for this config: one per kind of sound, plus one per hit label with queryHits. */
export function countTokenCount(cfg: Pick<FavorConfig, 'countTokens' | 'queryHits' | 'questionOnly'>): number {
  if (cfg.countTokens === 'off' || cfg.questionOnly) return 0;
  return FRAME_SOUNDS + (cfg.queryHits > 0 ? FRAME_VISUAL : 0);
}

/** Expected counts [B, C] -> soft one-hot over 0..maxCount [B, C, 13] (each row sums to 1). */
export function countBins(counts: Tensor): Tensor {
  const g = counts.graph;
  const bins = g.constant({
    dtype: 'float32',
    shape: [COUNT_BINS],
    data: Float32Array.from({ length: COUNT_BINS }, (_, k) => k),
  }); // [13]
  const logits = counts
    .unsqueeze([2])
    .sub(bins)
    .square()
    .mul(-1 / (2 * COUNT_SD * COUNT_SD)); // [B, C, 13]
  return logits.softmax(2); // [B, C, 13]
}

/**
 * The count tokens of a clip from the query head's frame logits (queryFrameLogits with `out`; `mode` 'frames' or
 * 'onsets'). Returns tokens [B, C, Dlm] and the expected counts [B, C] (for reports and tests).
 */
export function countTokens(
  p: Scope,
  frameLogits: Tensor,
  frameMask: Tensor,
  out: QueryHeadOutputs,
  mode: Exclude<FavorCountTokens, 'off'>,
  lmDim: number,
): { tokens: Tensor; counts: Tensor } {
  const parts = queryHeadParts(out);
  const classes = parts.reduce((a, c) => a + c, 0);
  if (frameLogits.shape[2] !== classes)
    throw new Error(`countTokens: frame logits hold ${String(frameLogits.shape[2])} labels, the head ${classes}`);
  const c = FRAME_SOUNDS + (out.hits ? FRAME_VISUAL : 0);
  if (mode === 'onsets' && !out.onsets) throw new Error("countTokens 'onsets': the query head predicts no onsets");
  const perFrame =
    mode === 'frames'
      ? frameLogits.slice([FRAME_VISUAL], [FRAME_VISUAL + c], [2]).sigmoid() // [B, F', C] sounds (+ hits), 0/1
      : softplus(frameLogits.slice([classes - c], [classes], [2])); // [B, F', C] counts per frame
  const counts = perFrame.mul(frameMask.unsqueeze([2])).sum([1]); // [B, C]
  const label = p.param('label', [c, lmDim], init.normal(0.02)); // [C, Dlm]
  const tokens = linear(p, countBins(counts), lmDim).add(label); // [B, C, Dlm]
  return { tokens, counts };
}
