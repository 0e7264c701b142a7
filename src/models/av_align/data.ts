import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { hostArray, type HostArray } from '../../io/array.js';
import { FeatureCache, canonicalJson, keyFor, type FeatureSet } from '../../data/cache.js';
import { synthConfig, type SynthConfig } from '../../data/synth/config.js';
import type { ManifestItem } from '../../data/manifest.js';
import { runBatch, type BatchFailure } from '../../data/batch.js';
import { InputError } from '../../util/errors.js';
import {
  AV_FEATURE_VERSION,
  AUDIO_FEATURE_DIM,
  VIDEO_FEATURE_DIM,
  fileFeatures,
  gridFrames,
  type AvFeatureConfig,
} from './features.js';
import { clipFeatures } from './synth_worker.js';

/**
 * Paired clip features in memory: video [N, T, Dv] and audio [N, T, Da], plus per-dimension statistics of
 * the training clips (the models standardize their inputs with them, stored as frozen parameters).
 */
export interface AvClipSet {
  n: number;
  frames: number;
  videoDim: number;
  audioDim: number;
  video: Float32Array;
  audio: Float32Array;
  ids: string[];
}

export interface FeatureStats {
  videoMean: Float32Array;
  videoStd: Float32Array;
  audioMean: Float32Array;
  audioStd: Float32Array;
}

export interface SynthSetOptions {
  /** clip indices of the AV-Synth dataset to build */
  indices: number[];
  synth: Partial<SynthConfig>;
  features: AvFeatureConfig;
  /** feature cache folder (default: no cache) */
  cacheDir?: string;
  progress?: (done: number, total: number) => void;
  /** worker threads for clips not in the cache (default: the core count; 1 = this thread) */
  workers?: number;
}

/** The synth settings the feature grid needs (clip length = window, 16 fps, 16 kHz). */
export function synthFor(features: AvFeatureConfig, synth: Partial<SynthConfig>): SynthConfig {
  return synthConfig({ ...synth, duration: features.seconds, fps: features.videoFps, sampleRate: features.sampleRate });
}

function emptySet(n: number, c: AvFeatureConfig): AvClipSet {
  const T = gridFrames(c);
  return {
    n,
    frames: T,
    videoDim: VIDEO_FEATURE_DIM,
    audioDim: AUDIO_FEATURE_DIM,
    video: new Float32Array(n * T * VIDEO_FEATURE_DIM),
    audio: new Float32Array(n * T * AUDIO_FEATURE_DIM),
    ids: new Array<string>(n).fill(''),
  };
}

/** In-memory AV-Synth clips -> features (the training fast path), cached per clip when a cache folder is given. */
export async function synthClipSet(o: SynthSetOptions): Promise<AvClipSet & { cacheHits: number }> {
  const cfg = synthFor(o.features, o.synth);
  const cache = o.cacheDir ? FeatureCache.open(o.cacheDir) : null;
  const params = { kind: 'av-clip-features', version: AV_FEATURE_VERSION, features: o.features };
  const set = emptySet(o.indices.length, o.features);
  const T = set.frames;
  const keyOf = (index: number) => keyFor(`avsynth:${canonicalJson(cfg)}:${index}`, params);
  let done = 0;
  const store = (i: number, video: Float32Array, audio: Float32Array) => {
    set.video.set(video, i * T * VIDEO_FEATURE_DIM);
    set.audio.set(audio, i * T * AUDIO_FEATURE_DIM);
    set.ids[i] = `clip${String(o.indices[i]).padStart(6, '0')}`;
    o.progress?.(++done, o.indices.length);
  };
  const missing: number[] = [];
  o.indices.forEach((index, i) => {
    const f = cache?.get(keyOf(index));
    if (f) store(i, f.video.data as Float32Array, f.audio.data as Float32Array);
    else missing.push(i);
  });
  const hits = o.indices.length - missing.length;
  const computed = (i: number, video: Float32Array, audio: Float32Array) => {
    store(i, video, audio);
    const index = o.indices[i];
    cache?.put(
      keyOf(index),
      {
        video: hostArray('float32', [T, VIDEO_FEATURE_DIM], video),
        audio: hostArray('float32', [T, AUDIO_FEATURE_DIM], audio),
      },
      { source: `avsynth clip ${index}`, params },
    );
  };
  const workers = Math.min(o.workers ?? availableParallelism(), Math.ceil(missing.length / 16));
  if (workers > 1) await inWorkers(cfg, o.features, missing, o.indices, workers, computed);
  else {
    for (const i of missing) {
      const f = clipFeatures(cfg, o.features, o.indices[i]);
      computed(i, f.video, f.audio);
      // let progress output and signal handlers run during long loops
      if (i % 16 === 15) await new Promise((r) => setImmediate(r));
    }
  }
  cache?.flush();
  return { ...set, cacheHits: hits };
}

/** Splits the clips over worker threads (interleaved, so progress is even) and collects their features. */
async function inWorkers(
  cfg: SynthConfig,
  features: AvFeatureConfig,
  rows: number[],
  indices: number[],
  n: number,
  done: (row: number, v: Float32Array, a: Float32Array) => void,
): Promise<void> {
  const rowOf = new Map(rows.map((r) => [indices[r], r]));
  await Promise.all(
    Array.from(
      { length: n },
      (_, w) =>
        new Promise<void>((res, rej) => {
          const mine = rows.filter((_, k) => k % n === w).map((r) => indices[r]);
          const worker = new Worker(new URL('./synth_worker.js', import.meta.url), {
            workerData: { cfg, features, indices: mine },
          });
          // the worker exits by itself once its clips are posted
          worker.on('message', (m: { done?: boolean; index: number; video: Float32Array; audio: Float32Array }) => {
            if (!m.done) done(rowOf.get(m.index)!, m.video, m.audio);
          });
          worker.on('error', rej);
          worker.on('exit', (code) =>
            code === 0 ? res() : rej(new Error(`AV-Synth feature worker exited with code ${code}`)),
          );
        }),
    ),
  );
}

/** Manifest items with both a video and an audio stream -> features through the decoder (cached by file content). */
export async function manifestClipSet(
  items: ManifestItem[],
  features: AvFeatureConfig,
  opts: { cacheDir?: string; quiet?: boolean } = {},
): Promise<AvClipSet & { failed: BatchFailure[] }> {
  const cache = opts.cacheDir ? FeatureCache.open(opts.cacheDir) : null;
  const params = { kind: 'av-file-features', version: AV_FEATURE_VERSION, features };
  const T = gridFrames(features);
  const compute = async (path: string): Promise<FeatureSet> => {
    const f = await fileFeatures(path, features);
    if (!f.video || !f.audio)
      throw new InputError(
        `${path}: av-align needs both video and audio, the file has ${f.video ? 'no audio' : 'no video'}`,
        { file: path },
      );
    return {
      video: hostArray('float32', [T, VIDEO_FEATURE_DIM], f.video),
      audio: hostArray('float32', [T, AUDIO_FEATURE_DIM], f.audio),
    };
  };
  const r = await runBatch(
    items,
    async (item) => {
      const path = item.video ?? item.audio;
      if (!path) throw new InputError(`manifest item ${item.id} has no media file`, { field: 'video' });
      return cache ? (await cache.getOrCompute(path, params, () => compute(path))).features : compute(path);
    },
    { label: 'av features', quiet: opts.quiet },
  );
  cache?.flush();
  const ok = r.results.map((f, i) => ({ f, i })).filter((x): x is { f: FeatureSet; i: number } => x.f !== undefined);
  const set = emptySet(ok.length, features);
  ok.forEach(({ f, i }, j) => {
    set.video.set(f.video.data as Float32Array, j * T * VIDEO_FEATURE_DIM);
    set.audio.set(f.audio.data as Float32Array, j * T * AUDIO_FEATURE_DIM);
    set.ids[j] = items[i].id;
  });
  return { ...set, failed: r.failed };
}

function meanStd(
  data: Float32Array,
  rows: number[],
  frames: number,
  dim: number,
): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (const r of rows) {
    for (let t = 0; t < frames; t++) {
      const off = (r * frames + t) * dim;
      for (let d = 0; d < dim; d++) {
        const v = data[off + d];
        sum[d] += v;
        sq[d] += v * v;
      }
    }
  }
  const n = Math.max(1, rows.length * frames);
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    mean[d] = sum[d] / n;
    // a floor keeps constant dimensions (e.g. a pixel no object ever reaches) from blowing up
    std[d] = Math.max(Math.sqrt(Math.max(0, sq[d] / n - mean[d] ** 2)), 1e-2);
  }
  return { mean, std };
}

/** Per-dimension mean/std over the given clips (the training split). */
export function featureStats(set: AvClipSet, rows: number[]): FeatureStats {
  const v = meanStd(set.video, rows, set.frames, set.videoDim);
  const a = meanStd(set.audio, rows, set.frames, set.audioDim);
  return { videoMean: v.mean, videoStd: v.std, audioMean: a.mean, audioStd: a.std };
}

/** Rows of the set as a batch {video [B, T, Dv], audio [B, T, Da]}. */
export function gatherBatch(set: AvClipSet, indices: number[]): Record<string, HostArray> {
  const { frames: T, videoDim: Dv, audioDim: Da } = set;
  const video = new Float32Array(indices.length * T * Dv);
  const audio = new Float32Array(indices.length * T * Da);
  indices.forEach((r, i) => {
    video.set(set.video.subarray(r * T * Dv, (r + 1) * T * Dv), i * T * Dv);
    audio.set(set.audio.subarray(r * T * Da, (r + 1) * T * Da), i * T * Da);
  });
  return {
    video: hostArray('float32', [indices.length, T, Dv], video),
    audio: hostArray('float32', [indices.length, T, Da], audio),
  };
}
