/**
 * `attune sync VIDEO --timeline`: the offset window by window over the file, and its drift. A file whose audio
 * runs at a slightly wrong rate (a 48 kHz track labeled 47.952 kHz, a dropped-frame capture) is in sync at one end
 * and off at the other: one number for the whole file hides that. Each window (TIMELINE_WINDOW s, stride
 * TIMELINE_STRIDE s) is measured by auto; the drift is the Theil-Sen slope (median of pairwise slopes: robust to a
 * few wrong windows) of the answered windows' lags against their centers, in seconds per minute.
 *
 *   features [T] ─ windows ─ autoSync each ─> lag(t) ─ answered only ─ Theil-Sen ─> drift (s/min), lag at t=0
 */
import { autoSync, type AutoOptions } from './auto.js';
import type { SyncFeatures } from './features.js';
import type { MouthTrack } from './mouth_cue.js';

export const TIMELINE_WINDOW = 6;
export const TIMELINE_STRIDE = 2;

export interface TimelineWindow {
  start: number;
  end: number;
  lag: number;
  confidence: number;
  answered: boolean;
  cue: string;
}

export interface SyncTimeline {
  windows: TimelineWindow[];
  /** null when fewer than 3 windows were answered (the reason says so). */
  drift: { secondsPerMinute: number; lagAtStart: number; windowsUsed: number } | null;
  reason?: string;
}

/** Theil-Sen line: slope = median of pairwise slopes, intercept = median of y - slope x. */
export function theilSen(x: number[], y: number[]): { slope: number; intercept: number } {
  const slopes: number[] = [];
  for (let i = 0; i < x.length; i++)
    for (let j = i + 1; j < x.length; j++) if (x[j] !== x[i]) slopes.push((y[j] - y[i]) / (x[j] - x[i]));
  const slope = median(slopes);
  return { slope, intercept: median(y.map((v, i) => v - slope * x[i])) };
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Frames [t0, t0 + n) of a feature set (copies). */
export function sliceFeatures(f: SyncFeatures, t0: number, n: number): SyncFeatures {
  const rows = (x: Float32Array) => {
    const d = x.length / f.frames;
    return x.slice(t0 * d, (t0 + n) * d);
  };
  return {
    rate: f.rate,
    frames: n,
    audio: rows(f.audio),
    video: rows(f.video),
    onset: rows(f.onset),
    motion: rows(f.motion),
    motionOnset: rows(f.motionOnset),
    mask: f.mask.slice(t0, t0 + n),
    audioMask: f.audioMask?.slice(t0, t0 + n),
    videoMask: f.videoMask?.slice(t0, t0 + n),
  };
}

export function syncTimeline(
  f: SyncFeatures,
  opts: AutoOptions & { window?: number; stride?: number } = {},
): SyncTimeline {
  const W = Math.round((opts.window ?? TIMELINE_WINDOW) * f.rate);
  const S = Math.round((opts.stride ?? TIMELINE_STRIDE) * f.rate);
  const windows: TimelineWindow[] = [];
  for (let t0 = 0; t0 + W <= f.frames || (t0 === 0 && f.frames > 0); t0 += S) {
    const n = Math.min(W, f.frames - t0);
    const mouth: MouthTrack | undefined = opts.mouth && {
      opening: opts.mouth.opening.slice(t0, t0 + n),
      mask: opts.mouth.mask.slice(t0, t0 + n),
    };
    const e = autoSync(sliceFeatures(f, t0, n), { ...opts, mouth });
    windows.push({
      start: t0 / f.rate,
      end: (t0 + n) / f.rate,
      lag: e.lag,
      confidence: e.confidence,
      answered: e.synchronizable,
      cue: e.cue,
    });
    if (n < W) break;
  }
  const used = windows.filter((w) => w.answered);
  if (used.length < 3)
    return {
      windows,
      drift: null,
      reason: `${used.length} of ${windows.length} windows answered; a drift needs at least 3`,
    };
  const { slope, intercept } = theilSen(
    used.map((w) => (w.start + w.end) / 2),
    used.map((w) => w.lag),
  );
  return {
    windows,
    drift: {
      secondsPerMinute: Math.round(slope * 60 * 1e4) / 1e4,
      lagAtStart: Math.round(intercept * 1e3) / 1e3,
      windowsUsed: used.length,
    },
  };
}
