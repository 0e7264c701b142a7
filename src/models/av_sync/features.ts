import { AUDIO_PRESETS } from '../../media/presets.js';
import { logMel } from '../../media/audio_features.js';
import { decodeAudio } from '../../media/decode_audio.js';
import { iterateVideoFrames } from '../../media/decode_video.js';
import { probe, type MediaInfo } from '../../media/probe.js';
import { framesFor, makeStream, resample } from '../../timeline/timeline.js';
import { absDiff, gridPool } from '../../media/visual.js';
import type { SynthClip } from '../../data/synth/clip.js';
import { InputError } from '../../util/errors.js';

/**
 * The sync front end: one audio stream and one visual stream on the same 25 Hz timeline (0.2 s grid step = 5
 * frames, so the +-2 s grid is lags -50..50). Both the xcorr baseline and the learned av-sync model read these.
 *
 * audio [T, 17]: onset strength (spectral flux of a 64-band dB mel at 50 Hz, /5), 8 band energies ((dB + 50) / 20) and
 *   their positive temporal differences. Fixed scalings (no per-clip normalization) keep silence recognizable.
 * video [T, 34]: motion energy (mean |luma_t - luma_t-1|) in a 4x4 grid plus the whole frame, log1p(100 m), and
 *   the positive temporal differences of those 17 values (motion onsets).
 * Raw cue signals are kept too (`onset`, `motion`) for the baseline and the synchronizability gates.
 */
export const SYNC_RATE = 25;
export const SYNC_SAMPLE_RATE = 16000;
export const AUDIO_DIM = 17;
export const VIDEO_DIM = 34;
const BANDS = 8;
const GRID = 4;
const PLANE = 64; // luma plane side for motion (area-averaged)
/** PANNs-style 64-band dB mel (50-8000 Hz) at a 20 ms hop: 50 Hz frames, mean-pooled in pairs to 25 Hz. */
const MEL = { ...AUDIO_PRESETS.panns, hop: 320 };

export interface SyncFeatures {
  rate: number; // SYNC_RATE
  frames: number; // T (both streams cover the same frames)
  audio: Float32Array; // [T, AUDIO_DIM]
  video: Float32Array; // [T, VIDEO_DIM]
  /** Raw onset envelope (dB flux per band) [T] and raw whole-frame motion energy (0..1) [T]. */
  onset: Float32Array;
  motion: Float32Array;
  /** Cell-wise positive motion differences summed over the grid [T]: the visual cue the baseline correlates. */
  motionOnset: Float32Array;
  /** 1 where both the audio and the video cover the frame. */
  mask: Uint8Array;
  /** 1 where the audio, resp. the video, covers the frame (lag curves center each signal over its own frames). */
  audioMask?: Uint8Array;
  videoMask?: Uint8Array;
}

/** Audio samples (mono) -> audio feature rows on a 25 Hz grid of `frames` frames from 0 s. */
export function audioFrontEnd(
  samples: Float32Array,
  sampleRate: number,
  frames: number,
  t0 = 0,
): { rows: Float32Array; onset: Float32Array; mask: Uint8Array } {
  if (sampleRate !== SYNC_SAMPLE_RATE)
    throw new InputError(`sync audio must be ${SYNC_SAMPLE_RATE} Hz, got ${sampleRate}`, {
      field: 'sampleRate',
      got: sampleRate,
    });
  const rows = new Float32Array(frames * AUDIO_DIM);
  const onset = new Float32Array(frames);
  if (samples.length < MEL.nFft) return { rows: rows.fill(0), onset, mask: new Uint8Array(frames) };
  const lm = logMel(samples, MEL, t0); // [T50, 64] dB at 50 Hz
  const M = lm.dim;
  const per = M / BANDS;
  const mid = new Float32Array(lm.frames * (1 + BANDS));
  for (let t = 0; t < lm.frames; t++) {
    let flux = 0;
    for (let m = 0; m < M; m++) {
      const v = lm.data[t * M + m];
      if (t > 0) flux += Math.max(0, v - lm.data[(t - 1) * M + m]);
      mid[t * (1 + BANDS) + 1 + Math.floor(m / per)] += v / per;
    }
    mid[t * (1 + BANDS)] = flux / M;
  }
  const pooled = resample(makeStream(mid, 1 + BANDS, lm.rate, lm.start), { rate: SYNC_RATE, start: 0, frames }, 'mean');
  for (let t = 0; t < frames; t++) {
    const src = pooled.data.subarray(t * (1 + BANDS), (t + 1) * (1 + BANDS));
    const dst = rows.subarray(t * AUDIO_DIM, (t + 1) * AUDIO_DIM);
    onset[t] = src[0];
    dst[0] = src[0] / 5;
    for (let b = 0; b < BANDS; b++) {
      dst[1 + b] = pooled.mask[t] ? (src[1 + b] + 50) / 20 : 0;
      const prev = t > 0 && pooled.mask[t - 1] ? pooled.data[(t - 1) * (1 + BANDS) + 1 + b] : src[1 + b];
      dst[1 + BANDS + b] = pooled.mask[t] ? Math.max(0, src[1 + b] - prev) / 5 : 0;
    }
  }
  return { rows, onset, mask: pooled.mask };
}

/** Luma planes ([PLANE*PLANE] each, at 25 fps) -> video feature rows. */
export class MotionFrontEnd {
  private prev: Float32Array | null = null;
  private readonly cells = GRID * GRID;
  private readonly raw: number[][] = [];
  private readonly diff = new Float32Array(PLANE * PLANE);

  push(plane: Float32Array): void {
    const row = new Array<number>(this.cells + 1).fill(0);
    if (this.prev) {
      const d = absDiff(plane, this.prev, this.diff);
      const g = gridPool(d, PLANE, PLANE, GRID, GRID);
      let total = 0;
      for (let i = 0; i < this.cells; i++) {
        row[i] = g[i];
        total += g[i];
      }
      row[this.cells] = total / this.cells;
    }
    this.raw.push(row);
    this.prev = plane.slice();
  }

  /** Rows for `frames` frames (missing frames at the end are zero and masked out). */
  finish(frames: number): { rows: Float32Array; motion: Float32Array; motionOnset: Float32Array; mask: Uint8Array } {
    const D = this.cells + 1;
    const rows = new Float32Array(frames * VIDEO_DIM);
    const motion = new Float32Array(frames);
    const motionOnset = new Float32Array(frames);
    const mask = new Uint8Array(frames);
    for (let t = 0; t < Math.min(frames, this.raw.length); t++) {
      mask[t] = 1;
      const cur = this.raw[t];
      const prev = t > 0 ? this.raw[t - 1] : cur;
      motion[t] = cur[this.cells];
      let onset = 0;
      for (let i = 0; i < D; i++) {
        const a = Math.log1p(100 * cur[i]);
        const b = Math.log1p(100 * prev[i]);
        rows[t * VIDEO_DIM + i] = a;
        rows[t * VIDEO_DIM + D + i] = Math.max(0, a - b);
        if (i < this.cells) onset += Math.max(0, cur[i] - prev[i]);
      }
      motionOnset[t] = onset;
    }
    return { rows, motion, motionOnset, mask };
  }
}

/** RGB or gray bytes [H, W, C] -> an area-averaged PLANE x PLANE luma plane in [0, 1]. */
export function lumaPlane(frame: Uint8Array, width: number, height: number, channels: 1 | 3): Float32Array {
  const out = new Float32Array(PLANE * PLANE);
  const count = new Float32Array(PLANE * PLANE);
  const col = new Int32Array(width);
  for (let x = 0; x < width; x++) col[x] = Math.min(PLANE - 1, Math.floor((x * PLANE) / width));
  for (let y = 0; y < height; y++) {
    const row = Math.min(PLANE - 1, Math.floor((y * PLANE) / height)) * PLANE;
    let p = y * width * channels;
    for (let x = 0; x < width; x++, p += channels) {
      const l = channels === 1 ? frame[p] : 0.299 * frame[p] + 0.587 * frame[p + 1] + 0.114 * frame[p + 2];
      out[row + col[x]] += l;
      count[row + col[x]]++;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = count[i] > 0 ? out[i] / (count[i] * 255) : 0;
  return out;
}

/** Seconds left out after a stream starts (and before it ends): the step from nothing to sound is no sync cue. */
export const EDGE_GUARD = 0.08;

/** Both streams on one timeline; frames within EDGE_GUARD of either end are left out of the mask. */
export function combine(
  a: ReturnType<typeof audioFrontEnd>,
  v: ReturnType<MotionFrontEnd['finish']>,
  frames: number,
): SyncFeatures {
  const mask = new Uint8Array(frames);
  const audioMask = new Uint8Array(frames);
  const videoMask = new Uint8Array(frames);
  const guard = Math.round(EDGE_GUARD * SYNC_RATE);
  for (let t = guard; t < frames - guard; t++) {
    audioMask[t] = a.mask[t];
    videoMask[t] = v.mask[t];
    mask[t] = a.mask[t] & v.mask[t];
  }
  return {
    rate: SYNC_RATE,
    frames,
    audio: a.rows,
    video: v.rows,
    onset: a.onset,
    motion: v.motion,
    motionOnset: v.motionOnset,
    mask,
    audioMask,
    videoMask,
  };
}

/**
 * Features of an in-memory AV-Synth clip. The clip must be rendered at 25 fps and 16 kHz (see syncSynthConfig);
 * other rates are resampled with the timeline's nearest rule for video.
 */
export function featuresFromClip(clip: SynthClip): SyncFeatures {
  const frames = framesFor(clip.duration, SYNC_RATE);
  const a = audioFrontEnd(clip.audio, clip.sampleRate, frames);
  const motion = new MotionFrontEnd();
  const frameBytes = clip.width * clip.height * 3;
  for (let t = 0; t < frames; t++) {
    const src = Math.min(clip.frames - 1, Math.floor(((t + 0.5) / SYNC_RATE) * clip.fps + 1e-9));
    motion.push(lumaPlane(clip.video.subarray(src * frameBytes, (src + 1) * frameBytes), clip.width, clip.height, 3));
  }
  return combine(a, motion.finish(frames), frames);
}

/** Features from raw arrays (tests, other callers): mono 16 kHz audio and frames already at 25 fps. */
export function featuresFromArrays(
  audio: Float32Array,
  frames: Uint8Array[],
  width: number,
  height: number,
  channels: 1 | 3,
): SyncFeatures {
  const T = frames.length;
  const motion = new MotionFrontEnd();
  for (const f of frames) motion.push(lumaPlane(f, width, height, channels));
  return combine(audioFrontEnd(audio, SYNC_SAMPLE_RATE, T), motion.finish(T), T);
}

export interface FileFeatures extends SyncFeatures {
  path: string;
  info: MediaInfo;
  duration: number;
}

/**
 * Decodes a file (video at 25 fps, 64x64 gray, and 16 kHz mono audio, in parallel ffmpeg processes) into sync
 * features. A file without an audio stream is a MediaError from the caller's point of view; here it is reported by
 * `probe` info so callers can give a "not synchronizable" answer instead.
 */
export async function featuresFromFile(
  path: string,
  opts: { start?: number; duration?: number; info?: MediaInfo } = {},
): Promise<FileFeatures> {
  const info = opts.info ?? (await probe(path, { scanPackets: 0 }));
  const range = { start: opts.start, duration: opts.duration };
  const videoJob = (async () => {
    const motion = new MotionFrontEnd();
    const count = await decodeLumaPlanes(path, { ...range, info }, (plane) => motion.push(plane));
    return { motion, count };
  })();
  const audioJob = info.audio
    ? decodeAudio(path, { ...range, sampleRate: SYNC_SAMPLE_RATE, info })
    : Promise.resolve(null);
  const [v, a] = await Promise.all([videoJob, audioJob]);
  const frames = v.count;
  const samples = a ? a.data.subarray(0, a.length) : new Float32Array(0);
  const feats = combine(audioFrontEnd(samples, SYNC_SAMPLE_RATE, frames), v.motion.finish(frames), frames);
  if (info.audio) {
    // Where the file has no audio (a stream starting late after a shift, or ending early) the decoder fills silence;
    // its edges would be strong false onsets, so those frames (plus a short guard) are left out.
    const t0 = opts.start ?? 0;
    const a0 = info.audio.startTime + EDGE_GUARD;
    const a1 = (info.audio.duration !== null ? info.audio.startTime + info.audio.duration : info.duration) - EDGE_GUARD;
    for (let t = 0; t < frames; t++) {
      const c = t0 + (t + 0.5) / SYNC_RATE;
      if (c < a0 || c > a1) feats.mask[t] = 0;
    }
  }
  return { ...feats, path, info, duration: frames / SYNC_RATE };
}

/**
 * Decodes the video as 25 fps PLANE x PLANE gray planes, calling `onPlane` per frame; returns the frame count.
 * Deblocking is skipped: invisible at 64 x 64, and decoding is the bulk of `attune sync` latency.
 */
export async function decodeLumaPlanes(
  path: string,
  opts: { start?: number; duration?: number; info: MediaInfo },
  onPlane: (plane: Float32Array) => void,
): Promise<number> {
  let count = 0;
  const frames = iterateVideoFrames(path, {
    ...opts,
    fps: SYNC_RATE,
    width: PLANE,
    height: PLANE,
    resize: 'stretch',
    pixelFormat: 'gray',
    scaleFlags: 'area',
    skipLoopFilter: true,
  });
  for await (const frame of frames) {
    onPlane(lumaPlane(frame.data, PLANE, PLANE, 1));
    count++;
  }
  return count;
}

/** Frames [t0, t0 + n) of a [T, D] row array, zero-filled outside (a copy). */
export function windowRows(rows: Float32Array, dim: number, t0: number, n: number): Float32Array {
  const out = new Float32Array(n * dim);
  const T = rows.length / dim;
  const a = Math.max(0, t0);
  const b = Math.min(T, t0 + n);
  if (b > a) out.set(rows.subarray(a * dim, b * dim), (a - t0) * dim);
  return out;
}
