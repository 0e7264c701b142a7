/**
 * A generated talking head for the lip-cue tests: a mouth that opens for syllables of random length, the speech
 * loudness that follows it (noise shaped by the opening), moved by a known shift (positive = audio late), and the
 * lip shapes of that mouth (facemesh-like landmarks, slightly turned at random) for the learned lip cue.
 */
import { featuresFromArrays, SYNC_SAMPLE_RATE, type SyncFeatures } from '../../src/models/av_sync/features.js';
import { LIP_DIM, LIP_POINTS, lipShape } from '../../src/models/av_sync/lip_shape.js';
import type { MouthTrack } from '../../src/models/av_sync/mouth_cue.js';
import { Rng } from '../../src/util/rng.js';

/** Facemesh-like landmarks of a mouth opened by `open` (0..0.5 of its width), moved, turned and scaled. */
export function mouthPoints(open: number, dx = 0, dy = 0, angle = 0, scale = 1): Float32Array {
  const pts = new Float32Array(468 * 3);
  LIP_POINTS.forEach((p, k) => {
    const inner = k >= 20;
    const u = ((k % 20) / 20) * 2 * Math.PI; // around the contour from the left corner
    const x = -Math.cos(u) * (inner ? 0.45 : 0.5);
    const y = Math.sin(u) * (inner ? open / 2 : 0.15 + open / 2);
    pts[3 * p] = dx + scale * (Math.cos(angle) * x - Math.sin(angle) * y);
    pts[3 * p + 1] = dy + scale * (Math.sin(angle) * x + Math.cos(angle) * y);
  });
  return pts;
}

export function talking(seed: number, seconds: number, shift: number): { feats: SyncFeatures; track: MouthTrack } {
  const rng = new Rng(seed);
  const T = seconds * 25;
  const opening = new Float32Array(T);
  for (let t = 5; t < T - 5;) {
    const len = 3 + rng.int(6);
    const peak = 0.2 + 0.3 * rng.uniform();
    for (let k = 0; k < len && t + k < T; k++) opening[t + k] = peak * Math.sin((Math.PI * (k + 0.5)) / len);
    t += len + rng.int(8);
  }
  const audio = new Float32Array(seconds * SYNC_SAMPLE_RATE);
  for (let i = 0; i < audio.length; i++) {
    const frame = Math.floor((i / SYNC_SAMPLE_RATE - shift) * 25);
    const env = frame >= 0 && frame < T ? opening[frame] : 0;
    audio[i] = (0.002 + env) * (rng.uniform() - 0.5);
  }
  const lips = new Float32Array(T * LIP_DIM);
  for (let t = 0; t < T; t++) lipShape(mouthPoints(opening[t], 0, 0, 0.05 * rng.normal()), lips.subarray(t * LIP_DIM));
  const frames = Array.from({ length: T }, () => new Uint8Array(32 * 32).fill(90));
  return {
    feats: featuresFromArrays(audio, frames, 32, 32, 1),
    track: { opening, mask: new Uint8Array(T).fill(1), lips },
  };
}
