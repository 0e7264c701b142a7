/**
 * Voices: telling apart two objects that share a sound word. AVQA gives some objects of a scene one word ('piano')
 * with different voices (synth classes: another pitch and timbre); the audio counter counts per word, so "how many
 * times did the red circle make a sound" added in the other object's impacts, and 0-9 % of those questions came out
 * right (docs/favor.md, session 22). The frozen stage-1 audio tokens already tell a word's voices apart (97 % within
 * a scene, bench/favor_voice_probe); what was missing is a head that says which, and a count over voices.
 *
 *   audio tokens [B, F, 25, Da] -> tokens t, t+1, t+2 side by side (0 past the clip)              [B, T, 3 Da]
 *   -> linear -> each token's voice logits (the voice head)                                        [B, T, 48]
 *   stage 1 (`model.voiceAux`): cross-entropy against the voices marked around each impact's onset
 *           (frameLabels' audioTokenVoices), over the marked tokens of real frames
 *   stage 2 (`model.voiceCounts`), at the counter's peaks [B, T, 4] (one per impact of a word):
 *           the posterior over that word's voices                                                  [B, T, 4, 48]
 *           the voices the clip holds: the peaks' posteriors adding up to PRESENT_MASS or more    [B, 48]
 *           each peak's voice: its likeliest held voice, else its likeliest                       [B, T, 4, 48] 0/1
 *           -> impacts per voice per frame                                                         [B, F, 48]
 *           a look bound (bindSounds) to a word another look is also bound to counts its voice's impacts;
 *           any other look counts as before, per word (voiceObjectCounts)                        [B, 54]
 *
 * Per voice only where a word is shared: counting every look per voice splits the impacts of an own sound over
 * voices the head confuses, and measured on the frozen heads it costs as much as it gains (session 22).
 */
import type { Scope, Tensor } from '../../engine/index.js';
import { concat } from '../../engine/index.js';
import { linear } from '../../nn/index.js';
import { FAMILY_WORD, FRAME_SOUNDS, SOUND_WORDS } from '../../data/avqa/index.js';
import { MAX_CLASSES, synthClasses } from '../../data/synth/classes.js';
import { type SoundEvidence, SOUNDING, bindSounds, objectCounts } from './object_answers.js';

/** Tokens the voice head reads per position: the token and the ones after it (an impact rings on after its onset). */
export const VOICE_READ = 3;
/** A voice is held by a clip when its impacts' posteriors add up to at least this: one impact's worth. */
export const PRESENT_MASS = 1;
/** Where a softmax must not go. */
const OUT = -1e4;

/** The sound word (index in SOUND_WORDS) of each voice (synth class). */
export const WORD_OF_VOICE: readonly number[] = synthClasses(MAX_CLASSES).map((k) =>
  SOUND_WORDS.indexOf(FAMILY_WORD[k.family]),
);

/** Voices per word as a [4, 48] 0/1 constant. */
function wordVoices(g: Tensor['graph']): Tensor {
  const data = new Float32Array(FRAME_SOUNDS * MAX_CLASSES);
  WORD_OF_VOICE.forEach((w, v) => (data[w * MAX_CLASSES + v] = 1));
  return g.constant({ dtype: 'float32', shape: [FRAME_SOUNDS, MAX_CLASSES], data });
}

/** The voice head: audio tokens [B, F, 25, Da] -> voice logits per 50 Hz token [B, F*25, 48]. */
export function voiceLogits(p: Scope, audio: Tensor): Tensor {
  const [b, f, per, d] = audio.shape as number[];
  const t = f * per;
  const x = audio.reshape([b, t, d]); // [B, T, Da]
  const ahead = (k: number) => x.pad([0, 0, 0, 0, k, 0]).slice([k], [t + k], [1]); // [B, T, Da] token t+k (0 past the end)
  const read = concat(
    Array.from({ length: VOICE_READ }, (_, k) => (k ? ahead(k) : x)),
    2,
  ); // [B, T, 3 Da]
  return linear(p, read, MAX_CLASSES); // [B, T, 48]
}

/**
 * Stage 1's voice loss: logits [B, T, 48] against the voices marked per token [B, F, 25, 48] (audioTokenVoices;
 * a token two impacts mark shares its target between them), over the marked tokens of real frames (frameMask
 * [B, F']); and the share of those tokens whose likeliest voice is one of their marked ones.
 */
export function voiceLosses(logits: Tensor, voices: Tensor, frameMask: Tensor): { ce: Tensor; acc: Tensor } {
  const [b, t, c] = logits.shape as number[];
  const per = t / (frameMask.shape[1] as number);
  const marks = voices.reshape([b, t, c]); // [B, T, 48]
  const tokenMask = frameMask
    .unsqueeze([2])
    .expand([b, frameMask.shape[1] as number, per])
    .reshape([b, t]); // [B, T]
  const mass = marks.sum([2]); // [B, T]
  const marked = mass.gt(0.5).cast('float32').mul(tokenMask); // [B, T]
  const target = marks.div(mass.maximum(1).unsqueeze([2])); // [B, T, 48]
  const ce = target.mul(logits.logSoftmax(2)).sum([2]).neg(); // [B, T]
  const top = logits.ge(logits.max([2], true)).cast('float32'); // [B, T, 48] 1 at the likeliest voice
  const right = top.mul(marks).sum([2]).gt(0.5).cast('float32'); // [B, T]
  const count = marked.sum().maximum(1);
  return { ce: ce.mul(marked).sum().div(count), acc: right.mul(marked).sum().div(count) };
}

/**
 * The counter's impacts per voice: voice logits [B, T, 48] and the counter's peaks [B, F, 25, 4] (audioPeaks) ->
 * impacts per voice per frame [B, F, 48]. Each peak of word k takes the likeliest of k's voices among those the
 * clip holds (its peaks' posteriors add up to PRESENT_MASS), or of all k's voices when the clip holds none of them.
 * Comparisons carry no gradient; the head is frozen in stage 2.
 */
export function voiceImpacts(logits: Tensor, peaks: Tensor): Tensor {
  const [b, f, per, k] = peaks.shape as number[];
  const t = f * per;
  const allowed = wordVoices(logits.graph).unsqueeze([0, 1]); // [1, 1, 4, 48]
  const posterior = logits.unsqueeze([2]).add(allowed.neg().add(1).mul(OUT)).softmax(3); // [B, T, 4, 48] each word's voices
  const at = peaks.reshape([b, t, k, 1]); // [B, T, 4, 1]
  const held = posterior.mul(at).sum([1]).sum([1]).ge(PRESENT_MASS).cast('float32'); // [B, 48]
  // Held voices of the word first (+2 lifts them past any posterior), then the likeliest; other words' voices 0.
  const score = posterior.add(held.unsqueeze([1, 2]).mul(2)).mul(allowed); // [B, T, 4, 48]
  const chosen = score
    .ge(score.max([3], true))
    .cast('float32')
    .mul(at); // [B, T, 4, 48] 0/1
  return chosen.sum([2]).reshape([b, f, per, MAX_CLASSES]).sum([2]); // [B, F, 48]
}

/**
 * Which looks are bound to a word another look is also bound to: the word binding [B, 54, 4] (bindSounds; a look is
 * bound to its best word when that Jaccard is above SOUNDING) -> [B, 54] 0/1.
 */
export function sharedWordLooks(binding: Tensor): Tensor {
  const best = binding.max([2], true); // [B, 54, 1]
  const bound = binding.ge(best).cast('float32').mul(best.gt(SOUNDING).cast('float32')); // [B, 54, 4] 0/1
  const others = bound.sum([1], true).sub(bound); // [B, 54, 4] the other looks bound to each word
  return bound.mul(others).sum([2]).gt(0.5).cast('float32'); // [B, 54]
}

/**
 * Each look's count [B, 54] with voices: objectCounts over the voices' evidence (hit frames bound to the impacts per
 * voice, `voiceFrames` [B, F', 48]) for the looks whose word another look shares, objectCounts over the words'
 * evidence `words` for the others.
 */
export function voiceObjectCounts(words: SoundEvidence, voiceFrames: Tensor, frameMask: Tensor): Tensor {
  const shared = sharedWordLooks(words.binding); // [B, 54]
  const byVoice = objectCounts(bindSounds(words.hitFrames, voiceFrames, frameMask)); // [B, 54]
  return byVoice.mul(shared).add(objectCounts(words).mul(shared.neg().add(1))); // [B, 54]
}
