/**
 * v2a's caption tokens: a fixed word vocabulary covering AV-Synth captions (colors, shapes, counts, timbres), so a
 * run needs no stored tokenizer. Captions add the timbre of each sounding class to the scene's own caption:
 * "a red circle bounces twice; metallic clang".
 */
import { COLORS, SHAPES, type SynthClip, synthClass } from '../../data/synth/index.js';
import { TEXT_TOKENS } from './config.js';

/** What each AV-Synth timbre family sounds like, in caption words. */
const TIMBRE_WORDS: Record<string, string> = {
  harmonic: 'plucked twang',
  odd: 'hollow hoot',
  bell: 'metallic clang',
  membrane: 'drum thud',
};

const WORDS = [
  '[pad]',
  '[unk]',
  ';',
  'a',
  'an',
  'and',
  'bounces',
  'bounce',
  'never',
  'once',
  'twice',
  'times',
  'sound',
  'of',
  'with',
  ...COLORS.map((c) => c.name),
  ...SHAPES,
  ...Object.values(TIMBRE_WORDS).flatMap((w) => w.split(' ')),
  ...Array.from({ length: 21 }, (_, i) => String(i)),
];
export const VOCAB: ReadonlyMap<string, number> = new Map([...new Set(WORDS)].map((w, i) => [w, i]));
export const VOCAB_SIZE = VOCAB.size;
const UNK = 1;

/** The v2a caption of a clip: its scene caption plus "; <timbre>" for each sounding class. */
export function v2aCaption(clip: SynthClip): string {
  const timbres = [...new Set(clip.classes.map((k) => TIMBRE_WORDS[synthClass(k, clip.config.classes).family]))];
  return timbres.length ? `${clip.caption}; ${timbres.join(' and ')}` : clip.caption;
}

export interface Tokens {
  ids: number[]; // [TEXT_TOKENS], 0 = padding
  valid: number[]; // [TEXT_TOKENS], 1 = a word
  unknown: string[]; // words outside the vocabulary (mapped to [unk])
}

/** Lower-cases, splits into words and ';', maps to ids, pads or cuts to `length` (default 16). */
export function tokenize(caption: string, length = TEXT_TOKENS): Tokens {
  const words =
    caption
      .toLowerCase()
      .replace(/-/g, ' ')
      .match(/[a-z0-9]+|;/g) ?? [];
  const unknown = words.filter((w) => !VOCAB.has(w));
  const ids = words.slice(0, length).map((w) => VOCAB.get(w) ?? UNK);
  const valid = ids.map(() => 1);
  while (ids.length < length) {
    ids.push(0);
    valid.push(0);
  }
  return { ids, valid, unknown };
}
