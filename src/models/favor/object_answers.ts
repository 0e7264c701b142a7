/**
 * Which object, which sound (`model.objectAnswers`, with countObjects): the stage-1 hit head's frames and the audio
 * counting head's impacts answer the questions that bind an object to a time or a sound, through gated copy paths
 * onto the colour, shape and sound words, as countAsked's copy path answers counts (count_asked.ts). Sessions 12-18
 * (docs/favor.md) left order at 43-47 % and source at 61-63 % whatever the language model was given: "which hit the
 * wall first, the A or the B" came out as neither A nor B for 11 of 26 test questions, and "which object sounds like
 * a piano" as the right colour on the wrong shape. Here the binding is computed, not learnt:
 *
 *   hit frames [B, F', 54] 0/1 (count_objects.ts), the counter's impacts per frame [B, F', 4] (count_tokens.ts)
 *   first:  each look's first hit frame (F' when it never hits)                                         [B, 54]
 *   with:   each look's hit frames shared with each sound's impact frames, over the frames either
 *           holds (Jaccard)                                                                              [B, 54, 4]
 *   the question names two objects or more ("which hit the wall first, the A or the B"):
 *           a softmax of -first / FIRST_TEMPERATURE over the named looks                           look [B, 54]
 *   it names a sound and no object ("which object sounds like a piano"):
 *           a softmax of SHARPNESS x the named sound's column of `with` over the looks that hit    look [B, 54]
 *   it names a time and no object or sound ("which object made the sound at 2.5 seconds"): a softmax of
 *           SHARPNESS x its hit frames weighted by a Gaussian (sd AT_SD frames) around the time        look [B, 54]
 *   it names one object and no sound ("what does the red circle sound like"):
 *           a softmax of SHARPNESS x its row of `with`                                            sound [B, 4]
 *   it names two sounds and no object ("was the first piano heard before the first bell"): yes with
 *           sigmoid((first impact of the second-named - of the first-named) / FIRST_TEMPERATURE)   yes [B, 1]
 *   the look -> its colour [B, 9] and its shape [B, Lt, 6], the shape after a colour word that colour's
 *   (shapeAfterColor: "red" then the red look's shape, not another look's); each kind of word:
 *   gate(state) * log(p + 1e-4) on those words' logits, 0 where the question asks none of the above    [B, Lt, V]
 *
 * The gates (one per kind of word, read off each position's state) learn when the answer is such a word; what the
 * words are comes from the frozen heads, so the paths cannot learn anything else.
 */
import { type Scope, type Tensor, concat } from '../../engine/index.js';
import { linear } from '../../nn/index.js';
import { FRAME_SOUNDS, LOOK_COLORS } from '../../data/avqa/index.js';
import { SHAPES } from '../../data/synth/classes.js';
import type { CountWordIds } from './count_tokens.js';
import { questionPositions, wordsAt } from './lm.js';
import type { EventAnswers } from './event_answers.js';
import type { VisualAnswers } from './visual_answers.js';

/** Spread, in frames, of the hits read around a named time. */
export const AT_SD = 1;
/** A first hit one frame (half a second) earlier is e^2 times likelier the one that hit first. */
export const FIRST_TEMPERATURE = 0.5;
/** Jaccard 0.1 apart is e times likelier. */
export const SHARPNESS = 10;
/** A look whose best Jaccard with a sound is above this makes that sound. */
export const SOUNDING = 0.25;
/** A word's floor under the log, as count_asked.ts's. */
const WORD_FLOOR = 1e-4;
/** Where a softmax must not go: added to the scores of the items left out. */
const OUT = -1e4;

/** What binds a look to a sound: the hit head's frames, the counter's impacts, and their binding (bindSounds). */
export interface SoundEvidence {
  hitFrames: Tensor; // [B, F', 54] 0/1
  soundFrames: Tensor; // [B, F', 4] the counter's impacts per frame, real frames only
  impacts: Tensor; // [B, F', 4] 0/1 the frames holding an impact of each sound
  binding: Tensor; // [B, 54, 4] each look's hit frames shared with each sound's impact frames (Jaccard)
}

/** What the paths read: the sound evidence, and which sounds, looks and time the question names. */
export interface ObjectEvidence extends SoundEvidence {
  sounds: Tensor; // [B, 4] 0/1 named
  looks: Tensor; // [B, 54] 0/1 named
  /** Where in the question each named sound's word stands (its position; 0 when not named) [B, 4]; soundPositions. */
  soundAt: Tensor;
  /** The time the question names, in seconds, and whether it names one ([B, 1] each; namedSeconds). */
  seconds: Tensor;
  timed: Tensor;
}

/** 1 where x [B, 1] is at least `n`, else 0. */
export const atLeast = (x: Tensor, n: number): Tensor => x.gt(n - 0.5).cast('float32');
/** 1 where x [B, 1] is exactly `n`, else 0. */
export const exactly = (x: Tensor, n: number): Tensor =>
  atLeast(x, n).mul(
    atLeast(x, n + 1)
      .neg()
      .add(1),
  );

/** OUT where keep [B, n] is 0, else 0: added to a softmax's scores, it leaves the items not kept out. */
const outside = (keep: Tensor): Tensor => keep.neg().add(1).mul(OUT); // [B, n]

/** The frame index t as a [1, F', 1] constant. */
export function frameIndices(g: Tensor['graph'], f: number): Tensor {
  return g.constant({ dtype: 'float32', shape: [1, f, 1], data: Float32Array.from({ length: f }, (_, t) => t) });
}

/** Events per frame [B, F', C] 0/1 -> each column's first frame [B, C] (F' where it has none) and 1 where it has one. */
export function firstFrames(x: Tensor): { first: Tensor; any: Tensor } {
  const f = x.shape[1] as number;
  const lower = new Float32Array(f * f);
  for (let t = 0; t < f; t++) lower.fill(1, t * f, t * f + t + 1); // [t, s] = 1 for s <= t
  const soFar = x.graph.constant({ dtype: 'float32', shape: [f, f], data: lower }).matmul(x); // [B, F', C]
  const firstOne = x.mul(soFar.lt(1.5).cast('float32')); // [B, F', C] 1 at each column's first event
  const any = firstOne.sum([1]); // [B, C]
  const first = firstOne.mul(frameIndices(x.graph, f)).sum([1]).add(any.neg().add(1).mul(f)); // [B, C]
  return { first, any };
}

/**
 * The hit frames [B, F', 54] and the counter's impacts per frame [B, F', 4] of real frames (frameMask [B, F']) bound
 * once, for objectCounts and objectAnswers both: the frames holding an impact, and each look's hit frames shared with
 * each sound's impact frames over the frames either holds (Jaccard).
 */
export function bindSounds(hitFrames: Tensor, soundFrames: Tensor, frameMask: Tensor): SoundEvidence {
  const real = soundFrames.mul(frameMask.unsqueeze([2])); // [B, F', 4]
  const impacts = real.clip(0, 1); // [B, F', 4]
  const shared = hitFrames.transpose([0, 2, 1]).matmul(impacts); // [B, 54, 4]
  const either = hitFrames
    .sum([1])
    .unsqueeze([2])
    .add(impacts.sum([1]).unsqueeze([1]))
    .sub(shared); // [B, 54, 4]
  return { hitFrames, soundFrames: real, impacts, binding: shared.div(either.maximum(1)) };
}

/**
 * Each look's wall hits over the clip [B, 54] (countObjects' count): a look bound to a sound (its best Jaccard above
 * SOUNDING) is counted by the counter's impacts of its sound (the Jaccard softmax) over the clip, a silent look by its
 * hit frames. On the session-19 stage 1's val questions (bench/favor_count_probe --objects) the sound's whole count
 * answers 68 % of "how many times did X make a sound", its impacts only in the frames around X's hits 42 % (the hit
 * head misses a quarter of the hits) and X's hit frames alone 26 %; objects sharing a sound are what the whole count
 * gets wrong. With `split` (model.splitSounds) the impacts of a sound two looks are bound to are shared out instead
 * (splitImpacts).
 */
export function objectCounts(e: SoundEvidence, split = false): Tensor {
  const sounding = e.binding.max([2]).gt(SOUNDING).cast('float32'); // [B, 54]
  const assigned = e.binding.mul(SHARPNESS).softmax(2); // [B, 54, 4] each look's sound
  const bySound = split
    ? splitImpacts(e, assigned.mul(sounding.unsqueeze([2]))) // [B, 54]
    : assigned.mul(e.soundFrames.sum([1]).unsqueeze([1])).sum([2]); // [B, 54] the look's sound's whole count
  const seen = e.hitFrames.sum([1]); // [B, 54]
  return bySound.mul(sounding).add(seen.mul(sounding.neg().add(1))); // [B, 54]
}

/** Spread, in frames, of the hits an impact is matched with when looks share its sound. */
export const CLAIM_SD = 1;
/** What a bound look claims of an impact no bound look hits near: it keeps the impacts of a look the head misses. */
export const CLAIM_FLOOR = 1e-3;

/**
 * Each look's share of its sound's impacts [B, 54] (objectCounts with `split`): every impact of a sound, in frame t, goes
 * to the looks bound to that sound (`bound` [B, 54, 4], 0 for the others) in proportion to their hits near t (hit
 * frames smoothed by a Gaussian of sd CLAIM_SD frames), so two objects that make the same sound each get the impacts
 * at their own hits. A sound bound to one look gives it every impact, as the whole count does; an impact near none
 * of the bound looks' hits is split by the binding alone.
 */
export function splitImpacts(e: SoundEvidence, bound: Tensor): Tensor {
  const f = e.hitFrames.shape[1] as number;
  const kernel = new Float32Array(f * f);
  for (let t = 0; t < f; t++)
    for (let u = 0; u < f; u++) kernel[t * f + u] = Math.exp(-((t - u) ** 2) / (2 * CLAIM_SD * CLAIM_SD));
  const near = e.hitFrames.graph
    .constant({ dtype: 'float32', shape: [f, f], data: kernel })
    .matmul(e.hitFrames)
    .add(CLAIM_FLOOR); // [B, F', 54] each look's hits around each frame
  const claim = near.unsqueeze([3]).mul(bound.unsqueeze([1])); // [B, F', 54, 4]
  const share = claim.div(claim.sum([2], true).maximum(1e-12)); // [B, F', 54, 4] of each frame's impacts of each sound
  return share
    .mul(e.soundFrames.unsqueeze([2])) // [B, F', 54, 4] the impacts each look gets
    .sum([1])
    .sum([2]); // [B, 54]
}

/** The paths' distributions and where each applies ([B, 1] 0/1). */
export interface ObjectAnswers {
  look: Tensor; // [B, 54]
  onLook: Tensor;
  sound: Tensor; // [B, 4]
  onSound: Tensor;
  /** The probability that the question's first-named sound was first heard before its second-named one. */
  yes: Tensor; // [B, 1]
  onYes: Tensor;
}

/**
 * The earliest of the kept items: first frames [B, n] (objects' first hits, sounds' first impacts) -> a softmax of
 * -frame / FIRST_TEMPERATURE over the items where keep [B, n] is 1.
 */
export function earliest(first: Tensor, keep: Tensor): Tensor {
  return first
    .mul(-1 / FIRST_TEMPERATURE)
    .add(outside(keep))
    .softmax(1); // [B, n]
}

/**
 * The looks hitting around a frame: hit frames [B, F', 54] weighted by a Gaussian (sd AT_SD frames) around `centre`
 * [B, 1, 1] (a frame index, fractional allowed) -> a softmax of SHARPNESS x that weight over the looks where keep
 * [B, 54] is 1.
 */
export function hitsAround(hitFrames: Tensor, centre: Tensor, keep: Tensor): Tensor {
  const near = frameIndices(hitFrames.graph, hitFrames.shape[1] as number)
    .sub(centre)
    .square()
    .mul(-1 / (2 * AT_SD * AT_SD))
    .exp(); // [B, F', 1]
  return hitFrames.mul(near).sum([1]).mul(SHARPNESS).add(outside(keep)).softmax(1); // [B, 54]
}

/**
 * The object paths' answers with the event paths' (event_answers.ts, model.eventAnswers) merged in: their looks and
 * sounds added where they apply, and the "what does the {object} sound like" path off for the causal questions, which
 * also name one object and no sound.
 */
export function withEvents(a: ObjectAnswers, ev: EventAnswers): ObjectAnswers {
  const onSound = a.onSound.mul(ev.causal.neg().add(1)); // [B, 1]
  return {
    ...a,
    look: a.look.add(ev.look.mul(ev.onLook)), // [B, 54]
    onLook: a.onLook.add(ev.onLook),
    sound: a.sound.mul(onSound).add(ev.sound.mul(ev.onSound)), // [B, 4]
    onSound: onSound.add(ev.onSound),
  };
}

/** The distributions the paths copy, and where each applies. */
export function objectAnswers(e: ObjectEvidence): ObjectAnswers {
  const { first, any: hitOnce } = firstFrames(e.hitFrames); // [B, 54] first hit frame (F' if none), 1 if it hits

  const jaccard = e.binding; // [B, 54, 4]
  const looksNamed = e.looks.sum([1], true); // [B, 1]
  const soundNamed = atLeast(e.sounds.sum([1], true), 1); // [B, 1]
  const noSound = soundNamed.neg().add(1); // [B, 1]
  const noLook = atLeast(looksNamed, 1).neg().add(1); // [B, 1]
  const order = atLeast(looksNamed, 2); // [B, 1] two objects or more
  const which = soundNamed.mul(noLook); // [B, 1] a sound, no object
  const at = e.timed.mul(noLook).mul(noSound); // [B, 1] a time, no object, no sound
  const sounds = exactly(looksNamed, 1).mul(noSound); // [B, 1] one object, no sound

  const byFirst = earliest(first, e.looks); // [B, 54]
  const withSound = jaccard.matmul(e.sounds.unsqueeze([2])).squeeze([2]); // [B, 54] the named sound's column
  const byWith = withSound.mul(SHARPNESS).add(outside(hitOnce)).softmax(1); // [B, 54]
  // An impact at s seconds falls in frame 2s - 1 or 2s (the question rounds it to the half second): centre 2s - 1/2.
  const centre = e.seconds.mul(2).sub(0.5).unsqueeze([2]); // [B, 1, 1]
  const byTime = hitsAround(e.hitFrames, centre, hitOnce); // [B, 54]
  const look = byFirst.mul(order).add(byWith.mul(which)).add(byTime.mul(at)); // [B, 54]
  const row = e.looks.unsqueeze([1]).matmul(jaccard).squeeze([1]); // [B, 4] the named object's row
  // "was the first S1 heard before the first S2": the sound named first in the question against the other.
  const twoSounds = exactly(e.sounds.sum([1], true), 2); // [B, 1]
  const middle = e.soundAt.mul(e.sounds).sum([1], true).div(2); // [B, 1] between the two named sounds' positions
  const later = e.soundAt.gt(middle).cast('float32').mul(2).sub(1).mul(e.sounds); // [B, 4] +1 second named, -1 first
  const heard = firstFrames(e.impacts).first; // [B, 4] each sound's first impact frame, F' if none
  const gap = heard.mul(later).sum([1], true); // [B, 1] first(S2) - first(S1), frames
  const yes = gap.mul(1 / FIRST_TEMPERATURE).sigmoid(); // [B, 1]
  return {
    look,
    onLook: order.add(which).add(at),
    sound: row.mul(SHARPNESS).softmax(1),
    onSound: sounds,
    yes,
    onYes: twoSounds.mul(noLook),
  };
}

/** Where in the question (before [SEP]) each sound word stands: text [B, Lt] -> [B, 4] positions from 1 (0: absent). */
export function soundPositions(text: Tensor, soundIds: number[]): Tensor {
  const [, lt] = text.shape as number[];
  const index = text.graph.constant({
    dtype: 'float32',
    shape: [1, lt, 1],
    data: Float32Array.from({ length: lt }, (_, t) => t + 1),
  }); // [1, Lt, 1] positions from 1
  const here = wordsAt(text, soundIds).mul(questionPositions(text).unsqueeze([2])); // [B, Lt, 4]
  return here
    .mul(index)
    .sum([1])
    .div(here.sum([1]).maximum(1)); // [B, 4] mean position
}

/** Vocabulary ids of the words that say a time in seconds ('0.5', '2', ...), and their values. */
export interface TimeWordIds {
  ids: number[];
  seconds: number[];
}

/**
 * The time a question (words before the first [SEP]) names: text [B, Lt] -> seconds [B, 1] and timed [B, 1] 0/1.
 * AVQA's only question with a number in it is "which object made the sound at S seconds?".
 */
export function namedSeconds(text: Tensor, times: TimeWordIds, vocab: number): { seconds: Tensor; timed: Tensor } {
  const g = text.graph;
  const [value, isTime] = [new Float32Array(vocab), new Float32Array(vocab)];
  times.ids.forEach((id, i) => ([value[id], isTime[id]] = [times.seconds[i], 1]));
  const question = questionPositions(text); // [B, Lt]
  const lookup = (x: Float32Array) =>
    g
      .constant({ dtype: 'float32', shape: [vocab], data: x })
      .gather(text, 0)
      .mul(question); // [B, Lt]
  const count = lookup(isTime).sum([1], true); // [B, 1]
  return { seconds: lookup(value).sum([1], true).div(count.maximum(1)), timed: count.clip(0, 1) }; // [B, 1] each
}

/** A colour whose looks hold less than this of the look distribution leaves the shape after it unconditioned. */
const GIVEN = 1e-3;

/**
 * The shape words' distribution at each text position [B, Lt, 6]: after a colour word (the position's own token),
 * the shape of the looks of that colour (its row of `byColor` [B, 9, 6], normalised), so a two-word answer names one
 * look and not one's colour with another's shape; elsewhere, or after a colour no look of the distribution has, the
 * shapes' marginal.
 */
export function shapeAfterColor(byColor: Tensor, text: Tensor, colorIds: number[]): Tensor {
  const joint = wordsAt(text, colorIds).matmul(byColor); // [B, Lt, 6] the looks of the colour word at each position
  const mass = joint.sum([2], true); // [B, Lt, 1]
  const given = mass.gt(GIVEN).cast('float32'); // [B, Lt, 1]
  const marginal = byColor.sum([1]).unsqueeze([1]); // [B, 1, 6]
  return joint
    .div(mass.maximum(GIVEN))
    .mul(given)
    .add(marginal.mul(given.neg().add(1))); // [B, Lt, 6]
}

/**
 * The copy paths' logits [B, Lt, V]: per kind of word (colour, shape, sound, yes/no), gate(state) * log(p + 1e-4) on
 * its words, p the look's colour, its shape (given the colour word just said: shapeAfterColor), the sound, or yes
 * (objectAnswers), or with `visual` the colour or shape visualAnswers reads off the screen; 0 where the question asks
 * none. `text` [B, Lt]: the question and the answer so far.
 */
export function objectAnswerLogits(
  p: Scope,
  states: Tensor,
  text: Tensor,
  e: ObjectEvidence,
  ids: CountWordIds,
  vocab: number,
  visual?: VisualAnswers,
  events?: EventAnswers,
): Tensor {
  const g = states.graph;
  if (!ids.looks || !ids.yesNo) throw new Error('objectAnswerLogits: the vocabulary ids hold no look or yes/no words');
  const a = events ? withEvents(objectAnswers(e), events) : objectAnswers(e);
  const [b, lt] = text.shape as number[];
  const byColor = a.look.reshape([b, LOOK_COLORS.length, SHAPES.length]); // [B, 9, 6]
  let color = byColor.sum([2]).mul(a.onLook); // [B, 9]
  let shape = shapeAfterColor(byColor, text, ids.looks.colors).mul(a.onLook.unsqueeze([1])); // [B, Lt, 6]
  let [onColor, onShape] = [a.onLook, a.onLook]; // [B, 1] each
  if (visual) {
    const free = a.onLook.neg().add(1); // [B, 1] the object paths come first
    const [vColor, vShape] = [visual.onColor.mul(free), visual.onShape.mul(free)]; // [B, 1] each
    color = color.add(visual.color.mul(vColor)); // [B, 9]
    shape = shape.add(visual.shape.mul(vShape).unsqueeze([1])); // [B, Lt, 6]
    [onColor, onShape] = [onColor.add(vColor), onShape.add(vShape)];
  }
  const along = (x: Tensor) => x.unsqueeze([1]).expand([b, lt, x.shape[1] as number]); // [B, n] -> [B, Lt, n]
  const dist = concat([along(color), shape, along(a.sound), along(a.yes), along(a.yes.neg().add(1))], 2); // [B, Lt, 21]
  const on = concat(
    [
      onColor.expand([b, LOOK_COLORS.length]),
      onShape.expand([b, SHAPES.length]),
      a.onSound.expand([b, FRAME_SOUNDS]),
      a.onYes.expand([b, 2]),
    ],
    1,
  ); // [B, 21]
  const words = [...ids.looks.colors, ...ids.looks.shapes, ...ids.sounds, ids.yesNo.yes, ids.yesNo.no];
  const kinds = [LOOK_COLORS.length, SHAPES.length, FRAME_SOUNDS, 2];
  const kindOf = new Float32Array(kinds.length * words.length); // [4, 21] which kind each word is
  let w = 0;
  kinds.forEach((n, k) => {
    for (let i = 0; i < n; i++, w++) kindOf[k * words.length + w] = 1;
  });
  const toVocab = new Float32Array(words.length * vocab); // [21, V]
  words.forEach((id, i) => (toVocab[i * vocab + id] = 1));
  const gate = linear(p, states, kinds.length)
    .sigmoid()
    .matmul(g.constant({ dtype: 'float32', shape: [kinds.length, words.length], data: kindOf })); // [B, Lt, 21]
  const logp = dist
    .add(WORD_FLOOR)
    .log()
    .mul(on.unsqueeze([1])); // [B, Lt, 21]
  return gate.mul(logp).matmul(g.constant({ dtype: 'float32', shape: [words.length, vocab], data: toVocab })); // [B, Lt, V]
}
