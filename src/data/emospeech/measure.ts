/**
 * The synthesizer measurements docs/emospeech.md reports, reproducible with
 *   node -e "import('./dist/src/data/emospeech/measure.js').then(async (m) => console.log(JSON.stringify(await m.measureSynthesizer(), null, 1)))"
 * Pitch is YIN (src/media/pitch.ts) over voiced frames, loudness the RMS of the whole utterance in dBFS.
 */
import { Espeak, type VoiceSettings } from './espeak.js';
import { measureVoice, type VoiceMeasure } from './features.js';
import { allSpeakers, EMOTIONS, voiceSettings, type Emotion } from './spec.js';

export const MEASURE_SENTENCE = 'The weather is fine and the meeting starts at noon.';

export interface SynthesizerReport {
  controls: Record<string, VoiceMeasure>;
  /** SSML <prosody range="x-low|x-high"> inside the text (the synthesizer's SSML path). */
  ssmlRange: Record<'x-low' | 'x-high', VoiceMeasure>;
  /** Per voice emotion, averaged over the 12 timbres of en-us at age 'adult'. */
  emotions: Record<Emotion, { meanF0: number; spread: number; rmsDb: number; seconds: number }>;
  repeatIdentical: boolean;
  msPerSentence: number;
}

export async function measureSynthesizer(specifier?: string): Promise<SynthesizerReport> {
  const es = await Espeak.create(specifier);
  const base: VoiceSettings = { voice: 'en-us', variant: 'm1', pitch: 50, range: 50, rate: 175, volume: 100 };
  const m = (v: Partial<VoiceSettings>, text = MEASURE_SENTENCE) => {
    const u = es.speak(text, { ...base, ...v });
    return measureVoice(u.samples, u.sampleRate);
  };
  const controls: Record<string, VoiceMeasure> = {};
  const variants: [string, Partial<VoiceSettings>][] = [
    ['default (m1)', {}],
    ['+f3', { variant: 'f3' }],
    ['-a 40', { volume: 40 }],
    ['-a 180', { volume: 180 }],
    ['-s 120', { rate: 120 }],
    ['-s 240', { rate: 240 }],
    ['-p 22', { pitch: 22 }],
    ['-p 36', { pitch: 36 }],
    ['-p 64', { pitch: 64 }],
    ['-p 78', { pitch: 78 }],
    ['-p 92', { pitch: 92 }],
    ['range 20', { range: 20 }],
    ['range 85', { range: 85 }],
  ];
  for (const [name, v] of variants) controls[name] = m(v);
  const ssml = (r: string) => m({}, `<speak><prosody range="${r}">${MEASURE_SENTENCE}</prosody></speak>`);
  const ssmlRange = { 'x-low': ssml('x-low'), 'x-high': ssml('x-high') };
  const speakers = allSpeakers().filter((s) => s.voice === 'en-us' && s.age === 'adult');
  const emotions = {} as SynthesizerReport['emotions'];
  for (const e of EMOTIONS) {
    const rows = speakers.map((s) => {
      const u = es.speak(MEASURE_SENTENCE, voiceSettings(s, e));
      return measureVoice(u.samples, u.sampleRate);
    });
    const mean = (f: (r: VoiceMeasure) => number) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
    emotions[e] = {
      meanF0: mean((r) => r.meanF0),
      spread: mean((r) => r.f0p90 - r.f0p10),
      rmsDb: mean((r) => r.rmsDb),
      seconds: mean((r) => r.seconds),
    };
  }
  const a = es.speak(MEASURE_SENTENCE, base).samples;
  const b = es.speak(MEASURE_SENTENCE, base).samples;
  const repeatIdentical = a.length === b.length && a.every((x, i) => x === b[i]);
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) es.speak(MEASURE_SENTENCE, { ...base, variant: i % 2 ? 'f3' : 'm1' });
  return { controls, ssmlRange, emotions, repeatIdentical, msPerSentence: (performance.now() - t0) / 20 };
}
