/**
 * Runs an emotion inference graph over examples in fixed-size batches (predictInBatches: the last one padded by
 * repetition) and returns per-example results with the attention maps cut to the example's real words and frames.
 */
import type { Predictor } from '../../engine/export.js';
import { toFloat32, type HostArray } from '../../io/array.js';
import { predictInBatches } from '../../train/predict.js';
import { EMOTION_CLASSES } from './config.js';
import { makeBatch, presentInputs, type BatchShape, type EmotionExampleInput, type Presence } from './features.js';

export interface EmotionPrediction {
  label: (typeof EMOTION_CLASSES)[number];
  classId: number;
  probs: number[];
  /** Mean gate over the text, audio and metadata parts of the fused vector (all 1 without a gate). */
  gate: { text: number; audio: number; metadata: number };
  /** Which inputs the prediction had (a missing one was replaced by the "missing" token or frame). */
  present: { text: boolean; audio: boolean };
  /** [H][words][frames] and [H][frames][words], trimmed to the real words and frames; absent with a modality missing. */
  textToAudio?: number[][][];
  audioToText?: number[][][];
  words: number;
  frames: number;
}

export async function predictEmotions(
  predictor: Predictor,
  examples: EmotionExampleInput[],
  presence: Presence[],
  shape: BatchShape & { batch: number },
  opts: { attention?: boolean } = {},
): Promise<EmotionPrediction[]> {
  const order = examples.map((_, i) => i);
  const { rows } = await predictInBatches(predictor, order, shape.batch, (idx) =>
    makeBatch(
      idx.map((i) => examples[i]),
      idx.map((i) => presence[i]),
      shape,
      false,
    ),
  );
  const probs = toFloat32(rows.probs);
  const gate = toFloat32(rows.modalityGate);
  return examples.map((ex, b) => {
    const p = Array.from(probs.subarray(b * 7, b * 7 + 7));
    const classId = p.indexOf(Math.max(...p));
    const present = presentInputs(ex, presence[b]);
    const words = present.text ? Math.min(shape.words, ex.tokens.length) : 1;
    const frames = present.audio ? Math.min(shape.frames, ex.frames) : 1;
    const pred: EmotionPrediction = {
      label: EMOTION_CLASSES[classId],
      classId,
      probs: p,
      words,
      frames,
      present,
      gate: { text: gate[3 * b], audio: gate[3 * b + 1], metadata: gate[3 * b + 2] },
    };
    // With a modality missing the maps only show the placeholder token or frame: left out.
    const both = present.text && present.audio;
    if (opts.attention && both && rows.textToAudio) pred.textToAudio = cutMaps(rows.textToAudio, b, words, frames);
    if (opts.attention && both && rows.audioToText) pred.audioToText = cutMaps(rows.audioToText, b, frames, words);
    return pred;
  });
}

/** weights [N, H, Q, K] -> item b's [H][q < rows][k < cols] */
function cutMaps(w: HostArray, b: number, rows: number, cols: number): number[][][] {
  const [, H, Q, K] = w.shape;
  const d = toFloat32(w);
  return Array.from({ length: H }, (_, h) =>
    Array.from({ length: rows }, (_, q) =>
      Array.from(d.subarray(((b * H + h) * Q + q) * K, ((b * H + h) * Q + q) * K + cols)),
    ),
  );
}
