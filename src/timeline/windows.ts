/**
 * Windows over streams, with masks for the padding: FAVOR-style grouping of fast frames under slow
 * frames, and sliding windows (Synchformer segments, FAVOR's causal Q-Former windows).
 */

import { ShapeError } from '../util/errors.js';
import { Stream, frameTime, framesFor, resample, streamEnd } from './timeline.js';

export interface FavorGroups {
  frames: number; // Tf = max(video frames, ceil(audio frames / k))
  slots: number; // tokens per frame (>= k and >= videoTokens)
  k: number; // audio frames per video frame (audio rate / video rate)
  video: Float32Array; // [Tf, slots, Dv] video tokens, zero-padded past videoTokens and past the video's end
  audio: Float32Array; // [Tf, slots, Da] audio frame t*k + s in slot s, zero-padded
  videoMask: Uint8Array; // [Tf, slots]
  audioMask: Uint8Array; // [Tf, slots]
  videoDim: number;
  audioDim: number;
  rate: number; // video rate: one group per video frame
  start: number;
}

export interface FavorOptions {
  /** Tokens per video frame packed in each video row (dim = videoTokens * Dv); 1 for one vector per frame. */
  videoTokens?: number;
  /** Tokens per group after padding (FAVOR pads 25 Whisper frames to 32 to match 32 Q-Former tokens). */
  slots?: number;
  /** Per-frame validity (e.g. AlignedStream.mask); frames with 0 are masked out too. */
  videoValid?: Uint8Array;
  audioValid?: Uint8Array;
}

/**
 * FAVOR grouping (sequence_align_v2): with audio at k times the video rate, the k audio frames that
 * fall inside video frame t's interval go to group t. The shorter stream is zero-padded in time and
 * the groups are padded to `slots` tokens; masks mark the real tokens. Both streams must start at
 * the same time and k must be an integer (2 Hz video, 50 Hz audio: k = 25).
 */
export function favorGroup(video: Stream, audio: Stream, opts: FavorOptions = {}): FavorGroups {
  const k = audio.rate / video.rate;
  if (Math.abs(k - Math.round(k)) > 1e-9 || k < 1) {
    throw new ShapeError(
      `FAVOR grouping needs audio rate / video rate to be a whole number, got ${audio.rate} / ${video.rate} = ${k}`,
      {
        field: 'rate',
        expected: 'integer ratio',
        got: k,
      },
    );
  }
  if (Math.abs(audio.start - video.start) > 1e-9) {
    throw new ShapeError(
      `FAVOR grouping needs both streams to start together (video ${video.start} s, audio ${audio.start} s); align them first`,
      {
        field: 'start',
        expected: video.start,
        got: audio.start,
      },
    );
  }
  const kk = Math.round(k);
  const vt = opts.videoTokens ?? 1;
  if (video.dim % vt !== 0)
    throw new ShapeError(`video dim ${video.dim} is not a multiple of videoTokens ${vt}`, {
      field: 'videoTokens',
      got: vt,
    });
  const dv = video.dim / vt;
  const da = audio.dim;
  const slots = opts.slots ?? Math.max(kk, vt);
  if (slots < kk || slots < vt)
    throw new ShapeError(`slots ${slots} must hold ${kk} audio frames and ${vt} video tokens`, {
      field: 'slots',
      got: slots,
    });
  const frames = Math.max(video.frames, Math.ceil(audio.frames / kk));
  const out: FavorGroups = {
    frames,
    slots,
    k: kk,
    videoDim: dv,
    audioDim: da,
    rate: video.rate,
    start: video.start,
    video: new Float32Array(frames * slots * dv),
    audio: new Float32Array(frames * slots * da),
    videoMask: new Uint8Array(frames * slots),
    audioMask: new Uint8Array(frames * slots),
  };
  for (let t = 0; t < frames; t++) {
    if (t < video.frames) {
      out.video.set(video.data.subarray(t * video.dim, (t + 1) * video.dim), t * slots * dv);
      if (!opts.videoValid || opts.videoValid[t]) out.videoMask.fill(1, t * slots, t * slots + vt);
    }
    const a0 = t * kk;
    const a1 = Math.min(audio.frames, a0 + kk);
    if (a1 > a0) {
      out.audio.set(audio.data.subarray(a0 * da, a1 * da), t * slots * da);
      for (let a = a0; a < a1; a++) if (!opts.audioValid || opts.audioValid[a]) out.audioMask[t * slots + a - a0] = 1;
    }
  }
  return out;
}

/**
 * FAVOR grouping from streams at any rates: both go onto one time span from the earlier start to
 * the later end (video sampled 'nearest' at videoRate, audio mean-pooled or held at audioRate), then
 * grouped. Time not covered by a stream is zero and masked.
 */
export function favorAlign(
  video: Stream,
  audio: Stream,
  opts: FavorOptions & { videoRate?: number; audioRate?: number } = {},
): FavorGroups {
  const videoRate = opts.videoRate ?? 2;
  const audioRate = opts.audioRate ?? 50;
  const start = Math.min(video.start, audio.start);
  const span = Math.max(streamEnd(video), streamEnd(audio)) - start;
  const v = resample(video, { rate: videoRate, start, frames: framesFor(span, videoRate) }, 'nearest');
  const a = resample(audio, { rate: audioRate, start, frames: framesFor(span, audioRate) }, 'auto');
  return favorGroup(v, a, { ...opts, videoValid: v.mask, audioValid: a.mask });
}

/** FAVOR's joint tokens: video and audio slots concatenated along features -> [Tf, slots, Dv + Da]. */
export function favorJoint(g: FavorGroups): { data: Float32Array; dim: number; mask: Uint8Array } {
  const dim = g.videoDim + g.audioDim;
  const n = g.frames * g.slots;
  const data = new Float32Array(n * dim);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    data.set(g.video.subarray(i * g.videoDim, (i + 1) * g.videoDim), i * dim);
    data.set(g.audio.subarray(i * g.audioDim, (i + 1) * g.audioDim), i * dim + g.videoDim);
    mask[i] = g.videoMask[i] | g.audioMask[i];
  }
  return { data, dim, mask };
}

export interface WindowOptions {
  size: number; // frames per window
  stride?: number; // frames between window starts (default: size, i.e. non-overlapping)
  /** true: a last partial window is zero-padded and masked; false: only full windows are kept. */
  pad?: boolean;
}

export interface Windows {
  count: number; // W
  size: number;
  dim: number;
  data: Float32Array; // [W, size, dim]
  mask: Uint8Array; // [W, size]
  startFrame: Int32Array; // [W] first source frame of each window
  startTime: Float64Array; // [W] seconds at which each window begins
}

/** Number of windows for T frames (Synchformer: T = 200, size 16, stride 8, no pad -> 24). */
export function windowCount(frames: number, opts: WindowOptions): number {
  const { size } = opts;
  const stride = opts.stride ?? size;
  if (!Number.isInteger(size) || size < 1)
    throw new ShapeError(`window size must be a positive integer, got ${size}`, { field: 'size', got: size });
  if (!Number.isInteger(stride) || stride < 1)
    throw new ShapeError(`window stride must be a positive integer, got ${stride}`, { field: 'stride', got: stride });
  if (frames <= 0) return 0;
  if (opts.pad ?? true) return frames <= size ? 1 : Math.ceil((frames - size) / stride) + 1;
  return frames < size ? 0 : Math.floor((frames - size) / stride) + 1;
}

/** Cuts a stream into windows of `size` frames every `stride` frames. */
export function slidingWindows(s: Stream, opts: WindowOptions): Windows {
  const count = windowCount(s.frames, opts);
  const { size } = opts;
  const stride = opts.stride ?? size;
  const w: Windows = {
    count,
    size,
    dim: s.dim,
    data: new Float32Array(count * size * s.dim),
    mask: new Uint8Array(count * size),
    startFrame: new Int32Array(count),
    startTime: new Float64Array(count),
  };
  for (let i = 0; i < count; i++) {
    const f0 = i * stride;
    const f1 = Math.min(s.frames, f0 + size);
    w.startFrame[i] = f0;
    w.startTime[i] = frameTime(s, f0);
    w.data.set(s.data.subarray(f0 * s.dim, f1 * s.dim), i * size * s.dim);
    w.mask.fill(1, i * size, i * size + (f1 - f0));
  }
  return w;
}
