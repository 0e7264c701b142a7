/**
 * v2a's audio representation: normalized log-mel frames at MMAudio's latent rate (16 kHz, hop 512 = 31.25 frames/s,
 * 64 mel bands up to 8 kHz, log10 with floor 1e-5 as MMAudio's 16 k mel), and the way back to a waveform
 * (mel -> linear magnitude by non-negative least squares -> Griffin-Lim over the project's STFT).
 *
 *   wave [N] @ 16 kHz --|STFT| (1024, hop 512, centerd)--> [T+1, 513] --mel--> [T+1, 64] --log10, norm--> [T, 64]
 *   [T, 64] --unnorm, 10^x--> mel [T, 64] --NNLS--> |X| [T, 513] --+ last frame again, each frame twice--> [2T+2, 513]
 *           --Griffin-Lim (fast, 16 it., nFft 1024, hop 256)--> wave [T * 512]
 *
 * Two measured fixes of the way back (16 AV-Synth clips of 4 s, real audio encoded then decoded; onset F1 of the
 * evaluation, ±50 ms; raw audio scores 0.985):
 * - The encoder drops the centered STFT's (T+1)-th frame, so the last 256 samples were covered only by the fading
 *   half of frame T-1: overlap-add divided by a vanishing window sum there and left spikes of 20-140x full scale in
 *   the final ~16 samples; clipped, that click set the onset threshold and hid real onsets (F1 0.77). The last frame
 *   is repeated once more to cover the tail.
 * - At the latent's own hop 512 (50 % overlap) Griffin-Lim's phases leave a 31 Hz frame ripple that the onset
 *   detector reads as onsets (precision 0.24, F1 0.36 once the tail is fixed). Magnitudes repeated to hop 256
 *   (75 % overlap) give F1 0.979 at 16 iterations, the cost of 32 at hop 512. Frame u takes latent frame
 *   floor(u / 2) (session 5; round(u / 2) before: onsets 22 ms early instead of 9); the mel round trip error was
 *   0.051 log10 units with round (hop 512: 0.016 but rippled).
 *
 * Frame t is centerd on sample t * 512 (time t / 31.25 s); the (T+1)-th frame of the centerd STFT is dropped so 8 s
 * give exactly MMAudio's 250 latent frames. The normalization is one global affine map measured on AV-Synth
 * (MEL_MEAN/MEL_STD below), so frames stay comparable across clips and runs need no stored statistics.
 */
import { applyFilterBank, melFilterBank, type MelFilterBank } from '../../media/mel.js';
import { type GriffinLimBuffers, griffinLimShare, shareRange } from '../../media/griffin_lim.js';
import { stft } from '../../media/stft.js';
import { InputError } from '../../util/errors.js';

export const SAMPLE_RATE = 16000;
export const N_FFT = 1024;
export const HOP = 512;
export const N_MELS = 64;
export const LATENT_RATE = SAMPLE_RATE / HOP; // 31.25 frames/s
const FLOOR = 1e-5;
/**
 * Mean and standard deviation of log10(mel) over 40 AV-Synth clips of 8 s (v2a's synth config, seed 0: -1.956 and
 * 0.442; test/models/v2a_audio.test.ts checks that they still fit).
 */
export const MEL_MEAN = -1.96;
export const MEL_STD = 0.44;

let bank: MelFilterBank | undefined;
function melBank(): MelFilterBank {
  return (bank ??= melFilterBank({
    sampleRate: SAMPLE_RATE,
    nFft: N_FFT,
    nMels: N_MELS,
    fMin: 0,
    fMax: 8000,
    scale: 'slaney',
    norm: 'slaney',
  }));
}

/** Latent frames for `seconds` of audio (8 s -> 250). */
export function latentFrames(seconds: number): number {
  return Math.round(seconds * LATENT_RATE);
}

/** Un-normalized log10 mel [frames, 64] of a 16 kHz signal (zero-padded or cut to `frames`). */
export function logMel10(wave: Float32Array, frames: number): Float32Array {
  if (wave.length === 0) throw new InputError('v2a audio: empty signal', { field: 'audio', reason: 'zero samples' });
  const mag = stft(wave, { nFft: N_FFT, hop: HOP, pad: 'center', power: 1 });
  const mel = applyFilterBank(mag.data, mag.frames, melBank());
  const out = new Float32Array(frames * N_MELS).fill(Math.log10(FLOOR));
  const n = Math.min(frames, mag.frames) * N_MELS;
  for (let i = 0; i < n; i++) out[i] = Math.log10(Math.max(mel[i], FLOOR));
  return out;
}

/** The model's audio frames: normalized log-mel [frames, 64]. */
export function encodeAudio(wave: Float32Array, frames: number): Float32Array {
  const x = logMel10(wave, frames);
  for (let i = 0; i < x.length; i++) x[i] = (x[i] - MEL_MEAN) / MEL_STD;
  return x;
}

/**
 * Linear magnitudes [frames, 513] whose mel projection best matches `mel` [frames, 64] (least squares with s >= 0,
 * multiplicative updates s <- s * (M^T m) / (M^T M s)), started from each bin's weighted mean of its filters' levels
 * (a flat spectrum inside every filter), which keeps bins at the filters' faint edges from starting huge.
 */
export function melToLinear(
  mel: Float32Array,
  frames: number,
  iterations = 30,
  out: Float32Array = new Float32Array(frames * melBank().bins),
  rows: [number, number] = [0, frames], // frames solved here (a decode share's; each frame is independent)
): Float32Array {
  const fb = melBank();
  const bins = fb.bins;
  const mts = new Float64Array(bins),
    s = new Float64Array(bins),
    proj = new Float64Array(N_MELS),
    back = new Float64Array(bins);
  const colSum = new Float64Array(bins),
    rowSum = new Float64Array(N_MELS),
    level = new Float64Array(N_MELS);
  forEachWeight(fb, (m, k, w) => {
    colSum[k] += w;
    rowSum[m] += w;
  });
  for (let t = rows[0]; t < rows[1]; t++) {
    const target = mel.subarray(t * N_MELS, (t + 1) * N_MELS);
    mts.fill(0);
    forEachWeight(fb, (m, k, w) => {
      mts[k] += w * target[m];
    });
    for (let m = 0; m < N_MELS; m++) level[m] = rowSum[m] > 0 ? target[m] / rowSum[m] : 0;
    s.fill(0);
    forEachWeight(fb, (m, k, w) => {
      s[k] += (w * level[m]) / colSum[k];
    });
    for (let it = 0; it < iterations; it++) {
      proj.fill(0);
      forEachWeight(fb, (m, k, w) => {
        proj[m] += w * s[k];
      });
      back.fill(0);
      forEachWeight(fb, (m, k, w) => {
        back[k] += w * proj[m];
      });
      for (let k = 0; k < bins; k++) s[k] = back[k] > 1e-20 ? (s[k] * mts[k]) / back[k] : 0;
    }
    for (let k = 0; k < bins; k++) out[t * bins + k] = s[k];
  }
  return out;
}

function forEachWeight(fb: MelFilterBank, fn: (m: number, k: number, w: number) => void): void {
  for (let m = 0; m < fb.nMels; m++) {
    const w = fb.weights[m];
    for (let j = 0; j < w.length; j++) fn(m, fb.first[m] + j, w[j]);
  }
}

/** Griffin-Lim runs at HOP / DECODE_UPSAMPLE (see the module comment). */
export const DECODE_UPSAMPLE = 2;

/**
 * [frames, bins] -> [(frames + 1) * f, bins]: row u is row floor(u / f) (the frame whose center is at or before it),
 * the last row again for the tail the dropped (T+1)-th frame covered. A frame's 1024-sample window sees an impact up
 * to 32 ms before its center, so decoded onsets come early; holding each frame until the next center (floor) instead
 * of switching halfway (round) measured, on 32 real training clips through encode -> decode (GL 16): onset F1 0.955
 * vs 0.948, mean lag -8.9 vs -22.2 ms (session 5, docs/v2a.md). Writes rows [u0, u1) of `out`.
 */
function repeatFrames(x: Float32Array, frames: number, bins: number, f: number, out: Float32Array, rows: number[]) {
  for (let u = rows[0]; u < rows[1]; u++) {
    const t = Math.min(frames - 1, Math.floor(u / f));
    out.set(x.subarray(t * bins, (t + 1) * bins), u * bins);
  }
}

export interface DecodeOptions {
  /** Griffin-Lim iterations (default 16). */
  iterations?: number;
  /** Output length in samples (default frames * 512). */
  length?: number;
}

/** What the shares of one decode read and write (SharedArrayBuffer-backed across threads: decode_pool.ts). */
export interface DecodeBuffers extends GriffinLimBuffers {
  /** NNLS magnitudes [frames, 513] */
  linear: Float32Array;
  /** Griffin-Lim's target [(frames + 1) * 2, 513] */
  magnitude: Float32Array;
}

/** Buffers for decoding `count` frames to `length` samples, each made by `alloc` (plain or shared memory). */
export function decodeBuffers(count: number, length: number, alloc: (n: number) => Float32Array): DecodeBuffers {
  const bins = (N_FFT >> 1) + 1;
  const frames = (count + 1) * DECODE_UPSAMPLE;
  return {
    linear: alloc(count * bins),
    magnitude: alloc(frames * bins),
    spec: { re: alloc(frames * bins), im: alloc(frames * bins), frames, bins },
    signal: alloc(length),
  };
}

function checkFrames(frames: Float32Array, count: number): void {
  if (frames.length !== count * N_MELS)
    throw new InputError(`v2a decode: ${frames.length} values for ${count} frames of ${N_MELS} mels`, {
      field: 'frames',
      got: frames.length,
      expected: count * N_MELS,
    });
}

/**
 * Normalized log-mel frames [frames, 64] -> a 16 kHz waveform, clipped to [-1, 1]. Griffin-Lim starts from a fixed
 * pseudo-random phase: a zero-phase start lines every partial up at frame centers, and the resulting spikes (up to
 * 26x the true peak on AV-Synth) survive 32 iterations. One thread; decode_pool.ts runs the same shares on two.
 */
export function decodeAudio(frames: Float32Array, count: number, opts: DecodeOptions = {}): Float32Array {
  checkFrames(frames, count);
  const length = opts.length ?? count * HOP;
  const buffers = decodeBuffers(count, length, (n) => new Float32Array(n));
  decodeShare(frames, count, { iterations: opts.iterations ?? 16, length }, [0, 1], buffers, () => {});
  return buffers.signal;
}

/**
 * Share k of n of `decodeAudio` (`share` = [k, n]): NNLS of its latent frames, then (after `sync`) its rows of the
 * repeated magnitude, its share of Griffin-Lim (griffin_lim.ts) and the clipping of its samples. Bit-identical to
 * one share for any n: every step either works per frame / per sample or sums in a fixed order.
 */
export function decodeShare(
  frames: Float32Array,
  count: number,
  opts: Required<DecodeOptions>,
  share: [number, number],
  buffers: DecodeBuffers,
  sync: () => void,
): void {
  checkFrames(frames, count);
  const [k, n] = share;
  const bins = (N_FFT >> 1) + 1;
  const rows = shareRange(count, k, n);
  const mel = new Float32Array(frames.length);
  for (let i = rows[0] * N_MELS; i < rows[1] * N_MELS; i++) {
    const v = 10 ** (frames[i] * MEL_STD + MEL_MEAN);
    mel[i] = v <= FLOOR * 1.0001 ? 0 : v;
  }
  melToLinear(mel, count, 30, buffers.linear, rows);
  sync(); // every share's magnitude rows below read NNLS rows of the others
  const glFrames = (count + 1) * DECODE_UPSAMPLE;
  const own = shareRange(glFrames, k, n);
  repeatFrames(buffers.linear, count, bins, DECODE_UPSAMPLE, buffers.magnitude, own); // [(T + 1) * 2, 513]
  const samples = shareRange(opts.length, k, n);
  const gl = { nFft: N_FFT, hop: HOP / DECODE_UPSAMPLE, pad: 'center' as const, iterations: opts.iterations, seed: 1 };
  griffinLimShare(buffers.magnitude, { ...gl, length: opts.length }, { frames: own, samples }, buffers, sync);
  const wave = buffers.signal;
  for (let i = samples[0]; i < samples[1]; i++) wave[i] = Math.max(-1, Math.min(1, wave[i]));
}
