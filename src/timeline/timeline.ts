import { ShapeError } from '../util/errors.js';

/**
 * A time series of feature frames at a fixed rate: the one type every decoder and feature
 * extractor returns, so streams of different rates can be aligned exactly.
 *
 * Time convention (used everywhere in Attune): frame i covers the half-open interval
 *   [start + i / rate, start + (i + 1) / rate)
 * and its center is start + (i + 0.5) / rate. Audio samples are a Stream with dim 1 (or channels)
 * and rate = sample rate; video frames are a Stream with dim = H*W*C.
 */
export interface Stream {
  data: Float32Array; // [frames, dim] row-major
  frames: number;
  dim: number;
  rate: number; // frames per second (Hz)
  start: number; // seconds at which frame 0 begins
}

/** A Stream resampled onto a grid, with mask[j] = 1 where the source actually covered grid frame j. */
export interface AlignedStream extends Stream {
  mask: Uint8Array; // [frames]
}

/** A target time grid: `frames` frames at `rate` Hz from `start` seconds. */
export interface Grid {
  rate: number;
  start: number;
  frames: number;
}

export type ResampleMethod = 'nearest' | 'linear' | 'mean' | 'auto';

/** Float slack for turning times into frame indices (0.3 * 10 is 2.9999999999999996). */
const EPS = 1e-9;

/** Builds a Stream, checking that data length, rate and counts agree. */
export function makeStream(data: Float32Array, dim: number, rate: number, start = 0): Stream {
  if (!Number.isInteger(dim) || dim < 1)
    throw new ShapeError(`stream dim must be a positive integer, got ${dim}`, { field: 'dim', got: dim });
  if (!(rate > 0) || !Number.isFinite(rate))
    throw new ShapeError(`stream rate must be a positive finite number of Hz, got ${rate}`, {
      field: 'rate',
      got: rate,
    });
  if (!Number.isFinite(start))
    throw new ShapeError(`stream start must be finite seconds, got ${start}`, { field: 'start', got: start });
  if (data.length % dim !== 0) {
    throw new ShapeError(`stream data has ${data.length} values, not a multiple of dim ${dim}`, {
      field: 'data',
      expected: `multiple of ${dim}`,
      got: data.length,
    });
  }
  return { data, frames: data.length / dim, dim, rate, start };
}

/** Seconds at which frame i begins. */
export function frameTime(s: { rate: number; start: number }, i: number): number {
  return s.start + i / s.rate;
}

/** Seconds at the center of frame i. */
export function frameCenter(s: { rate: number; start: number }, i: number): number {
  return s.start + (i + 0.5) / s.rate;
}

/** Seconds just past the last frame. */
export function streamEnd(s: { rate: number; start: number; frames: number }): number {
  return s.start + s.frames / s.rate;
}

export function duration(s: { rate: number; frames: number }): number {
  return s.frames / s.rate;
}

/** Index of the frame whose interval contains time t (may be < 0 or >= frames). */
export function frameIndexAt(s: { rate: number; start: number }, t: number): number {
  return Math.floor((t - s.start) * s.rate + EPS);
}

/** Number of whole-or-partial frames at `rate` needed to cover `seconds` (ceil, float-safe). */
export function framesFor(seconds: number, rate: number): number {
  return Math.max(0, Math.ceil(seconds * rate - EPS));
}

/** Row i of a stream (a view, not a copy). */
export function frameRow(s: Stream, i: number): Float32Array {
  return s.data.subarray(i * s.dim, (i + 1) * s.dim);
}

/** Frames whose start lies in [t0, t1); returns a stream sharing the data buffer. */
export function sliceTime(s: Stream, t0: number, t1: number): Stream {
  const i0 = Math.min(s.frames, Math.max(0, Math.ceil((t0 - s.start) * s.rate - EPS)));
  const i1 = Math.min(s.frames, Math.max(i0, Math.ceil((t1 - s.start) * s.rate - EPS)));
  return {
    data: s.data.subarray(i0 * s.dim, i1 * s.dim),
    frames: i1 - i0,
    dim: s.dim,
    rate: s.rate,
    start: frameTime(s, i0),
  };
}

/**
 * Resamples a stream onto a grid. Grid frame j is valid (mask 1) when its center lies inside the
 * source span [start, end); invalid frames are zero.
 * - nearest: the source frame containing the grid frame's center (torch 'nearest-exact' when starts agree).
 * - linear: interpolation between source frame centers, edges held (torch linear, align_corners=false).
 * - mean: overlap-weighted mean of the source frames that intersect the grid frame's interval
 *   (exact area pooling; 50 Hz -> 2 Hz averages 25 frames).
 * - auto: mean when the grid rate is lower than the source rate, nearest otherwise.
 */
export function resample(s: Stream, grid: Grid, method: ResampleMethod = 'auto'): AlignedStream {
  const m = method === 'auto' ? (grid.rate < s.rate ? 'mean' : 'nearest') : method;
  const { dim } = s;
  const out = new Float32Array(grid.frames * dim);
  const mask = new Uint8Array(grid.frames);
  if (s.frames === 0) return { data: out, frames: grid.frames, dim, rate: grid.rate, start: grid.start, mask };
  const ratio = s.rate / grid.rate; // source frames per grid frame
  const offset = (grid.start - s.start) * s.rate; // grid frame 0 begins here, in source frame units
  for (let j = 0; j < grid.frames; j++) {
    const uCentre = offset + (j + 0.5) * ratio;
    if (uCentre < -EPS || uCentre >= s.frames - EPS) continue;
    mask[j] = 1;
    const row = out.subarray(j * dim, (j + 1) * dim);
    if (m === 'nearest') {
      row.set(frameRow(s, clampIndex(Math.floor(uCentre + EPS), s.frames)));
    } else if (m === 'linear') {
      const u = uCentre - 0.5;
      const i0 = Math.floor(u + EPS);
      const w = Math.min(1, Math.max(0, u - i0));
      const a = frameRow(s, clampIndex(i0, s.frames));
      const b = frameRow(s, clampIndex(i0 + 1, s.frames));
      for (let d = 0; d < dim; d++) row[d] = a[d] * (1 - w) + b[d] * w;
    } else {
      meanPool(s, offset + j * ratio, offset + (j + 1) * ratio, row);
    }
  }
  return { data: out, frames: grid.frames, dim, rate: grid.rate, start: grid.start, mask };
}

/** Overlap-weighted mean of source frames over [u0, u1) in source-frame units, written into row. */
function meanPool(s: Stream, u0: number, u1: number, row: Float32Array): void {
  const lo = Math.max(0, Math.floor(u0 + EPS));
  const hi = Math.min(s.frames, Math.ceil(u1 - EPS));
  let total = 0;
  for (let i = lo; i < hi; i++) {
    const w = Math.min(u1, i + 1) - Math.max(u0, i);
    if (w <= EPS) continue;
    total += w;
    const src = frameRow(s, i);
    for (let d = 0; d < s.dim; d++) row[d] += w * src[d];
  }
  if (total > 0) for (let d = 0; d < s.dim; d++) row[d] /= total;
}

function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

export interface AlignOptions {
  rate: number;
  /** 'intersection' keeps only the time every stream covers; 'union' spans all of them, zero-padding (mask 0). */
  span?: 'intersection' | 'union';
  /** Override the grid start/end in seconds. */
  start?: number;
  end?: number;
  method?: ResampleMethod;
}

/** Puts several streams on one grid at `rate` Hz so that row j of each holds the same time. */
export function align(streams: Stream[], opts: AlignOptions): { grid: Grid; streams: AlignedStream[] } {
  if (streams.length === 0) throw new ShapeError('align needs at least one stream', { field: 'streams' });
  const union = opts.span === 'union';
  const starts = streams.map((s) => s.start);
  const ends = streams.map(streamEnd);
  const start = opts.start ?? (union ? Math.min(...starts) : Math.max(...starts));
  const end = opts.end ?? (union ? Math.max(...ends) : Math.min(...ends));
  const grid: Grid = { rate: opts.rate, start, frames: framesFor(end - start, opts.rate) };
  return { grid, streams: streams.map((s) => resample(s, grid, opts.method ?? 'auto')) };
}

/**
 * Per-token RoPE positions for aligned multi-rate attention: token i of a stream at `rate` Hz gets
 * position (start + i / rate) * refRate, i.e. its time in units of reference-stream frames. Tokens at
 * the same second share a position: CLIP at 8 fps against 31.25 Hz latents gives i * 3.90625, the
 * MMAudio scaling of CLIP positions by latent_len / clip_len = 250 / 64.
 */
export function alignedPositions(
  frames: number,
  rate: number,
  refRate: number,
  start = 0,
  anchor: 'start' | 'center' = 'start',
): Float32Array {
  const pos = new Float32Array(frames);
  const shift = anchor === 'center' ? 0.5 : 0;
  for (let i = 0; i < frames; i++) pos[i] = (start + (i + shift) / rate) * refRate;
  return pos;
}

/** Positions in seconds (the refRate = 1 case), for models that take time directly. */
export function positionsSeconds(
  frames: number,
  rate: number,
  start = 0,
  anchor: 'start' | 'center' = 'start',
): Float32Array {
  return alignedPositions(frames, rate, 1, start, anchor);
}
