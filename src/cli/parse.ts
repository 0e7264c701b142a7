import { InputError } from '../util/errors.js';

/** commander option parsers shared by commands: each names its flag and what it expected when a value is wrong. */
export function seconds(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InputError(`${flag} expects seconds >= 0, got "${v}"`, { field: flag, got: v });
    return n;
  };
}

/** Seconds that may be negative (offsets), within ±60. */
export function signedSeconds(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || Math.abs(n) > 60) throw new InputError(`${flag} expects seconds in [-60, 60], got "${v}"`, { field: flag, got: v });
    return n;
  };
}

export function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`${flag} expects a positive integer, got "${v}"`, { field: flag, got: v });
    return n;
  };
}

export function nonNegativeInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`${flag} expects a non-negative integer, got "${v}"`, { field: flag, got: v });
    return n;
  };
}
