/**
 * Seven facial-expression probabilities from the emotion model inside the `@vladmandic/human` npm package (oarriaga's
 * face_classification mini-Xception, a TFJS graph model; MIT), converted to ONNX in memory by tfjs_onnx.ts and run
 * by onnxruntime-node, like blazeface and facemesh (face_mesh.ts). The input is prepared as human's own
 * src/gear/emotion.ts does for this grayscale model:
 *
 *   face crop (RGB, 0..1) ─ bilinear 64² ─ gray = 0.2989 R + 0.5870 G + 0.1140 B ─ (gray - 0.5) · 2 ─ model ─ softmax
 *
 * The model's classes, in its output order (human's `annotations` for a one-channel input), are
 * angry, disgust, fear, happy, sad, surprise, neutral: the same seven as FER-2013 and as EXPRESSIONS below, which
 * keeps the order and names the face preset has always written (face-api's: fearful = fear, disgusted = disgust,
 * surprised = surprise).
 */
import * as ort from 'onnxruntime-node';
import { cropSquare, humanModelSession, type Rgb } from './face_mesh.js';

export const EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;
export type Expression = (typeof EXPRESSIONS)[number];

/** The emotion model's output order. */
export const EMOTION_CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
const CLASS_OF: Record<Expression, (typeof EMOTION_CLASSES)[number]> = {
  neutral: 'neutral',
  happy: 'happy',
  sad: 'sad',
  angry: 'angry',
  fearful: 'fear',
  disgusted: 'disgust',
  surprised: 'surprise',
};
/** For each EXPRESSIONS entry, its index in the model's output. */
export const EXPRESSION_INDEX = EXPRESSIONS.map((e) => EMOTION_CLASSES.indexOf(CLASS_OF[e]));

export const EMOTION_SIZE = 64;
/** ITU-R BT.601 luma weights, as human uses them (constants.rgb). */
const GRAY = [0.2989, 0.587, 0.114];

/** The model's input for a square face region (center and side in frame pixels): [64 * 64] values in [-1, 1]. */
export function expressionInput(img: Rgb, cx: number, cy: number, side: number): Float32Array {
  const rgb = cropSquare(img, cx, cy, side, EMOTION_SIZE, 1 / 255, 0);
  const out = new Float32Array(EMOTION_SIZE * EMOTION_SIZE);
  for (let p = 0; p < out.length; p++) {
    const gray = GRAY[0] * rgb[3 * p] + GRAY[1] * rgb[3 * p + 1] + GRAY[2] * rgb[3 * p + 2];
    out[p] = (gray - 0.5) * 2;
  }
  return out;
}

/** Reorders the model's seven probabilities into EXPRESSIONS order. */
export function toExpressionOrder(modelProbs: ArrayLike<number>): Float32Array {
  return Float32Array.from(EXPRESSION_INDEX, (i) => modelProbs[i]);
}

export class ExpressionNet {
  private constructor(private readonly net: { s: ort.InferenceSession; input: string }) {}

  static async load(): Promise<ExpressionNet> {
    return new ExpressionNet(await humanModelSession('emotion'));
  }

  /** The model's raw output (EMOTION_CLASSES order) for prepared inputs ([n * 64 * 64], see expressionInput). */
  async run(inputs: Float32Array, n = 1): Promise<Float32Array> {
    const x = new ort.Tensor('float32', inputs, [n, EMOTION_SIZE, EMOTION_SIZE, 1]);
    const r = await this.net.s.run({ [this.net.input]: x });
    return Object.values(r)[0].data as Float32Array;
  }

  /** Expression probabilities (EXPRESSIONS order) of the face in a square region of the frame. */
  async classify(img: Rgb, cx: number, cy: number, side: number): Promise<Float32Array> {
    return toExpressionOrder(await this.run(expressionInput(img, cx, cy, side)));
  }

  async close(): Promise<void> {
    await this.net.s.release();
  }
}
