/**
 * What a FAVOR-style model reads for a question: the scene's frames at 2 Hz and its audio as log-mel
 * at 50 Hz, both starting at 0 s, rendered in memory (no ffmpeg) and grouped as FAVOR's
 * sequence_align_v2 does (25 audio frames per video frame, padded to `slots` tokens, with masks).
 *
 * Timeline: video frame t is the scene at t / 2 s (AV-Synth frames show their start time) and covers
 * [t/2, (t+1)/2); audio frame a covers [a/50, (a+1)/50) (window centered at (a + 0.5)/50 s), so group t
 * holds audio frames 25t .. 25t+24, exactly the video frame's half second. Clip lengths are multiples
 * of 0.5 s, so a clip of d s has 2d frames and 50d audio frames and no group is padded in time.
 */
import { logMel, type LogMelConfig } from '../../media/audio_features.js';
import { makeStream, type Stream } from '../../timeline/timeline.js';
import { favorGroup, type FavorGroups } from '../../timeline/windows.js';
import { ConfigError, ShapeError } from '../../util/errors.js';
import { generateClip } from '../synth/clip.js';
import { AvqaConfig, avqaConfig, sceneDuration, sceneId, sceneSynthConfig } from './config.js';
import type { AvqaQuestion } from './generate.js';
import type { AvqaAudio } from './templates.js';

export const FAVOR_VIDEO_RATE = 2;
export const FAVOR_AUDIO_RATE = 50;

export interface AvqaStreamOptions {
  /** Frame side in px after area downsampling from the scene size (default 32; must divide config.size). */
  size?: number;
  /** Mel bands (default 64). */
  nMels?: number;
  /** Visual token side in px: each frame becomes (size / patch)^2 tokens of patch*patch*3 values. Default: size (one token per frame). */
  patch?: number;
  /** Tokens per FAVOR group (default max(25, visual tokens); FAVOR pads to 32). */
  slots?: number;
}

export interface AvqaStreams {
  scene: string;
  index: number;
  duration: number;
  audioSource: AvqaAudio;
  /** 2 Hz; row t = videoTokens tokens of patch*patch*3 RGB values in [0, 1] (token-major, then y, x, channel). */
  video: Stream;
  videoTokens: number;
  /** 50 Hz Whisper-style log-mel: log10 power, floored at 8 below the clip's peak, then (x + 4) / 4. */
  audio: Stream;
  groups: FavorGroups;
}

/** The 50 Hz log-mel settings: hop = rate / 50, 25 ms Hann window, power, Slaney mels to Nyquist, bigvgan padding (frame a covers [a/50, (a+1)/50)). */
export function avqaMelConfig(sampleRate: number, nMels = 64): LogMelConfig {
  const hop = sampleRate / FAVOR_AUDIO_RATE;
  if (!Number.isInteger(hop))
    throw new ConfigError(`sample rate ${sampleRate} is not a multiple of ${FAVOR_AUDIO_RATE}`, {
      field: 'sampleRate',
      got: sampleRate,
    });
  const winLength = Math.round(0.025 * sampleRate);
  let nFft = 1;
  while (nFft < Math.max(winLength, hop)) nFft *= 2;
  return {
    sampleRate,
    nFft,
    hop,
    winLength,
    window: 'hann',
    pad: 'bigvgan',
    power: 2,
    nMels,
    fMin: 0,
    fMax: sampleRate / 2,
    scale: 'slaney',
    norm: 'slaney',
    log: { kind: 'log10', floor: 1e-10 },
  };
}

/** Log-mel at 50 Hz with Whisper's normalization. */
export function avqaLogMel(samples: Float32Array, sampleRate: number, nMels = 64): Stream {
  const lm = logMel(samples, avqaMelConfig(sampleRate, nMels));
  let peak = -Infinity;
  for (let i = 0; i < lm.data.length; i++) if (lm.data[i] > peak) peak = lm.data[i];
  const data = new Float32Array(lm.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (Math.max(lm.data[i], peak - 8) + 4) / 4;
  return { ...lm, data };
}

/** RGB frames [T, S, S, 3] (bytes) -> [T, tokens * patch*patch*3] floats in [0, 1], area-averaged by S / size. */
export function downsampleFrames(
  frames: Uint8Array,
  count: number,
  from: number,
  size: number,
  patch = size,
): Float32Array {
  const f = from / size;
  if (!Number.isInteger(f) || f < 1)
    throw new ConfigError(`stream size ${size} must divide the scene size ${from}`, {
      field: 'size',
      got: size,
      expected: `a divisor of ${from}`,
    });
  if (!Number.isInteger(size / patch) || patch < 1)
    throw new ConfigError(`patch ${patch} must divide the stream size ${size}`, { field: 'patch', got: patch });
  const per = size / patch;
  const dim = size * size * 3;
  const out = new Float32Array(count * dim);
  const norm = 1 / (f * f * 255);
  for (let t = 0; t < count; t++) {
    const src = t * from * from * 3;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const token = Math.floor(y / patch) * per + Math.floor(x / patch);
        const o = t * dim + token * patch * patch * 3 + ((y % patch) * patch + (x % patch)) * 3;
        for (let c = 0; c < 3; c++) {
          let acc = 0;
          for (let dy = 0; dy < f; dy++) {
            const row = src + ((y * f + dy) * from + x * f) * 3 + c;
            for (let dx = 0; dx < f; dx++) acc += frames[row + dx * 3];
          }
          out[o + c] = acc * norm;
        }
      }
    }
  }
  return out;
}

/** Scene `index` as FAVOR-ready streams, with its own audio, shifted audio ({offset}) or another scene's ({foil}). */
export function avqaStreams(
  config: Partial<AvqaConfig> | AvqaConfig,
  index: number,
  audio: AvqaAudio = {},
  opts: AvqaStreamOptions = {},
): AvqaStreams {
  const cfg = avqaConfig(config);
  const size = opts.size ?? 32;
  const patch = opts.patch ?? size;
  const nMels = opts.nMels ?? 64;
  const duration = sceneDuration(cfg, index);
  const synth = sceneSynthConfig(cfg, index, duration);
  const foil = audio.foil;
  const clip = generateClip({ ...synth, fps: FAVOR_VIDEO_RATE }, index, {
    offset: audio.offset ?? 0,
    audio: foil === undefined,
  });
  const samples =
    foil === undefined ? clip.audio : generateClip(sceneSynthConfig(cfg, foil, duration), foil, { video: false }).audio;
  const videoTokens = (size / patch) ** 2;
  const video = makeStream(
    downsampleFrames(clip.video, clip.frames, synth.size, size, patch),
    size * size * 3,
    FAVOR_VIDEO_RATE,
    0,
  );
  const mel = avqaLogMel(samples, cfg.sampleRate, nMels);
  const slots = opts.slots ?? Math.max(FAVOR_AUDIO_RATE / FAVOR_VIDEO_RATE, videoTokens);
  const groups = favorGroup(video, mel, { videoTokens, slots });
  return { scene: sceneId(index), index, duration, audioSource: audio, video, videoTokens, audio: mel, groups };
}

/** The streams a question is asked over. */
export function questionStreams(
  config: Partial<AvqaConfig> | AvqaConfig,
  q: Pick<AvqaQuestion, 'index' | 'audio'>,
  opts: AvqaStreamOptions = {},
): AvqaStreams {
  return avqaStreams(config, q.index, q.audio ?? {}, opts);
}

export interface FavorBatch {
  batch: number;
  frames: number; // Tmax (rounded up to `multiple`)
  slots: number;
  videoDim: number;
  audioDim: number;
  video: Float32Array; // [B, T, slots, Dv]
  audio: Float32Array; // [B, T, slots, Da]
  videoMask: Uint8Array; // [B, T, slots]
  audioMask: Uint8Array; // [B, T, slots]
  frameMask: Uint8Array; // [B, T]: 1 where the clip has a frame
  lengths: Int32Array; // [B] frames per clip
}

/**
 * Clips of different lengths in one batch: groups zero-padded in time to the longest (rounded up to
 * `multiple`, e.g. 10 for FAVOR's 10-frame Q-Former windows), with every padded token masked.
 */
export function favorBatch(items: readonly FavorGroups[], opts: { multiple?: number } = {}): FavorBatch {
  if (items.length === 0) throw new ShapeError('favorBatch needs at least one clip', { field: 'items' });
  const { slots, videoDim, audioDim } = items[0];
  for (const g of items) {
    if (g.slots !== slots || g.videoDim !== videoDim || g.audioDim !== audioDim) {
      throw new ShapeError(
        `favorBatch: clips differ in slots or dims (${g.slots}/${g.videoDim}/${g.audioDim} vs ${slots}/${videoDim}/${audioDim})`,
        { field: 'items' },
      );
    }
  }
  const m = opts.multiple ?? 1;
  const frames = Math.ceil(Math.max(...items.map((g) => g.frames)) / m) * m;
  const B = items.length;
  const out: FavorBatch = {
    batch: B,
    frames,
    slots,
    videoDim,
    audioDim,
    video: new Float32Array(B * frames * slots * videoDim),
    audio: new Float32Array(B * frames * slots * audioDim),
    videoMask: new Uint8Array(B * frames * slots),
    audioMask: new Uint8Array(B * frames * slots),
    frameMask: new Uint8Array(B * frames),
    lengths: Int32Array.from(items.map((g) => g.frames)),
  };
  items.forEach((g, b) => {
    out.video.set(g.video, b * frames * slots * videoDim);
    out.audio.set(g.audio, b * frames * slots * audioDim);
    out.videoMask.set(g.videoMask, b * frames * slots);
    out.audioMask.set(g.audioMask, b * frames * slots);
    out.frameMask.fill(1, b * frames, b * frames + g.frames);
  });
  return out;
}
