/**
 * Calibrated confidence for the real-footage estimator (auto.ts): the probability that the reported lag is within
 * 0.2 s of the truth, from the shape of the lag curve it came from, by a logistic model per cue fitted on the real
 * development clips with their audio moved by known amounts (self-supervised: the truth is the shift). Refit and
 * print the weights with
 *   attune sync --bench real:dev --fit-calibration --json
 * and paste them into CALIBRATION. ECE and accuracy are then measured on the held-out clips (docs/sync.md). Adding
 * AV-Synth clips to the fit (clear events, so high peaks are right there) made the onset cue overconfident on the
 * real development clips (ECE 0.24 instead of 0.07, 14 of 147 cases confidently wrong): real clips only.
 */
import type { CurveStats } from './lag_curve.js';

export type CueKind = 'onset' | 'mouth' | 'envelope' | 'model' | 'fused';

/**
 * Curve shape -> model inputs (bias first). The last three are cue-specific (0 elsewhere; a row of 5 weights reads them
 * as weight 0): the surrogate significance of the peak (sound-event cue) and the agreement with a second estimate
 * (the sound-event cue: the envelope cue; the lip cue: the learned lip net, auto.ts lipAgreement), and the logit of
 * the learned lag scorer's probability mass within 0.2 s of its peak (cue `fused`, lag_scorer.ts). Two cues that share no signal (onsets against motion change; loudness against motion energy) rarely
 * agree by accident; agreement counts only where the sound-event peak is not ambiguous (on a rhythmic clip both cues
 * face the same period-off lags). With it the sound-event row's leave-one-clip-out log-loss on the development
 * cases fell from 0.581 to 0.480, and its answers at confidence >= 0.8 went from 4 of 5 right to 16 of 17
 * (agreement at any peak: 0.515, 15 of 16).
 */
export function calibrationInputs(s: CurveStats): number[] {
  return [
    1,
    s.peak,
    s.gap,
    Math.min(s.margin, 30) / 10,
    Math.log(Math.max(s.frames, 1) / 125),
    Math.log1p(Math.max(0, s.significance ?? 0)),
    s.agreement ?? 0,
    s.mass === undefined ? 0 : logit(s.mass),
  ];
}

/** log(p / (1 - p)), p kept inside [1e-6, 1 - 1e-6]. */
function logit(p: number): number {
  const q = Math.max(1e-6, Math.min(1 - 1e-6, p));
  return Math.log(q / (1 - q));
}

/** Inputs whose weight may not be negative (peak, gap, margin, significance, agreement, the learned scorer's mass;
 * not the bias or the clip length). */
const NON_NEGATIVE = new Set([1, 2, 3, 5, 6, 7]);

/**
 * Inputs a cue's fit leaves at 0. The sound-event cue does not read the clip length: on the development clips a long
 * clip's onset peak was no more often right (the 17.6 s TV interview: wrong at all 7 shifts, at 0.56-0.67
 * out-of-clip confidence with the length input, whose positive weight came from the 3 s GRID sentences, which the
 * significance input already scores 0); leave-one-clip-out log-loss 0.606 with it, 0.581 without. Its significance
 * already grows with the clip's length.
 */
export const FIXED_AT_ZERO: Partial<Record<CueKind, number[]>> = { onset: [4], fused: [1, 2, 3, 4, 5, 6] };

/** Weights per cue (from the command above; see docs/sync.md for the fit's data). */
export const CALIBRATION: Record<CueKind, number[]> = {
  onset: [-1.7591, 0, 0, 0, 0, 1.308, 2.0381],
  // Refitted in session 5 with the agreement input (lipAgreement), cross-fitted lip nets (docs/sync.md).
  mouth: [-0.111, 1.1938, 0.6814, 1.297, 0.1527, 0, 2.1229],
  envelope: [-0.8079, 1.4077, 0.3675, 1.9657, -0.0121],
  model: [-2.6757, 0, 0, 0.2789, 0.4733],
  // The learned lag scorer (lag_scorer.ts): bias and the logit of its mass within 0.2 s only, fitted on its
  // out-of-fold dev answers by `attune bench sync-scorer` (docs/sync.md, session 6).
  fused: [0.9759, 0, 0, 0, 0, 0, 0, 1.0489],
};

/**
 * Default threshold on the calibrated confidence below which the offset is withheld: the smallest (in 0.05 steps)
 * whose answers on the development part are >= 90 % within 0.2 s with <= 3 % of all cases confidently wrong
 * (session 3: 0.80 answered 65 of 147, all right; 0.75 gave 13 wrong, a crying baby's mouth at 0.796, then a panel of
 * several faces). Session 5, with the lip cue's agreement: 0.80 answers 79 of 147, all right; 0.75 and 0.70 meet the
 * rule too in-sample (1-2 wrong), but in-sample confidences flatter a threshold, so it stays at 0.80.
 */
export const DEFAULT_MIN_CONFIDENCE = 0.8;

export function calibratedConfidence(s: CurveStats, cue: CueKind, weights = CALIBRATION[cue]): number {
  const x = calibrationInputs(s);
  let z = 0;
  for (let i = 0; i < x.length; i++) z += (weights[i] ?? 0) * x[i];
  return 1 / (1 + Math.exp(-z));
}

/**
 * The calibration fit: a logistic model whose curve-shape weights may not be negative (a higher or more isolated
 * peak never lowers the confidence; with a few dozen right answers an unconstrained fit inverted the gap weight).
 * Active set: a weight that comes out negative is fixed at 0 and the rest refitted.
 */
export function fitCalibrationWeights(X: number[][], y: number[], fixedAtZero: number[] = []): number[] {
  const free = X[0].map((_, i) => !fixedAtZero.includes(i));
  for (;;) {
    const cols = free.flatMap((f, i) => (f ? [i] : []));
    const w = fitLogistic(
      X.map((x) => cols.map((i) => x[i])),
      y,
    );
    const full = X[0].map(() => 0);
    cols.forEach((i, k) => (full[i] = w[k]));
    const negative = cols.filter((i, k) => NON_NEGATIVE.has(i) && w[k] < 0);
    if (!negative.length) return full;
    for (const i of negative) free[i] = false;
  }
}

/** L2-regularized logistic regression by Newton's method (small, deterministic: no randomness, no learning rate). */
export function fitLogistic(X: number[][], y: number[], l2 = 1e-2, iterations = 50): number[] {
  const d = X[0]?.length ?? 0;
  const w = new Array<number>(d).fill(0);
  for (let it = 0; it < iterations; it++) {
    const g = new Array<number>(d).fill(0);
    const H = Array.from({ length: d }, (_, i) =>
      Array.from({ length: d }, (_, j) => (i === j && i > 0 ? l2 * X.length : 0) + (i === j ? 1e-9 : 0)),
    );
    for (let i = 1; i < d; i++) g[i] += l2 * X.length * w[i];
    X.forEach((x, n) => {
      const p = 1 / (1 + Math.exp(-x.reduce((s, v, i) => s + v * w[i], 0)));
      for (let i = 0; i < d; i++) {
        g[i] += (p - y[n]) * x[i];
        for (let j = 0; j < d; j++) H[i][j] += p * (1 - p) * x[i] * x[j];
      }
    });
    const step = solve(H, g);
    let size = 0;
    for (let i = 0; i < d; i++) {
      w[i] -= step[i];
      size += Math.abs(step[i]);
    }
    if (size < 1e-8) break;
  }
  return w;
}

/** Gaussian elimination with partial pivoting (d is tiny). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}
