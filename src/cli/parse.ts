/**
 * commander option parsers shared by commands: every numeric or enum option goes through one of these, so a bad
 * value ends in one line naming the flag, what it expected and what it got (exit 2), never a stack trace and never
 * a silent fallback. Limits are generous but finite, so no value can ask for an impossible allocation.
 */
import { InputError } from '../util/errors.js';

const bad = (flag: string, expected: string, v: string): InputError =>
  new InputError(`${flag} must be ${expected}, got "${v}"`, { field: flag, expected, got: v });

/** Number(v) for a non-blank string; NaN for '' or whitespace (Number('') is 0). */
function toNumber(v: string): number {
  return v.trim() === '' ? NaN : Number(v);
}

export function seconds(flag: string) {
  return (v: string): number => {
    const n = toNumber(v);
    if (!Number.isFinite(n) || n < 0) throw bad(flag, 'a number of seconds >= 0', v);
    return n;
  };
}

/** Seconds that may be negative (offsets), within ±60. */
export function signedSeconds(flag: string) {
  return (v: string): number => {
    const n = toNumber(v);
    if (!Number.isFinite(n) || Math.abs(n) > 60) throw bad(flag, 'a number of seconds in [-60, 60]', v);
    return n;
  };
}

/** An integer in [1, max]. */
export function positiveInt(flag: string, max = 1_000_000) {
  return integer(flag, 1, max);
}

/** An integer in [0, max]. */
export function nonNegativeInt(flag: string, max = 2 ** 32 - 1) {
  return integer(flag, 0, max);
}

/** An integer in [min, max]. */
export function integer(flag: string, min: number, max: number) {
  const expected =
    min === 1
      ? `a positive integer (at most ${max})`
      : min === 0
        ? `a non-negative integer (at most ${max})`
        : `an integer in [${min}, ${max}]`;
  return (v: string): number => {
    const n = toNumber(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(flag, expected, v);
    return n;
  };
}

/** A finite number, optionally within [min, max] (or above an exclusive lower bound). */
export function number(flag: string, range: { min?: number; max?: number; above?: number } = {}) {
  const parts = [
    range.above !== undefined ? `> ${range.above}` : range.min !== undefined ? `>= ${range.min}` : '',
    range.max !== undefined ? `<= ${range.max}` : '',
  ].filter(Boolean);
  const expected = `a finite number${parts.length ? ` ${parts.join(' and ')}` : ''}`;
  return (v: string): number => {
    const n = toNumber(v);
    if (
      !Number.isFinite(n) ||
      (range.min !== undefined && n < range.min) ||
      (range.above !== undefined && n <= range.above) ||
      (range.max !== undefined && n > range.max)
    )
      throw bad(flag, expected, v);
    return n;
  };
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(flag: string, choices: readonly T[]) {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) {
      throw new InputError(`${flag} must be one of ${choices.join(', ')}, got "${v}"`, {
        field: flag,
        expected: choices,
        got: v,
      });
    }
    return v as T;
  };
}

/** Comma-separated finite numbers within [min, max] (at least one, at most `maxCount`). */
export function numberList(
  flag: string,
  range: { min: number; max: number; maxCount?: number; unit?: string; distinct?: boolean },
) {
  const maxCount = range.maxCount ?? 1000;
  const expected = `comma-separated ${range.distinct ? 'distinct ' : ''}${range.unit ?? 'numbers'} in [${range.min}, ${range.max}] (1 to ${maxCount} of them)`;
  return (v: string): number[] => {
    const parts = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const xs = parts.map(toNumber);
    if (!xs.length || xs.length > maxCount || xs.some((x) => !Number.isFinite(x) || x < range.min || x > range.max))
      throw bad(flag, expected, v);
    if (range.distinct && new Set(xs).size !== xs.length) throw bad(flag, expected, v);
    return xs;
  };
}

/** Seeds: a list and/or ranges, e.g. 1,2,3 or 0-4 (non-negative, distinct, at most `maxCount`). */
export function seedList(flag: string, maxCount = 1000) {
  const expected = `a list of seeds like 1,2,3 or 0-4 (distinct non-negative integers, at most ${maxCount})`;
  return (v: string): number[] => {
    const seeds: number[] = [];
    for (const part of v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const range = /^(\d+)-(\d+)$/.exec(part);
      const [a, b] = range
        ? [Number(range[1]), Number(range[2])]
        : /^\d+$/.test(part)
          ? [Number(part), Number(part)]
          : [NaN, NaN];
      if (
        !Number.isSafeInteger(a) ||
        !Number.isSafeInteger(b) ||
        a > 2 ** 32 - 1 ||
        b > 2 ** 32 - 1 ||
        b < a ||
        seeds.length + (b - a + 1) > maxCount
      )
        throw bad(flag, expected, v);
      for (let s = a; s <= b; s++) seeds.push(s);
    }
    if (!seeds.length || new Set(seeds).size !== seeds.length) throw bad(flag, expected, v);
    return seeds;
  };
}

/** `synth:N` with 1 <= N <= max, or `synth` (returns `fallback` clips). */
export function synthCount(flag: string, v: string, opts: { max: number; fallback?: number }): number {
  const m = /^synth(?::(\d+))?$/.exec(v.trim());
  const expected = `synth:N with N from 1 to ${opts.max}${opts.fallback !== undefined ? ' (or synth)' : ''}`;
  if (!m || (m[1] === undefined && opts.fallback === undefined)) throw bad(flag, expected, v);
  const n = m[1] === undefined ? opts.fallback! : Number(m[1]);
  if (!Number.isSafeInteger(n) || n < 1 || n > opts.max) throw bad(flag, expected, v);
  return n;
}

/**
 * `--data`: a manifest path is returned as is; `synth:N` is checked here (1 <= N <= 1e6), so a typo or a huge N
 * fails at once instead of allocating.
 */
export function dataSource(flag: string, maxClips = 1_000_000) {
  return (v: string): string => {
    const m = /^(synth|avqa|emospeech)(:.*)?$/.exec(v.trim());
    if (m) synthCount(flag, `synth${m[2] ?? ''}`, { max: maxClips });
    return v;
  };
}

/** An offset grid MIN,MAX,CLASSES: finite seconds within ±60, MAX > MIN, 2 <= CLASSES <= 10000 (an integer). */
export function offsetGrid(flag: string) {
  return (v: string): { min: number; max: number; classes: number } => {
    const parts = v.split(',').map((s) => toNumber(s));
    const [min, max, classes] = parts;
    if (
      parts.length !== 3 ||
      !parts.every(Number.isFinite) ||
      Math.abs(min) > 60 ||
      Math.abs(max) > 60 ||
      max <= min ||
      !Number.isInteger(classes) ||
      classes < 2 ||
      classes > 10000
    ) {
      throw bad(flag, 'MIN,MAX,CLASSES (seconds within ±60 with MAX > MIN, and an integer from 2 to 10000 classes)', v);
    }
    return { min, max, classes };
  };
}

/** "min,max" (or one value for both) of integers in [lo, hi], min <= max. */
export function intRange(flag: string, lo: number, hi: number) {
  return (v: string): [number, number] => {
    const parts = v.split(',').map((p) => toNumber(p));
    const [a, b] = parts.length === 1 ? [parts[0], parts[0]] : parts;
    if (parts.length > 2 || !Number.isInteger(a) || !Number.isInteger(b) || a < lo || b > hi || a > b)
      throw bad(flag, `"min,max" (or one integer) within [${lo}, ${hi}] with min <= max`, v);
    return [a, b];
  };
}
