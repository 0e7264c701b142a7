/**
 * The sound-event cue for real footage: audio onsets against motion onsets where the motion co-varies with the
 * sound. The picture is cut into the 4x4 cells the sync front end already measures (features.ts); each cell's
 * motion onsets, and the whole frame's, give a lag curve against the audio onset envelope, and the curves of the
 * TOP_REGIONS cells with the highest peaks are averaged: a hammer, a mouth or a drum fills a few cells, and the rest
 * of the frame (camera shake, a crowd) only adds noise to a whole-frame sum.
 */
import { VIDEO_DIM, type SyncFeatures } from './features.js';
import { fullXcorr, meanCurve } from './lag_curve.js';
import { loudness } from './mouth_cue.js';

const CELLS = 16;
/** Offset of the cells' motion-onset columns in a video row (after 16 cells + whole-frame motion energy). */
const ONSET_COLUMN = CELLS + 1;
export const TOP_REGIONS = 3;

/** Motion onsets of cell `i` ([T]). */
export function cellOnsets(f: SyncFeatures, i: number): Float32Array {
  const out = new Float32Array(f.frames);
  for (let t = 0; t < f.frames; t++) out[t] = f.video[t * VIDEO_DIM + ONSET_COLUMN + i];
  return out;
}

export interface OnsetCue {
  curve: Float64Array;
  /** Cells whose curves were averaged (-1 = the whole frame), best first. */
  regions: number[];
}

export function onsetCue(f: SyncFeatures): OnsetCue {
  // Raw onsets: xcorr.ts's leading edges (for flashes that appear and go) lost a third of the right answers on the
  // real development clips (16 % vs 24 % best lag within 0.2 s), whose motion is rarely a flash.
  return topRegions(f.onset, f.motionOnset, (i) => cellOnsets(f, i), f);
}

/**
 * The independent check for --fix when no face is tracked: the audio loudness envelope against motion energy (not
 * onsets), regions chosen the same way. It shares no signal with onsetCue, so the two rarely agree by accident.
 */
export function envelopeCue(f: SyncFeatures): OnsetCue {
  const cell = (i: number) => {
    const out = new Float32Array(f.frames);
    for (let t = 0; t < f.frames; t++) out[t] = f.video[t * VIDEO_DIM + i];
    return out;
  };
  return topRegions(loudness(f), cell(CELLS), cell, f);
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
