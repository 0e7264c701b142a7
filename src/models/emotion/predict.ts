/**
 * Runs an emotion inference graph over examples in fixed-size batches (the last one padded by repetition) and
 * returns per-example results with the attention maps cut to the example's real words and frames.
 */
import type { Predictor } from '../../engine/export.js';
import { toFloat32, type HostArray } from '../../io/array.js';
import { AUDIO_RATE, EMOTION_CLASSES } from './config.js';
import { makeBatch, type BatchShape, type EmotionExampleInput, type Presence } from './features.js';

export interface EmotionPrediction {
  label: (typeof EMOTION_CLASSES)[number];
  classId: number;
  probs: number[];
  /** Mean gate over the text, audio and metadata parts of the fused vector (all 1 without a gate). */
  gate: { text: number; audio: number; metadata: number };
  /** Which inputs the prediction had (a missing one was replaced by the "missing" token or frame). */
  present: { text: boolean; audio: boolean };
  /** [H][words][frames] and [H][frames][words], trimmed to the real words and frames. */
  textToAudio?: number[][][];
  audioToText?: number[][][];
  words: number;
  frames: number;
}

export async function predictEmotions(predictor: Predictor, examples: EmotionExampleInput[], presence: Presence[], shape: BatchShape & { batch: number }, opts: { attention?: boolean } = {}): Promise<EmotionPrediction[]> {
  const out: EmotionPrediction[] = [];
  for (let s = 0; s < examples.length; s += shape.batch) {
    const part = examples.slice(s, s + shape.batch);
    const pres = presence.slice(s, s + shape.batch);
    const real = part.length;
    while (part.length < shape.batch) {
      part.push(part[real - 1]);
      pres.push(pres[real - 1]);
    }
    const feeds = makeBatch(part, pres, shape, false);
    const r = await predictor.run(feeds);
    const probs = toFloat32(r.probs);
    const gate = toFloat32(r.modalityGate);
    const present = feeds.present.data as Float32Array;
    for (let b = 0; b < real; b++) {
      const p = Array.from(probs.subarray(b * 7, b * 7 + 7));
      const classId = p.indexOf(Math.max(...p));
      const hasText = present[2 * b] > 0;
      const hasAudio = present[2 * b + 1] > 0;
      const words = hasText ? Math.min(shape.words, part[b].tokens.length) : 1;
      const frames = hasAudio ? Math.min(shape.frames, part[b].frames) : 1;
      const pred: EmotionPrediction = {
        label: EMOTION_CLASSES[classId], classId, probs: p, words, frames,
        gate: { text: gate[3 * b], audio: gate[3 * b + 1], metadata: gate[3 * b + 2] },
        present: { text: hasText, audio: hasAudio },
      };
      // With a modality missing the maps only show the placeholder token or frame: left out.
      if (opts.attention && hasText && hasAudio && r.textToAudio) pred.textToAudio = cutMaps(r.textToAudio, b, words, frames);
      if (opts.attention && hasText && hasAudio && r.audioToText) pred.audioToText = cutMaps(r.audioToText, b, frames, words);
      out.push(pred);
    }
  }
  return out;
}

/** weights [B, H, Q, K] -> item b's [H][q < rows][k < cols] */
function cutMaps(w: HostArray, b: number, rows: number, cols: number): number[][][] {
  const [, H, Q, K] = w.shape;
  const d = toFloat32(w);
  return Array.from({ length: H }, (_, h) => Array.from({ length: rows }, (_, q) => Array.from(d.subarray(((b * H + h) * Q + q) * K, ((b * H + h) * Q + q) * K + cols))));
}

/** Frame start times in seconds for heat-map labels. */
export const frameSeconds = (frames: number): number[] => Array.from({ length: frames }, (_, j) => j / AUDIO_RATE);
