import type { SyncFeatures } from './features.js';
import {
  FRAMES_PER_CLASS,
  MAX_LAG,
  SYNC_CLASSES,
  SYNC_GRID,
  SYNCHRONIZABLE_AT,
  argmaxOf,
  confidenceGate,
  softmaxOf,
  type SyncEstimate,
} from './result.js';

/**
 * The classical baseline (`attune sync --method xcorr`): the audio onset envelope against the visual motion-onset
 * signal (cell-wise positive differences of motion energy), both at 25 Hz, cross-correlated (Pearson per lag) over
 * lags -2..+2 s, averaged with the correlation against the motion onsets' leading edges (see leadingEdges). A
 * positive lag L means audio[t + L] matches video[t]: the audio is late.
 *
 * - offset: the best lag snapped to the 21-class grid; `lag` is the parabola-refined continuous lag.
 * - confidence: softmax over the 21 class scores (each the best lag within +-2 frames of the class center) at a
 *   fixed temperature fitted on AV-Synth validation clips (see docs/sync.md), so 0.9 means about 90 % right there.
 * - synchronizability: the smallest of an audio cue gate (are there onsets at all?), a visual cue gate (is anything
 *   moving?), a peak gate (SyncNet-style margin: best score minus the median score, in units of their spread) and
 *   the confidence gate (result.ts).
 */
export interface XcorrOptions {
  temperature?: number;
  /** Minimum frames analysed (default 120 = 4.8 s, the model's window, so both methods refuse the same clips). */
  minFrames?: number;
}

export const XCORR_TEMPERATURE = 0.035;

/** Cue gates: strength / (strength + half), so `half` is the strength judged 50 % present. */
const AUDIO_HALF = 0.6; // peakiness of the 25 Hz onset envelope (dB flux per band): silence 0, steady tone ~0.2, AV-Synth >= 4, speech ~1.5
const VIDEO_HALF = 0.01; // peakiness of the motion-onset signal (luma units summed over 16 cells): still picture ~0, testsrc 0.07
/** Peak gate: logistic in the SyncNet-like margin (peak - median) / MAD of the lag scores, 0.5 at MARGIN_MID. */
const MARGIN_MID = 6;
const MARGIN_WIDTH = 1;

export function xcorrLagScores(a: Float32Array, v: Float32Array, mask: Uint8Array, maxLag = MAX_LAG): Float64Array {
  const T = a.length;
  const scores = new Float64Array(2 * maxLag + 1);
  for (let L = -maxLag; L <= maxLag; L++) {
    let n = 0,
      sa = 0,
      sv = 0,
      saa = 0,
      svv = 0,
      sav = 0;
    for (let t = Math.max(0, -L); t < Math.min(T, T - L); t++) {
      if (!mask[t] || !mask[t + L]) continue;
      const x = a[t + L],
        y = v[t];
      n++;
      sa += x;
      sv += y;
      saa += x * x;
      svv += y * y;
      sav += x * y;
    }
    if (n < 10) continue;
    const cov = sav / n - (sa / n) * (sv / n);
    const va = saa / n - (sa / n) ** 2;
    const vv = svv / n - (sv / n) ** 2;
    scores[L + maxLag] = va > 1e-12 && vv > 1e-12 ? cov / Math.sqrt(va * vv) : 0;
  }
  return scores;
}

/**
 * The part of each value above the largest of the previous `refractory` frames: a brief event makes motion twice
 * (a flash or an impact appears, then disappears); keeping only the leading edge stops the second burst from
 * pulling the correlation peak late.
 */
export function leadingEdges(x: Float32Array, refractory = 3): Float32Array {
  const out = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) {
    let prev = 0;
    for (let k = Math.max(0, t - refractory); k < t; k++) prev = Math.max(prev, x[k]);
    out[t] = Math.max(0, x[t] - prev);
  }
  return out;
}

/** Class scores: the best lag score within each class's +-2 frames. */
export function classScores(lagScores: Float64Array, maxLag = MAX_LAG): Float64Array {
  const out = new Float64Array(SYNC_CLASSES);
  const half = Math.floor(FRAMES_PER_CLASS / 2);
  for (let c = 0; c < SYNC_CLASSES; c++) {
    const center = (c - (SYNC_CLASSES - 1) / 2) * FRAMES_PER_CLASS;
    let best = -Infinity;
    for (let L = center - half; L <= center + half; L++)
      if (Math.abs(L) <= maxLag) best = Math.max(best, lagScores[L + maxLag]);
    out[c] = best;
  }
  return out;
}

/**
 * How far the signal's peaks stand above its typical level: the mean of the top 2 % of frames (at least 3) minus
 * the median (masked). Sparse events (a few claps) count as much as dense ones; silence and steady tones give ~0.
 */
function peakiness(x: Float32Array, mask: Uint8Array): number {
  const vals: number[] = [];
  for (let i = 0; i < x.length; i++) if (mask[i]) vals.push(x[i]);
  if (vals.length < 10) return 0;
  vals.sort((a, b) => a - b);
  const k = Math.max(3, Math.round(0.02 * vals.length));
  let top = 0;
  for (let i = vals.length - k; i < vals.length; i++) top += vals[i];
  return top / k - vals[Math.floor(0.5 * (vals.length - 1))];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Cue strengths used by both methods' gates. */
export function cueStrengths(f: SyncFeatures): { audio: number; video: number; audioGate: number; videoGate: number } {
  const audio = peakiness(f.onset, f.mask);
  const video = peakiness(f.motionOnset, f.mask);
  return { audio, video, audioGate: audio / (audio + AUDIO_HALF), videoGate: video / (video + VIDEO_HALF) };
}

/** Reason text for a failed gate, or undefined. */
export function cueReason(c: ReturnType<typeof cueStrengths>, hasAudio = true): string | undefined {
  if (!hasAudio) return 'no audio stream';
  if (c.audioGate < 0.5 && c.videoGate < 0.5) return 'silent or steady audio and a static picture';
  if (c.audioGate < 0.5) return 'audio is silent or has no onsets';
  if (c.videoGate < 0.5) return 'picture is static (no motion)';
  return undefined;
}

export function xcorrSync(f: SyncFeatures, opts: XcorrOptions = {}): SyncEstimate {
  const T = f.frames;
  const span = { start: 0, end: T / f.rate };
  const minFrames = opts.minFrames ?? 120;
  const raw = xcorrLagScores(f.onset, f.motionOnset, f.mask);
  const lead = xcorrLagScores(f.onset, leadingEdges(f.motionOnset), f.mask);
  const lag = raw.map((r, i) => (r + lead[i]) / 2);
  const cls = classScores(lag);
  const probs = softmaxOf(cls, opts.temperature ?? XCORR_TEMPERATURE);
  const best = argmaxOf(lag);
  const refined = best > 0 && best < lag.length - 1 ? parabolicPeak(lag[best - 1], lag[best], lag[best + 1]) : 0;
  const lagSec = (best - MAX_LAG + refined) / f.rate;
  const c = cueStrengths(f);
  const scores = Array.from(lag);
  const med = median(scores);
  const mad = median(scores.map((s) => Math.abs(s - med))) + 1e-6;
  const margin = (lag[best] - med) / mad;
  const peakGate = lag[best] > 0 ? 1 / (1 + Math.exp(-(margin - MARGIN_MID) / MARGIN_WIDTH)) : 0;
  const k = argmaxOf(probs);
  const synchronizability = Math.min(c.audioGate, c.videoGate, peakGate, confidenceGate(probs[k]));
  let reason = cueReason(c);
  if (!reason && T < minFrames)
    reason = `clip is ${(T / f.rate).toFixed(2)} s; sync analysis needs at least ${(minFrames / f.rate).toFixed(1)} s`;
  if (!reason && synchronizability < SYNCHRONIZABLE_AT)
    reason =
      peakGate < 0.5
        ? 'no clear correlation peak between sound onsets and motion'
        : 'the correlation does not single out one offset (low confidence)';
  const ok = reason === undefined;
  const sync = T < minFrames ? Math.min(synchronizability, 0.1) : synchronizability;
  return {
    method: 'xcorr',
    offset: ok ? SYNC_GRID[k] : null,
    offsetClass: ok ? k : null,
    lag: Math.round(lagSec * 1000) / 1000,
    // Without sync cues the class probability means nothing: it is capped by the synchronizability.
    confidence: ok ? probs[k] : Math.min(probs[k], sync),
    synchronizability: sync,
    synchronizable: ok,
    reason,
    probs,
    span,
    windows: 1,
  };
}

/** Vertex offset (-0.5..0.5) of the parabola through three equally spaced points. */
function parabolicPeak(a: number, b: number, c: number): number {
  const d = a - 2 * b + c;
  return d < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / d)) : 0;
}
