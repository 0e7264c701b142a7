/**
 * The lip cue: a tracked mouth opening (face_track.ts) against speech loudness. Mouths open on voiced sound, so the
 * opening follows the audio's loudness envelope (not its onsets) at frame resolution; the curve is the full-length
 * correlation of the two over lags, on the frames where a face was found.
 */
import { AUDIO_DIM, type SyncFeatures } from './features.js';
import { fullXcorr } from './lag_curve.js';

export interface MouthTrack {
  /** Mouth opening per 25 Hz frame (inner-lip gap over inner-lip width), 0 where no face. */
  opening: Float32Array;
  /** 1 where a face was tracked. */
  mask: Uint8Array;
}

const BANDS = 8;

/** Mean band level per frame (the front end's (dB + 50) / 20 columns). */
export function loudness(f: SyncFeatures): Float32Array {
  const out = new Float32Array(f.frames);
  for (let t = 0; t < f.frames; t++) {
    let s = 0;
    for (let b = 0; b < BANDS; b++) s += f.audio[t * AUDIO_DIM + 1 + b];
    out[t] = s / BANDS;
  }
  return out;
}

export function mouthCue(f: SyncFeatures, track: MouthTrack): { curve: Float64Array; mask: Uint8Array } | undefined {
  const mask = new Uint8Array(f.frames);
  let n = 0;
  for (let t = 0; t < f.frames; t++) n += mask[t] = f.mask[t] & (track.mask[t] ?? 0);
  if (n < 10) return undefined;
  return { curve: fullXcorr(loudness(f), track.opening, mask), mask };
}
