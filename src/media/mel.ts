import { InputError } from '../util/errors.js';

/**
 * Mel scales, triangular mel filter banks, log compression and the DCT used by MFCC.
 *
 * HTK scale: m = 2595 log10(1 + f/700).
 * Slaney scale (librosa default, htk=False): linear below 1 kHz (m = 3f/200), logarithmic above
 * (m = 15 + 27 ln(f/1000) / ln(6.4)).
 * Slaney norm: each triangle is scaled by 2 / (f_right - f_left) so that filters have equal area.
 */
export type MelScale = 'htk' | 'slaney';
export type MelNorm = 'slaney' | 'none';

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(f: number, scale: MelScale): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  return f < MIN_LOG_HZ ? f / F_SP : MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOG_STEP;
}

export function melToHz(m: number, scale: MelScale): number {
  if (scale === 'htk') return 700 * (10 ** (m / 2595) - 1);
  return m < MIN_LOG_MEL ? F_SP * m : MIN_LOG_HZ * Math.exp(LOG_STEP * (m - MIN_LOG_MEL));
}

export interface MelConfig {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fMin?: number;
  /** Default sampleRate / 2. */
  fMax?: number;
  scale?: MelScale;
  norm?: MelNorm;
}

/** A sparse filter bank: filter m has weights for bins first[m] .. first[m] + weights[m].length - 1. */
export interface MelFilterBank {
  nMels: number;
  bins: number;
  first: Int32Array;
  weights: Float32Array[];
  /** Center frequency of each filter, Hz. */
  centers: Float64Array;
}

export function melFilterBank(cfg: MelConfig): MelFilterBank {
  const { sampleRate: sr, nFft, nMels } = cfg;
  const fMin = cfg.fMin ?? 0;
  const fMax = cfg.fMax ?? sr / 2;
  const scale = cfg.scale ?? 'slaney';
  if (!(fMin >= 0 && fMax > fMin && fMax <= sr / 2 + 1e-9)) {
    throw new InputError(
      `mel range must satisfy 0 <= fMin < fMax <= sampleRate/2, got [${fMin}, ${fMax}] at ${sr} Hz`,
      {
        field: 'fMax',
        got: [fMin, fMax],
      },
    );
  }
  if (!Number.isInteger(nMels) || nMels < 1)
    throw new InputError(`nMels must be a positive integer, got ${nMels}`, { field: 'nMels', got: nMels });
  const bins = (nFft >> 1) + 1;
  const lo = hzToMel(fMin, scale);
  const hi = hzToMel(fMax, scale);
  const edges = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) edges[i] = melToHz(lo + ((hi - lo) * i) / (nMels + 1), scale);
  const first = new Int32Array(nMels);
  const weights: Float32Array[] = [];
  for (let m = 0; m < nMels; m++) {
    const [left, center, right] = [edges[m], edges[m + 1], edges[m + 2]];
    const gain = cfg.norm === 'none' ? 1 : 2 / (right - left);
    let start = -1;
    const w: number[] = [];
    for (let k = 0; k < bins; k++) {
      const f = (k * sr) / nFft;
      const v = Math.max(0, Math.min((f - left) / (center - left), (right - f) / (right - center)));
      if (v > 0) {
        if (start < 0) start = k;
        // Keep interior zeros (none occur for triangles) so the run stays contiguous.
        while (start + w.length < k) w.push(0);
        w.push(v * gain);
      }
    }
    first[m] = Math.max(0, start);
    weights.push(Float32Array.from(w));
  }
  return { nMels, bins, first, weights, centers: edges.slice(1, nMels + 1) };
}

/** Applies a filter bank to a spectrogram [T, bins] -> [T, nMels]. */
export function applyFilterBank(spec: Float32Array, frames: number, fb: MelFilterBank): Float32Array {
  const out = new Float32Array(frames * fb.nMels);
  for (let t = 0; t < frames; t++) {
    const row = t * fb.bins;
    for (let m = 0; m < fb.nMels; m++) {
      const w = fb.weights[m];
      const base = row + fb.first[m];
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * spec[base + k];
      out[t * fb.nMels + m] = acc;
    }
  }
  return out;
}

/**
 * Log compression:
 * - 'ln' / 'log10': log(max(x, floor)) (MMAudio 16 k uses log10 with floor 1e-5);
 * - 'db': 10 log10(max(x, floor)) (librosa power_to_db with ref 1; PANNs uses floor 1e-10), with optional topDb.
 */
export interface LogConfig {
  kind: 'ln' | 'log10' | 'db';
  floor: number;
  topDb?: number;
}

export function logCompress(x: Float32Array, cfg: LogConfig): Float32Array {
  const out = new Float32Array(x.length);
  const scale = cfg.kind === 'ln' ? 1 : cfg.kind === 'log10' ? Math.LOG10E : 10 * Math.LOG10E;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = scale * Math.log(Math.max(x[i], cfg.floor));
    out[i] = v;
    if (v > max) max = v;
  }
  if (cfg.topDb !== undefined) {
    const lim = max - cfg.topDb;
    for (let i = 0; i < out.length; i++) if (out[i] < lim) out[i] = lim;
  }
  return out;
}

/** DCT-II matrix [nOut, nIn], orthonormal: c_0 scaled by sqrt(1/N), others by sqrt(2/N) (scipy norm='ortho'). */
export function dctMatrix(nIn: number, nOut: number): Float64Array {
  const m = new Float64Array(nOut * nIn);
  for (let k = 0; k < nOut; k++) {
    const s = k === 0 ? Math.sqrt(1 / nIn) : Math.sqrt(2 / nIn);
    for (let n = 0; n < nIn; n++) m[k * nIn + n] = s * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * nIn));
  }
  return m;
}

/** Rows of x [T, nIn] times dct^T -> [T, nOut]. */
export function applyDct(x: Float32Array, frames: number, nIn: number, dct: Float64Array, nOut: number): Float32Array {
  const out = new Float32Array(frames * nOut);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < nOut; k++) {
      let acc = 0;
      const row = k * nIn;
      for (let n = 0; n < nIn; n++) acc += dct[row + n] * x[t * nIn + n];
      out[t * nOut + k] = acc;
    }
  }
  return out;
}
