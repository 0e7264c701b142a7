import { InputError } from '../util/errors.js';

/**
 * Real-input FFT of a power-of-two size n: one complex FFT of size n/2 on the even/odd samples packed as
 * re/im, then the standard split step. Tables (bit reversal, twiddles) are computed once per size, and the
 * work buffers are reused, so a plan is not safe to share between concurrent callers (JS has none).
 */
export class RealFft {
  readonly n: number;
  /** Number of output bins: n/2 + 1 (DC .. Nyquist). */
  readonly bins: number;
  private readonly half: number;
  private readonly rev: Uint32Array;
  private readonly twCos: Float64Array; // exp(-2 pi i j / half), j < half/2
  private readonly twSin: Float64Array;
  private readonly splitCos: Float64Array; // exp(-2 pi i k / n), k <= half
  private readonly splitSin: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 4 || (n & (n - 1)) !== 0) {
      throw new InputError(`FFT size must be a power of two >= 4, got ${n}`, { field: 'nFft', got: n });
    }
    this.n = n;
    this.half = n >> 1;
    this.bins = this.half + 1;
    const m = this.half;
    const bits = Math.log2(m);
    this.rev = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.twCos = new Float64Array(Math.max(1, m >> 1));
    this.twSin = new Float64Array(Math.max(1, m >> 1));
    for (let j = 0; j < m >> 1; j++) {
      this.twCos[j] = Math.cos((2 * Math.PI * j) / m);
      this.twSin[j] = -Math.sin((2 * Math.PI * j) / m);
    }
    this.splitCos = new Float64Array(m + 1);
    this.splitSin = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      this.splitCos[k] = Math.cos((2 * Math.PI * k) / n);
      this.splitSin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
    this.re = new Float64Array(m);
    this.im = new Float64Array(m);
  }

  /** In-place complex FFT of size n/2 on (re, im), input in natural order. */
  private complexFft(): void {
    const { re, im, rev, twCos, twSin } = this;
    const m = this.half;
    for (let i = 0; i < m; i++) {
      const j = rev[i];
      if (j > i) {
        let t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    for (let size = 2; size <= m; size <<= 1) {
      const halfSize = size >> 1;
      const step = m / size;
      for (let start = 0; start < m; start += size) {
        for (let j = 0, t = 0; j < halfSize; j++, t += step) {
          const wr = twCos[t];
          const wi = twSin[t];
          const a = start + j;
          const b = a + halfSize;
          const xr = re[b] * wr - im[b] * wi;
          const xi = re[b] * wi + im[b] * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  }

  /**
   * Spectrum of `input[offset .. offset + n)` multiplied by `window` (length n) if given.
   * Writes bins 0..n/2 into outRe/outIm (each at least `bins` long).
   */
  forward(
    input: ArrayLike<number>,
    outRe: Float64Array,
    outIm: Float64Array,
    window?: ArrayLike<number>,
    offset = 0,
  ): void {
    const m = this.half;
    const { re, im } = this;
    if (window) {
      for (let k = 0; k < m; k++) {
        re[k] = input[offset + 2 * k] * window[2 * k];
        im[k] = input[offset + 2 * k + 1] * window[2 * k + 1];
      }
    } else {
      for (let k = 0; k < m; k++) {
        re[k] = input[offset + 2 * k];
        im[k] = input[offset + 2 * k + 1];
      }
    }
    this.complexFft();
    const { splitCos, splitSin } = this;
    for (let k = 0; k <= m; k++) {
      const a = re[k % m];
      const b = im[k % m];
      const c = re[(m - k) % m];
      const d = im[(m - k) % m];
      const er = (a + c) * 0.5;
      const ei = (b - d) * 0.5;
      const or = (b + d) * 0.5;
      const oi = (c - a) * 0.5;
      const wr = splitCos[k];
      const wi = splitSin[k];
      outRe[k] = er + wr * or - wi * oi;
      outIm[k] = ei + wr * oi + wi * or;
    }
  }

  /**
   * Inverse of `forward` for a Hermitian spectrum given by bins 0..n/2 (imaginary parts of bins 0 and n/2 are
   * ignored): writes the n real samples, scaled by 1/n, into `out`.
   */
  inverse(inRe: Float64Array, inIm: Float64Array, out: Float64Array | Float32Array): void {
    const m = this.half;
    const { re, im, splitCos, splitSin } = this;
    for (let k = 0; k < m; k++) {
      // Undo the split: E = FFT(even samples), O = FFT(odd samples), and Z = E + iO = FFT(x_even + i x_odd).
      const a = inRe[k];
      const b = k === 0 ? 0 : inIm[k];
      const c = inRe[m - k];
      const d = k === 0 ? 0 : inIm[m - k];
      const er = (a + c) * 0.5;
      const ei = (b - d) * 0.5;
      const dr = (a - c) * 0.5;
      const di = (b + d) * 0.5;
      // O = (X_k - conj(X_{m-k})) / (2 W^k) with 1/W^k = (cos, sin).
      const wr = splitCos[k];
      const wi = -splitSin[k];
      const or = dr * wr - di * wi;
      const oi = dr * wi + di * wr;
      // Conjugate Z so that a forward FFT computes the inverse.
      re[k] = er - oi;
      im[k] = -(ei + or);
    }
    this.complexFft();
    // x_even + i x_odd = conj(FFT(conj(Z))) / m.
    const scale = 1 / m;
    for (let j = 0; j < m; j++) {
      out[2 * j] = re[j] * scale;
      out[2 * j + 1] = -im[j] * scale;
    }
  }

  /** |X_k|^2 for k = 0..n/2 into `out`. */
  power(input: ArrayLike<number>, out: Float32Array | Float64Array, window?: ArrayLike<number>, offset = 0): void {
    const re = (this.spectrumRe ??= new Float64Array(this.bins));
    const im = (this.spectrumIm ??= new Float64Array(this.bins));
    this.forward(input, re, im, window, offset);
    for (let k = 0; k < this.bins; k++) out[k] = re[k] * re[k] + im[k] * im[k];
  }

  private spectrumRe?: Float64Array;
  private spectrumIm?: Float64Array;
}

const plans = new Map<number, RealFft>();

/** A cached plan per size. */
export function realFft(n: number): RealFft {
  let p = plans.get(n);
  if (!p) {
    p = new RealFft(n);
    plans.set(n, p);
  }
  return p;
}

/** Reference O(n^2) DFT, for tests. */
export function naiveDft(x: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const re = new Float64Array((n >> 1) + 1);
  const im = new Float64Array((n >> 1) + 1);
  for (let k = 0; k <= n >> 1; k++) {
    for (let t = 0; t < n; t++) {
      re[k] += x[t] * Math.cos((2 * Math.PI * k * t) / n);
      im[k] -= x[t] * Math.sin((2 * Math.PI * k * t) / n);
    }
  }
  return { re, im };
}
