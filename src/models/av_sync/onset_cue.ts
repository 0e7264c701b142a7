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
 *   cell levels [T, 17] ─> |Δ| ─> fullXcorr vs audio onsets ─> 17 curves ─> top 3 by peak ─> mean curve
 */
import { VIDEO_DIM, type SyncFeatures } from './features.js';
import { fullXcorr, meanCurve } from './lag_curve.js';
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

export function onsetCue(f: SyncFeatures): OnsetCue {
  // Not xcorr.ts's leading edges (for flashes that appear and go): they lost a third of the right answers on the
  // real development clips (16 % vs 24 % best lag within 0.2 s), whose motion is rarely a flash.
  return topRegions(f.onset, cellChanges(f, CELLS), (i) => cellChanges(f, i), f);
}

/**
 * The independent check for --fix when no face is tracked: the audio loudness envelope against motion energy (not
 * onsets), regions chosen the same way. It shares no signal with onsetCue, so the two rarely agree by accident.
 */
export function envelopeCue(f: SyncFeatures): OnsetCue {
  return topRegions(loudness(f), cellLevels(f, CELLS), (i) => cellLevels(f, i), f);
}

function topRegions(
  audio: Float32Array,
  whole: Float32Array,
  cell: (i: number) => Float32Array,
  f: SyncFeatures,
): OnsetCue {
  const masks = [f.audioMask ?? f.mask, f.videoMask ?? f.mask] as const;
  const candidates = [{ region: -1, curve: fullXcorr(audio, whole, ...masks) }];
  for (let i = 0; i < CELLS; i++) candidates.push({ region: i, curve: fullXcorr(audio, cell(i), ...masks) });
  const peak = (c: Float64Array) => c.reduce((m, x) => Math.max(m, x), -Infinity);
  const top = candidates
    .map((c) => ({ ...c, peak: peak(c.curve) }))
    .sort((a, b) => b.peak - a.peak)
    .slice(0, TOP_REGIONS);
  return { curve: meanCurve(top.map((c) => c.curve)), regions: top.map((c) => c.region) };
}
