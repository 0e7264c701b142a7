/**
 * The asked object (`model.countObjects`): a question that names an object by its look ("how many times did the red
 * circle hit the wall", "... make a sound") and no sound gets that object's count copied onto the number words, as
 * `countAsked` copies a named sound's impacts (count_asked.ts). Sessions 17-18 (docs/favor.md) left these two
 * templates where they were: the counter counts sounds, and the LM's pick of the object's sound was right for half
 * of them. The stage-1 hit head (model.hitAux; it sees an impact only with frameContext), frozen, marks the frames
 * where each look hits the wall; object_answers.ts binds each look to a sound with them and counts it
 * (objectCounts).
 *
 *   visual tokens [B, F', Nv, Dv] -> the stage-1 hit head (linear, max over Nv) -> [B, F', 69] logits
 *   -> the looks' [B, F', 54] -> frames whose hit probability is above 1/2, real frames only   hit frames [B, F', 54]
 *   text [B, Lt] -> a colour word followed by a shape word, in the question                     named [B, 54] 0/1
 *
 * Frames, not probabilities: twenty frames' small leftover probabilities add up, as the audio counter's rates did
 * (count_tokens.ts, countPeaks).
 */
import type { Scope, Tensor } from '../../engine/index.js';
import { FRAME_LOOKS, FRAME_VISUAL } from '../../data/avqa/index.js';
import { frameHead } from './frame_aux.js';
import { questionPositions, wordsAt } from './lm.js';

/** A frame holds a hit of a look when the hit head's probability for it is above this. */
export const HIT_PROBABILITY = 0.5;

/**
 * Each look's wall hits per frame [B, F', 54] 0/1: visual tokens [B, F', Nv, Dv] read by the hit head under `p` (the
 * stage-1 run's frame_aux.hits, encoder_init.ts), a frame above HIT_PROBABILITY, padded frames 0. Comparisons carry
 * no gradient; the head is frozen.
 */
export function objectHitFrames(p: Scope, visual: Tensor, frameMask: Tensor): Tensor {
  return lookCalls(frameHead(p, visual, FRAME_VISUAL, true).frame, frameMask, HIT_PROBABILITY); // [B, F', 54]
}

/**
 * A head's visual logits [B, F', ..., 69] -> its looks' calls [B, F', ..., 54] 0/1: the probability above
 * `probability`, padded frames (frameMask [B, F']) 0. Comparisons carry no gradient.
 */
export function lookCalls(logits: Tensor, frameMask: Tensor, probability: number): Tensor {
  const rank = logits.shape.length;
  const threshold = Math.log(probability / (1 - probability)); // its logit
  const [b, f] = frameMask.shape as number[];
  return logits
    .slice([0], [FRAME_LOOKS], [rank - 1]) // [B, F', ..., 54] the looks'
    .gt(threshold)
    .cast('float32')
    .mul(frameMask.reshape([b, f, ...new Array<number>(rank - 2).fill(1)])); // [B, F', ..., 54]
}

/** Each look's wall hits over the clip [B, 54]: objectHitFrames summed over the frames. */
export function objectHitCounts(p: Scope, visual: Tensor, frameMask: Tensor): Tensor {
  return objectHitFrames(p, visual, frameMask).sum([1]); // [B, 54]
}

/**
 * The looks the question (words before the first [SEP]) names: text [B, Lt] -> [B, 54] 0/1, a colour word followed
 * by a shape word ("the red circle"), so a question naming two objects names their two looks and not the pairs
 * across them.
 */
export function namedLooks(text: Tensor, colorIds: number[], shapeIds: number[]): Tensor {
  const [b, lt] = text.shape as number[];
  const question = questionPositions(text); // [B, Lt]
  const next = text.slice([1], [lt], [1]); // [B, Lt-1] the word after each position
  const colors = wordsAt(text.slice([0], [lt - 1], [1]), colorIds).mul(
    question.slice([0], [lt - 1], [1]).unsqueeze([2]),
  ); // [B, Lt-1, 9]
  const shapes = wordsAt(next, shapeIds).mul(question.slice([1], [lt], [1]).unsqueeze([2])); // [B, Lt-1, 6]
  return colors
    .transpose([0, 2, 1])
    .matmul(shapes) // [B, 9, 6] how often each colour is followed by each shape
    .reshape([b, colorIds.length * shapeIds.length])
    .clip(0, 1); // [B, 54]
}
