import type { HostArray } from '../io/array.js';
import { InputError, MediaError, NumericError } from '../util/errors.js';
import { AudioFeaturePipeline } from './audio_pipeline.js';
import { iterateAudioChunks } from './decode_audio.js';
import { iterateVideoFrames, planVideo } from './decode_video.js';
import { FACE_DIM, loadFaceTracker } from './face.js';
import { probe, type MediaInfo } from './probe.js';
import { FEATURE_PRESETS, presetNames, type FeaturePreset } from './presets.js';
import { RowBuffer } from './rows.js';
import type { Stream } from '../timeline/timeline.js';
import { VisualFeatureExtractor } from './video_features.js';

/**
 * extractFeatures(path, preset): decode a media file once per modality (audio and video in parallel ffmpeg
 * processes, streamed with bounded memory) and return named Streams {data [T, D], rate Hz, start s}.
 * Names are prefixed by modality: audio.logmel, video.motion, face.track, ...
 */
export interface ExtractFeaturesOptions {
  start?: number;
  duration?: number;
  /** ffmpeg decoder threads for video (default: ffmpeg's choice). */
  threads?: number;
  /** Throw when the preset wants a stream the file lacks (default: extract what exists, list the rest in `missing`). */
  strict?: boolean;
  /** Seconds of audio per computation segment (memory vs. overhead; default 20). */
  audioSegmentSeconds?: number;
  info?: MediaInfo;
}

export interface ExtractedFeatures {
  path: string;
  preset: string;
  streams: Record<string, Stream>;
  /** Modalities the preset asked for that the file does not have, e.g. ['audio']. */
  missing: string[];
  info: MediaInfo;
}

export function getPreset(name: string): FeaturePreset {
  const p = FEATURE_PRESETS[name];
  if (!p)
    throw new InputError(`unknown feature preset "${name}"; expected one of: ${presetNames().join(', ')}`, {
      field: 'preset',
      got: name,
    });
  return p;
}

async function audioStreams(
  path: string,
  preset: FeaturePreset,
  info: MediaInfo,
  opts: ExtractFeaturesOptions,
): Promise<Record<string, Stream>> {
  const spec = preset.audio!;
  const t0 = opts.start ?? 0;
  const pipe = new AudioFeaturePipeline(spec.features, spec.sampleRate, t0, opts.audioSegmentSeconds);
  for await (const chunk of iterateAudioChunks(path, {
    sampleRate: spec.sampleRate,
    start: opts.start,
    duration: opts.duration,
    info,
    chunkFrames: spec.sampleRate,
  })) {
    pipe.push(chunk.data);
  }
  return prefix('audio', pipe.finish());
}

async function videoStreams(
  path: string,
  preset: FeaturePreset,
  info: MediaInfo,
  opts: ExtractFeaturesOptions,
): Promise<Record<string, Stream>> {
  const v = preset.video!;
  const dec = {
    fps: v.fps,
    width: v.width,
    height: v.height,
    resize: v.resize,
    pixelFormat: v.pixelFormat,
    start: opts.start,
    duration: opts.duration,
    threads: opts.threads,
    info,
  };
  const { timeline } = await planVideo(path, dec);
  const ex = new VisualFeatureExtractor(
    { width: timeline.width, height: timeline.height, channels: timeline.channels },
    v.visual,
  );
  for await (const frame of iterateVideoFrames(path, dec)) ex.push(frame.data);
  return prefix('video', ex.finish(timeline.fps, timeline.start));
}

async function faceStreams(
  path: string,
  preset: FeaturePreset,
  info: MediaInfo,
  opts: ExtractFeaturesOptions,
): Promise<Record<string, Stream>> {
  const f = preset.face!;
  const tracker = await loadFaceTracker(f);
  const dec = {
    fps: f.fps,
    width: f.width,
    pixelFormat: 'rgb' as const,
    start: opts.start,
    duration: opts.duration,
    threads: opts.threads,
    info,
  };
  const { timeline } = await planVideo(path, dec);
  const rows = new RowBuffer(FACE_DIM);
  for await (const frame of iterateVideoFrames(path, dec))
    rows.push(await tracker.analyze(frame.data, timeline.width, timeline.height));
  return { 'face.track': rows.toStream(timeline.fps, timeline.start) };
}

function prefix(modality: string, streams: Record<string, Stream>): Record<string, Stream> {
  return Object.fromEntries(Object.entries(streams).map(([k, s]) => [`${modality}.${k}`, s]));
}

/** Extracts a preset's features from one media file. */
export async function extractFeatures(
  path: string,
  presetName: string | FeaturePreset,
  opts: ExtractFeaturesOptions = {},
): Promise<ExtractedFeatures> {
  const preset = typeof presetName === 'string' ? getPreset(presetName) : presetName;
  const info = opts.info ?? (await probe(path));
  const missing: string[] = [];
  const jobs: Promise<Record<string, Stream>>[] = [];
  if (preset.audio) {
    if (info.audio) jobs.push(audioStreams(path, preset, info, opts));
    else missing.push('audio');
  }
  if (preset.video || preset.face) {
    if (!info.video) missing.push('video');
    else {
      if (preset.video) jobs.push(videoStreams(path, preset, info, opts));
      if (preset.face) jobs.push(faceStreams(path, preset, info, opts));
    }
  }
  if (missing.length > 0 && (opts.strict || jobs.length === 0)) {
    throw new MediaError(
      `${path}: preset "${preset.name}" needs ${missing.join(' and ')} but the file has no ${missing.join(' or ')} stream`,
      {
        file: path,
        reason: `no ${missing.join('/')} stream`,
        preset: preset.name,
      },
    );
  }
  const streams: Record<string, Stream> = {};
  for (const part of await Promise.all(jobs)) Object.assign(streams, part);
  for (const [name, s] of Object.entries(streams)) {
    for (let i = 0; i < s.data.length; i++) {
      if (!Number.isFinite(s.data[i])) {
        throw new NumericError(`${path}: feature ${name} has a non-finite value at frame ${Math.floor(i / s.dim)}`, {
          file: path,
          field: name,
        });
      }
    }
  }
  return { path, preset: preset.name, streams, missing, info };
}

/**
 * Streams as tensors for safetensors / the feature cache: each stream `name` becomes a float32 [T, D] tensor, and
 * `name@time` a float64 [2] tensor holding [rate, start] (names may not contain '/').
 */
export function streamsToTensors(streams: Record<string, Stream>): Record<string, HostArray> {
  const out: Record<string, HostArray> = {};
  for (const [name, s] of Object.entries(streams)) {
    out[name] = { dtype: 'float32', shape: [s.frames, s.dim], data: s.data };
    out[`${name}@time`] = { dtype: 'float64', shape: [2], data: Float64Array.from([s.rate, s.start]) };
  }
  return out;
}

/** Inverse of streamsToTensors. */
export function tensorsToStreams(tensors: Record<string, HostArray>): Record<string, Stream> {
  const out: Record<string, Stream> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name.endsWith('@time')) continue;
    const time = tensors[`${name}@time`];
    if (!time || t.shape.length !== 2)
      throw new InputError(`tensor "${name}" is not a feature stream (needs [T, D] and "${name}@time")`, {
        field: name,
      });
    const [rate, start] = Array.from(time.data as Float64Array);
    out[name] = { data: t.data as Float32Array, frames: t.shape[0], dim: t.shape[1], rate, start };
  }
  return out;
}
