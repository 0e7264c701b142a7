/**
 * Exact accuracy ceilings of EmoSpeech: the Bayes-optimal accuracy of a predictor that sees only part of
 * an item, computed by enumerating the generative process of spec.ts (label, mode, sarcasm word emotion,
 * age group) with its exact probabilities. Within a split every timbre group carries all three age groups
 * and speakers are drawn uniformly, so the age group is uniform and independent of the timbre.
 *
 * Each observer is granted the most it could extract from its inputs (e.g. an audio observer knows the
 * exact synthesizer settings), so the figures are upper bounds for any real model of that kind; a model
 * measured on n test items may exceed one by sampling noise, about 2 * sqrt(c (1 - c) / n).
 */
import {
  AGE_GROUPS,
  AGE_STEP,
  EMOTIONS,
  EXPRESSED,
  P_MODE,
  delivery,
  labelRule,
  modeChannels,
  type AgeGroup,
  type Emotion,
  type Mode,
} from './spec.js';

/** What an observer sees of one item, as a key: items with equal keys are indistinguishable to it. */
export interface Observation {
  label: Emotion;
  voice: Emotion; // the voice's emotion ('neutral' = flat delivery)
  words: Emotion; // the cue word's list
  age: AgeGroup;
}

export const OBSERVERS = {
  /** The transcript only: the cue word's list. */
  text: (o: Observation) => o.words,
  /** Prosody with speaker metadata: the voice's emotion, recovered from settings relative to the speaker's base. */
  prosody: (o: Observation) => o.voice,
  /** Prosody without metadata: the prosody shape and the absolute pitch, not the speaker's base pitch. */
  prosodyNoMetadata: (o: Observation) => absoluteProsody(o),
  /** Audio without metadata: the absolute prosody and the spoken words (a model could recognize them). */
  audioNoMetadata: (o: Observation) => `${absoluteProsody(o)}|${o.words}`,
  /** Text and audio without metadata (the same information as audioNoMetadata). */
  textAudioNoMetadata: (o: Observation) => `${absoluteProsody(o)}|${o.words}`,
  /** Text, audio and metadata: the rule is a function of these, so 1. */
  full: (o: Observation) => `${o.voice}|${o.words}|${o.age}`,
} as const;
export type ObserverName = keyof typeof OBSERVERS;

function absoluteProsody(o: Observation): string {
  const d = delivery(o.voice);
  const agePitch = { young: 1, adult: 0, senior: -1 }[o.age] * AGE_STEP;
  return `${d.shape}@${agePitch + d.steps * AGE_STEP}`;
}

/** Every outcome of the generative process with its probability (sums to 1). */
export function enumerateOutcomes(): { p: number; o: Observation }[] {
  const out: { p: number; o: Observation }[] = [];
  const pAge = 1 / AGE_GROUPS.length;
  for (const label of EMOTIONS) {
    const pLabel = 1 / EMOTIONS.length;
    const modes: [Mode, number][] = label === 'neutral' ? [['plain', 1]] : (Object.entries(P_MODE) as [Mode, number][]);
    for (const [mode, pMode] of modes) {
      const sarcasm = mode === 'sarcasm' ? EXPRESSED.filter((e) => e !== label) : [undefined];
      for (const w of sarcasm) {
        const { voice, words } = modeChannels(label, mode, w);
        if (labelRule(voice, words) !== label)
          throw new Error(`internal: mode ${mode} breaks the label rule for ${label}`);
        for (const age of AGE_GROUPS)
          out.push({ p: (pLabel * pMode * pAge) / sarcasm.length, o: { label, voice, words, age } });
      }
    }
  }
  return out;
}

/** Bayes-optimal accuracy of a predictor that sees observe(item): sum over keys of max_y P(key, y). */
export function bayesAccuracy(observe: (o: Observation) => string): number {
  const joint = new Map<string, Map<Emotion, number>>();
  for (const { p, o } of enumerateOutcomes()) {
    const key = observe(o);
    let row = joint.get(key);
    if (!row) joint.set(key, (row = new Map()));
    row.set(o.label, (row.get(o.label) ?? 0) + p);
  }
  let acc = 0;
  for (const row of joint.values()) acc += Math.max(...row.values());
  return acc;
}

export type Ceilings = Record<ObserverName, number> & { chance: number };

/** The ceilings of every observer (chance = always predicting the most frequent class). */
export function ceilings(): Ceilings {
  const out = { chance: bayesAccuracy(() => '') } as Ceilings;
  for (const name of Object.keys(OBSERVERS) as ObserverName[]) out[name] = bayesAccuracy(OBSERVERS[name]);
  return out;
}
