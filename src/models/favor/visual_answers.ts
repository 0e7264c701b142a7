/**
 * What is on screen (`model.visualAnswers`, with objectAnswers): the stage-1 visual head, frozen, answers the visual
 * family's questions through the copy paths objectAnswers and countAsked already gate. Session 19 (docs/favor.md)
 * left visual at 82.2 ± 4.2 on test against a 90 % target: every run with count tokens since session 15 varies
 * there across seeds (72-90), mostly on "what shape is the red object" (66-82 %) and "what color is the square",
 * while the stage-1 head calls each frame's colours and shapes right for 95 and 85 % of test frames. Over a clip's
 * frames its calls add up:
 *
 *   visual tokens [B, F', Nv, Dv] -> the stage-1 visual head (linear per token, frame_aux.ts) -> [B, F', Nv, 69]
 *   -> the looks' logits above 0, real frames only                                       per token [B, F', Nv, 54]
 *   share:  each look's on-screen frames (any token) over the clip's real frames                     [B, 54]
 *   count:  the looks called per frame (summed over tokens: each object labels the token holding its
 *           centre, tokenAux), averaged over real frames; only the named colour's where the question
 *           names one ("how many gray objects")                                                       [B, 1]
 *   "what color is the {shape}":       a softmax of SHARPNESS x share over the colours of that shape    [B, 9]
 *   "what shape is the {color} object": a softmax of SHARPNESS x share over the shapes of that colour    [B, 6]
 *   "how many (gray) objects are there": count -> countAsked's copy path (count_asked.ts)
 *
 * The question is recognised by its words ('color', 'shape', 'objects'), as count_objects.ts recognises a look;
 * what the answer is comes from the frozen head, so the paths learn only when to be copied.
 */
import type { Scope, Tensor } from '../../engine/index.js';
import { FRAME_VISUAL, LOOK_COLORS } from '../../data/avqa/index.js';
import { SHAPES } from '../../data/synth/classes.js';
import { namedWords } from './count_asked.js';
import { lookCalls } from './count_objects.js';
import { frameHead } from './frame_aux.js';
import { SHARPNESS } from './object_answers.js';

/** A token calls a look where the visual head's probability for it is above this (its logit above 0). */
export const CALL_PROBABILITY = 0.5;

/** Vocabulary ids of the words that say which visual question is asked. */
export interface SceneWordIds {
  color: number;
  shape: number;
  objects: number;
}

/** What the visual paths copy, and where each applies ([B, 1] 0/1). */
export interface VisualAnswers {
  color: Tensor; // [B, 9]
  onColor: Tensor;
  shape: Tensor; // [B, 6]
  onShape: Tensor;
  count: Tensor; // [B, 1] objects on screen
  onCount: Tensor;
}

/**
 * Each look's calls per visual token [B, F', Nv, 54] 0/1: visual tokens [B, F', Nv, Dv] read by the stage-1 visual
 * head under `p` (frame_aux.visual, encoder_init.ts), logit above 0, padded frames 0. No gradient: the head is frozen.
 */
export function lookTokens(p: Scope, visual: Tensor, frameMask: Tensor): Tensor {
  return lookCalls(frameHead(p, visual, FRAME_VISUAL, true).perToken, frameMask, CALL_PROBABILITY); // [B, F', Nv, 54]
}

/** The answers over the looks' calls per token [B, F', Nv, 54] of real frames (frameMask [B, F']) for question `text`. */
export function visualAnswers(
  calls: Tensor,
  frameMask: Tensor,
  text: Tensor,
  ids: SceneWordIds,
  looks: { colors: number[]; shapes: number[] },
): VisualAnswers {
  const [b] = calls.shape as number[];
  const real = frameMask.sum([1], true).maximum(1); // [B, 1]
  const share = calls.max([2]).sum([1]).div(real).reshape([b, LOOK_COLORS.length, SHAPES.length]); // [B, 9, 6]
  const [asksColor, asksShape, asksCount] = namedWords(text, [ids.color, ids.shape, ids.objects]).split([1, 1, 1], 1); // [B, 1] each
  const colors = namedWords(text, looks.colors); // [B, 9]
  const shapes = namedWords(text, looks.shapes); // [B, 6]
  const anyColor = colors.sum([1], true).clip(0, 1); // [B, 1]
  const ofShape = share.matmul(shapes.unsqueeze([2])).squeeze([2]); // [B, 9] each colour's share in the named shape
  const ofColor = colors.unsqueeze([1]).matmul(share).squeeze([1]); // [B, 6] each shape's share in the named colour
  const perFrame = calls.sum([2]).reshape([b, -1, LOOK_COLORS.length, SHAPES.length]).sum([3]); // [B, F', 9]
  const kept = colors.add(anyColor.neg().add(1)).clip(0, 1).unsqueeze([1]); // [B, 1, 9] the named colour, or all
  const count = perFrame.mul(kept).sum([1, 2]).unsqueeze([1]).div(real); // [B, 1]
  return {
    color: ofShape.mul(SHARPNESS).softmax(1),
    onColor: asksColor.mul(shapes.sum([1], true).clip(0, 1)),
    shape: ofColor.mul(SHARPNESS).softmax(1),
    onShape: asksShape.mul(anyColor),
    count,
    onCount: asksCount,
  };
}
