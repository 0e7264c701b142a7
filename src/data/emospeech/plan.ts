/**
 * Utterance plans: everything about an EmoSpeech item except its audio, drawn from (seed, split, index)
 * alone, so any item can be regenerated on its own and a plan's content hash names its cached audio.
 * Splits are speaker-disjoint at the timbre-group level (accent + timbre; all three age groups of a group
 * go to the same split), so no test voice is ever heard in training.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import {
  EMOTIONS,
  EXPRESSED,
  P_MODE,
  allSpeakers,
  labelRule,
  modeChannels,
  voiceSettings,
  type Emotion,
  type Expressed,
  type Mode,
  type Speaker,
} from './spec.js';
import type { VoiceSettings } from './espeak.js';
import { makeSentence } from './text.js';

export const EMO_SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof EMO_SPLITS)[number];
/** Share of timbre groups per split (48 groups: 34 / 7 / 7). */
export const SPLIT_SHARE: Record<Split, number> = { train: 0.7, val: 0.15, test: 0.15 };

export interface Plan {
  id: string;
  split: Split;
  index: number;
  speaker: Speaker;
  label: Emotion;
  mode: Mode;
  voiceEmotion: Emotion;
  wordEmotion: Emotion;
  text: string;
  cue: string;
  settings: VoiceSettings;
}

/** Speakers of each split for a seed: timbre groups shuffled by the seed, then cut by SPLIT_SHARE. */
export function splitSpeakers(seed: number): Record<Split, Speaker[]> {
  const speakers = allSpeakers();
  const groups = [...new Set(speakers.map((s) => s.group))];
  new Rng(`emospeech/groups/${seed}`).shuffle(groups);
  const nVal = Math.round(groups.length * SPLIT_SHARE.val);
  const nTest = Math.round(groups.length * SPLIT_SHARE.test);
  const of: Record<Split, Set<string>> = {
    test: new Set(groups.slice(0, nTest)),
    val: new Set(groups.slice(nTest, nTest + nVal)),
    train: new Set(groups.slice(nTest + nVal)),
  };
  return {
    train: speakers.filter((s) => of.train.has(s.group)),
    val: speakers.filter((s) => of.val.has(s.group)),
    test: speakers.filter((s) => of.test.has(s.group)),
  };
}

const speakerCache = new Map<number, Record<Split, Speaker[]>>();

export function planUtterance(seed: number, split: Split, index: number): Plan {
  if (!EMO_SPLITS.includes(split))
    throw new InputError(`unknown split '${split}' (expected ${EMO_SPLITS.join(', ')})`, {
      field: 'split',
      got: split,
    });
  if (!Number.isInteger(index) || index < 0)
    throw new InputError(`utterance index must be a non-negative integer, got ${index}`, {
      field: 'index',
      got: index,
    });
  let pools = speakerCache.get(seed);
  if (!pools) speakerCache.set(seed, (pools = splitSpeakers(seed)));
  const rng = new Rng(`emospeech/${seed}/${split}/${index}`);
  const pool = pools[split];
  const speaker = pool[rng.int(pool.length)];
  const label = EMOTIONS[rng.int(EMOTIONS.length)];
  const mode = label === 'neutral' ? 'plain' : drawMode(rng);
  let sarcasmWords: Expressed | undefined;
  if (mode === 'sarcasm') {
    const others = EXPRESSED.filter((e) => e !== label);
    sarcasmWords = others[rng.int(others.length)];
  }
  const { voice, words } = modeChannels(label, mode, sarcasmWords);
  if (labelRule(voice, words) !== label) throw new Error(`internal: mode ${mode} breaks the label rule for ${label}`);
  const sentence = makeSentence(rng, words);
  return {
    id: `${split}-${String(index).padStart(6, '0')}`,
    split,
    index,
    speaker,
    label,
    mode,
    voiceEmotion: voice,
    wordEmotion: words,
    text: sentence.text,
    cue: sentence.cue,
    settings: voiceSettings(speaker, voice),
  };
}

function drawMode(rng: Rng): Mode {
  let u = rng.uniform();
  for (const m of ['both', 'voice', 'words', 'sarcasm'] as const) {
    if (u < P_MODE[m]) return m;
    u -= P_MODE[m];
  }
  return 'sarcasm';
}

/** Content hash of what determines an item's audio (text + synthesizer settings + generator version). */
export function audioKey(plan: Plan, synthVersion: string): string {
  return createHash('sha256')
    .update(JSON.stringify([synthVersion, plan.text, plan.settings]))
    .digest('hex')
    .slice(0, 20);
}
