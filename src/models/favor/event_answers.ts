/**
 * Which event came first, which came next (`model.eventAnswers`, with objectAnswers): the frozen heads' hit frames and
 * impacts answer the three AVQA questions about the order of events that name no sound and at most one object, through
 * objectAnswers' look and sound copy paths (withEvents). Session 20 (docs/favor.md) left "which object made the first
 * sound" at 41.7 % and the causal family at 54.8 %: no path served them, and "what was heard right after the red circle
 * first hit the wall" fell under the "what does the {object} sound like" path, which answers the object's own sound.
 *
 *   hit frames [B, F', 54] 0/1, impacts [B, F', 4] 0/1 (object_answers.ts' SoundEvidence); the looks the question names
 *   "which object made the first sound" ('first', no object, sound or time):
 *       the first impact's frame t0 (any sound); hitsAround t0 (SHARPNESS x each look's hits weighted by a
 *       Gaussian, sd AT_SD frames), over the looks that hit                                            look [B, 54]
 *   "which other object hit the wall right after the {object} first hit the wall" ('after', 'which', one object):
 *       a = the named look's first hit frame; each other look's first hit frame after a;
 *       the earliest of them (a softmax of -frame / FIRST_TEMPERATURE) over the looks hitting after a   look [B, 54]
 *   "what was heard right after the {object} first hit the wall" ('after', 'heard', one object):
 *       each sound's first impact frame after a; the earliest of them over the sounds heard after a    sound [B, 4]
 *
 * The question is recognised by its words, as visualAnswers recognises its own; the words are fixed by AVQA's
 * templates. An impact in a's own frame is not "after" (AVQA keeps other impacts half a second from a).
 */
import type { Tensor } from '../../engine/index.js';
import { namedWords } from './count_asked.js';
import {
  type ObjectEvidence,
  atLeast,
  earliest,
  exactly,
  firstFrames,
  frameIndices,
  hitsAround,
} from './object_answers.js';

/** Vocabulary ids of the words that say which event question is asked. */
export interface EventWordIds {
  first: number;
  after: number;
  which: number;
  heard: number;
}

/** What the event paths copy, where each applies ([B, 1] 0/1), and where the question is a causal one. */
export interface EventAnswers {
  look: Tensor; // [B, 54]
  onLook: Tensor;
  sound: Tensor; // [B, 4]
  onSound: Tensor;
  /** The question asks what came right after a named object's first hit (objectAnswers' sound path is off there). */
  causal: Tensor; // [B, 1]
}

/** The event paths' distributions: `e` the object evidence (its named looks, sounds and time), `text` [B, Lt]. */
export function eventAnswers(e: ObjectEvidence, text: Tensor, ids: EventWordIds): EventAnswers {
  const [first, after, which, heard] = namedWords(text, [ids.first, ids.after, ids.which, ids.heard]).split(
    [1, 1, 1, 1],
    1,
  ); // [B, 1] each
  const noSound = atLeast(e.sounds.sum([1], true), 1)
    .neg()
    .add(1); // [B, 1]
  const looksNamed = e.looks.sum([1], true); // [B, 1]
  const oneObject = exactly(looksNamed, 1).mul(noSound).mul(after); // [B, 1] a causal question
  const onFirst = first
    .mul(after.neg().add(1))
    .mul(atLeast(looksNamed, 1).neg().add(1))
    .mul(noSound)
    .mul(e.timed.neg().add(1)); // [B, 1]

  const { first: hitFirst, any: hits } = firstFrames(e.hitFrames); // [B, 54] each
  // "the first sound": the looks hitting around the first impact of any sound.
  const t0 = firstFrames(e.impacts).first.neg().max([1], true).neg().unsqueeze([2]); // [B, 1, 1] the earliest
  const byFirst = hitsAround(e.hitFrames, t0, hits); // [B, 54]

  // "right after the {object} first hit": the named look's first hit frame a, then what comes first after it.
  const a = hitFirst.mul(e.looks).sum([1], true).unsqueeze([2]); // [B, 1, 1]
  const later = frameIndices(e.hitFrames.graph, e.hitFrames.shape[1] as number)
    .gt(a)
    .cast('float32'); // [B, F', 1] frames after a
  const next = firstFrames(e.hitFrames.mul(later).mul(e.looks.neg().add(1).unsqueeze([1]))); // [B, 54] each
  const byNext = earliest(next.first, next.any); // [B, 54]
  const heardNext = firstFrames(e.impacts.mul(later)); // [B, 4] each
  const byHeard = earliest(heardNext.first, heardNext.any); // [B, 4]

  const onNext = oneObject.mul(which); // [B, 1]
  const onHeard = oneObject.mul(heard); // [B, 1]
  return {
    look: byFirst.mul(onFirst).add(byNext.mul(onNext)), // [B, 54]
    onLook: onFirst.add(onNext),
    sound: byHeard,
    onSound: onHeard,
    causal: oneObject,
  };
}
