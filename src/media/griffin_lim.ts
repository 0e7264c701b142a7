/**
 * Griffin-Lim phase recovery (fast GLA, Perraudin et al. 2013) over the project's STFT, written as *shares* that
 * threads can run side by side on shared buffers and that give the one-thread result bit for bit:
 *
 *   share k owns frames [t0, t1) and output samples [i0, i1); buffers `spec` and `signal` are shared:
 *   phase(own frames) | sync | istft(own samples) | sync | repeat { STFT + projection(own frames) | sync |
 *   istft(own samples) | sync }
 *
 * Every frame's projection needs only that frame's STFT (of the whole, synced signal) and its own previous value,
 * and every output sample sums its frames in the same order whoever computes it (istftRange), so splitting changes
 * no arithmetic. `sync` is a barrier across the shares (a no-op for one share: `griffinLim`).
 */
import { InputError } from '../util/errors.js';
import { realFft } from './fft.js';
import {
  type ComplexSpectrogram,
  type ComplexStftConfig,
  istftRange,
  resolveStft,
  spectralConvergence,
} from './istft.js';
import { padSignal } from './stft.js';

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

/** What one share computes: frames [t0, t1) of the spectrogram and samples [i0, i1) of the output. */
export interface GriffinLimShare {
  frames: [number, number];
  samples: [number, number];
}

/** The buffers every share reads and writes (SharedArrayBuffer-backed across threads). */
export interface GriffinLimBuffers {
  spec: ComplexSpectrogram;
  /** The output, `length` samples. */
  signal: Float32Array;
}

/** Default output length for `frames` frames (what the frames cover, without the padding). */
export function griffinLimLength(frames: number, opts: GriffinLimOptions): number {
  return opts.length ?? (frames - 1) * opts.hop + ((opts.pad ?? 'center') === 'center' ? 0 : opts.nFft);
}

/** [from, to) of share k of n over `total` items (contiguous, sizes differ by at most one). */
export function shareRange(total: number, k: number, n: number): [number, number] {
  return [Math.floor((k * total) / n), Math.floor(((k + 1) * total) / n)];
}

/** Recovers a waveform whose STFT magnitude approximates `magnitude` [T, F] (F = nFft/2 + 1). */
export function griffinLim(magnitude: Float32Array, frames: number, opts: GriffinLimOptions): Float32Array {
  const length = griffinLimLength(frames, opts);
  const bins = (opts.nFft >> 1) + 1;
  const n = frames * bins;
  const spec = { re: new Float32Array(n), im: new Float32Array(n), frames, bins };
  const buffers = { spec, signal: new Float32Array(length) };
  griffinLimShare(magnitude, opts, { frames: [0, frames], samples: [0, length] }, buffers, () => {});
  return buffers.signal;
}

/** One share of a Griffin-Lim run (module comment); `sync` returns once every share has reached it. */
export function griffinLimShare(
  magnitude: Float32Array,
  opts: GriffinLimOptions,
  share: GriffinLimShare,
  buffers: GriffinLimBuffers,
  sync: () => void,
): void {
  const { spec, signal } = buffers;
  const { frames, bins } = spec;
  if (bins !== (opts.nFft >> 1) + 1 || magnitude.length !== frames * bins)
    throw new InputError(`magnitude has ${magnitude.length} values, expected ${frames} frames x ${bins} bins`, {
      field: 'magnitude',
      got: magnitude.length,
      expected: frames * ((opts.nFft >> 1) + 1),
    });
  const iterations = opts.iterations ?? 32;
  const [t0, t1] = share.frames;
  const [i0, i1] = share.samples;
  const project = frameProjector(magnitude, opts, spec, t0, t1);
  initialPhase(spec, magnitude, opts.seed, t0, t1);
  sync();
  istftRange(spec, opts, signal, i0, i1);
  sync();
  for (let it = 0; it < iterations; it++) {
    project(signal);
    sync();
    istftRange(spec, opts, signal, i0, i1);
    sync();
    opts.onIteration?.(it + 1, spectralConvergence(magnitude, signal, opts));
  }
}

/**
 * Frames [t0, t1) of one iteration: the STFT of the current signal, extrapolated past the previous estimate
 * (momentum), then only its phase kept with the target magnitude. Frames past the rebuilt signal's last keep theirs.
 */
function frameProjector(
  magnitude: Float32Array,
  opts: GriffinLimOptions,
  spec: ComplexSpectrogram,
  t0: number,
  t1: number,
): (signal: Float32Array) => void {
  const { window } = resolveStft(opts);
  const { nFft, hop } = opts;
  const fft = realFft(nFft);
  const bins = spec.bins;
  const momentum = opts.momentum ?? 0.99;
  const previousRe = new Float32Array((t1 - t0) * bins);
  const previousIm = new Float32Array((t1 - t0) * bins);
  let hasPrevious = false;
  const fr = new Float64Array(bins),
    fi = new Float64Array(bins);
  return (signal) => {
    const { padded } = padSignal(signal, nFft, hop, opts.pad ?? 'center');
    const rebuilt = padded.length < nFft ? 0 : 1 + Math.floor((padded.length - nFft) / hop);
    for (let t = t0; t < Math.min(t1, rebuilt); t++) {
      fft.forward(padded, fr, fi, window, t * hop);
      for (let k = 0; k < bins; k++) {
        const i = t * bins + k,
          p = (t - t0) * bins + k;
        // float32 as the spectrogram stores it: the one-thread algorithm extrapolates from stored values
        let r = Math.fround(fr[k]),
          m = Math.fround(fi[k]);
        const re = r,
          im = m;
        if (momentum > 0 && hasPrevious) {
          r += momentum * (r - previousRe[p]);
          m += momentum * (m - previousIm[p]);
        }
        previousRe[p] = re;
        previousIm[p] = im;
        const a = Math.hypot(r, m);
        spec.re[i] = a > 1e-12 ? (magnitude[i] * r) / a : magnitude[i];
        spec.im[i] = a > 1e-12 ? (magnitude[i] * m) / a : 0;
      }
    }
    hasPrevious = true;
  };
}

/** Frames [t0, t1) of the starting spectrogram: the magnitude with zero phase, or a seeded pseudo-random phase. */
function initialPhase(
  spec: ComplexSpectrogram,
  magnitude: Float32Array,
  seed: number | undefined,
  t0: number,
  t1: number,
): void {
  const from = t0 * spec.bins,
    to = t1 * spec.bins;
  if (seed === undefined) {
    spec.re.set(magnitude.subarray(from, to), from);
    spec.im.fill(0, from, to);
    return;
  }
  // A tiny LCG keeps the media layer free of util/rng's state format; the phase only needs to be spread. Every
  // share runs the whole sequence (0.3 ms for 8 s) so a value's phase does not depend on who computes it.
  let s = seed >>> 0 || 1;
  for (let i = 0; i < to; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (i < from) continue;
    const phase = (s / 4294967296) * 2 * Math.PI;
    spec.re[i] = magnitude[i] * Math.cos(phase);
    spec.im[i] = magnitude[i] * Math.sin(phase);
  }
}
