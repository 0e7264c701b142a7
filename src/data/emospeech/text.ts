/**
 * EmoSpeech sentences: a template, a topic noun and one cue word. The cue word is the only part of a
 * sentence that carries emotion: it comes from the word list of one emotion, or from the neutral list.
 * Templates and nouns are shared by every class, so a text model can do no better than read the cue's list.
 */
import type { Rng } from '../../util/rng.js';
import type { Emotion } from './spec.js';

export const CUE_WORDS: Record<Emotion, readonly string[]> = {
  neutral: ['ordinary', 'scheduled', 'finished', 'printed', 'average', 'standard', 'routine', 'listed'],
  happy: ['wonderful', 'delightful', 'lovely', 'fantastic', 'cheerful', 'brilliant', 'joyful', 'great'],
  sad: ['heartbreaking', 'miserable', 'gloomy', 'tragic', 'hopeless', 'lonely', 'depressing', 'sorrowful'],
  angry: ['outrageous', 'infuriating', 'unacceptable', 'insulting', 'maddening', 'ridiculous', 'furious', 'hateful'],
  fearful: ['terrifying', 'frightening', 'scary', 'alarming', 'dangerous', 'creepy', 'threatening', 'dreadful'],
  disgusted: ['disgusting', 'revolting', 'filthy', 'gross', 'nauseating', 'repulsive', 'vile', 'rotten'],
  surprised: ['unexpected', 'astonishing', 'unbelievable', 'shocking', 'amazing', 'sudden', 'startling', 'incredible'],
};

export const NOUNS = [
  'report',
  'meeting',
  'dinner',
  'letter',
  'garden',
  'journey',
  'film',
  'kitchen',
  'concert',
  'weekend',
  'market',
  'lesson',
] as const;

/** `{noun}` and `{cue}` are the slots; every template has both exactly once. */
export const TEMPLATES = [
  'The {noun} was {cue}.',
  'I think the {noun} is {cue}.',
  'That {noun} looked {cue} to me.',
  'Our {noun} this morning was {cue}.',
  'Honestly, the {noun} seemed {cue}.',
  'Everyone said the {noun} was {cue}.',
] as const;

export interface Sentence {
  text: string;
  cue: string;
  /** Character offset of the cue word in text. */
  cueChar: number;
}

export function makeSentence(rng: Rng, wordEmotion: Emotion): Sentence {
  const template = TEMPLATES[rng.int(TEMPLATES.length)];
  const noun = NOUNS[rng.int(NOUNS.length)];
  const words = CUE_WORDS[wordEmotion];
  const cue = words[rng.int(words.length)];
  const withNoun = template.replace('{noun}', noun);
  const cueChar = withNoun.indexOf('{cue}');
  return { text: withNoun.replace('{cue}', cue), cue, cueChar };
}

/** The emotion whose word list contains a word of the text (the first cue found), or null. */
export function wordEmotionOf(text: string): Emotion | null {
  const tokens = text.toLowerCase().match(/[a-z']+/g) ?? [];
  for (const tok of tokens)
    for (const e of Object.keys(CUE_WORDS) as Emotion[]) if (CUE_WORDS[e].includes(tok)) return e;
  return null;
}
