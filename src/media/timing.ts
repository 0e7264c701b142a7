import { InputError } from '../util/errors.js';

/**
 * Time-range helpers shared by the audio and video decoders.
 * A range is [start, start + duration) in seconds on the file's clock (t = 0 at the container start).
 */
export interface TimeRange {
  /** Seconds from the container start (default 0). */
  start?: number;
  /** Seconds to decode (default: to the end of the stream). */
  duration?: number;
}

/** Validates a range; InputError naming the file for negative or non-finite values. */
export function checkRange(path: string, range: TimeRange): { start: number; duration: number | undefined } {
  const start = range.start ?? 0;
  const duration = range.duration;
  if (!Number.isFinite(start) || start < 0) {
    throw new InputError(`${path}: start must be a finite number of seconds >= 0, got ${start}`, {
      file: path,
      field: 'start',
      got: start,
    });
  }
  if (duration !== undefined && (!Number.isFinite(duration) || duration <= 0)) {
    throw new InputError(`${path}: duration must be a finite number of seconds > 0, got ${duration}`, {
      file: path,
      field: 'duration',
      got: duration,
    });
  }
  return { start, duration };
}

/**
 * Number of grid points start + i/rate that fall inside [start, end): ceil((end - start) * rate), with a
 * tolerance so that floating-point noise in `end` does not add or drop a point.
 */
export function gridCount(start: number, end: number, rate: number): number {
  if (!(end > start)) return 0;
  return Math.max(0, Math.ceil((end - start) * rate - 1e-6));
}

/** Formats seconds for ffmpeg arguments without exponent notation. */
export function secondsArg(t: number): string {
  return t.toFixed(6);
}
