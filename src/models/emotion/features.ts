/**
 * Host-side inputs of the emotion model: words, audio frames, metadata, and batches of them.
 *
 * Tokenizer (a documented choice): a hashed word vocabulary. Text is lowercased and split into words the way the
 * manifests' word timings are (one token per written word, punctuation dropped), and each word hashes (FNV-1a) into
 * WORD_BUCKETS ids. One token per word makes the text→audio heat map's rows the words themselves and lets a word's
 * attention be checked against its spoken interval; hashing needs no vocabulary file beside the model and maps
 * unseen words somewhere stable. (Byte-level BPE would split words into pieces and need its merges saved.)
 *
 * Audio: `emotionAudioFeatures` at 100 Hz, averaged over FEATURE_POOL frames to AUDIO_RATE = 25 Hz, scaled to O(1):
 * log-mel (x + 6) / 4, log f0 (ln(f0 / 150) / 0.25, averaged over the voiced 100 Hz frames only, 0 when none is
 * voiced), energy (dB + 30) / 10, voicing. Averaging log f0 over all four frames (unvoiced ones counting as 0)
 * pulled partly voiced frames toward 150 Hz and shrank one pitch step of the voiced mean from 0.14 to 0.09.
 *
 * Utterance functionals (UTTERANCE_FEATURES), from the 100 Hz frames: mean, std and the 10th / 50th / 90th
 * percentiles of voiced log f0, mean and std of energy, voiced fraction, duration. The 90th percentile is the
 * tightest pitch measure here: across readings of different sentences by one speaker in one voice it varies
 * 0.017 in ln f0 (the mean 0.030), against 0.12-0.14 for one pitch step (docs/emotion.md).
 */
import { emotionAudioFeatures } from '../../data/emospeech/features.js';
import type { HostArray } from '../../io/array.js';
import {
  ACCENT_BUCKETS,
  AGES,
  AUDIO_DIM,
  FEATURE_POOL,
  GENDERS,
  N_MELS,
  TIMBRE_BUCKETS,
  UTTERANCE_DIM,
  WORD_BUCKETS,
} from './config.js';

export interface WordSpan {
  start: number;
  end: number;
}

/** One prepared utterance. */
export interface EmotionExampleInput {
  words: string[];
  tokens: Int32Array; // [W]
  /** Word intervals in seconds, aligned with `words` (null when the manifest has none or they do not match). */
  spans: (WordSpan | null)[];
  audio: Float32Array | null; // [F, AUDIO_DIM] at AUDIO_RATE
  frames: number;
  /** Utterance functionals [UTTERANCE_DIM] (null with no audio). */
  utterance: Float32Array | null;
  meta: [number, number, number, number]; // gender, age, timbre, accent ids
  label: number;
}

/** Lowercased words with punctuation dropped (apostrophes kept): "Honestly, the dinner was lovely." -> 5 words. */
export function splitWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/[^\p{L}\p{N}']+/gu, ''))
    .filter((w) => w.length > 0);
}

export function hashWord(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) {
    h ^= word.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 2 + (h % (WORD_BUCKETS - 2));
}

/** Word spans matched to the words of the text by position (all null when the counts or spellings differ). */
export function alignSpans(
  words: string[],
  timed?: { word: string; start: number; end: number }[],
): (WordSpan | null)[] {
  const none = words.map(() => null);
  if (!timed) return none;
  const t = timed.map((w) => ({ ...w, word: splitWords(w.word).join('') })).filter((w) => w.word.length > 0);
  if (t.length !== words.length || t.some((w, i) => w.word !== words[i])) return none;
  return t.map((w) => ({ start: w.start, end: w.end }));
}

/** Metadata ids from free-form fields: gender f/female/F, age young/adult/senior or years; timbre, accent any string. */
export function metadataIds(meta: Record<string, unknown> | undefined): [number, number, number, number] {
  const g = String(meta?.gender ?? meta?.sex ?? '').toLowerCase();
  const gender = g.startsWith('f') ? GENDERS.indexOf('female') : g.startsWith('m') ? GENDERS.indexOf('male') : 0;
  const a = meta?.age;
  let age = 0;
  if (typeof a === 'number') age = a < 30 ? 1 : a < 60 ? 2 : 3;
  else if (typeof a === 'string') age = Math.max(0, AGES.indexOf(a.toLowerCase() as (typeof AGES)[number]));
  const hashed = (v: unknown, buckets: number) => (typeof v === 'string' && v ? 1 + (hashWord(v) % (buckets - 1)) : 0);
  return [gender, age, hashed(meta?.timbre, TIMBRE_BUCKETS), hashed(meta?.accent, ACCENT_BUCKETS)];
}

/** Audio frames [F, AUDIO_DIM] at AUDIO_RATE and the utterance functionals [UTTERANCE_DIM]. */
export interface AudioInputs {
  data: Float32Array;
  frames: number;
  utterance: Float32Array;
}

/** samples -> [F, AUDIO_DIM] at AUDIO_RATE (F = ceil(100 Hz frames / FEATURE_POOL)) + utterance functionals. */
export function audioFrames(samples: Float32Array, sampleRate: number): AudioInputs {
  const { logMel, prosody } = emotionAudioFeatures(samples, sampleRate);
  const frames = Math.ceil(logMel.frames / FEATURE_POOL);
  const data = new Float32Array(frames * AUDIO_DIM);
  for (let f = 0; f < frames; f++) {
    const lo = f * FEATURE_POOL;
    const hi = Math.min(logMel.frames, lo + FEATURE_POOL);
    const row = data.subarray(f * AUDIO_DIM, (f + 1) * AUDIO_DIM);
    let voiced = 0;
    for (let t = lo; t < hi; t++) {
      for (let m = 0; m < N_MELS; m++) row[m] += (logMel.data[t * N_MELS + m] + 6) / 4;
      const hz = prosody.data[3 * t];
      if (hz > 0) {
        row[N_MELS] += logPitch(hz);
        voiced++;
      }
      row[N_MELS + 1] += (prosody.data[3 * t + 1] + 30) / 10;
      row[N_MELS + 2] += prosody.data[3 * t + 2];
    }
    for (let k = 0; k < AUDIO_DIM; k++) row[k] /= k === N_MELS ? Math.max(1, voiced) : hi - lo;
  }
  return { data, frames, utterance: utteranceFunctionals(prosody.data, logMel.frames) };
}

/** ln(f0 / 150) / 0.25: about -3..5 over 60-500 Hz. */
const logPitch = (hz: number): number => Math.log(hz / 150) / 0.25;

/** prosody [T, 3] at 100 Hz (f0 Hz or 0, energy dB, voicing) -> [UTTERANCE_DIM] in the order of UTTERANCE_FEATURES. */
export function utteranceFunctionals(prosody: Float32Array, frames: number): Float32Array {
  const pitch: number[] = [];
  const energy: number[] = [];
  for (let t = 0; t < frames; t++) {
    if (prosody[3 * t] > 0) pitch.push(logPitch(prosody[3 * t]));
    energy.push((prosody[3 * t + 1] + 30) / 10);
  }
  pitch.sort((a, b) => a - b);
  const quantile = (q: number) => (pitch.length ? pitch[Math.round(q * (pitch.length - 1))] : 0);
  return Float32Array.from([
    ...meanStd(pitch),
    quantile(0.1),
    quantile(0.5),
    quantile(0.9),
    ...meanStd(energy),
    pitch.length / Math.max(1, frames),
    frames / 400, // seconds / 4
  ]);
}

function meanStd(x: number[]): [number, number] {
  if (!x.length) return [0, 0];
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return [m, Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length)];
}

export interface BatchShape {
  words: number;
  frames: number;
}

/** What an example contributes when a modality is dropped or absent. */
export interface Presence {
  text: boolean;
  audio: boolean;
  /** Replace the timbre by "unknown". */
  hideTimbre?: boolean;
}

/**
 * Inference inputs (tokens, textValid, audio, audioValid, meta, present) plus, for the loss, labels and spans.
 * Words beyond `shape.words` and frames beyond `shape.frames` are cut; an absent modality is one valid "missing"
 * token / one zero frame (so no softmax row is empty) with present = 0.
 */
export function makeBatch(
  examples: EmotionExampleInput[],
  presence: Presence[],
  shape: BatchShape,
  withLoss: boolean,
): Record<string, HostArray> {
  const B = examples.length;
  const { words: W, frames: F } = shape;
  const tokens = new BigInt64Array(B * W);
  const textValid = new Float32Array(B * W);
  const audio = new Float32Array(B * F * AUDIO_DIM);
  const audioValid = new Float32Array(B * F);
  const utterance = new Float32Array(B * UTTERANCE_DIM);
  const meta = new BigInt64Array(B * 4);
  const present = new Float32Array(B * 2);
  const labels = new BigInt64Array(B);
  const spans = withLoss ? new Float32Array(B * W * F) : new Float32Array(0);
  examples.forEach((ex, b) => {
    const pr = presence[b];
    const { text: hasText, audio: hasAudio } = presentInputs(ex, pr);
    const nw = hasText ? Math.min(W, ex.tokens.length) : 1;
    for (let i = 0; i < nw; i++) {
      tokens[b * W + i] = BigInt(hasText ? ex.tokens[i] : 1);
      textValid[b * W + i] = 1;
    }
    const nf = hasAudio ? Math.min(F, ex.frames) : 1;
    if (hasAudio) audio.set(ex.audio!.subarray(0, nf * AUDIO_DIM), b * F * AUDIO_DIM);
    if (hasAudio && ex.utterance) utterance.set(ex.utterance, b * UTTERANCE_DIM);
    audioValid.fill(1, b * F, b * F + nf);
    meta.set(
      [BigInt(ex.meta[0]), BigInt(ex.meta[1]), BigInt(pr.hideTimbre ? 0 : ex.meta[2]), BigInt(ex.meta[3])],
      b * 4,
    );
    present[b * 2] = hasText ? 1 : 0;
    present[b * 2 + 1] = hasAudio ? 1 : 0;
    labels[b] = BigInt(ex.label);
    if (withLoss && hasText && hasAudio) {
      for (let i = 0; i < nw; i++) {
        const s = ex.spans[i];
        if (!s) continue;
        const [lo, hi] = spanFrames(s, nf);
        spans.fill(1, (b * W + i) * F + lo, (b * W + i) * F + hi);
      }
    }
  });
  const out: Record<string, HostArray> = {
    tokens: { data: tokens, shape: [B, W], dtype: 'int64' },
    textValid: { data: textValid, shape: [B, W], dtype: 'float32' },
    audio: { data: audio, shape: [B, F, AUDIO_DIM], dtype: 'float32' },
    audioValid: { data: audioValid, shape: [B, F], dtype: 'float32' },
    utterance: { data: utterance, shape: [B, UTTERANCE_DIM], dtype: 'float32' },
    meta: { data: meta, shape: [B, 4], dtype: 'int64' },
    present: { data: present, shape: [B, 2], dtype: 'float32' },
  };
  if (withLoss) {
    out.labels = { data: labels, shape: [B], dtype: 'int64' };
    out.spans = { data: spans, shape: [B, W, F], dtype: 'float32' };
  }
  return out;
}

/** Which inputs an example really has under `presence` (an empty transcript or no audio counts as missing). */
export function presentInputs(ex: EmotionExampleInput, pr: Presence): { text: boolean; audio: boolean } {
  return { text: pr.text && ex.tokens.length > 0, audio: pr.audio && ex.audio !== null && ex.frames > 0 };
}

/** Frames [lo, hi) at AUDIO_RATE whose center lies inside the span (at least one frame), clipped to `frames`. */
export function spanFrames(s: WordSpan, frames: number): [number, number] {
  const rate = 100 / FEATURE_POOL;
  const lo = Math.min(frames - 1, Math.max(0, Math.round(s.start * rate)));
  const hi = Math.min(frames, Math.max(lo + 1, Math.round(s.end * rate)));
  return [lo, hi];
}
