import { AUDIO_PRESETS } from '../../media/presets.js';
import { logMel, spectralFlux } from '../../media/audio_features.js';
import { VisualFeatureExtractor, type VisualFeatureConfig } from '../../media/video_features.js';
import { resample, type Stream } from '../../timeline/timeline.js';
import { decodeAudio } from '../../media/decode_audio.js';
import { iterateVideoFrames } from '../../media/decode_video.js';
import { probe, type MediaInfo } from '../../media/probe.js';
import { MediaError } from '../../util/errors.js';

/**
 * Clip features shared by av-align and av-retrieval: both modalities on ONE grid (`rate` Hz over `seconds`),
 * computed by the same code from in-memory AV-Synth frames (training fast path) and from decoded files
 * (index/retrieve), so a model trained on one serves the other.
 *  video [T, 218]: 8x8 RGB pixels (color, where things are), color moments, 4x4+1 motion energy
 *  audio [T, 65]: PANNs log-mel (64) and the spectral-flux onset envelope (1)
 * Each modality is mean-pooled onto the grid (exact overlap weights), so a 0.1 s impact flash or click
 * lands in the grid frame that contains it.
 */
export interface AvFeatureConfig {
  /** grid rate, Hz */
  rate: number;
  /** window length in seconds (T = rate * seconds frames) */
  seconds: number;
  /** video decode rate and square size (files are center-cropped to it) */
  videoFps: number;
  videoSize: number;
  sampleRate: number;
}

export const AV_FEATURE_VERSION = 1;

export const defaultAvFeatures: AvFeatureConfig = {
  rate: 8,
  seconds: 6,
  videoFps: 16,
  videoSize: 64,
  sampleRate: 16000,
};

const VISUAL: VisualFeatureConfig = { pixels: { width: 8, height: 8 }, moments: true, motionGrid: { gx: 4, gy: 4 } };
const VISUAL_ORDER = ['pixels', 'color_moments', 'motion'];
export const VIDEO_FEATURE_DIM = 8 * 8 * 3 + 9 + 17;
export const AUDIO_FEATURE_DIM = 64 + 1;

export function gridFrames(c: AvFeatureConfig): number {
  return Math.round(c.rate * c.seconds);
}

/** Streams onto the grid, concatenated along features: [T, sum(dim)]; frames the sources miss stay 0. */
function concatOnGrid(streams: Stream[], c: AvFeatureConfig): { data: Float32Array; valid: number } {
  const T = gridFrames(c);
  const dim = streams.reduce((s, x) => s + x.dim, 0);
  const out = new Float32Array(T * dim);
  let off = 0;
  let valid = T;
  for (const s of streams) {
    const r = resample(s, { rate: c.rate, start: 0, frames: T }, 'mean');
    for (let t = 0; t < T; t++) out.set(r.data.subarray(t * s.dim, (t + 1) * s.dim), t * dim + off);
    valid = Math.min(
      valid,
      r.mask.reduce((a, m) => a + m, 0),
    );
    off += s.dim;
  }
  return { data: out, valid };
}

/** Video frames [N, H, W, 3] (bytes) at `fps` -> [T, VIDEO_FEATURE_DIM] on the grid. */
export function videoFeatures(
  frames: Uint8Array,
  count: number,
  width: number,
  height: number,
  fps: number,
  c: AvFeatureConfig,
): { data: Float32Array; valid: number } {
  const ex = new VisualFeatureExtractor({ width, height, channels: 3 }, VISUAL);
  const size = width * height * 3;
  for (let i = 0; i < count; i++) ex.push(frames.subarray(i * size, (i + 1) * size));
  const s = ex.finish(fps, 0);
  return concatOnGrid(
    VISUAL_ORDER.map((n) => s[n]),
    c,
  );
}

/** Mono samples -> [T, AUDIO_FEATURE_DIM] on the grid. */
export function audioFeatures(samples: Float32Array, c: AvFeatureConfig): { data: Float32Array; valid: number } {
  const cfg = AUDIO_PRESETS.panns;
  if (c.sampleRate !== cfg.sampleRate)
    throw new MediaError(`audio features expect ${cfg.sampleRate} Hz, config says ${c.sampleRate}`, {
      field: 'sampleRate',
    });
  const mel = logMel(samples, cfg);
  return concatOnGrid([mel, spectralFlux(mel)], c); // onset strength from the same spectrogram (one STFT)
}

export interface FileFeatures {
  video: Float32Array | null; // [T, Dv]
  audio: Float32Array | null; // [T, Da]
  /** grid frames the file actually covers (the rest is zero padding) */
  validFrames: number;
  duration: number;
  info: MediaInfo;
}

/** Decodes `seconds` of a media file from `start` (whichever streams it has) and computes the grid features. */
export async function fileFeatures(path: string, c: AvFeatureConfig, start = 0): Promise<FileFeatures> {
  const info = await probe(path);
  if (!info.video && !info.audio)
    throw new MediaError(`${path}: no audio or video stream`, { file: path, reason: 'no streams' });
  let video: Float32Array | null = null;
  let audio: Float32Array | null = null;
  let valid = gridFrames(c);
  if (info.video) {
    const dec = {
      fps: c.videoFps,
      width: c.videoSize,
      height: c.videoSize,
      resize: 'center-crop' as const,
      pixelFormat: 'rgb' as const,
      ...(start > 0 ? { start } : {}),
      duration: c.seconds,
      info,
    };
    const size = c.videoSize * c.videoSize * 3;
    const chunks: Uint8Array[] = [];
    for await (const f of iterateVideoFrames(path, dec)) chunks.push(f.data);
    if (chunks.length === 0)
      throw new MediaError(`${path}: the video stream decoded to no frames`, { file: path, reason: 'no frames' });
    const all = new Uint8Array(chunks.length * size);
    chunks.forEach((f, i) => all.set(f, i * size));
    const v = videoFeatures(all, chunks.length, c.videoSize, c.videoSize, c.videoFps, c);
    video = v.data;
    valid = Math.min(valid, v.valid);
  }
  if (info.audio) {
    const a = await decodeAudio(path, {
      sampleRate: c.sampleRate,
      ...(start > 0 ? { start } : {}),
      duration: c.seconds,
      info,
    });
    const r = audioFeatures(a.data.subarray(0, a.length), c);
    audio = r.data;
    valid = Math.min(valid, r.valid);
  }
  return { video, audio, validFrames: valid, duration: info.duration ?? valid / c.rate, info };
}
