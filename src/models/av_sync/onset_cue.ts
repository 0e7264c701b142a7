/**
 * The sound-event cue for real footage: audio onsets against motion changes where the motion co-varies with the
 * sound. The picture is cut into the 4x4 cells the sync front end already measures (features.ts); each cell's
 * motion change, and the whole frame's, give a lag curve against the audio onset envelope, and the curves of the
 * TOP_REGIONS cells with the highest peaks are averaged: a hammer, a mouth or a drum fills a few cells, and the rest
 * of the frame (camera shake, a crowd) only adds noise to a whole-frame sum. The region is chosen per clip, per call.
 *
 * Motion change = |d/dt log(1 + 100 m)|, both signs: an impact is heard when a moving thing *stops* (a knife on the
 * board, a stick on a bag: the motion energy falls) as often as when something starts (a muzzle flash). Rising
 * edges only (the first version) had the best lag within 0.2 s on 22 of the 49 non-talking-head development cases,
 * both signs on 28 (falling edges alone: 14).
 *
 * The three cells are chosen twice: first by their own peaks, then again by their scores at the lag where the mean
 * of those three curves peaks (the consensus lag). A rhythmic region (a hand moving at the chopping rate, one beat
 * off) can peak higher than a region that follows the sound, pull the mean down and hide a true peak; re-choosing
 * at the consensus keeps the regions that agree. On the development clips this kept the hitting bag's peak at
 * 0.36-0.40 at every shift (0.26-0.40 before, lowest where the shift moved events out of the picture) and took the
 * significance of the gunshot's two wrong lags (audio 0.2 and 0.6 s early: the shot's sound leaves the clip) from
 * 3.7 and 7.3 to 1.2 and 1.5, with 52 instead of 53 of 147 best lags within 0.2 s.
 *
 *   cell levels [T, 17] ─> |Δ| ─> fullXcorr vs audio onsets ─> 17 curves ─> top 3 by peak ─> mean ─> its best lag
 *                                                          ─> top 3 by score at that lag ─> mean curve
 */
import { VIDEO_DIM, type SyncFeatures } from './features.js';
import { fullXcorr, meanCurve } from './lag_curve.js';
import { MAX_LAG } from './result.js';
import { loudness } from './mouth_cue.js';

const CELLS = 16;
export const TOP_REGIONS = 3;

/** Log motion energy of cell `i` (CELLS = the whole frame) per frame ([T]): the front end's level columns. */
function cellLevels(f: SyncFeatures, i: number): Float32Array {
  const out = new Float32Array(f.frames);
  for (let t = 0; t < f.frames; t++) out[t] = f.video[t * VIDEO_DIM + i];
  return out;
}

/** Motion change of cell `i` (CELLS = the whole frame): |level_t - level_t-1| ([T]). */
export function cellChanges(f: SyncFeatures, i: number): Float32Array {
  const level = cellLevels(f, i);
  const out = new Float32Array(f.frames);
  for (let t = 1; t < f.frames; t++) out[t] = Math.abs(level[t] - level[t - 1]);
  return out;
}

export interface OnsetCue {
  curve: Float64Array;
  /** Cells whose curves were averaged (-1 = the whole frame), best first. */
  regions: number[];
}

export function onsetCue(f: SyncFeatures): OnsetCue & { significance: number } {
  const cue = onsetCurve(f);
  return { ...cue, significance: onsetSignificance(f, maxOf(cue.curve)) };
}

function onsetCurve(f: SyncFeatures): OnsetCue {
  // Not xcorr.ts's leading edges (for flashes that appear and go): they lost a third of the right answers on the
  // real development clips (16 % vs 24 % best lag within 0.2 s), whose motion is rarely a flash.
  return topRegions(f.onset, cellChanges(f, CELLS), (i) => cellChanges(f, i), f, true);
}

/** Circular rotations of the audio tried by onsetSignificance. */
export const SURROGATES = 16;
/** Added to the rotated peaks' spread: a rhythmic clip's rotations all peak alike (spread ~0), a few hundredths
 * below the true peak, which alone would read as very significant. */
const SD_FLOOR = 0.01;

/**
 * The peak's z-score against the same cue (same region choice) on the audio onsets rotated circularly by
 * SURROGATES amounts spread evenly over [MAX_LAG, T - MAX_LAG] frames (deterministic): rotated audio keeps its
 * rhythm and density but loses its timing, so a peak that any rotation also reaches says nothing. Rhythmic clips
 * (a bird's song, chopping, drumming at a steady rate) reach their peak under many rotations and score low, which
 * is how the periodic case says "ambiguous" instead of guessing. On the real development clips this input took
 * the sound-event cue from 0 to 8 answers at confidence >= 0.8 (leave-one-clip-out fits, 0-1 wrong); clips shorter
 * than 2 * MAX_LAG + SURROGATES frames (4.6 s) cannot be tested and score 0.
 */
export function onsetSignificance(f: SyncFeatures, peak: number, sdFloor = SD_FLOOR): number {
  const T = f.frames;
  const lo = MAX_LAG,
    hi = T - MAX_LAG;
  if (hi - lo < SURROGATES) return 0;
  const audioMask = f.audioMask ?? f.mask;
  const peaks: number[] = [];
  for (let k = 0; k < SURROGATES; k++) {
    const r = lo + Math.floor(((k + 0.5) * (hi - lo)) / SURROGATES);
    const onset = new Float32Array(T);
    const mask = new Uint8Array(T);
    for (let t = 0; t < T; t++) {
      onset[(t + r) % T] = f.onset[t];
      mask[(t + r) % T] = audioMask[t];
    }
    peaks.push(maxOf(onsetCurve({ ...f, onset, audioMask: mask }).curve));
  }
  const mean = peaks.reduce((a, b) => a + b, 0) / peaks.length;
  const sd = Math.sqrt(peaks.reduce((a, b) => a + (b - mean) ** 2, 0) / peaks.length);
  return (peak - mean) / (sd + sdFloor);
}

function maxOf(c: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < c.length; i++) m = Math.max(m, c[i]);
  return m;
}

/**
 * The independent check for --fix when no face is tracked: the audio loudness envelope against motion energy (not
 * onsets), regions chosen the same way. It shares no signal with onsetCue, so the two rarely agree by accident.
 */
export function envelopeCue(f: SyncFeatures): OnsetCue {
  return topRegions(loudness(f), cellLevels(f, CELLS), (i) => cellLevels(f, i), f);
}

/** The TOP_REGIONS curves with the highest `score`, averaged. */
function meanOfTop(
  candidates: { region: number; curve: Float64Array }[],
  score: (c: Float64Array) => number,
): OnsetCue {
  const top = candidates
    .map((c) => ({ ...c, score: score(c.curve) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, TOP_REGIONS);
  return { curve: meanCurve(top.map((c) => c.curve)), regions: top.map((c) => c.region) };
}

function topRegions(
  audio: Float32Array,
  whole: Float32Array,
  cell: (i: number) => Float32Array,
  f: SyncFeatures,
  atConsensus = false,
): OnsetCue {
  const masks = [f.audioMask ?? f.mask, f.videoMask ?? f.mask] as const;
  const candidates = [{ region: -1, curve: fullXcorr(audio, whole, ...masks) }];
  for (let i = 0; i < CELLS; i++) candidates.push({ region: i, curve: fullXcorr(audio, cell(i), ...masks) });
  const byPeak = meanOfTop(candidates, maxOf);
  if (!atConsensus) return byPeak;
  const consensus = argMax(byPeak.curve);
  return meanOfTop(candidates, (c) => c[consensus]);
}

function argMax(c: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < c.length; i++) if (c[i] > c[b]) b = i;
  return b;
}
