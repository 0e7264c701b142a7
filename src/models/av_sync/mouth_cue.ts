/**
 * The lip cue: a tracked mouth opening (face_track.ts) against speech loudness. Mouths open on voiced sound, so the
 * opening follows the audio's loudness envelope (not its onsets) at frame resolution; the curve is the full-length
 * correlation of the two over lags, on the frames where a face was found. Loudness is taken over the middle mel
 * band groups (SPEECH_BANDS, about 0.8-3.8 kHz, where the formants of an open mouth carry the energy): on the real
 * development talking heads the best lag was within one frame on 43 of 63 cases, against 34 with all eight groups
 * (low bands carry room hum and music beds, high bands fricatives made with a nearly closed mouth). A second curve,
 * the frame-to-frame change of opening against the change of loudness, can be added with a weight; it is off
 * (CHANGE_WEIGHT 0): on the development talking heads (98 cases) a quarter of it gave 74 within one frame against
 * 72 (`attune bench sync-lips`; 70 against 70 on the batched tracks), but with the mouth calibration row refitted
 * for it, 3 dev cases were answered wrong at the default --min-confidence (GRID clips at +0.6 / +1.2 s, low
 * margins) against none without it: two frame hits do not pay for confident mistakes.
 *
 * A learned lip net (lip_net.ts, weights shipped in weights/lip-sync/, lip_cue.ts) can join: with
 * `learnedWeight` w > 0 the cue's curve is the weighted mean of this hand curve and the net's. It is off by default
 * (LEARNED_WEIGHT 0), decided on dev, cross-fitted (each clip measured by a net trained without it): the mean of
 * the two (w = 1) was within one frame on 75 of 98 dev cases against 72 for the hand curve (74-77 over five
 * training settings), but its calibrated answers were worse: with the mouth row refitted for it, 91 answered at
 * 0.8 with 6 wrong (4 % of the 147 dev cases; the rule is <= 3 %), and with the hand cue's row 40 answered
 * instead of 65 (docs/sync.md, "The learned lip cue").
 */
import { AUDIO_DIM, type SyncFeatures } from './features.js';
import { fullXcorr, pairedFrames } from './lag_curve.js';
import { learnedLipCurve, shippedLipWeights, type LipWeights } from './lip_cue.js';

export interface MouthTrack {
  /** Mouth opening per 25 Hz frame (inner-lip gap over inner-lip width), 0 where no face. */
  opening: Float32Array;
  /** 1 where a face was tracked. */
  mask: Uint8Array;
  /** Lip shape per frame ([frames * LIP_DIM], lip_shape.ts), 0 where no face: what the learned lip cue reads. */
  lips?: Float32Array;
}

const BANDS = 8;
/** Mel band groups (of the front end's 8) the lip cue listens to. */
const SPEECH_BANDS = [2, 5] as const;
/** Weight of the changes' curve beside the levels' curve (0: levels only; see above). */
export const CHANGE_WEIGHT = 0;
/** Weight of the learned lip curve (lip_cue.ts) beside the hand curve: the cue's curve is their weighted mean. */
export const LEARNED_WEIGHT = 0;

export interface MouthCueOptions {
  changeWeight?: number;
  /** The learned lip net (default: the shipped one, weights/lip-sync; null: the hand curve alone). */
  lipNet?: LipWeights | null;
  /** Its weight beside the hand curve (default LEARNED_WEIGHT, 0: off). */
  learnedWeight?: number;
  /** Exponent of the paired-frames discount (default OVERLAP_POWER). */
  overlapPower?: number;
}

/**
 * The curve at each lag times (paired frames at that lag / the most any lag pairs) ^ OVERLAP_POWER: a lag that pairs
 * few frames of face with speech rests on little evidence (a 3 s GRID sentence with audio 1.2 s late peaked at
 * -1.3 s on 11 paired frames, against 41 at the truth).
 */
export const OVERLAP_POWER = 0.5;

/** Mean level of band groups lo..hi per frame (the front end's (dB + 50) / 20 columns); default all eight. */
export function loudness(f: SyncFeatures, lo = 0, hi = BANDS - 1): Float32Array {
  const out = new Float32Array(f.frames);
  for (let t = 0; t < f.frames; t++) {
    let s = 0;
    for (let b = lo; b <= hi; b++) s += f.audio[t * AUDIO_DIM + 1 + b];
    out[t] = s / (hi - lo + 1);
  }
  return out;
}

/** Frame-to-frame change, 0 unless both frames are present (the step into a masked gap is no mouth movement). */
function change(x: Float32Array, mask: Uint8Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let t = 1; t < x.length; t++) if (mask[t] && mask[t - 1]) out[t] = x[t] - x[t - 1];
  return out;
}

export function mouthCue(
  f: SyncFeatures,
  track: MouthTrack,
  opts: MouthCueOptions = {},
): { curve: Float64Array; mask: Uint8Array; audioMask: Uint8Array; videoMask: Uint8Array } | undefined {
  const changeWeight = opts.changeWeight ?? CHANGE_WEIGHT;
  const mask = new Uint8Array(f.frames);
  let n = 0;
  for (let t = 0; t < f.frames; t++) n += mask[t] = f.mask[t] & (track.mask[t] ?? 0);
  if (n < 10) return undefined;
  // Each signal centerd over its own frames: the face is there where the moved audio is not, and vice versa.
  const audio = loudness(f, ...SPEECH_BANDS);
  const audioMask = f.audioMask ?? f.mask;
  const curve = fullXcorr(audio, track.opening, audioMask, track.mask);
  if (changeWeight > 0) {
    const changes = fullXcorr(change(audio, audioMask), change(track.opening, track.mask), audioMask, track.mask);
    for (let i = 0; i < curve.length; i++) curve[i] += changeWeight * changes[i];
  }
  const w = opts.learnedWeight ?? LEARNED_WEIGHT;
  const net = w > 0 ? (opts.lipNet === undefined ? shippedLipWeights() : opts.lipNet) : null;
  const learned = net ? learnedLipCurve(f, track, net) : undefined;
  if (learned) for (let i = 0; i < curve.length; i++) curve[i] = (curve[i] + w * learned[i]) / (1 + w);
  const power = opts.overlapPower ?? OVERLAP_POWER;
  if (power > 0) {
    const maxLag = (curve.length - 1) / 2;
    const paired = Array.from(curve, (_, i) => pairedFrames(audioMask, track.mask, i - maxLag));
    const most = Math.max(1, ...paired);
    for (let i = 0; i < curve.length; i++) curve[i] *= Math.pow(paired[i] / most, power);
  }
  return { curve, mask, audioMask, videoMask: track.mask };
}
