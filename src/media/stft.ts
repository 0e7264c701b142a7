import { InputError } from '../util/errors.js';
import { realFft } from './fft.js';

/**
 * Short-time Fourier transform of a mono signal. Frame t covers padded samples [t*hop, t*hop + nFft); with
 * padding the frame *center* of frame t sits at t*hop + `centerOffset` samples of the original signal.
 */
export type WindowKind = 'hann' | 'hamming' | 'rect';

/**
 * How the signal is padded before framing:
 * - 'center': nFft/2 reflect-padding each side (librosa / torch.stft center=True); frame t centerd at t*hop.
 * - 'bigvgan': (nFft-hop)/2 reflect-padding each side, no centring (BigVGAN / MMAudio mel); floor(N/hop) frames.
 * - 'none': frames start at 0; 1 + floor((N - winLength)/hop) frames (no partial frame at the end).
 * - 'end': like 'none' but the last partial frame is zero-padded (python_speech_features); ceil((N-win)/hop)+1.
 */
export type PadMode = 'center' | 'bigvgan' | 'none' | 'end';

export interface StftConfig {
  nFft: number;
  hop: number;
  /** Window length (<= nFft, zero-padded to nFft, centerd). Default nFft. */
  winLength?: number;
  window?: WindowKind;
  pad?: PadMode;
  /** 2 = power |X|^2 (default), 1 = magnitude |X|. */
  power?: 1 | 2;
}

export interface Spectrogram {
  /** [T, F] row-major, F = nFft/2 + 1. */
  data: Float32Array;
  frames: number;
  bins: number;
  /** Sample index (original signal) of frame 0's window center; frame t is at (centerOffset + t*hop) samples. */
  centerOffset: number;
}

const windowCache = new Map<string, Float64Array>();

/** Periodic window (as in torch.hann_window / scipy get_window), zero-padded centrally to nFft. */
export function makeWindow(kind: WindowKind, winLength: number, nFft = winLength): Float64Array {
  const key = `${kind}:${winLength}:${nFft}`;
  const cached = windowCache.get(key);
  if (cached) return cached;
  const w = new Float64Array(nFft);
  const left = (nFft - winLength) >> 1;
  for (let i = 0; i < winLength; i++) {
    const phase = (2 * Math.PI * i) / winLength;
    w[left + i] =
      kind === 'hann' ? 0.5 - 0.5 * Math.cos(phase) : kind === 'hamming' ? 0.54 - 0.46 * Math.cos(phase) : 1;
  }
  windowCache.set(key, w);
  return w;
}

function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/** Pads a signal per `mode`; returns the padded signal and the number of samples added on the left. */
export function padSignal(
  x: Float32Array,
  nFft: number,
  hop: number,
  mode: PadMode,
  winLength = nFft,
): { padded: Float32Array; left: number } {
  if (mode === 'none') return { padded: x, left: 0 };
  if (mode === 'end') {
    // Frame t uses samples [t*hop, t*hop + winLength); the window sits centerd in nFft, so shift by the gap.
    const frames = x.length <= winLength ? 1 : 1 + Math.ceil((x.length - winLength) / hop);
    const left = (nFft - winLength) >> 1;
    const padded = new Float32Array((frames - 1) * hop + nFft);
    padded.set(x, left);
    return { padded, left };
  }
  const left = mode === 'center' ? nFft >> 1 : (nFft - hop) >> 1;
  const right = mode === 'center' ? nFft >> 1 : nFft - hop - left;
  const padded = new Float32Array(x.length + left + right);
  padded.set(x, left);
  for (let i = 0; i < left; i++) padded[i] = x[reflectIndex(i - left, x.length)];
  for (let i = 0; i < right; i++) padded[left + x.length + i] = x[reflectIndex(x.length + i, x.length)];
  return { padded, left };
}

/** Power (or magnitude) spectrogram, [T, nFft/2 + 1]. */
export function stft(signal: Float32Array, cfg: StftConfig): Spectrogram {
  const { nFft, hop } = cfg;
  const winLength = cfg.winLength ?? nFft;
  if (!Number.isInteger(hop) || hop < 1)
    throw new InputError(`hop must be a positive integer, got ${hop}`, { field: 'hop', got: hop });
  if (winLength > nFft)
    throw new InputError(`winLength ${winLength} exceeds nFft ${nFft}`, { field: 'winLength', got: winLength });
  const fft = realFft(nFft);
  const window = makeWindow(cfg.window ?? 'hann', winLength, nFft);
  const mode = cfg.pad ?? 'center';
  if (signal.length === 0)
    throw new InputError('cannot take the STFT of an empty signal', { field: 'signal', reason: 'empty' });
  const { padded, left } = padSignal(signal, nFft, hop, mode, winLength);
  const frames = padded.length < nFft ? 0 : 1 + Math.floor((padded.length - nFft) / hop);
  const bins = fft.bins;
  const data = new Float32Array(frames * bins);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  const magnitude = cfg.power === 1;
  for (let t = 0; t < frames; t++) {
    fft.forward(padded, re, im, window, t * hop);
    const row = t * bins;
    for (let k = 0; k < bins; k++) {
      const p = re[k] * re[k] + im[k] * im[k];
      data[row + k] = magnitude ? Math.sqrt(p) : p;
    }
  }
  return { data, frames, bins, centerOffset: (nFft >> 1) - left };
}
