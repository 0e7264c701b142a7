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
 *   With model.countTokens the head's logits also feed the count tokens (count_tokens.ts): it is then built in the
 *   encoder (model.ts) and this loss reads its logits from there.
 */
import { type Scope, type Tensor, concat } from '../../engine/index.js';
import { FRAME_SOUNDS, FRAME_VISUAL } from '../../data/avqa/index.js';
import { binaryCrossEntropyWithLogits, linear, softplus } from '../../nn/index.js';
import type { FavorConfig } from './config.js';
import { countLosses } from './count_tokens.js';
import { type FrameLabelInputs, frameExactMatch, padFrames, visualParts } from './frame_aux.js';

/** Each Q-Former's output queries per window, [B*W, Q, Di], in window order (b-major, as windowedQFormer makes them). */
export type WindowQueries = Tensor[];

/** What the query head predicts besides the looks and sounds: the hits (queryHits), counts per frame ('onsets'). */
export interface QueryHeadOutputs {
  hits: boolean;
  onsets: boolean;
}

/** What this config's query head predicts: hits with queryHits, counts per frame with countTokens 'onsets'. */
export function queryHeadOutputs(cfg: Pick<FavorConfig, 'queryHits' | 'countTokens'>): QueryHeadOutputs {
  return { hits: cfg.queryHits > 0, onsets: cfg.countTokens === 'onsets' };
}

/**
 * Label groups of the query head's logits per frame: looks (69), sounds (4), with `hits` which objects hit the wall
 * (69), and with `onsets` a count per frame of each sound (4) and, with `hits`, of each hit label (69).
 */
export function queryHeadParts(out: QueryHeadOutputs): number[] {
  const counted = FRAME_SOUNDS + (out.hits ? FRAME_VISUAL : 0);
  return [FRAME_VISUAL, FRAME_SOUNDS, ...(out.hits ? [FRAME_VISUAL] : []), ...(out.onsets ? [counted] : [])];
}

/** The query head: each window's queries (every Q-Former's, joined) -> per-frame logits [B, F', sum of parts]. */
export function queryFrameLogits(
  p: Scope,
  queries: WindowQueries,
  frameMask: Tensor,
  cfg: Pick<FavorConfig, 'window'>,
  out: QueryHeadOutputs,
): Tensor {
  const [b, frames] = frameMask.shape as number[];
  const bw = queries[0].shape[0] as number;
  const flat = concat(
    queries.map((q) => q.reshape([bw, -1])),
    1,
  ); // [B*W, sum Q*Di]
  const classes = queryHeadParts(out).reduce((a, c) => a + c, 0);
  return linear(p, flat, cfg.window * classes).reshape([b, frames, classes]); // [B, F', 73 (+69) (+4 (+69))]
}

/**
 * The query head's losses and accuracies from its per-frame logits (queryFrameLogits with the same `out`). With
 * onsets, the Poisson NLL of each frame's counts joins `loss` (sounds) and `hits` (hit labels), and query_count_acc
 * is the share of (clip, sound) pairs whose summed rate is within 0.5 of the clip's count.
 */
export function queryAuxLoss(
  logits: Tensor,
  frameMask: Tensor,
  labels: FrameLabelInputs,
  out: QueryHeadOutputs,
): { loss: Tensor; hits?: Tensor; metrics: Record<string, Tensor> } {
  const frames = frameMask.shape[1] as number;
  const missing =
    (out.hits && !labels.hits) || (out.onsets && (!labels.audioOnsets || (out.hits && !labels.hitOnsets)));
  if (missing)
    throw new Error(`queryAuxLoss: the head predicts ${JSON.stringify(out)} but the graph declares no such labels`);
  const parts = logits.split(queryHeadParts(out), 2);
  const [vLogits, aLogits] = parts; // [B, F', 69], [B, F', 4]
  const hLogits = out.hits ? parts[2] : undefined; // [B, F', 69]
  const onsetLogits = out.onsets ? parts[parts.length - 1] : undefined; // [B, F', 4 (+69)]
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
  let loss = vBce.add(aBce);
  let hits: Tensor | undefined;
  if (hLogits && labels.hits) {
    const hitLabels = padFrames(labels.hits, frames); // [B, F', 69]
    hits = binaryCrossEntropyWithLogits(hLogits, hitLabels, perLabel).mul(FRAME_VISUAL); // []
    metrics.query_hit_bce = hits;
    // The looks part (which colour-shape hit): the one that names the object.
    metrics.query_hit_acc = frameExactMatch(visualParts(hLogits)[0], visualParts(hitLabels)[0], frameMask);
  }
  if (onsetLogits && labels.audioOnsets) {
    const rate = softplus(onsetLogits); // [B, F', 4 (+69)]
    const [aRate, hRate] = out.hits ? rate.split([FRAME_SOUNDS, FRAME_VISUAL], 2) : [rate];
    const sounds = countLosses(aRate, labels.audioOnsets, frameMask);
    metrics.query_onset_nll = sounds.nll;
    metrics.query_count_acc = sounds.acc;
    loss = loss.add(sounds.nll);
    if (hits && hRate && labels.hitOnsets) {
      metrics.query_hit_onset_nll = countLosses(hRate, labels.hitOnsets, frameMask).nll;
      hits = hits.add(metrics.query_hit_onset_nll);
    }
  }
  return { loss, hits, metrics };
}

/**
 * What the count tokens sum from the query head's logits [B, F', ...]: 'frames' its 0/1 sounds (+ hits) as
 * sigmoids, 'onsets' its counts per frame as softplus rates -> [B, F', 4 (+69)].
 */
export function queryHeadCounts(frameLogits: Tensor, out: QueryHeadOutputs, mode: 'frames' | 'onsets'): Tensor {
  const classes = queryHeadParts(out).reduce((a, c) => a + c, 0);
  if (frameLogits.shape[2] !== classes)
    throw new Error(`queryHeadCounts: frame logits hold ${String(frameLogits.shape[2])} labels, the head ${classes}`);
  if (mode === 'onsets' && !out.onsets) throw new Error("queryHeadCounts 'onsets': the query head predicts no onsets");
  const c = FRAME_SOUNDS + (out.hits ? FRAME_VISUAL : 0);
  return mode === 'frames'
    ? frameLogits.slice([FRAME_VISUAL], [FRAME_VISUAL + c], [2]).sigmoid() // [B, F', C] sounds (+ hits), 0/1
    : softplus(frameLogits.slice([classes - c], [classes], [2])); // [B, F', C] counts per frame
}
