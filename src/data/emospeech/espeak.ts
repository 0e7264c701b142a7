/**
 * eSpeak-NG in-process, from the optional npm package `@echogarden/espeak-ng-emscripten` (GPL-3.0;
 * Attune is MIT, so the package is an optionalDependency, imported only when speech is synthesized).
 * Chosen over `espeak-ng` (a WebAssembly build of the CLI) because it exposes the library API: word and
 * phoneme events with audio positions, voice variants (`en-us+f3`), pitch/range/rate/volume setters and
 * SSML, at ~50 ms per sentence once warm; the CLI build runs `main` once per instance (~500 ms each) and
 * reports no word timings. See docs/emospeech.md for the measurements.
 *
 * Determinism: the library keeps state between utterances (its flutter phase and noise generator), so
 * the same text synthesized twice in one process differs by a few samples. We snapshot the module's
 * linear memory right after start-up and restore it before every utterance: each utterance then starts
 * from the same state as in a fresh process and is bit-identical on repeat (tested).
 */
import { AttuneError, InputError } from '../../util/errors.js';

export const ESPEAK_PACKAGE = '@echogarden/espeak-ng-emscripten';
const MAX_TEXT_BYTES = 4096;

/** The optional synthesizer package is not installed (or failed to load). */
export class SynthesizerMissingError extends AttuneError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFIG', message, details);
  }
}

/** Voice settings for one utterance; pitch and range 0-99 (eSpeak's scale, 50 = the voice's own). */
export interface VoiceSettings {
  voice: string; // e.g. 'en-us'
  variant: string; // e.g. 'f3' (a file in espeak-ng-data/voices/!v)
  pitch: number;
  range: number;
  rate: number; // words per minute, 80-450
  volume: number; // 0-200, 100 = default
}

export interface WordTiming {
  word: string;
  /** Character offset of the word in the text (0-based). */
  char: number;
  start: number; // seconds
  end: number; // seconds: where the event after its last phoneme starts (next phoneme, pause or end)
}

export interface Utterance {
  samples: Float32Array;
  sampleRate: number;
  words: WordTiming[];
  phonemes: { phoneme: string; start: number }[];
}

interface EspeakEvent {
  type: string;
  text_position: number;
  word_length: number;
  audio_position: number;
  id?: string | number;
}
interface EspeakWorker {
  set_voice(name: string): number;
  set_pitch(v: number): void;
  set_range(v: number): void;
  set_rate(v: number): void;
  set_volume(v: number): void;
  get_samplerate(): number;
  synthesize(text: string, cb: (audio: Int16Array | null, events: EspeakEvent[]) => boolean): void;
}
interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorker;
  HEAPU8: Uint8Array;
}

/** Imports the package; a missing package becomes a SynthesizerMissingError that says how to install it. */
export async function loadEspeakModule(specifier = ESPEAK_PACKAGE): Promise<() => Promise<EspeakModule>> {
  let mod: { default?: unknown };
  try {
    mod = (await import(specifier)) as { default?: unknown };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SynthesizerMissingError(
      `emospeech needs the optional package ${specifier} (eSpeak-NG, GPL-3.0) to synthesize speech, and it could not be loaded` +
        ` (${code ?? (err as Error).message}). Install it with: npm install ${specifier}` +
        ' (or read an existing emospeech folder / a manifest of real recordings instead).',
      { package: specifier, reason: code ?? (err as Error).message },
    );
  }
  if (typeof mod.default !== 'function') {
    throw new SynthesizerMissingError(`${specifier} does not export a module factory (unexpected package version)`, {
      package: specifier,
    });
  }
  return mod.default as () => Promise<EspeakModule>;
}

/** One synthesizer instance. Not re-entrant: call speak() sequentially. */
export class Espeak {
  private constructor(
    private readonly mod: EspeakModule,
    private readonly worker: EspeakWorker,
    private readonly snapshot: Uint8Array,
  ) {}

  static async create(specifier?: string): Promise<Espeak> {
    const factory = await loadEspeakModule(specifier);
    const mod = await factory();
    // eSpeak-NG seeds its noise generator (breathy variants such as f3) from time() at start-up: pin
    // the clock for that synchronous moment so that every process gets the same seed.
    const realNow = Date.now;
    let worker: EspeakWorker;
    Date.now = () => 0;
    try {
      worker = new mod.eSpeakNGWorker();
    } finally {
      Date.now = realNow;
    }
    // The WebIDL glue copies string arguments into a scratch buffer it mallocs and grows on the JS side;
    // grow it once now, before the snapshot, so that restoring memory never disagrees with the glue's
    // idea of what is allocated (texts are limited to MAX_TEXT_BYTES below).
    worker.set_voice('x'.repeat(MAX_TEXT_BYTES + 64));
    worker.set_voice('en-us');
    return new Espeak(mod, worker, mod.HEAPU8.slice());
  }

  get sampleRate(): number {
    return this.worker.get_samplerate();
  }

  /** Synthesizes plain text (no SSML) with the given settings; returns samples in [-1, 1) and timings. */
  speak(text: string, v: VoiceSettings): Utterance {
    checkSettings(v);
    if (Buffer.byteLength(text) > MAX_TEXT_BYTES)
      throw new InputError(`text longer than ${MAX_TEXT_BYTES} bytes`, { field: 'text', got: Buffer.byteLength(text) });
    this.mod.HEAPU8.set(this.snapshot); // same start state every time (see the module comment)
    const voiceName = `${v.voice}+${v.variant}`;
    if (this.worker.set_voice(voiceName) !== 0)
      throw new InputError(`eSpeak-NG has no voice '${voiceName}'`, { field: 'voice', got: voiceName });
    this.worker.set_pitch(v.pitch);
    this.worker.set_range(v.range);
    this.worker.set_rate(v.rate);
    this.worker.set_volume(v.volume);
    const chunks: Int16Array[] = [];
    const events: EspeakEvent[] = [];
    this.worker.synthesize(text, (audio, evs) => {
      if (audio && audio.length) chunks.push(audio);
      events.push(...evs);
      return false; // false = continue
    });
    const n = chunks.reduce((s, c) => s + c.length, 0);
    const samples = new Float32Array(n);
    let o = 0;
    for (const c of chunks) for (let i = 0; i < c.length; i++) samples[o++] = c[i] / 32768;
    const sampleRate = this.sampleRate;
    return { samples, sampleRate, ...timings(text, events, n / sampleRate) };
  }
}

function checkSettings(v: VoiceSettings): void {
  const bad = (field: string, lo: number, hi: number, got: number) => {
    throw new InputError(`voice setting ${field} must be in [${lo}, ${hi}], got ${got}`, { field, got });
  };
  if (!(v.pitch >= 0 && v.pitch <= 99)) bad('pitch', 0, 99, v.pitch);
  if (!(v.range >= 0 && v.range <= 99)) bad('range', 0, 99, v.range);
  if (!(v.rate >= 80 && v.rate <= 450)) bad('rate', 80, 450, v.rate);
  if (!(v.volume >= 0 && v.volume <= 200)) bad('volume', 0, 200, v.volume);
}

/**
 * Word timings from the library's events. Events arrive in order: a word event, then that word's phoneme
 * events, each with its audio position in ms. Empty phoneme events mark pauses (and some in-word breaks),
 * and a word event's own position can fall inside the previous word's last phoneme, so a word is timed by
 * its phonemes: it starts at its first non-empty phoneme and ends where the next event after its last
 * non-empty phoneme starts (the next phoneme, a pause, or the end of speech). Event text positions are
 * 1-based character offsets into the text (ASCII, so chars = bytes).
 */
function timings(
  text: string,
  events: EspeakEvent[],
  total: number,
): { words: WordTiming[]; phonemes: { phoneme: string; start: number }[] } {
  const words: (WordTiming & { last: number })[] = [];
  const phonemes: { phoneme: string; start: number }[] = [];
  const at = (e: EspeakEvent) => Math.min(total, e.audio_position / 1000);
  events.forEach((e, k) => {
    if (e.type === 'word') {
      const char = e.text_position - 1;
      words.push({ word: text.slice(char, char + e.word_length), char, start: at(e), end: -1, last: -1 });
    } else if (e.type === 'phoneme') {
      const ph = String(e.id ?? '');
      phonemes.push({ phoneme: ph, start: at(e) });
      const w = words.at(-1);
      if (!w || ph === '') return;
      if (w.last < 0) w.start = at(e);
      w.last = k;
    }
  });
  for (const w of words) {
    const next =
      w.last >= 0 ? events.slice(w.last + 1).find((e) => e.type === 'phoneme' || e.type === 'end') : undefined;
    w.end = next ? at(next) : total;
    if (w.end < w.start) w.end = w.start;
  }
  return { words: words.map(({ last: _last, ...w }) => w), phonemes };
}
