/**
 * EmoSpeech's generative process, without audio (docs/emospeech.md has the tables and the reasoning).
 *
 *   speaker  = accent voice x timbre variant x age group       (metadata: gender, age group, timbre)
 *   label y  ~ uniform over 7 classes
 *   mode     | y = neutral: flat voice, neutral words
 *            | y = e != neutral: one of
 *            |   'both'     voice e, words e          (P_MODE.both)
 *            |   'voice'    voice e, neutral words    (P_MODE.voice)
 *            |   'words'    flat voice, words e       (P_MODE.words)
 *            |   'sarcasm'  voice e, words e' != e    (P_MODE.sarcasm; e' uniform over the 5 others)
 *   rule     label = the voice's emotion if the voice is not flat, else the words' emotion, else neutral
 *
 * The voice's emotion is a prosody *shape* (range, rate, volume) plus a pitch offset from the speaker's
 * own base pitch (set by the age group). Emotions come in pairs that share a shape and differ by one age
 * step of pitch, so (young, happy) and (adult, surprised) are synthesized with identical settings: only the
 * speaker's age group (metadata) tells them apart.
 */
export const EMOTIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;
export type Emotion = (typeof EMOTIONS)[number];
export type Expressed = Exclude<Emotion, 'neutral'>;
export const EXPRESSED: readonly Expressed[] = ['happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];

export type Mode = 'both' | 'voice' | 'words' | 'sarcasm' | 'plain';
/** Mode probabilities for a non-neutral label ('plain' is the neutral label's only mode). */
export const P_MODE = { both: 0.4, voice: 0.2, words: 0.2, sarcasm: 0.2 } as const;

export const ACCENTS = ['en-us', 'en-gb-x-rp', 'en-gb-scotland', 'en-029'] as const;
export const TIMBRES = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5'] as const;
export const AGE_GROUPS = ['young', 'adult', 'senior'] as const;
export type AgeGroup = (typeof AGE_GROUPS)[number];
/** One age step of eSpeak pitch (0-99 scale); emotion pitch offsets are multiples of it. */
export const AGE_STEP = 14;
const AGE_PITCH: Record<AgeGroup, number> = { young: 50 + AGE_STEP, adult: 50, senior: 50 - AGE_STEP };
export const BASE_RATE = 165;

export interface Speaker {
  id: string; // e.g. 'en-us+f3/adult'
  voice: string;
  timbre: string;
  gender: 'male' | 'female';
  age: AgeGroup;
  /** Timbre group: the unit of the speaker-disjoint split (all ages of one accent+timbre share a split). */
  group: string;
  basePitch: number;
}

export function allSpeakers(): Speaker[] {
  const out: Speaker[] = [];
  for (const voice of ACCENTS) {
    for (const timbre of TIMBRES) {
      for (const age of AGE_GROUPS) {
        out.push({
          id: `${voice}+${timbre}/${age}`,
          voice,
          timbre,
          gender: timbre.startsWith('f') ? 'female' : 'male',
          age,
          group: `${voice}+${timbre}`,
          basePitch: AGE_PITCH[age],
        });
      }
    }
  }
  return out;
}

/** A prosody shape; the pitch offset is in age steps relative to the speaker's base pitch. */
interface Delivery {
  shape: 'flat' | 'bright' | 'low' | 'tense';
  steps: number;
  range: number;
  rate: number;
  volume: number;
}
const SHAPES = {
  flat: { range: 50, rate: 1.0, volume: 100 },
  bright: { range: 85, rate: 1.1, volume: 120 }, // happy (+1 step), surprised (+2 steps)
  low: { range: 20, rate: 0.78, volume: 80 }, // sad (-1 step), disgusted (0 steps)
  tense: { range: 35, rate: 1.3, volume: 150 }, // angry (0 steps), fearful (+1 step)
} as const;
const VOICE_STEPS: Record<Emotion, [keyof typeof SHAPES, number]> = {
  neutral: ['flat', 0],
  happy: ['bright', 1],
  surprised: ['bright', 2],
  sad: ['low', -1],
  disgusted: ['low', 0],
  angry: ['tense', 0],
  fearful: ['tense', 1],
};

export function delivery(voiceEmotion: Emotion): Delivery {
  const [shape, steps] = VOICE_STEPS[voiceEmotion];
  return { shape, steps, ...SHAPES[shape] };
}

/** eSpeak settings for a speaker speaking with the given voice emotion ('neutral' = flat delivery). */
export function voiceSettings(speaker: Speaker, voiceEmotion: Emotion) {
  const d = delivery(voiceEmotion);
  return {
    voice: speaker.voice,
    variant: speaker.timbre,
    pitch: speaker.basePitch + d.steps * AGE_STEP,
    range: d.range,
    rate: Math.round(BASE_RATE * d.rate),
    volume: d.volume,
  };
}

/** The documented label rule: the voice wins when it is expressive, then the words, then neutral. */
export function labelRule(voiceEmotion: Emotion, wordEmotion: Emotion): Emotion {
  if (voiceEmotion !== 'neutral') return voiceEmotion;
  return wordEmotion;
}

/** Voice and word emotions of a mode (the sarcasm word emotion is drawn separately). */
export function modeChannels(label: Emotion, mode: Mode, sarcasmWords?: Expressed): { voice: Emotion; words: Emotion } {
  switch (mode) {
    case 'plain':
      return { voice: 'neutral', words: 'neutral' };
    case 'both':
      return { voice: label, words: label };
    case 'voice':
      return { voice: label, words: 'neutral' };
    case 'words':
      return { voice: 'neutral', words: label };
    case 'sarcasm':
      if (!sarcasmWords || sarcasmWords === label) throw new Error('sarcasm needs words of a different emotion');
      return { voice: label, words: sarcasmWords };
  }
}
