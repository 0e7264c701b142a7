/**
 * The way back from spectrograms to waveforms: the complex STFT, its inverse (weighted overlap-add, the
 * least-squares inverse of Griffin & Lim 1984, as torch.istft) and Griffin-Lim phase recovery from a magnitude.
 *
 *   signal [N] --stftComplex--> re, im [T, F] --istft--> signal [N]        (perfect reconstruction: same window)
 *   (griffin_lim.ts: |X| [T, F] --griffinLim--> signal [N], repeat { phase of STFT(istft(|X| e^{i phase})) })
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

/** The window and left padding of a config (validated): what stftComplex, istft and Griffin-Lim's shares use. */
export function resolveStft(cfg: ComplexStftConfig): { winLength: number; window: Float64Array; left: number } {
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
  const { window } = resolveStft(cfg);
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
  const { left } = resolveStft(cfg);
  const total = (spec.frames - 1) * cfg.hop + cfg.nFft;
  const out = new Float32Array(cfg.length ?? Math.max(0, total - 2 * left));
  istftRange(spec, cfg, out, 0, out.length);
  return out;
}

/**
 * Samples [from, to) of `istft` written into `out` (whose length is istft's `length`). Each sample sums its frames
 * in the same order (frame index ascending) as the whole inverse does, so ranges computed apart (by threads, see
 * griffin_lim.ts) are bit-identical to the whole; a frame straddling two ranges is inverted by both.
 */
export function istftRange(
  spec: ComplexSpectrogram,
  cfg: ComplexStftConfig,
  out: Float32Array,
  from: number,
  to: number,
): void {
  const { window, left } = resolveStft(cfg);
  const { nFft, hop } = cfg;
  const fft = realFft(nFft);
  if (spec.bins !== fft.bins)
    throw new InputError(`spectrogram has ${spec.bins} bins, nFft ${nFft} needs ${fft.bins}`, {
      field: 'bins',
      got: spec.bins,
      expected: fft.bins,
    });
  const total = (spec.frames - 1) * hop + nFft;
  out.fill(0, from, to);
  const j0 = from + left; // padded coordinates
  const j1 = Math.min(to + left, total);
  if (j1 <= j0) return;
  const acc = new Float64Array(j1 - j0);
  const norm = new Float64Array(j1 - j0);
  const fr = new Float64Array(fft.bins),
    fi = new Float64Array(fft.bins);
  const frame = new Float64Array(nFft);
  const first = Math.max(0, Math.ceil((j0 - nFft + 1) / hop));
  const last = Math.min(spec.frames - 1, Math.floor((j1 - 1) / hop));
  for (let t = first; t <= last; t++) {
    for (let k = 0; k < fft.bins; k++) {
      fr[k] = spec.re[t * fft.bins + k];
      fi[k] = spec.im[t * fft.bins + k];
    }
    fft.inverse(fr, fi, frame);
    const start = t * hop;
    for (let n = Math.max(0, j0 - start); n < Math.min(nFft, j1 - start); n++) {
      acc[start + n - j0] += frame[n] * window[n];
      norm[start + n - j0] += window[n] * window[n];
    }
  }
  for (let j = j0; j < j1; j++) if (norm[j - j0] > 1e-8) out[j - left] = acc[j - j0] / norm[j - j0];
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
