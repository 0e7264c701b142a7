/**
 * Onset probes: where the v2a pipeline could lose onset F1 before the network is involved.
 *
 * - picture: are impacts visible in the 25 fps sync input? AV-Synth flashes a sounding object toward white for 0.1 s
 *   from its first frame at or after the impact, so a frame where many pixels turn paler but stay colored marks an
 *   impact (white objects barely change: their flash is invisible to this detector). Peaks of that count are scored with the evaluation's onset F1 (±50 ms).
 * - audio path: the real clip encoded to the latent (normalized log-mel) and decoded back (NNLS + Griffin-Lim) is
 *   the best a perfect generator could score; its onset F1 is the representation's ceiling.
 *
 *   frames [Ts, P] --count(darkest channel up >= 60, saturated)--> flashing [Ts]
 *          --peaks >= 30 % of max, >= 3 frames apart--> times (frame i at i / 25 s)
 */
import { onsetF1 } from '../../metrics/generation.js';
import { decodeAudio } from './audio.js';
import { PIXELS, type Sequence, SYNC_FPS } from './config.js';
import { synthExample } from './data.js';
import { onsetTimes } from './evaluate.js';

/** A flash mixes the color 0.55 toward white: the darkest channel of every AV-Synth color but white rises by >= 99. */
const MIN_RISE = 60;
/** ... and the flashed color stays saturated (max - min >= 96), unlike the gray distractors and the background. */
const MIN_SATURATION = 50;

/** Times (s) of 25 fps frames where many pixels flash: darkest channel up by MIN_RISE, still saturated. */
export function flashOnsets(frames: Uint8Array, count: number): number[] {
  const pixels = PIXELS / 3;
  const flashing = new Float32Array(count);
  for (let t = 1; t < count; t++) {
    for (let k = 0; k < pixels; k++) {
      const at = t * PIXELS + k * 3,
        before = at - PIXELS;
      const lo = Math.min(frames[at], frames[at + 1], frames[at + 2]);
      const hi = Math.max(frames[at], frames[at + 1], frames[at + 2]);
      const loBefore = Math.min(frames[before], frames[before + 1], frames[before + 2]);
      if (lo - loBefore >= MIN_RISE && hi - lo >= MIN_SATURATION) flashing[t]++;
    }
  }
  const max = Math.max(...flashing);
  const times: number[] = [];
  let last = -Infinity;
  for (let t = 1; t < count; t++) {
    const peak = flashing[t] >= flashing[t - 1] && (t + 1 >= count || flashing[t] > flashing[t + 1]);
    if (max > 0 && flashing[t] > 0.3 * max && peak && t - last >= 3) {
      times.push(t / SYNC_FPS);
      last = t;
    }
  }
  return times;
}

export interface OnsetProbe {
  clips: number;
  /** Onset F1 of the flash detector on the sync input vs the heard impacts. */
  picture: number;
  /** Mean signed offset (s) of matched flash onsets (positive: the picture shows the impact late). */
  pictureLag: number;
  /** Onset F1 of the real audio, and of the real audio through the latent and the decoder. */
  real: number;
  decoded: number;
  /** Mean signed offset (s) of decoded onsets nearest each impact within ±50 ms (negative: early). */
  decodedLag: number;
}

/** Mean signed offset of predicted times from their nearest true time, over pairs within ±50 ms. */
function meanLag(pred: number[], truth: number[]): number {
  const lags = pred
    .map((p) => truth.reduce((best, t) => (Math.abs(p - t) < Math.abs(best) ? p - t : best), Infinity))
    .filter((d) => Math.abs(d) <= 0.05);
  return lags.length ? lags.reduce((a, b) => a + b, 0) / lags.length : 0;
}

/** Runs both probes on `clips` AV-Synth scenes from `first` (held out from training when first >= 1e6). */
export function probeOnsets(
  seq: Sequence,
  clips: number,
  opts: { seed?: number; first?: number; griffinLim?: number } = {},
): OnsetProbe {
  const sums = { picture: 0, pictureLag: 0, real: 0, decoded: 0, decodedLag: 0 };
  for (let i = 0; i < clips; i++) {
    const e = synthExample((opts.first ?? 2_000_000) + i, seq, opts.seed ?? 0, true);
    const heard = e.events.map((ev) => ev.time);
    const flashes = e.frames ? flashOnsets(e.frames, Math.min(seq.sync, e.frames.length / PIXELS)) : [];
    sums.picture += onsetF1(flashes, heard).f1;
    sums.pictureLag += meanLag(flashes, heard);
    sums.real += onsetF1(onsetTimes(e.audio), heard).f1;
    const decoded = decodeAudio(e.latent, seq.latent, { iterations: opts.griffinLim ?? 16, length: e.audio.length });
    const decodedOnsets = onsetTimes(decoded);
    sums.decoded += onsetF1(decodedOnsets, heard).f1;
    sums.decodedLag += meanLag(decodedOnsets, heard);
  }
  const mean = (v: number): number => v / clips;
  return {
    clips,
    picture: mean(sums.picture),
    pictureLag: mean(sums.pictureLag),
    real: mean(sums.real),
    decoded: mean(sums.decoded),
    decodedLag: mean(sums.decodedLag),
  };
}
