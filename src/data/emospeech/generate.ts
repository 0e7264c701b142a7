/**
 * EmoSpeech items with audio: a plan (plan.ts) spoken by eSpeak-NG (espeak.ts), with word timings from
 * the synthesizer's own word and phoneme events. The audio depends only on the plan's text and voice
 * settings, so its content hash (audioKey) names the cached file.
 */
import { InputError } from '../../util/errors.js';
import { Espeak, type WordTiming } from './espeak.js';
import { audioKey, planUtterance, type Plan, type Split } from './plan.js';

/** Bumped whenever the generator's output for a plan could change (part of every audio hash). */
export const SYNTH_VERSION = 'emospeech-1/espeak-ng-emscripten-0.3';

export interface EmoSpeechItem {
  plan: Plan;
  key: string;
  samples: Float32Array;
  sampleRate: number;
  words: WordTiming[];
}

export async function createSynth(specifier?: string): Promise<Espeak> {
  return Espeak.create(specifier);
}

/** Speaks one planned utterance; checks that the synthesizer reported one timing per written word. */
export function speakPlan(es: Espeak, plan: Plan): EmoSpeechItem {
  const u = es.speak(plan.text, plan.settings);
  const written = plan.text.match(/[A-Za-z']+/g) ?? [];
  const spoken = u.words.map((w) => w.word.replace(/[^A-Za-z']/g, ''));
  if (spoken.join(' ') !== written.join(' ')) {
    throw new InputError(
      `${plan.id}: word events (${spoken.join(' ')}) do not match the text's words (${written.join(' ')})`,
      { id: plan.id },
    );
  }
  return { plan, key: audioKey(plan, SYNTH_VERSION), samples: u.samples, sampleRate: u.sampleRate, words: u.words };
}

export function generateItem(es: Espeak, seed: number, split: Split, index: number): EmoSpeechItem {
  return speakPlan(es, planUtterance(seed, split, index));
}
