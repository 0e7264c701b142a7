/**
 * The AV-Synth audio classifier v2a is scored with (the role PANNs / PaSST play in av-benchmark): multi-label
 * logistic regression from pooled log-mel statistics to the sounding classes, trained here on real training audio.
 *
 *   wave -> encodeAudio [T, 64] -> per band: max and mean over time, standardized -> [128] -> W [128, K] + b -> logits [K]
 *
 * FD, KL and IS are computed on the logits (K = 8 dims: small test sets can fit a full covariance there, unlike 128).
 */
import { encodeAudio, latentFrames, N_MELS, SAMPLE_RATE } from './audio.js';

export const FEATURES = 2 * N_MELS;

/** Pooled log-mel statistics of a 16 kHz wave: [max over time (64) | mean over time (64)]. */
export function audioFeatures(wave: Float32Array): Float64Array {
  const frames = Math.max(1, latentFrames(wave.length / SAMPLE_RATE));
  const x = encodeAudio(wave.length ? wave : new Float32Array(1), frames);
  const f = new Float64Array(FEATURES).fill(-Infinity);
  for (let m = 0; m < N_MELS; m++) f[N_MELS + m] = 0;
  for (let t = 0; t < frames; t++) {
    for (let m = 0; m < N_MELS; m++) {
      const v = x[t * N_MELS + m];
      if (v > f[m]) f[m] = v;
      f[N_MELS + m] += v / frames;
    }
  }
  return f;
}

export interface AudioClassifier {
  classes: number;
  mean: Float64Array;
  std: Float64Array;
  weight: Float64Array; // [FEATURES, K]
  bias: Float64Array; // [K]
  /** Accuracy on its own training set (top-k = the number of true classes). */
  trainAccuracy: number;
}

/** Fits the classifier by full-batch gradient descent on binary cross-entropy (deterministic: zero start). */
export function trainClassifier(
  features: Float64Array[],
  labels: number[][],
  classes: number,
  epochs = 400,
  lr = 0.5,
): AudioClassifier {
  const n = features.length;
  const mean = new Float64Array(FEATURES),
    std = new Float64Array(FEATURES);
  for (const f of features) for (let j = 0; j < FEATURES; j++) mean[j] += f[j] / n;
  for (const f of features) for (let j = 0; j < FEATURES; j++) std[j] += (f[j] - mean[j]) ** 2 / n;
  for (let j = 0; j < FEATURES; j++) std[j] = Math.sqrt(std[j]) + 1e-6;
  const xs = features.map((f) => f.map((v, j) => (v - mean[j]) / std[j]));
  const clf: AudioClassifier = {
    classes,
    mean,
    std,
    weight: new Float64Array(FEATURES * classes),
    bias: new Float64Array(classes),
    trainAccuracy: 0,
  };
  const gw = new Float64Array(FEATURES * classes),
    gb = new Float64Array(classes);
  for (let e = 0; e < epochs; e++) {
    gw.fill(0);
    gb.fill(0);
    xs.forEach((x, i) => {
      const z = linearLogits(clf, x);
      for (let k = 0; k < classes; k++) {
        const err = 1 / (1 + Math.exp(-z[k])) - (labels[i].includes(k) ? 1 : 0);
        gb[k] += err / n;
        for (let j = 0; j < FEATURES; j++) gw[j * classes + k] += (err * x[j]) / n;
      }
    });
    for (let j = 0; j < gw.length; j++) clf.weight[j] -= lr * (gw[j] + 1e-3 * clf.weight[j]);
    for (let k = 0; k < classes; k++) clf.bias[k] -= lr * gb[k];
  }
  clf.trainAccuracy = classAccuracy(
    features.map((f) => classify(clf, f)),
    labels,
  );
  return clf;
}

function linearLogits(clf: AudioClassifier, x: Float64Array): Float64Array {
  const z = Float64Array.from(clf.bias);
  for (let j = 0; j < FEATURES; j++) {
    const v = x[j];
    for (let k = 0; k < clf.classes; k++) z[k] += v * clf.weight[j * clf.classes + k];
  }
  return z;
}

/** Class logits [K] of pooled features. */
export function classify(clf: AudioClassifier, features: Float64Array): Float64Array {
  return linearLogits(
    clf,
    features.map((v, j) => (v - clf.mean[j]) / clf.std[j]),
  );
}

/** Mean over clips of the fraction of true classes among the top-|true| logits. */
export function classAccuracy(logits: Float64Array[], labels: number[][]): number {
  let acc = 0,
    n = 0;
  logits.forEach((z, i) => {
    if (!labels[i].length) return;
    const top = Array.from(z.keys())
      .sort((a, b) => z[b] - z[a])
      .slice(0, labels[i].length);
    acc += top.filter((k) => labels[i].includes(k)).length / labels[i].length;
    n++;
  });
  return n ? acc / n : NaN;
}
