/**
 * The learned av-sync model as a cue inside auto (auto.ts): its window-averaged class probabilities turned into a lag
 * curve, so the same curve statistics and the same kind of logistic calibration on real clips (calibration.ts, row
 * `model`) decide how far to trust it, side by side with the sound-event and lip cues. The model shipped with the
 * package (weights/av-sync/, reproduced by the command in docs/sync.md) joins auto with `--learned`; it is off by
 * default (it changed no held-out answer).
 *
 *   probs [21] (0.2 s classes) ─ linear interpolation between class centers ─> curve [101] (25 Hz lags) ─> curveStats
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FRAMES_PER_CLASS, MAX_LAG, SYNC_GRID } from './result.js';

/** The learned model's answer on a clip, before calibration. */
export interface LearnedCue {
  /** Temperature-scaled class probabilities averaged over the windows (weighted by their sync probability). */
  probs: number[];
  /** Mean sync probability over the windows. */
  syncProb: number;
  windows: number;
}

/** The folder of the weights that ship inside the package (config.json, best.safetensors, metrics.json). */
export const SHIPPED_SYNC_MODEL = fileURLToPath(new URL('../../../../weights/av-sync/', import.meta.url));

/** The shipped model's folder, or undefined when this installation has none (a trimmed copy). */
export function shippedSyncModel(): string | undefined {
  return existsSync(`${SHIPPED_SYNC_MODEL}/config.json`) ? SHIPPED_SYNC_MODEL : undefined;
}

/** Class probabilities -> a lag curve on the 25 Hz lags -MAX_LAG..MAX_LAG (peak at the best class's center). */
export function learnedCurve(probs: number[]): Float64Array {
  const L = 2 * MAX_LAG + 1;
  const out = new Float64Array(L);
  for (let i = 0; i < L; i++) {
    const pos = i / FRAMES_PER_CLASS; // class coordinate
    const k = Math.min(SYNC_GRID.length - 2, Math.floor(pos));
    const w = pos - k;
    out[i] = (1 - w) * probs[k] + w * probs[k + 1];
  }
  return out;
}
