import { InputError } from '../util/errors.js';
import { checkSignal } from './audio_features.js';
import { realFft } from './fft.js';
import { makeStream, type Stream } from '../timeline/timeline.js';

/**
 * YIN fundamental-frequency estimation (de Cheveigne & Kawahara 2002):
 *   d(tau)  = sum_{j<W} (x_j - x_{j+tau})^2                    difference function
 *   d'(tau) = d(tau) * tau / sum_{k=1..tau} d(k), d'(0) = 1     cumulative mean normalized difference
 * The period is the first tau (within [sr/fMax, sr/fMin]) where d' dips below `threshold`, refined to the local
 * minimum and by parabolic interpolation; f0 = sr / tau. Frames with no dip are unvoiced (f0 = 0).
 * Output [T, 2]: f0 in Hz and periodicity 1 - d'(tau) (0..1, near 1 for clean periodic sound).
 */
export interface YinConfig {
  sampleRate: number;
  fMin?: number; // default 60 Hz
  fMax?: number; // default 1000 Hz
  hop?: number; // default sampleRate / 100
  /** Integration window W in samples; default 1.5 periods of fMin. */
  window?: number;
  threshold?: number; // default 0.15
}

export function yin(signal: Float32Array, cfg: YinConfig, t0 = 0): Stream {
  const sr = cfg.sampleRate;
  const fMin = cfg.fMin ?? 60;
  const fMax = cfg.fMax ?? 1000;
  if (!(fMin > 0 && fMax > fMin && fMax < sr / 2)) {
    throw new InputError(`YIN needs 0 < fMin < fMax < sampleRate/2, got fMin ${fMin}, fMax ${fMax} at ${sr} Hz`, {
      field: 'fMin',
      got: [fMin, fMax],
    });
  }
  checkSignal(signal, 'YIN');
  const hop = cfg.hop ?? Math.round(sr / 100);
  const tauMin = Math.max(2, Math.floor(sr / fMax));
  const tauMax = Math.ceil(sr / fMin);
  const W = cfg.window ?? Math.ceil(1.5 * tauMax);
  const threshold = cfg.threshold ?? 0.15;
  const span = W + tauMax + 2;
  const T = 1 + Math.floor(signal.length / hop);
  const out = new Float32Array(T * 2);
  // d(tau) = e(0..W) + e(tau..tau+W) - 2 r(tau), with the cross term r(tau) = sum_j x_j x_{j+tau} from one FFT
  // product (no wrap-around: n >= span), and the energies from prefix sums.
  let n = 4;
  while (n < span) n <<= 1;
  const fft = realFft(n);
  const frame = new Float64Array(n);
  const head = new Float64Array(n);
  const [aRe, aIm, bRe, bIm] = [0, 1, 2, 3].map(() => new Float64Array(fft.bins));
  const corr = new Float64Array(n);
  const cum = new Float64Array(span + 1);
  const d = new Float64Array(tauMax + 2);
  for (let t = 0; t < T; t++) {
    // Frame t is centerd on sample t*hop; samples outside the signal are zeros.
    const begin = t * hop - (span >> 1);
    for (let j = 0; j < span; j++) {
      const i = begin + j;
      frame[j] = i >= 0 && i < signal.length ? signal[i] : 0;
      cum[j + 1] = cum[j] + frame[j] * frame[j];
    }
    head.fill(0);
    head.set(frame.subarray(0, W));
    fft.forward(frame, aRe, aIm);
    fft.forward(head, bRe, bIm);
    // A * conj(B)
    for (let k = 0; k < fft.bins; k++) {
      const re = aRe[k] * bRe[k] + aIm[k] * bIm[k];
      const im = aIm[k] * bRe[k] - aRe[k] * bIm[k];
      aRe[k] = re;
      aIm[k] = im;
    }
    fft.inverse(aRe, aIm, corr);
    const e0 = cum[W];
    d[0] = 0;
    for (let tau = 1; tau <= tauMax + 1; tau++) d[tau] = Math.max(0, e0 + cum[tau + W] - cum[tau] - 2 * corr[tau]);
    // Cumulative mean normalized difference, in place.
    let running = 0;
    const cmnd = d;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      running += d[tau];
      cmnd[tau] = running > 0 ? (d[tau] * tau) / running : 1;
    }
    cmnd[0] = 1;
    let best = -1;
    for (let tau = tauMin; tau <= tauMax; tau++) {
      if (cmnd[tau] < threshold) {
        while (tau + 1 <= tauMax && cmnd[tau + 1] < cmnd[tau]) tau++;
        best = tau;
        break;
      }
    }
    if (best < 0) {
      out[2 * t] = 0;
      let min = 1;
      for (let tau = tauMin; tau <= tauMax; tau++) min = Math.min(min, cmnd[tau]);
      out[2 * t + 1] = Math.max(0, 1 - min);
      continue;
    }
    const a = cmnd[best - 1];
    const b = cmnd[best];
    const c = cmnd[best + 1];
    const denom = a - 2 * b + c;
    const shift = denom > 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / denom)) : 0;
    out[2 * t] = sr / (best + shift);
    out[2 * t + 1] = Math.max(0, Math.min(1, 1 - b));
  }
  const rate = sr / hop;
  return makeStream(out, 2, rate, t0 - 0.5 / rate);
}
