import { canonicalJson, FeatureCache, keyFor, type FeatureSet } from '../../data/cache.js';
import { runBatch, type BatchFailure } from '../../data/batch.js';
import type { ManifestItem } from '../../data/manifest.js';
import { generateClip } from '../../data/synth/clip.js';
import { synthConfig, type SynthConfig } from '../../data/synth/config.js';
import type { HostArray } from '../../io/array.js';
import { InputError } from '../../util/errors.js';
import type { Rng } from '../../util/rng.js';
import {
  AUDIO_DIM,
  featuresFromClip,
  featuresFromFile,
  SYNC_RATE,
  VIDEO_DIM,
  windowRows,
  type SyncFeatures,
} from './features.js';
import { SYNC_CLASSES, SYNC_GRID } from './result.js';

/**
 * Self-supervised sync examples from unlabeled, in-sync clips: pick a window of the video and the audio window moved
 * by a random grid offset (the audio of a file whose audio is `offset` seconds late, at the same file time, is the
 * original audio `offset` seconds earlier). Negatives for the synchronizability head remove the cues: a still
 * picture, silence, or the audio of another clip.
 */
export const SYNC_FEATURE_VERSION = 1;

export type ExampleKind = 'offset' | 'static' | 'silent' | 'shuffled';

export interface SyncExampleSpec {
  clip: number;
  kind: ExampleKind;
  /** Grid class (offset examples; 0 otherwise). */
  label: number;
  /** First video frame of the window. */
  t0: number;
  /** The clip whose audio a 'shuffled' example uses. */
  other?: number;
  /** dB level of a 'silent' example's floor. */
  floorDb?: number;
}

/** AV-Synth settings for sync training: 25 fps, 16 kHz, clips long enough for a 4.8 s window at every offset. */
export function syncSynthConfig(o: {
  seed: number;
  seconds: number;
  size: number;
  classes: number;
  noise: number;
}): SynthConfig {
  return synthConfig({
    seed: o.seed,
    duration: o.seconds,
    fps: SYNC_RATE,
    sampleRate: 16000,
    size: o.size,
    classes: o.classes,
    noise: o.noise,
  });
}

function toFeatureSet(f: SyncFeatures): FeatureSet {
  const T = f.frames;
  return {
    audio: { dtype: 'float32', shape: [T, AUDIO_DIM], data: f.audio },
    video: { dtype: 'float32', shape: [T, VIDEO_DIM], data: f.video },
    onset: { dtype: 'float32', shape: [T], data: f.onset },
    motion: { dtype: 'float32', shape: [T], data: f.motion },
    motionOnset: { dtype: 'float32', shape: [T], data: f.motionOnset },
    mask: { dtype: 'float32', shape: [T], data: Float32Array.from(f.mask) },
  };
}

function fromFeatureSet(s: FeatureSet): SyncFeatures {
  const a = s.audio as HostArray;
  const T = a.shape[0];
  return {
    rate: SYNC_RATE,
    frames: T,
    audio: a.data as Float32Array,
    video: s.video.data as Float32Array,
    onset: s.onset.data as Float32Array,
    motion: s.motion.data as Float32Array,
    motionOnset: s.motionOnset.data as Float32Array,
    mask: Uint8Array.from(s.mask.data as Float32Array),
  };
}

/** In-memory AV-Synth clips (offset 0) -> sync features, cached per clip when a cache folder is given. */
export async function synthSyncSet(
  cfg: SynthConfig,
  indices: number[],
  opts: { cacheDir?: string; progress?: (done: number, total: number) => void } = {},
): Promise<SyncFeatures[]> {
  const cache = opts.cacheDir ? FeatureCache.open(opts.cacheDir) : null;
  const params = { kind: 'av-sync-features', version: SYNC_FEATURE_VERSION };
  const out: SyncFeatures[] = [];
  for (let i = 0; i < indices.length; i++) {
    const key = keyFor(`avsynth:${canonicalJson(cfg)}:${indices[i]}`, params);
    let set = cache?.get(key);
    if (!set) {
      set = toFeatureSet(featuresFromClip(generateClip(cfg, indices[i])));
      cache?.put(key, set, { source: `avsynth clip ${indices[i]}`, params });
    }
    out.push(fromFeatureSet(set));
    opts.progress?.(i + 1, indices.length);
    if (i % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  cache?.flush();
  return out;
}

/** Manifest items with a video file -> sync features through the decoder (cached by file content). */
export async function manifestSyncSet(
  items: ManifestItem[],
  opts: { cacheDir?: string; quiet?: boolean; minFrames: number },
): Promise<{ clips: SyncFeatures[]; ids: string[]; failed: BatchFailure[] }> {
  const cache = opts.cacheDir ? FeatureCache.open(opts.cacheDir) : null;
  const params = { kind: 'av-sync-file-features', version: SYNC_FEATURE_VERSION };
  const r = await runBatch(
    items,
    async (item) => {
      const path = item.video;
      if (!path)
        throw new InputError(`manifest item ${item.id} has no video file (av-sync learns from videos with sound)`, {
          field: 'video',
          id: item.id,
        });
      const range = { start: item.start, duration: item.end !== undefined ? item.end - (item.start ?? 0) : undefined };
      const compute = async () => {
        const f = await featuresFromFile(path, range);
        if (!f.info.audio)
          throw new InputError(`${path}: no audio stream; av-sync needs videos with sound`, { file: path });
        if (f.frames < opts.minFrames)
          throw new InputError(
            `${path}: ${f.duration.toFixed(2)} s is shorter than the ${(opts.minFrames / SYNC_RATE).toFixed(1)} s window`,
            { file: path },
          );
        return toFeatureSet(f);
      };
      return cache ? (await cache.getOrCompute(path, { ...params, range }, compute)).features : compute();
    },
    { label: 'sync features', quiet: opts.quiet },
  );
  cache?.flush();
  const clips: SyncFeatures[] = [];
  const ids: string[] = [];
  r.results.forEach((f, i) => {
    if (f) {
      clips.push(fromFeatureSet(f));
      ids.push(items[i].id);
    }
  });
  return { clips, ids, failed: r.failed };
}

/** Frames the audio is moved by for grid class `label` (positive = audio late). */
export const labelLag = (label: number): number => Math.round(SYNC_GRID[label] * SYNC_RATE);

/** Video window starts for which the shifted audio window stays inside the clip (falls back to the middle). */
function startRange(T: number, W: number, lag: number): [number, number] {
  const lo = Math.max(0, lag);
  const hi = Math.min(T - W, T - W + lag);
  if (hi >= lo) return [lo, hi];
  const mid = Math.max(0, Math.floor((T - W) / 2));
  return [mid, mid];
}

/** A random example for training (negatives with probability `negatives`, split evenly over the three kinds). */
export function randomExample(
  clips: SyncFeatures[],
  clip: number,
  W: number,
  negatives: number,
  rng: Rng,
  pool: number[],
): SyncExampleSpec {
  const T = clips[clip].frames;
  if (rng.uniform() < negatives) {
    const kinds: ExampleKind[] = ['static', 'silent', 'shuffled'];
    const kind = kinds[rng.int(kinds.length)];
    const t0 = rng.int(Math.max(1, T - W + 1));
    let other = pool[rng.int(pool.length)];
    if (other === clip && pool.length > 1) other = pool[(pool.indexOf(clip) + 1) % pool.length];
    return { clip, kind, label: 0, t0, other, floorDb: -100 + 40 * rng.uniform() };
  }
  const label = rng.int(SYNC_CLASSES);
  const [lo, hi] = startRange(T, W, labelLag(label));
  return { clip, kind: 'offset', label, t0: lo + rng.int(hi - lo + 1) };
}

/** Deterministic evaluation examples: every `labelStep`-th grid class per clip (rotated by clip), window in range. */
export function evalExamples(
  clips: SyncFeatures[],
  indices: number[],
  W: number,
  labelsPerClip: number,
  negatives: boolean,
): SyncExampleSpec[] {
  const out: SyncExampleSpec[] = [];
  indices.forEach((clip, n) => {
    for (let j = 0; j < labelsPerClip; j++) {
      const label = (n * 7 + Math.round((j * SYNC_CLASSES) / labelsPerClip)) % SYNC_CLASSES;
      const [lo, hi] = startRange(clips[clip].frames, W, labelLag(label));
      out.push({ clip, kind: 'offset', label, t0: Math.floor((lo + hi) / 2) });
    }
    if (negatives) {
      const t0 = Math.max(0, Math.floor((clips[clip].frames - W) / 2));
      const other = indices[(n + 1) % indices.length];
      out.push(
        { clip, kind: 'static', label: 0, t0 },
        { clip, kind: 'silent', label: 0, t0, floorDb: -100 },
        ...(other !== clip ? [{ clip, kind: 'shuffled' as const, label: 0, t0, other }] : []),
      );
    }
  });
  return out;
}

/** Fills row `i` of a batch from an example spec. */
function fillExample(
  clips: SyncFeatures[],
  ex: SyncExampleSpec,
  W: number,
  i: number,
  b: { audio: Float32Array; video: Float32Array; mask: Float32Array },
): void {
  const f = clips[ex.clip];
  const lag = ex.kind === 'offset' ? labelLag(ex.label) : 0;
  const src = ex.kind === 'shuffled' && ex.other !== undefined ? clips[ex.other] : f;
  const video = windowRows(f.video, VIDEO_DIM, ex.t0, W);
  const audio = windowRows(src.audio, AUDIO_DIM, ex.t0 - lag, W);
  const vMask = windowRows(Float32Array.from(f.mask), 1, ex.t0, W);
  const aMask = windowRows(Float32Array.from(src.mask), 1, ex.t0 - lag, W);
  if (ex.kind === 'static') video.fill(0); // a still picture has zero motion energy: log1p(0) = 0 everywhere
  if (ex.kind === 'silent') {
    for (let t = 0; t < W; t++) {
      const row = audio.subarray(t * AUDIO_DIM, (t + 1) * AUDIO_DIM);
      row.fill(0);
      row.fill(((ex.floorDb ?? -100) + 50) / 20, 1, 9); // band levels at the floor, no onsets, no rises
    }
  }
  for (let t = 0; t < W; t++) {
    const m = vMask[t] * aMask[t];
    b.mask[i * W + t] = m;
    if (!m) {
      audio.fill(0, t * AUDIO_DIM, (t + 1) * AUDIO_DIM);
      video.fill(0, t * VIDEO_DIM, (t + 1) * VIDEO_DIM);
    }
  }
  b.audio.set(audio, i * W * AUDIO_DIM);
  b.video.set(video, i * W * VIDEO_DIM);
}

/** Examples -> the graph's inputs: audio [B, W, 17], video [B, W, 34], mask [B, W], label [B], weight [B], sync [B]. */
export function makeBatch(clips: SyncFeatures[], examples: SyncExampleSpec[], W: number): Record<string, HostArray> {
  const B = examples.length;
  const b = {
    audio: new Float32Array(B * W * AUDIO_DIM),
    video: new Float32Array(B * W * VIDEO_DIM),
    mask: new Float32Array(B * W),
  };
  const label = new BigInt64Array(B);
  const weight = new Float32Array(B);
  const sync = new Float32Array(B);
  examples.forEach((ex, i) => {
    fillExample(clips, ex, W, i, b);
    label[i] = BigInt(ex.label);
    weight[i] = ex.kind === 'offset' ? 1 : 0;
    sync[i] = ex.kind === 'offset' ? 1 : 0;
  });
  return {
    audio: { dtype: 'float32', shape: [B, W, AUDIO_DIM], data: b.audio },
    video: { dtype: 'float32', shape: [B, W, VIDEO_DIM], data: b.video },
    mask: { dtype: 'float32', shape: [B, W], data: b.mask },
    label: { dtype: 'int64', shape: [B], data: label },
    weight: { dtype: 'float32', shape: [B], data: weight },
    sync: { dtype: 'float32', shape: [B], data: sync },
  };
}
