/**
 * The asked sound's count (`model.countAsked`): the question picks its count token in the graph, so the language
 * model no longer has to find which of the four count tokens the question is about. Session 16 (docs/favor.md)
 * measured that lookup as the bottleneck: the asked sound's count token is right for 71 % of the test `count.heard`
 * questions, yet the first answer token puts only about a quarter of its count-token attention on it and the answer
 * copies the token's count for a sixth of them. InstructBLIP conditions its Q-Former on the instruction; here the
 * condition is the one the questions make explicit, the sound word they name.
 *
 *   text [B, Lt] -> the question's words (before the first [SEP], as lm.ts's questionPositions)
 *   -> which sound words it names                                                      named [B, 4] 0/1
 *   'mask': count tokens of sounds the question does not name get no attention, when it names any; a question that
 *           names none (what sound is heard, how many kinds) still reads all four       valid [B, C]
 *   'copy': 'mask', and a copy path onto the answer (pointer-generator style):
 *           the named sounds' count bins, averaged                                      [B, 13]
 *           -> log, placed on the number words' logits, times a gate read off each text position's state
 *              (sigmoid, learned) and 0 where no sound is named                         [B, Lt, V] added to the logits
 *   'point': 'copy', and where no sound is named, the sound is a softmax over the four read off each position's
 *           state (a question naming an object points at its sound)                     [B, Lt, 4]
 *
 * The gate decides per position whether the answer is the counter's count; the counter itself stays the stage-1
 * head, frozen, so the copy path cannot learn anything but when to trust it. With `countObjects`, a question that
 * names an object and no sound copies that object's wall hits instead (count_objects.ts).
 */
import { type Scope, type Tensor, concat } from '../../engine/index.js';
import { linear } from '../../nn/index.js';
import { FRAME_SOUNDS } from '../../data/avqa/index.js';
import { ConfigError } from '../../util/errors.js';
import { COUNT_BINS, type CountWordIds, countBins } from './count_tokens.js';
import { questionPositions, wordsAt } from './lm.js';

/** A bin's floor under the log: a count the counter rules out costs the copy path at most 9.2 nats per unit gate. */
const COPY_FLOOR = 1e-4;

/** Which of the words `ids` the question (words before the first [SEP]) holds: text [B, Lt] -> [B, n] 0/1. */
export function namedWords(text: Tensor, ids: number[]): Tensor {
  const question = questionPositions(text).unsqueeze([2]); // [B, Lt, 1]
  return wordsAt(text, ids).mul(question).sum([1]).clip(0, 1); // [B, n]
}

/** Which sound words the question names: text [B, Lt] -> [B, 4] 0/1. */
export function namedSounds(text: Tensor, soundIds: number[]): Tensor {
  return namedWords(text, soundIds); // [B, 4]
}

/**
 * The count tokens' validity [B, C] for the LM: a sound's token is kept when the question names it or names no sound;
 * tokens after the four sounds' (hit labels) are always kept.
 */
export function askedCountValid(named: Tensor, countTokens: number): Tensor {
  const none = named.sum([1], true).clip(0, 1).neg().add(1); // [B, 1] 1 when no sound is named
  const sounds = named.add(none).clip(0, 1); // [B, 4]
  if (countTokens === FRAME_SOUNDS) return sounds;
  const [b] = named.shape as number[];
  const rest = countTokens - FRAME_SOUNDS;
  return concat(
    [sounds, named.graph.constant({ dtype: 'float32', shape: [b, rest], data: new Float32Array(b * rest).fill(1) })],
    1,
  ); // [B, C]
}

/** An object's count for the copy path (`model.countObjects`, count_objects.ts). */
export interface ObjectCounts {
  counts: Tensor; // [B, 54] each look's wall hits over the clip
  named: Tensor; // [B, 54] 0/1 the looks the question names
}

/** Each named item's share of the pick: named [B, n] 0/1 -> [B, 1, n] (all 0 where none is named). */
const shareOf = (named: Tensor): Tensor => named.div(named.sum([1], true).maximum(1)).unsqueeze([1]);

/**
 * The copy path ('copy', 'point'): logits to add [B, Lt, V], gate(state) * log of the asked count's bins on the
 * number words' logits (0 elsewhere). The asked count: the sounds the question names, averaged; where it names none
 * and `objects` is given, the looks it names (their hits, averaged); where it names neither and `scene` asks (how many
 * objects are on screen, visual_answers.ts), the scene's count; where none of these, 'copy' adds nothing and
 * 'point' (`point`) a softmax over the four sounds read off each position's state, so a question that names an object
 * ("how many times did the red circle make a sound") can point at that object's sound.
 * `counts` [B, C]: the count tokens' clip counts, the four sounds first.
 */
export function countCopyLogits(
  p: Scope,
  states: Tensor,
  counts: Tensor,
  named: Tensor,
  ids: CountWordIds,
  vocab: number,
  point = false,
  objects?: ObjectCounts,
  scene?: { count: Tensor; on: Tensor },
): Tensor {
  const g = states.graph;
  const bins = countBins(counts.slice([0], [FRAME_SOUNDS], [1])); // [B, 4, 13]
  let asked = shareOf(named).matmul(bins); // [B, 1, 13] the named sounds' bins (0 where none is named)
  let chosen = named.sum([1], true).clip(0, 1); // [B, 1] 1 where the question picked a count
  if (objects) {
    const onlyObject = objects.named.sum([1], true).clip(0, 1).mul(chosen.neg().add(1)); // [B, 1] a look, no sound
    const looks = shareOf(objects.named).matmul(countBins(objects.counts)); // [B, 1, 13]
    asked = asked.add(looks.mul(onlyObject.unsqueeze([2]))); // [B, 1, 13]
    chosen = chosen.add(onlyObject); // [B, 1]
  }
  if (scene) {
    const onScene = scene.on.mul(chosen.neg().add(1)); // [B, 1] asked, and nothing else picked
    asked = asked.add(countBins(scene.count).mul(onScene.unsqueeze([2]))); // [B, 1, 13]
    chosen = chosen.add(onScene); // [B, 1]
  }
  const unpicked = chosen.neg().add(1).unsqueeze([2]); // [B, 1, 1]
  if (point) asked = asked.add(linear(p.scope('point'), states, FRAME_SOUNDS).softmax(2).mul(unpicked).matmul(bins)); // [B, Lt, 13]
  const toVocab = new Float32Array(COUNT_BINS * vocab);
  ids.numbers.forEach((id, n) => (toVocab[n * vocab + id] = 1));
  const copy = asked
    .add(COPY_FLOOR)
    .log()
    .mul(point ? 1 : chosen.unsqueeze([2]))
    .matmul(g.constant({ dtype: 'float32', shape: [COUNT_BINS, vocab], data: toVocab })); // [B, 1 | Lt, V]
  const gate = linear(p, states, 1).sigmoid(); // [B, Lt, 1]
  return gate.mul(copy); // [B, Lt, V]
}

/** The count words' ids `model.countAsked` needs, or a ConfigError naming the field. */
export function askedIds(ids?: CountWordIds): CountWordIds {
  if (!ids)
    throw new ConfigError("model.countAsked needs the count words' ids of the vocabulary (countWordIds(tokenizer))", {
      field: 'model.countAsked',
    });
  return ids;
}
