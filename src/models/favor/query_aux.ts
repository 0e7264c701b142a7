/**
 * Per-frame supervision of the Q-Former's output queries (stage 2, training only): a linear head reads all of a
 * window's queries and predicts every frame of that window's ground truth (the looks, colours and shapes on screen and
 * the sounds hit, src/data/avqa/frame_labels.ts). A linear probe of a frozen stage-2 run (docs/favor.md, session 6
 * round 2) found its queries held a frame's colours in 46 % of val frames where the frame tokens, cut to the same
 * number of values, held 79 %: the Q-Former dropped the looks the encoders see, and nothing in the answer loss made it
 * keep them before the language model learnt to ask for them. This loss does, at the same place FAVOR's queries sit.
 *
 *   queries [B*W, Q, Di] per Q-Former (one for sync 'frame', a visual and an audio one otherwise)
 *     -> flatten and join                                                      [B*W, sum_i Q*Di]
 *     -> linear                                                                [B*W, w*(69+4(+69))]
 *     -> reshape to frames                                                     [B, F', 73 (+69)]
 *   loss = BCE against [frame_visual ; frame_audio] (summed over a frame's labels, mean over real frames)
 *   hits = the same BCE against frame_hits when the labels hold them (model.queryHits): which objects hit the wall
 *          in each frame, what counts, orders and "right after" need and the looks alone do not say (session 7)
 *   metrics: query_color_acc, query_shape_acc, query_audio_acc, query_hit_acc (every label of the frame right)
 */
import { type Scope, type Tensor, concat } from '../../engine/index.js';
import { FRAME_SOUNDS, FRAME_VISUAL } from '../../data/avqa/index.js';
import { binaryCrossEntropyWithLogits, linear } from '../../nn/index.js';
import type { FavorConfig } from './config.js';
import { type FrameLabelInputs, frameExactMatch, padFrames, visualParts } from './frame_aux.js';

/** Each Q-Former's output queries per window, [B*W, Q, Di], in window order (b-major, as windowedQFormer makes them). */
export type WindowQueries = Tensor[];

export function queryAuxLoss(
  p: Scope,
  queries: WindowQueries,
  frameMask: Tensor,
  labels: FrameLabelInputs,
  cfg: Pick<FavorConfig, 'window'>,
): { loss: Tensor; hits?: Tensor; metrics: Record<string, Tensor> } {
  const [b, frames] = frameMask.shape as number[];
  const bw = queries[0].shape[0] as number;
  const flat = concat(
    queries.map((q) => q.reshape([bw, -1])),
    1,
  ); // [B*W, sum Q*Di]
  const parts = [FRAME_VISUAL, FRAME_SOUNDS, ...(labels.hits ? [FRAME_VISUAL] : [])];
  const classes = parts.reduce((a, c) => a + c, 0);
  const logits = linear(p, flat, cfg.window * classes).reshape([b, frames, classes]); // [B, F', 73 (+69)]
  const [vLogits, aLogits, hLogits] = logits.split(parts, 2); // [B, F', 69], [B, F', 4], [B, F', 69]
  const visual = padFrames(labels.visual, frames); // [B, F', 69]
  const audio = padFrames(labels.audio, frames); // [B, F', 4]
  const perLabel = frameMask.unsqueeze([2]); // [B, F', 1]
  // Summed over a frame's labels, as frame_aux.ts does for the encoders (a mean would scale 54 rare looks down).
  const vBce = binaryCrossEntropyWithLogits(vLogits, visual, perLabel).mul(FRAME_VISUAL); // []
  const aBce = binaryCrossEntropyWithLogits(aLogits, audio, perLabel).mul(FRAME_SOUNDS); // []
  const [lg, lb] = [vLogits, visual].map(visualParts); // looks, colours, shapes
  const metrics: Record<string, Tensor> = {
    query_visual_bce: vBce,
    query_audio_bce: aBce,
    query_color_acc: frameExactMatch(lg[1], lb[1], frameMask),
    query_shape_acc: frameExactMatch(lg[2], lb[2], frameMask),
    query_audio_acc: frameExactMatch(aLogits, audio, frameMask),
  };
  if (!labels.hits) return { loss: vBce.add(aBce), metrics };
  const hitLabels = padFrames(labels.hits, frames); // [B, F', 69]
  const hits = binaryCrossEntropyWithLogits(hLogits, hitLabels, perLabel).mul(FRAME_VISUAL); // []
  metrics.query_hit_bce = hits;
  // The looks part (which colour-shape hit): the one that names the object.
  metrics.query_hit_acc = frameExactMatch(visualParts(hLogits)[0], visualParts(hitLabels)[0], frameMask);
  return { loss: vBce.add(aBce), hits, metrics };
}
