import { InputError, NumericError } from '../util/errors.js';
import {
  applyDct,
  applyFilterBank,
  dctMatrix,
  logCompress,
  melFilterBank,
  type LogConfig,
  type MelConfig,
  type MelFilterBank,
} from './mel.js';
import { stft, type Spectrogram, type StftConfig } from './stft.js';
import { makeStream, type Stream } from '../timeline/timeline.js';

/**
 * Frame-level audio features as Streams. Stream time convention (timeline.ts): frame i covers
 * [start + i/rate, start + (i+1)/rate), so an analysis window centerd at c seconds is the frame with
 * start = c - 0.5/rate. `t0` is the time of the signal's first sample (default 0).
 */
export interface LogMelConfig extends StftConfig, Omit<MelConfig, 'nFft'> {
  log: LogConfig;
  /** Pre-emphasis coefficient (y[n] = x[n] - a x[n-1]); default none. */
  preEmphasis?: number;
}

export interface MfccConfig extends LogMelConfig {
  nCeps: number;
  /** Sinusoidal liftering L (python_speech_features ceplifter); 0 = none. */
  lifter?: number;
  /** Replace c0 with the log frame energy (python_speech_features appendEnergy). */
  energyC0?: boolean;
}

const bankCache = new Map<string, MelFilterBank>();
const dctCache = new Map<string, Float64Array>();

function bankFor(cfg: MelConfig): MelFilterBank {
  const key = JSON.stringify([
    cfg.sampleRate,
    cfg.nFft,
    cfg.nMels,
    cfg.fMin ?? 0,
    cfg.fMax ?? null,
    cfg.scale ?? 'slaney',
    cfg.norm ?? 'slaney',
  ]);
  let fb = bankCache.get(key);
  if (!fb) {
    fb = melFilterBank(cfg);
    bankCache.set(key, fb);
  }
  return fb;
}

/** Rejects empty signals and NaN/Inf samples (which would silently poison every frame they touch). */
export function checkSignal(x: Float32Array, what: string): void {
  if (x.length === 0)
    throw new InputError(`${what}: empty signal (zero samples)`, { field: 'signal', reason: 'zero-length audio' });
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new NumericError(`${what}: signal has a non-finite sample (${x[i]}) at index ${i}`, {
        field: 'signal',
        reason: 'non-finite sample',
        index: i,
      });
    }
  }
}

function preEmphasize(x: Float32Array, a: number): Float32Array {
  const y = new Float32Array(x.length);
  y[0] = x[0];
  for (let i = 1; i < x.length; i++) y[i] = x[i] - a * x[i - 1];
  return y;
}

function frameStart(centerOffset: number, hop: number, sampleRate: number, t0: number): number {
  return t0 + (centerOffset - hop / 2) / sampleRate;
}

function analyze(signal: Float32Array, cfg: Omit<LogMelConfig, 'log'>, t0: number): { mel: Stream; spec: Spectrogram } {
  checkSignal(signal, 'mel spectrogram');
  const x = cfg.preEmphasis ? preEmphasize(signal, cfg.preEmphasis) : signal;
  const spec = stft(x, cfg);
  const mel = applyFilterBank(spec.data, spec.frames, bankFor(cfg));
  return {
    mel: makeStream(
      mel,
      cfg.nMels,
      cfg.sampleRate / cfg.hop,
      frameStart(spec.centerOffset, cfg.hop, cfg.sampleRate, t0),
    ),
    spec,
  };
}

/** Mel spectrogram before log compression: [T, nMels] plus timing. */
export function melSpectrogram(signal: Float32Array, cfg: Omit<LogMelConfig, 'log'>, t0 = 0): Stream {
  return analyze(signal, cfg, t0).mel;
}

/** Log-mel spectrogram [T, nMels]. */
export function logMel(signal: Float32Array, cfg: LogMelConfig, t0 = 0): Stream {
  const mel = melSpectrogram(signal, cfg, t0);
  return { ...mel, data: logCompress(mel.data, cfg.log) };
}

/** MFCC [T, nCeps]: DCT-II (orthonormal) of the log-mel frames, optional liftering and energy in c0. */
export function mfcc(signal: Float32Array, cfg: MfccConfig, t0 = 0): Stream {
  const { mel, spec } = analyze(signal, cfg, t0);
  const lm = { ...mel, data: logCompress(mel.data, cfg.log) };
  const dctKey = `${cfg.nMels}:${cfg.nCeps}`;
  const dct = dctCache.get(dctKey) ?? dctMatrix(cfg.nMels, cfg.nCeps);
  dctCache.set(dctKey, dct);
  const out = applyDct(lm.data, lm.frames, cfg.nMels, dct, cfg.nCeps);
  if (cfg.lifter) {
    const L = cfg.lifter;
    for (let t = 0; t < lm.frames; t++) {
      for (let k = 0; k < cfg.nCeps; k++) out[t * cfg.nCeps + k] *= 1 + (L / 2) * Math.sin((Math.PI * k) / L);
    }
  }
  if (cfg.energyC0) {
    // Frame energy = sum of the power spectrum / nFft (python_speech_features' powspec convention).
    for (let t = 0; t < lm.frames; t++) {
      let e = 0;
      for (let k = 0; k < spec.bins; k++) e += spec.data[t * spec.bins + k];
      out[t * cfg.nCeps] = Math.log(Math.max(e / cfg.nFft, cfg.log.floor));
    }
  }
  return makeStream(out, cfg.nCeps, lm.rate, lm.start);
}

export interface FrameConfig {
  sampleRate: number;
  frameLength: number;
  hop: number;
  /** Center frames on t*hop (zero padding at the edges); default true. */
  center?: boolean;
}

function frameCount(n: number, cfg: FrameConfig): number {
  if (cfg.center ?? true) return 1 + Math.floor(n / cfg.hop);
  return n < cfg.frameLength ? 0 : 1 + Math.floor((n - cfg.frameLength) / cfg.hop);
}

/** RMS energy per frame [T, 1]: sqrt(mean(x^2)) over frameLength samples (zeros outside the signal). */
export function rmsEnergy(signal: Float32Array, cfg: FrameConfig, t0 = 0): Stream {
  checkSignal(signal, 'RMS energy');
  const T = frameCount(signal.length, cfg);
  const offset = (cfg.center ?? true) ? -(cfg.frameLength >> 1) : 0;
  // Prefix sums of x^2 (float64) make each frame O(1).
  const cum = new Float64Array(signal.length + 1);
  for (let i = 0; i < signal.length; i++) cum[i + 1] = cum[i] + signal[i] * signal[i];
  const out = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const a = Math.min(signal.length, Math.max(0, t * cfg.hop + offset));
    const b = Math.min(signal.length, Math.max(0, t * cfg.hop + offset + cfg.frameLength));
    out[t] = Math.sqrt(Math.max(0, cum[b] - cum[a]) / cfg.frameLength);
  }
  const center = (cfg.center ?? true) ? 0 : cfg.frameLength / 2;
  return makeStream(out, 1, cfg.sampleRate / cfg.hop, frameStart(center, cfg.hop, cfg.sampleRate, t0));
}

/**
 * Spectral-flux onset strength [T, 1] (as librosa.onset.onset_strength): the mean over mel bands of
 * max(0, S[t] - S[t - lag]) on a dB mel spectrogram; frame 0 is 0.
 */
export function onsetEnvelope(signal: Float32Array, cfg: LogMelConfig, t0 = 0, lag = 1): Stream {
  return spectralFlux(logMel(signal, cfg, t0), lag);
}

/** Spectral flux of a (log) spectrogram stream [T, M] -> [T, 1]: mean over bands of max(0, S[t] - S[t - lag]). */
export function spectralFlux(lm: Stream, lag = 1): Stream {
  const M = lm.dim;
  const out = new Float32Array(lm.frames);
  for (let t = lag; t < lm.frames; t++) {
    let acc = 0;
    for (let m = 0; m < M; m++) {
      const d = lm.data[t * M + m] - lm.data[(t - lag) * M + m];
      if (d > 0) acc += d;
    }
    out[t] = acc / M;
  }
  return makeStream(out, 1, lm.rate, lm.start);
}

/** Local maxima of an envelope above `threshold` times its max, at least `minGap` frames apart (times in s). */
export function pickPeaks(env: Stream, threshold = 0.3, minGap = 3): number[] {
  let max = 0;
  for (let i = 0; i < env.frames; i++) max = Math.max(max, env.data[i * env.dim]);
  const times: number[] = [];
  let last = -Infinity;
  for (let i = 1; i < env.frames - 1; i++) {
    const v = env.data[i * env.dim];
    if (
      v > threshold * max &&
      v >= env.data[(i - 1) * env.dim] &&
      v > env.data[(i + 1) * env.dim] &&
      i - last >= minGap
    ) {
      times.push(env.start + (i + 0.5) / env.rate);
      last = i;
    }
  }
  return times;
}
