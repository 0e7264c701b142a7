import { syncGrid } from '../../data/synth/clip.js';

/**
 * What `attune sync` reports, for both methods. Sign convention (AV-Synth, docs/data.md): a positive offset means
 * the audio is late - a sound that belongs to what is seen at t is heard at t + offset.
 */
export const SYNC_GRID = syncGrid(2, 0.2); // [-2, -1.8, ..., 2]: 21 classes (Synchformer / DeSync grid)
export const SYNC_CLASSES = SYNC_GRID.length;
export const FRAMES_PER_CLASS = 5; // 0.2 s at 25 Hz
export const MAX_LAG = ((SYNC_CLASSES - 1) / 2) * FRAMES_PER_CLASS; // 50 frames = 2 s

export interface SyncEstimate {
  method: 'xcorr' | 'model' | 'auto';
  /** Offset in seconds on the 0.2 s grid; null when the clip is not synchronizable. */
  offset: number | null;
  offsetClass: number | null;
  /** The best offset before snapping (continuous, seconds); given even when not synchronizable, for inspection. */
  lag: number;
  /** Probability of the reported class (calibrated: temperature-scaled); capped by synchronizability when not synchronizable. */
  confidence: number;
  /** 0..1: whether the clip carries sync cues at all (audio onsets and visible motion that match). */
  synchronizability: number;
  synchronizable: boolean;
  /** Why a clip is judged not synchronizable (silent audio, static picture, ...). */
  reason?: string;
  /** Per-class probabilities over SYNC_GRID. */
  probs: number[];
  /** Time span analysed (s) and the windows used. */
  span: { start: number; end: number };
  windows: number;
}

/** Threshold on synchronizability below which no offset is reported. */
export const SYNCHRONIZABLE_AT = 0.5;

/**
 * Commitment gate on the calibrated confidence (logistic, 0.5 at 0.7): a clip whose evidence does not single out
 * one offset (windows disagreeing, a flat lag curve) is not synchronizable, whatever the cue detectors say. Both
 * methods fold it into their synchronizability, so a number is only reported when it is likely right.
 */
export function confidenceGate(confidence: number): number {
  return 1 / (1 + Math.exp(-(confidence - 0.7) / 0.05));
}

export function softmaxOf(scores: ArrayLike<number>, temperature = 1): number[] {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i] / temperature);
  const e = Array.from(scores, (s) => Math.exp(s / temperature - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

export function argmaxOf(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** One line for people: "offset +0.40 s (audio late), confidence 0.93, synchronizability 0.88". */
export function describeEstimate(e: SyncEstimate): string {
  const sync = `synchronizability ${e.synchronizability.toFixed(2)}`;
  if (!e.synchronizable || e.offset === null) {
    return `not synchronizable (${e.reason ?? 'no sync cues'}); ${sync}; best lag ${fmt(e.lag)} s with confidence ${e.confidence.toFixed(2)} (not reliable)`;
  }
  const side = e.offset > 0 ? 'audio late' : e.offset < 0 ? 'audio early' : 'in sync';
  return `offset ${fmt(e.offset)} s (${side}), confidence ${e.confidence.toFixed(2)}, ${sync}, continuous lag ${fmt(e.lag)} s`;
}

function fmt(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
}

/** Expected calibration error of (confidence, correct) pairs over `bins` equal-width bins. */
export function expectedCalibrationError(
  confidence: ArrayLike<number>,
  correct: ArrayLike<boolean | number>,
  bins = 10,
): number {
  const n = confidence.length;
  const sumConf = new Float64Array(bins);
  const sumAcc = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.floor(confidence[i] * bins));
    sumConf[b] += confidence[i];
    sumAcc[b] += Number(correct[i]);
    count[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++)
    if (count[b] > 0) ece += (count[b] / n) * Math.abs(sumAcc[b] / count[b] - sumConf[b] / count[b]);
  return ece;
}

/** The temperature T (grid search on log T) minimizing the mean NLL of softmax(logits / T) for the true classes. */
export function fitTemperature(
  logits: Float32Array | number[][],
  labels: ArrayLike<number>,
  classes = SYNC_CLASSES,
): number {
  const rows = Array.isArray(logits)
    ? logits
    : Array.from({ length: labels.length }, (_, i) => Array.from(logits.subarray(i * classes, (i + 1) * classes)));
  let best = 1;
  let bestNll = Infinity;
  for (let k = -120; k <= 120; k++) {
    const T = Math.exp(k / 40);
    let nll = 0;
    for (let i = 0; i < rows.length; i++) nll -= Math.log(Math.max(1e-12, softmaxOf(rows[i], T)[labels[i]]));
    if (nll < bestNll) {
      bestNll = nll;
      best = T;
    }
  }
  return best;
}
