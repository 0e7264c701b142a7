/**
 * The audio-side inputs of an emotion model, on one fixed frame grid whatever the sample rate:
 *
 *   samples [N] @ sr ──┬─ STFT (25 ms Hann, hop ≈ 1/rate) ─ mel (nMels) ─ ln ──────────┐
 *                      ├─ YIN f0 + periodicity (src/media/pitch.ts) ──────────────────┼─ nearest ─▶ grid: frame j = [j/rate, (j+1)/rate)
 *                      └─ RMS over the same window ─ dB ──────────────────────────────┘
 *
 * logMel [T, nMels]; prosody [T, 3] = PROSODY_CHANNELS: f0 in Hz (0 when unvoiced), energy in dBFS, and
 * voicing (YIN periodicity 0..1). The analysis hop is rounded to whole samples (220 at 22.05 kHz), then
 * each stream is put on the exact grid, so every item has T = ceil(duration * rate) frames.
 */
import { logMel, rmsEnergy } from '../../media/audio_features.js';
import { yin } from '../../media/pitch.js';
import { framesFor, resample, type Grid, type Stream } from '../../timeline/timeline.js';
import { InputError } from '../../util/errors.js';

export const PROSODY_CHANNELS = ['f0_hz', 'energy_db', 'voicing'] as const;

export interface EmotionAudioConfig {
  rate?: number; // frames per second, default 100
  nMels?: number; // default 80
  fMin?: number; // pitch search floor, Hz (default 60)
  fMax?: number; // pitch search ceiling, Hz (default 500)
  /** Frames whose YIN periodicity is below this count as unvoiced (f0 = 0); default 0.5. */
  voicingThreshold?: number;
}

export interface EmotionAudioFeatures {
  logMel: Stream;
  prosody: Stream;
  grid: Grid;
}

export function emotionAudioFeatures(
  samples: Float32Array,
  sampleRate: number,
  cfg: EmotionAudioConfig = {},
): EmotionAudioFeatures {
  const rate = cfg.rate ?? 100;
  if (!(rate > 0 && rate <= sampleRate / 2))
    throw new InputError(`feature rate must be in (0, sampleRate/2], got ${rate}`, { field: 'rate', got: rate });
  const hop = Math.max(1, Math.round(sampleRate / rate));
  const winLength = Math.round(0.025 * sampleRate);
  let nFft = 1;
  while (nFft < winLength) nFft <<= 1;
  const grid: Grid = { rate, start: 0, frames: Math.max(1, framesFor(samples.length / sampleRate, rate)) };
  const mel = logMel(samples, {
    sampleRate,
    nFft,
    hop,
    winLength,
    window: 'hann',
    pad: 'center',
    nMels: cfg.nMels ?? 80,
    fMin: 0,
    fMax: Math.min(8000, sampleRate / 2),
    log: { kind: 'ln', floor: 1e-6 },
  });
  const f0 = yin(samples, { sampleRate, hop, fMin: cfg.fMin ?? 60, fMax: cfg.fMax ?? 500 });
  const rms = rmsEnergy(samples, { sampleRate, frameLength: winLength, hop });
  const f0g = resample(f0, grid, 'nearest');
  const rmsg = resample(rms, grid, 'nearest');
  const threshold = cfg.voicingThreshold ?? 0.5;
  const prosody = new Float32Array(grid.frames * 3);
  for (let t = 0; t < grid.frames; t++) {
    const hz = f0g.data[2 * t];
    const periodicity = f0g.data[2 * t + 1];
    prosody[3 * t] = periodicity >= threshold ? hz : 0;
    prosody[3 * t + 1] = 20 * Math.log10(Math.max(rmsg.data[t], 1e-5));
    prosody[3 * t + 2] = periodicity;
  }
  const melg = resample(mel, grid, 'nearest');
  return {
    logMel: { data: melg.data, frames: grid.frames, dim: mel.dim, rate, start: 0 },
    prosody: { data: prosody, frames: grid.frames, dim: 3, rate, start: 0 },
    grid,
  };
}

export interface VoiceMeasure {
  seconds: number;
  /** Mean f0 over voiced frames, Hz. */
  meanF0: number;
  /** 10th and 90th percentiles of voiced f0, Hz (the pitch spread). */
  f0p10: number;
  f0p90: number;
  /** RMS level of the whole signal, dBFS. */
  rmsDb: number;
  voicedFrames: number;
}

/** Summary prosody of one utterance (the figures docs/emospeech.md reports). */
export function measureVoice(samples: Float32Array, sampleRate: number): VoiceMeasure {
  const { prosody } = emotionAudioFeatures(samples, sampleRate);
  const voiced: number[] = [];
  for (let t = 0; t < prosody.frames; t++) if (prosody.data[3 * t] > 0) voiced.push(prosody.data[3 * t]);
  voiced.sort((a, b) => a - b);
  const q = (p: number) => (voiced.length ? voiced[Math.min(voiced.length - 1, Math.floor(p * voiced.length))] : 0);
  let energy = 0;
  for (const x of samples) energy += x * x;
  return {
    seconds: samples.length / sampleRate,
    meanF0: voiced.length ? voiced.reduce((a, b) => a + b, 0) / voiced.length : 0,
    f0p10: q(0.1),
    f0p90: q(0.9),
    rmsDb: 20 * Math.log10(Math.max(Math.sqrt(energy / Math.max(1, samples.length)), 1e-10)),
    voicedFrames: voiced.length,
  };
}
