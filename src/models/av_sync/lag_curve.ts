/**
 * Lag curves for real footage. xcorr.ts correlates per lag over the overlapping frames only (Pearson), which lets
 * a large lag win on a handful of frames; here each signal is centerd and scaled once over the whole clip and the
 * products are summed at every lag (full-length normalized cross-correlation), so a lag that leaves frames out pays
 * for them. A curve's shape then says how much to trust its peak: height, the margin over the typical lag (SyncNet's
 * AV-offset confidence: peak minus median) and the gap to the best lag more than 3 frames away (periodic clips:
 * drumming, chopping, gunfire at a steady rate give a second peak one period away).
 *
 *   audio onsets [T] ──┐
 *                      ├─ fullXcorr ─> curve [2·maxLag+1] ─> curveStats: lag, peak, margin, gap
 *   motion cue [T] ────┘
 */
import { MAX_LAG } from './result.js';

export interface CurveStats {
  /** Best lag in frames (positive = audio late) and its parabola-refined value. */
  best: number;
  refined: number;
  peak: number;
  /** (peak - median) / MAD over all lags. */
  margin: number;
  /** peak minus the best score more than 3 frames away from the peak, and that runner-up's lag in frames. */
  gap: number;
  runnerUp: number;
  /** Frames where both signals are present. */
  frames: number;
  /**
   * How far the peak stands above the peaks of the same cue on circularly rotated audio (z-score; onset_cue.ts
   * onsetSignificance). Absent for cues without the test; 0 when the clip is too short to rotate.
   */
  significance?: number;
  /**
   * 1 when this curve's peak is not ambiguous and a cue that shares no signal with this one (the loudness envelope
   * against motion energy) finds its best lag within 0.2 s of it, else 0 (auto.ts). Absent for cues without that
   * check. On a rhythmic clip both cues face the same period-off lags, so their agreement there says nothing.
   */
  agreement?: number;
  /**
   * Frames the best lag pairs: audio present at t + best and picture present at t (pairedFrames). Absent where the
   * cue does not say which frames each signal covers. A far lag on a short clip pairs few frames (a 3 s GRID sentence
   * with audio 1.2 s late peaked at -1.3 s on 11 paired frames, against 41 at the true lag), so its peak rests on
   * little evidence.
   */
  paired?: number;
  /** For a curve that is a distribution over lags (the learned lag scorer's): its mass within 0.2 s of the peak. */
  mass?: number;
}

function centerd(x: Float32Array, mask: Uint8Array): { y: Float64Array; norm: number } {
  let s = 0,
    n = 0;
  for (let i = 0; i < x.length; i++)
    if (mask[i]) {
      s += x[i];
      n++;
    }
  const mean = s / Math.max(1, n);
  const y = new Float64Array(x.length);
  let e = 0;
  for (let i = 0; i < x.length; i++)
    if (mask[i]) {
      y[i] = x[i] - mean;
      e += y[i] * y[i];
    }
  return { y, norm: Math.sqrt(e) + 1e-12 };
}

/**
 * score[L + maxLag] = sum_t a[t + L] v[t] / (|a| |v|), each centerd over its own present frames. Separate masks
 * matter: with audio that starts 1.2 s late, one common mask would also blank the first 1.2 s of picture, which the
 * true lag pairs with present audio, and halve the overlap the right answer is scored on (a 3 s clip kept 15 of 75
 * frames at its true lag).
 */
export function fullXcorr(
  a: Float32Array,
  v: Float32Array,
  maskA: Uint8Array,
  maskV = maskA,
  maxLag = MAX_LAG,
): Float64Array {
  const T = a.length;
  const A = centerd(a, maskA),
    V = centerd(v, maskV);
  const out = new Float64Array(2 * maxLag + 1);
  for (let L = -maxLag; L <= maxLag; L++) {
    let s = 0;
    for (let t = Math.max(0, -L); t < Math.min(T, T - L); t++) s += A.y[t + L] * V.y[t];
    out[L + maxLag] = s / (A.norm * V.norm);
  }
  return out;
}

/** Frames t with maskA[t + lag] and maskV[t]: what lag `lag` (frames, positive = audio late) pairs. */
export function pairedFrames(maskA: Uint8Array, maskV: Uint8Array, lag: number): number {
  let n = 0;
  for (let t = Math.max(0, -lag); t < Math.min(maskV.length, maskA.length - lag); t++) n += maskA[t + lag] & maskV[t];
  return n;
}

export function meanCurve(curves: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(curves[0].length);
  for (const c of curves) for (let i = 0; i < out.length; i++) out[i] += c[i] / curves.length;
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A runner-up lag within 10 % of the peak: rhythmic events (chopping, drumming) fit one period off as well. */
export function ambiguous(s: Pick<CurveStats, 'gap' | 'peak'>): boolean {
  return s.gap < 0.1 * Math.max(s.peak, 0.2);
}

export function curveStats(curve: ArrayLike<number>, mask: Uint8Array, maxLag = MAX_LAG): CurveStats {
  const c = Array.from(curve);
  let b = 0;
  for (let i = 1; i < c.length; i++) if (c[i] > c[b]) b = i;
  const med = median(c);
  const mad = median(c.map((x) => Math.abs(x - med))) + 1e-6;
  let second = -Infinity,
    runnerUp = b;
  for (let i = 0; i < c.length; i++)
    if (Math.abs(i - b) > 3 && c[i] > second) {
      second = c[i];
      runnerUp = i;
    }
  const d = b > 0 && b < c.length - 1 ? c[b - 1] - 2 * c[b] + c[b + 1] : 0;
  const vertex = d < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (c[b - 1] - c[b + 1])) / d)) : 0;
  let frames = 0;
  for (const m of mask) frames += m;
  return {
    best: b - maxLag,
    refined: b - maxLag + vertex,
    peak: c[b],
    margin: (c[b] - med) / mad,
    gap: c[b] - second,
    runnerUp: runnerUp - maxLag,
    frames,
  };
}
