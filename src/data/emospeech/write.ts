/**
 * `attune synth emospeech`: writes an EmoSpeech folder that any tool can read.
 *
 *   out/audio/<hash>.wav        16-bit mono PCM at eSpeak-NG's 22050 Hz, named by the content hash of its
 *   out/audio/<hash>.json       text + voice settings + generator version; the .json holds its word timings
 *   out/train.jsonl, val.jsonl, test.jsonl   emotion manifests (manifest.ts): text, label, speaker, split,
 *                                            metadata, words (start/end seconds)
 *   out/emospeech.json          seed, counts, speakers per split, ceilings, generation speed
 *
 * The audio folder is the cache: an item whose hash already has both files is not synthesized again (so a
 * rerun, a larger --n, or a plan that repeats a text and voice costs nothing), and the synthesizer package
 * is loaded only when some item is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic.js';
import { InputError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import { ceilings } from './ceilings.js';
import type { Espeak, WordTiming } from './espeak.js';
import { createSynth, speakPlan, SYNTH_VERSION } from './generate.js';
import { audioKey, planUtterance, splitSpeakers, EMO_SPLITS, SPLIT_SHARE, type Plan, type Split } from './plan.js';
import { writeWav16 } from './wav.js';

export interface WriteEmoSpeechOptions {
  n: number; // utterances in all, shared out by SPLIT_SHARE
  out: string;
  seed?: number;
  quiet?: boolean;
  /** Module specifier of the synthesizer (tests use a missing one to check the error). */
  synthesizer?: string;
}

export interface WriteEmoSpeechSummary {
  out: string;
  seed: number;
  counts: Record<Split, number>;
  synthesized: number;
  cached: number;
  seconds: number;
  /** Synthesized utterances per second of synthesis wall time (null when all came from the cache). */
  utterancesPerSecond: number | null;
  /** The same per second of CPU time: the one-core speed even on a busy machine. */
  utterancesPerCpuSecond: number | null;
  audioSeconds: number;
  manifests: Record<Split, string>;
}

export function splitCounts(n: number): Record<Split, number> {
  const val = Math.round(n * SPLIT_SHARE.val);
  const test = Math.round(n * SPLIT_SHARE.test);
  return { train: n - val - test, val, test };
}

export async function writeEmoSpeech(opts: WriteEmoSpeechOptions): Promise<WriteEmoSpeechSummary> {
  if (!Number.isInteger(opts.n) || opts.n < 1)
    throw new InputError(`--n must be a positive integer, got ${opts.n}`, { field: 'n', got: opts.n });
  const seed = opts.seed ?? 0;
  const out = resolve(opts.out);
  const counts = splitCounts(opts.n);
  const progress = new Progress({ label: 'emospeech', total: opts.n, quiet: opts.quiet });
  const started = performance.now();
  let synthMs = 0;
  let synthCpuMs = 0; // the synthesizer is single-threaded: CPU time is its speed on one core under load
  let synthesized = 0;
  let cached = 0;
  let audioSeconds = 0;
  let es: Espeak | null = null;
  const manifests = {} as Record<Split, string>;
  for (const split of EMO_SPLITS) {
    const lines: string[] = [];
    for (let i = 0; i < counts[split]; i++) {
      const plan = planUtterance(seed, split, i);
      const key = audioKey(plan, SYNTH_VERSION);
      const wav = join(out, 'audio', `${key}.wav`);
      const side = join(out, 'audio', `${key}.json`);
      let timing: { sampleRate: number; samples: number; words: WordTiming[] };
      if (existsSync(wav) && existsSync(side)) {
        timing = JSON.parse(readFileSync(side, 'utf8'));
        cached++;
      } else {
        es ??= await createSynth(opts.synthesizer);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const item = speakPlan(es, plan);
        synthMs += performance.now() - t0;
        const dc = process.cpuUsage(c0);
        synthCpuMs += (dc.user + dc.system) / 1000;
        synthesized++;
        writeWav16(wav, item.samples, item.sampleRate);
        timing = { sampleRate: item.sampleRate, samples: item.samples.length, words: item.words };
        writeJsonAtomic(side, { version: SYNTH_VERSION, text: plan.text, settings: plan.settings, ...timing });
      }
      audioSeconds += timing.samples / timing.sampleRate;
      lines.push(JSON.stringify(manifestLine(plan, `audio/${key}.wav`, timing.words)));
      progress.tick();
    }
    manifests[split] = join(out, `${split}.jsonl`);
    writeFileAtomic(manifests[split], lines.join('\n') + (lines.length ? '\n' : ''));
  }
  progress.finish();
  const summary: WriteEmoSpeechSummary = {
    out,
    seed,
    counts,
    synthesized,
    cached,
    seconds: (performance.now() - started) / 1000,
    utterancesPerSecond: synthesized ? synthesized / (synthMs / 1000) : null,
    utterancesPerCpuSecond: synthesized ? synthesized / (synthCpuMs / 1000) : null,
    audioSeconds,
    manifests,
  };
  const pools = splitSpeakers(seed);
  writeJsonAtomic(join(out, 'emospeech.json'), {
    dataset: 'emospeech',
    version: SYNTH_VERSION,
    ...summary,
    out: undefined,
    manifests: Object.fromEntries(EMO_SPLITS.map((s) => [s, `${s}.jsonl`])),
    speakers: Object.fromEntries(EMO_SPLITS.map((s) => [s, pools[s].map((p) => p.id)])),
    ceilings: ceilings(),
  });
  return summary;
}

function manifestLine(plan: Plan, audio: string, words: WordTiming[]) {
  const r6 = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    id: plan.id,
    audio,
    text: plan.text,
    label: plan.label,
    speaker: plan.speaker.id,
    split: plan.split,
    words: words.map((w) => ({ word: w.word, start: r6(w.start), end: r6(w.end) })),
    metadata: {
      gender: plan.speaker.gender,
      age: plan.speaker.age,
      timbre: plan.speaker.timbre,
      accent: plan.speaker.voice,
      mode: plan.mode,
      voiceEmotion: plan.voiceEmotion,
      wordEmotion: plan.wordEmotion,
      cue: plan.cue,
      settings: plan.settings,
    },
  };
}
