/**
 * The way back from spectrograms to waveforms: the complex STFT, its inverse (weighted overlap-add, the
 * least-squares inverse of Griffin & Lim 1984, as torch.istft) and Griffin-Lim phase recovery from a magnitude.
 *
 *   signal [N] --stftComplex--> re, im [T, F] --istft--> signal [N]        (perfect reconstruction: same window)
 *   |X| [T, F] --griffinLim--> signal [N]: repeat { phase of STFT(istft(|X| e^{i phase})) }
 *
 * Frame t covers padded samples [t*hop, t*hop + nFft) exactly as `stft` in stft.ts (same windows, same padding),
 * so a magnitude from `stft(..., { power: 1 })` is a valid Griffin-Lim target.
 */
import { InputError } from '../util/errors.js';
import { realFft } from './fft.js';
import { type PadMode, type WindowKind, makeWindow, padSignal } from './stft.js';

export interface ComplexStftConfig {
  nFft: number;
  hop: number;
  winLength?: number;
  window?: WindowKind;
  /** 'center' (default) or 'none'; the inverse undoes the padding. */
  pad?: Extract<PadMode, 'center' | 'none'>;
}

export interface ComplexSpectrogram {
  /** [T, F] row-major, F = nFft/2 + 1. */
  re: Float32Array;
  im: Float32Array;
  frames: number;
  bins: number;
}

function checkConfig(cfg: ComplexStftConfig): { winLength: number; window: Float64Array; left: number } {
  const { nFft, hop } = cfg;
  const winLength = cfg.winLength ?? nFft;
  if (!Number.isInteger(hop) || hop < 1 || hop > winLength)
    throw new InputError(`hop must be an integer in [1, winLength=${winLength}], got ${hop}`, {
      field: 'hop',
      got: hop,
    });
  if (winLength > nFft)
    throw new InputError(`winLength ${winLength} exceeds nFft ${nFft}`, { field: 'winLength', got: winLength });
  const pad = cfg.pad ?? 'center';
  return {
    winLength,
    window: makeWindow(cfg.window ?? 'hann', winLength, nFft),
    left: pad === 'center' ? nFft >> 1 : 0,
  };
}

/** Complex STFT of a mono signal (no normalization: bin k of frame t is sum_n x[n] w[n] e^{-2 pi i k n / nFft}). */
export function stftComplex(signal: Float32Array, cfg: ComplexStftConfig): ComplexSpectrogram {
  const { window } = checkConfig(cfg);
  if (signal.length === 0)
    throw new InputError('cannot take the STFT of an empty signal', { field: 'signal', reason: 'empty' });
  const { nFft, hop } = cfg;
  const fft = realFft(nFft);
  const { padded } = padSignal(signal, nFft, hop, cfg.pad ?? 'center');
  const frames = padded.length < nFft ? 0 : 1 + Math.floor((padded.length - nFft) / hop);
  const bins = fft.bins;
  const re = new Float32Array(frames * bins);
  const im = new Float32Array(frames * bins);
  const fr = new Float64Array(bins),
    fi = new Float64Array(bins);
  for (let t = 0; t < frames; t++) {
    fft.forward(padded, fr, fi, window, t * hop);
    re.set(fr, t * bins);
    im.set(fi, t * bins);
  }
  return { re, im, frames, bins };
}

/**
 * Inverse STFT by weighted overlap-add: y = sum_t w * ifft(X_t) / sum_t w^2, then the padding is cut off and the
 * result trimmed (or zero-extended) to `length` samples (default: what the frames cover). Samples where the summed
 * squared window is below 1e-8 (the very ends with pad 'none') are left at 0.
 */
export function istft(spec: ComplexSpectrogram, cfg: ComplexStftConfig & { length?: number }): Float32Array {
  const { window, left } = checkConfig(cfg);
  const { nFft, hop } = cfg;
  const fft = realFft(nFft);
  if (spec.bins !== fft.bins)
    throw new InputError(`spectrogram has ${spec.bins} bins, nFft ${nFft} needs ${fft.bins}`, {
      field: 'bins',
      got: spec.bins,
      expected: fft.bins,
    });
  const total = (spec.frames - 1) * hop + nFft;
  const acc = new Float64Array(total);
  const norm = new Float64Array(total);
  const fr = new Float64Array(fft.bins),
    fi = new Float64Array(fft.bins);
  const frame = new Float64Array(nFft);
  for (let t = 0; t < spec.frames; t++) {
    for (let k = 0; k < fft.bins; k++) {
      fr[k] = spec.re[t * fft.bins + k];
      fi[k] = spec.im[t * fft.bins + k];
    }
    fft.inverse(fr, fi, frame);
    const start = t * hop;
    for (let n = 0; n < nFft; n++) {
      acc[start + n] += frame[n] * window[n];
      norm[start + n] += window[n] * window[n];
    }
  }
  const natural = Math.max(0, total - 2 * left);
  const length = cfg.length ?? natural;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const j = i + left;
    if (j < total && norm[j] > 1e-8) out[i] = acc[j] / norm[j];
  }
  return out;
}

/** Spectral convergence ||S - |STFT(y)| ||_F / ||S||_F: 0 when y's magnitude matches the target exactly. */
export function spectralConvergence(target: Float32Array, signal: Float32Array, cfg: ComplexStftConfig): number {
  const s = stftComplex(signal, cfg);
  let num = 0,
    den = 0;
  const n = Math.min(target.length, s.re.length);
  for (let i = 0; i < n; i++) {
    const m = Math.hypot(s.re[i], s.im[i]);
    num += (target[i] - m) ** 2;
    den += target[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-20));
}

export interface GriffinLimOptions extends ComplexStftConfig {
  /** Iterations (default 32). */
  iterations?: number;
  /** "Fast Griffin-Lim" momentum (Perraudin et al. 2013; torchaudio's default 0.99); 0 = the original algorithm. */
  momentum?: number;
  /** Output length in samples. */
  length?: number;
  /** Seed of the initial random phase (default: zero phase). */
  seed?: number;
  /** Called after every iteration with its spectral convergence (costs one extra STFT per call when given). */
  onIteration?: (iteration: number, convergence: number) => void;
}

/** Recovers a waveform whose STFT magnitude approximates `magnitude` [T, F] (F = nFft/2 + 1). */
export function griffinLim(magnitude: Float32Array, frames: number, opts: GriffinLimOptions): Float32Array {
  const bins = (opts.nFft >> 1) + 1;
  if (magnitude.length !== frames * bins)
    throw new InputError(`magnitude has ${magnitude.length} values, expected ${frames} frames x ${bins} bins`, {
      field: 'magnitude',
      got: magnitude.length,
      expected: frames * bins,
    });
  const iterations = opts.iterations ?? 32;
  const momentum = opts.momentum ?? 0.99;
  const length = opts.length ?? (frames - 1) * opts.hop + ((opts.pad ?? 'center') === 'center' ? 0 : opts.nFft);
  const spec: ComplexSpectrogram = {
    re: new Float32Array(magnitude),
    im: new Float32Array(magnitude.length),
    frames,
    bins,
  };
  if (opts.seed !== undefined) randomPhase(spec, magnitude, opts.seed);
  let previous: Float32Array = new Float32Array(0),
    previousIm: Float32Array = new Float32Array(0);
  let signal = istft(spec, { ...opts, length });
  for (let it = 0; it < iterations; it++) {
    const rebuilt = stftComplex(signal, opts);
    const count = Math.min(rebuilt.frames, frames) * bins;
    const re = rebuilt.re,
      im = rebuilt.im;
    for (let i = 0; i < count; i++) {
      // Accelerated projection: extrapolate past the last estimate, then keep only the phase.
      let r = re[i],
        m = im[i];
      if (momentum > 0 && previous.length) {
        r += momentum * (r - previous[i]);
        m += momentum * (m - previousIm[i]);
      }
      const a = Math.hypot(r, m);
      spec.re[i] = a > 1e-12 ? (magnitude[i] * r) / a : magnitude[i];
      spec.im[i] = a > 1e-12 ? (magnitude[i] * m) / a : 0;
    }
    previous = re;
    previousIm = im;
    signal = istft(spec, { ...opts, length });
    opts.onIteration?.(it + 1, spectralConvergence(magnitude, signal, opts));
  }
  return signal;
}

function randomPhase(spec: ComplexSpectrogram, magnitude: Float32Array, seed: number): void {
  // A tiny LCG keeps the media layer free of util/rng's state format; the phase only needs to be spread.
  let s = seed >>> 0 || 1;
  for (let i = 0; i < magnitude.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const phase = (s / 4294967296) * 2 * Math.PI;
    spec.re[i] = magnitude[i] * Math.cos(phase);
    spec.im[i] = magnitude[i] * Math.sin(phase);
  }
}
