/**
 * Count tokens (stage 2, `model.countTokens`): the clip's counts handed to the language model as tokens, so that it
 * reads a count instead of adding one up. Session 14 (docs/favor.md) found each frame's sounds in the Q-Former's
 * queries (a linear head reads all four right in 94 % of val frames) and count at 12.8-14.9 % whatever the number of
 * questions or queries: the LM does not learn to sum twenty frames from under 3 000 questions. Here the sum is taken
 * in the graph and the LM only has to look the asked-about label's count up, which it learns well ("was X heard":
 * 97-100 %).
 *
 *   per-frame counts [B, F', C], one of:
 *     'frames': the query head's 0/1 sounds (+ hits), sigmoid (query_aux.ts)              C = 4 (+69)
 *     'onsets': the query head's counts per frame, softplus (query_aux.ts)                C = 4 (+69)
 *     'audio':  a head on the audio encoder's 50 Hz tokens [B, F', 25, Da] and their change from the token
 *               before: linear, softplus, summed over the frame's 25 tokens (audioOnsetRates), or with
 *               countPeaks > 0 its peaks counted (audioPeakCounts); stage 1 can train it (onsetAux)  C = 4
 *   -> padded frames zeroed, summed over frames: the clip's expected count                [B, C]
 *   -> soft one-hot over the counts 0..12 (a Gaussian of sd 0.5 around it, normalised)    [B, C, 13]
 *   -> linear + a learned embedding per label                                             [B, C, Dlm]
 *
 * A number embedded as a soft one-hot, not as a scalar: a linear map of a scalar cannot make "7" and "8" separate
 * answers, a bump over 13 bins can. The answer loss reaches the counting head through the bins (no stopGradient).
 * 'frames' cannot count two impacts of one sound in one half second: with perfect labels its sums give 57 % of
 * AVQA's `count.heard` answers (session 15). The query head's counts are only as good as twenty frames all read right
 * off 8 queries per window; 'audio' counts where each impact is still one 20 ms token, before the Q-Former.
 */
import { type Scope, type Tensor, concat, init } from '../../engine/index.js';
import {
  AVQA_TOLERANCES,
  FRAME_SOUNDS,
  FRAME_VISUAL,
  LOOK_COLORS,
  SOUND_WORDS,
  formatSeconds,
} from '../../data/avqa/index.js';
import { SHAPES } from '../../data/synth/classes.js';
import { ConfigError } from '../../util/errors.js';
import { linear, poissonNll, softplus } from '../../nn/index.js';
import type { FavorConfig } from './config.js';
import { padFrames } from './frame_aux.js';
import type { EventWordIds } from './event_answers.js';
import type { SceneWordIds } from './visual_answers.js';

/** Counts 0..maxCount (the largest count AVQA asks about) are the bins of a count token. */
export const COUNT_BINS = AVQA_TOLERANCES.maxCount + 1;
/** Width of a count's bump over the bins, in counts. */
export const COUNT_SD = 0.5;

/**
 * Count tokens the LM reads for this config: one per kind of sound, plus one per hit label when the query head
 * counts them ('frames' or 'onsets' with queryHits).
 */
export function countTokenCount(cfg: Pick<FavorConfig, 'countTokens' | 'queryHits' | 'questionOnly'>): number {
  if (cfg.countTokens === 'off' || cfg.questionOnly) return 0;
  return FRAME_SOUNDS + (cfg.countTokens !== 'audio' && cfg.queryHits > 0 ? FRAME_VISUAL : 0);
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
 * The audio counting head ('audio'): audio tokens [B, F, 25, Da] -> impacts of each sound per token [B, F, 25, 4].
 * Each 20 ms token is read with its change from the token before, so the head can fire at an onset and stay quiet
 * while the sound rings on (its conv encoder smears one impact over several tokens). Its bias starts at -6 (a
 * token's rate 0.0025): from zero, 500 tokens of rate 0.7 would start every clip at a count of 350, far past the
 * bins. Stage 1 can train it with the encoder against the impacts per token (`model.onsetAux`); stage 2 then
 * starts from those weights and keeps them frozen with the encoders (encoder_init.ts).
 */
export function audioTokenRates(p: Scope, audio: Tensor): Tensor {
  const [b, f, per, d] = audio.shape as number[];
  const x = audio.reshape([b, f * per, d]); // [B, T, Da] at 50 Hz
  const before = x.pad([0, 1, 0, 0, 0, 0]).slice([0], [f * per], [1]); // [B, T, Da] token t-1 (0 before the first)
  const read = concat([x, x.sub(before)], 2); // [B, T, 2 Da]
  const z = linear(p, read, { out: FRAME_SOUNDS, biasInit: init.constant(-6) }); // [B, T, 4]
  return softplus(z).reshape([b, f, per, FRAME_SOUNDS]); // [B, F, 25, 4]
}

/** The audio counting head's impacts per frame: audio tokens [B, F, 25, Da] -> [B, F, 4] (audioTokenRates summed). */
export function audioOnsetRates(p: Scope, audio: Tensor): Tensor {
  return audioTokenRates(p, audio).sum([2]); // [B, F, 4]
}

/**
 * The counting head's peaks (`model.countPeaks` > 0): rates per token [B, F, 25, C] -> per frame [B, F, C] the
 * number of tokens whose rate is above `threshold` and a local maximum in time (at least the token before, above the
 * token after; 0 outside the clip). Summing the rates lets every token's small leftover rate add up over 500 tokens
 * and an impact smeared over three tokens count as less than one; counting peaks reads each impact once. Measured on
 * a stage-1 head's val clips, 79 % of the (clip, sound) pairs with an impact against 41 % for the sum (docs/favor.md,
 * session 16). Comparisons carry no gradient: the head learns from its own loss, not through the peaks.
 */
export function audioPeakCounts(rates: Tensor, threshold: number): Tensor {
  return audioPeaks(rates, threshold).sum([2]); // [B, F, C]
}

/** audioPeakCounts' peaks per token: rates [B, F, 25, C] -> [B, F, 25, C] 1 at a peak, else 0. */
export function audioPeaks(rates: Tensor, threshold: number): Tensor {
  const [b, f, per, c] = rates.shape as number[];
  const t = f * per;
  const x = rates.reshape([b, t, c]); // [B, T, C]
  const before = x.pad([0, 1, 0, 0, 0, 0]).slice([0], [t], [1]); // [B, T, C] token t-1 (0 before the first)
  const after = x.pad([0, 0, 0, 0, 1, 0]).slice([1], [t + 1], [1]); // [B, T, C] token t+1 (0 after the last)
  const peak = x.gt(threshold).cast('float32').mul(x.ge(before).cast('float32')).mul(x.gt(after).cast('float32')); // [B, T, C] 1 at a peak
  return peak.reshape([b, f, per, c]); // [B, F, 25, C]
}

/**
 * Vocabulary ids of the words `countWords` count tokens are made of: each sound word, and the numbers 0..12; and the
 * words that name an object's look, which `countObjects` finds in the question (count_objects.ts).
 */
export interface CountWordIds {
  sounds: number[]; // [4] in FRAME_SOUNDS order
  numbers: number[]; // [13] the words '0' .. '12'
  looks?: { colors: number[]; shapes: number[] }; // [9] in LOOK_COLORS order, [6] in SHAPES order
  times?: { ids: number[]; seconds: number[] }; // the words that say a time in seconds, and their values
  yesNo?: { yes: number; no: number };
  /** The words that say which visual question is asked (visual_answers.ts). */
  scene?: SceneWordIds;
  /** The words that say which event question is asked (event_answers.ts). */
  events?: EventWordIds;
}

/** Times a question can name: every half second up to AVQA's longest clip. */
const TIME_WORDS = Array.from({ length: 60 }, (_, k) => (k + 1) / 2);

/** The count words' ids in `tokenizer` (AVQA's word vocabulary holds them all; the look words when it has them). */
export function countWordIds(tokenizer: { id(word: string): number; has?(word: string): boolean }): CountWordIds {
  const ids = (words: readonly string[]) => words.map((w) => tokenizer.id(w));
  const lookWords = [...LOOK_COLORS, ...SHAPES];
  return {
    sounds: ids(SOUND_WORDS),
    numbers: Array.from({ length: COUNT_BINS }, (_, n) => tokenizer.id(String(n))),
    ...(lookWords.every((w) => tokenizer.has?.(w) ?? true)
      ? { looks: { colors: ids(LOOK_COLORS), shapes: ids(SHAPES) } }
      : {}),
    ...(tokenizer.has ? { times: timeWords(tokenizer as Required<typeof tokenizer>) } : {}),
    ...(['yes', 'no'].every((w) => tokenizer.has?.(w) ?? true)
      ? { yesNo: { yes: tokenizer.id('yes'), no: tokenizer.id('no') } }
      : {}),
    ...(['color', 'shape', 'objects'].every((w) => tokenizer.has?.(w) ?? true)
      ? { scene: { color: tokenizer.id('color'), shape: tokenizer.id('shape'), objects: tokenizer.id('objects') } }
      : {}),
    ...(['first', 'after', 'which', 'heard'].every((w) => tokenizer.has?.(w) ?? true)
      ? {
          events: {
            first: tokenizer.id('first'),
            after: tokenizer.id('after'),
            which: tokenizer.id('which'),
            heard: tokenizer.id('heard'),
          },
        }
      : {}),
  };
}

/** The time words `tokenizer` holds ('0.5' ... '30'), and the seconds each says. */
function timeWords(tokenizer: { id(word: string): number; has(word: string): boolean }): {
  ids: number[];
  seconds: number[];
} {
  const seconds = TIME_WORDS.filter((t) => tokenizer.has(formatSeconds(t)));
  return { ids: seconds.map((t) => tokenizer.id(formatSeconds(t))), seconds };
}

/** The LM's word embedding [V, Dlm] and the count words' ids, for count tokens in the LM's word space. */
export interface CountWords {
  embed: Tensor;
  ids: CountWordIds;
}

/**
 * The count tokens of a clip from per-frame counts [B, F', C]: tokens [B, C, Dlm] and the expected counts [B, C].
 * Without `words`: a linear map of the count's bins plus a learned embedding per label. With `words`
 * (`model.countWords`, sounds only): the LM's own embedding of the sound word plus its embeddings of the numbers
 * weighted by the bins, so the token reads like the words "bell 3" the LM already embeds, and matching it to a
 * question's sound word, and saying the number, start from the LM's own words (docs/favor.md, session 16).
 */
export function countTokens(
  p: Scope,
  perFrame: Tensor,
  frameMask: Tensor,
  lmDim: number,
  words?: CountWords,
): { tokens: Tensor; counts: Tensor } {
  const c = perFrame.shape[2] as number;
  const counts = perFrame.mul(frameMask.unsqueeze([2])).sum([1]); // [B, C]
  if (!words) {
    const label = p.param('label', [c, lmDim], init.normal(0.02)); // [C, Dlm]
    const tokens = linear(p, countBins(counts), lmDim).add(label); // [B, C, Dlm]
    return { tokens, counts };
  }
  if (c !== FRAME_SOUNDS)
    throw new ConfigError(`countWords makes one token per kind of sound (${FRAME_SOUNDS}), not ${c}: no queryHits`, {
      field: 'model.countWords',
    });
  const g = perFrame.graph;
  const ids = (xs: number[]) =>
    g.constant({ dtype: 'int64', shape: [xs.length], data: BigInt64Array.from(xs, BigInt) });
  const numbers = words.embed.gather(ids(words.ids.numbers), 0); // [13, Dlm]
  const sounds = words.embed.gather(ids(words.ids.sounds), 0); // [4, Dlm]
  return { tokens: countBins(counts).matmul(numbers).add(sounds), counts }; // [B, 4, Dlm]
}

/** Whether this config's graphs train a count per frame, so they read the counted labels (frame_audio_onsets). */
export function countsOnsets(cfg: Pick<FavorConfig, 'countTokens'>): boolean {
  return cfg.countTokens === 'onsets' || cfg.countTokens === 'audio';
}

/**
 * A counting head's losses: the Poisson NLL of its per-frame rates [B, F', C] against the counted labels [B, F, C]
 * (padded to F'), and the share of (clip, label) pairs whose rate summed over real frames is within 0.5 of the clip's
 * count.
 */
export function countLosses(rate: Tensor, onsets: Tensor, frameMask: Tensor): { nll: Tensor; acc: Tensor } {
  const counts = padFrames(onsets, frameMask.shape[1] as number); // [B, F', C]
  const m = frameMask.unsqueeze([2]); // [B, F', 1]
  const err = rate
    .mul(m)
    .sum([1])
    .sub(counts.mul(m).sum([1]))
    .abs(); // [B, C]
  return { nll: poissonNll(rate, counts, frameMask), acc: err.lt(0.5).cast('float32').mean() };
}

/**
 * Stage 1's onset loss (`model.onsetAux`): the Poisson NLL of the audio counting head's rates per token
 * [B, F', 25, C] against the impacts heard per token [B, F, 25, C] (padded to F'), summed over a frame's tokens and
 * averaged over real frames (the scale of the per-frame NLL), and countLosses' clip count accuracy.
 */
export function tokenOnsetLosses(rates: Tensor, onsets: Tensor, frameMask: Tensor): { nll: Tensor; acc: Tensor } {
  const [b, f, per, c] = rates.shape as number[];
  const counts = padFrames(onsets, f); // [B, F', 25, C]
  const tokenMask = frameMask
    .unsqueeze([2])
    .expand([b, f, per])
    .reshape([b, f * per]); // [B, F'*25]
  const nll = poissonNll(rates.reshape([b, f * per, c]), counts.reshape([b, f * per, c]), tokenMask).mul(per); // []
  return { nll, acc: countLosses(rates.sum([2]), counts.sum([2]), frameMask).acc };
}
