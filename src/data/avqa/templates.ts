/**
 * The AVQA question templates and the tolerances that decide when a question is unambiguous enough to
 * ask (docs/avqa.md explains each). Templates are plain text with {placeholders}; the candidates that
 * fill them live in questions.ts.
 */
import type { AvqaFamily } from './config.js';

/** Tolerances, seconds (docs/avqa.md explains each). */
export const AVQA_TOLERANCES = {
  /** Impacts closer than this to either end of the clip make a question about them ambiguous (seen or not?). */
  edge: 0.25,
  /** Question times are the impact time rounded to this step (one 2 Hz frame). */
  timeStep: 0.5,
  /** 'which object made the sound at t': every other impact, sounding or silent, is at least this far from the answer's. */
  isolation: 0.75,
  /** Order questions: the two events compared are at least this far apart (one 2 Hz frame). */
  orderGap: 0.5,
  /** 'right after': nothing else within this of the anchor, and the runner-up at least this long after the answer. */
  nextGap: 0.5,
  /** 'right after': the answer event comes at most this long after the anchor. */
  nextMax: 3,
  /** A sound whose onset lies up to this long before the clip starts may still ring into it. */
  tail: 1,
  /** Counting questions are asked only up to this count. */
  maxCount: 12,
  /**
   * Counting questions: every two counted impacts are at least this far apart. Closer ones (an object hitting both
   * walls of a corner, two objects with one sound hitting together) sound as one, a flam, and fall in one 2 Hz frame.
   */
  countGap: 0.05,
  /** Sync questions shift the audio by one of these (either sign). */
  syncOffsets: [0.5, 1, 1.5, 2] as readonly number[],
} as const;

export interface AvqaTemplate {
  family: AvqaFamily;
  text: string; // {placeholders}
  /** What the answer is: a word, a number, yes/no, an object ('red circle'), one of the options named in the question. */
  answers: 'sound' | 'color' | 'shape' | 'number' | 'yes/no' | 'object' | 'option' | 'sync';
}

export const AVQA_TEMPLATES: Record<string, AvqaTemplate> = {
  'audio.kind': { family: 'audio', text: 'what kind of sound is heard?', answers: 'sound' },
  'audio.heard': { family: 'audio', text: 'is a {sound} heard?', answers: 'yes/no' },
  'audio.kinds': { family: 'audio', text: 'how many kinds of sound are heard?', answers: 'number' },
  'visual.color': { family: 'visual', text: 'what color is the {shape}?', answers: 'color' },
  'visual.shape': { family: 'visual', text: 'what shape is the {color} object?', answers: 'shape' },
  'visual.count': { family: 'visual', text: 'how many objects are there?', answers: 'number' },
  'visual.gray': { family: 'visual', text: 'how many gray objects are there?', answers: 'number' },
  'source.at': { family: 'source', text: 'which object made the sound at {time} seconds?', answers: 'object' },
  'source.sound': { family: 'source', text: 'what does the {object} sound like?', answers: 'sound' },
  'source.which': { family: 'source', text: 'which object sounds like a {sound}?', answers: 'object' },
  'order.wall': { family: 'order', text: 'which hit the wall first, the {a} or the {b}?', answers: 'option' },
  'order.sounds': { family: 'order', text: 'was the first {s1} heard before the first {s2}?', answers: 'yes/no' },
  'order.first': { family: 'order', text: 'which object made the first sound?', answers: 'object' },
  'count.sounds': { family: 'count', text: 'how many times did the {object} make a sound?', answers: 'number' },
  'count.wall': { family: 'count', text: 'how many times did the {object} hit the wall?', answers: 'number' },
  'count.heard': { family: 'count', text: 'how many times is a {sound} heard?', answers: 'number' },
  'causal.next': {
    family: 'causal',
    text: 'which other object hit the wall right after the {object} first hit the wall?',
    answers: 'object',
  },
  'causal.heard': {
    family: 'causal',
    text: 'what was heard right after the {object} first hit the wall?',
    answers: 'sound',
  },
  'matching.belong': { family: 'matching', text: 'does this sound belong to this video?', answers: 'yes/no' },
  'sync.late': { family: 'sync', text: 'is the sound late?', answers: 'yes/no' },
  'sync.sync': { family: 'sync', text: 'is the sound in sync with the video?', answers: 'yes/no' },
  'sync.when': { family: 'sync', text: 'is the sound early, late or in sync?', answers: 'sync' },
};

/** Which audio a question is asked over: the scene's own (none given), shifted (offset, s; positive = late) or another scene's (foil index). */
export interface AvqaAudio {
  offset?: number;
  foil?: number;
}

export function fillTemplate(template: string, params: Record<string, string> = {}): string {
  return AVQA_TEMPLATES[template].text.replace(/\{(\w+)\}/g, (_, k: string) => {
    if (!(k in params)) throw new Error(`template ${template} needs {${k}}`);
    return params[k];
  });
}

/** Seconds as questions write them: '3', '2.5'. */
export function formatSeconds(t: number): string {
  return String(Math.round(t * 1000) / 1000);
}
