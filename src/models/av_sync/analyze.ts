import { probe } from '../../media/probe.js';
import { featuresFromFile, SYNC_RATE, type SyncFeatures } from './features.js';
import { learnedCue, loadSyncModel, modelSync, notSynchronizable, releaseSyncModel, type SyncModel } from './infer.js';
import type { LearnedCue } from './model_cue.js';
import type { SyncEstimate } from './result.js';
import { xcorrSync } from './xcorr.js';
import { autoSync } from './auto.js';
import { decodeSyncClip, featuresOfShifted, type DecodedSyncClip } from './decoded.js';
import type { MouthTrack } from './mouth_cue.js';
import { syncTimeline, type SyncTimeline } from './timeline.js';

/**
 * `attune sync` as a function: decode a file once into sync features and estimate its audio-video offset with the
 * learned model (when one is given) or the xcorr baseline. Unreadable files and files without a video stream are
 * MediaErrors (a clear message); a file without audio, silence or a still picture gives a "not synchronizable"
 * estimate with its reason.
 */
export interface SyncFileOptions {
  /** auto (default without a model): real-footage cues with a calibrated confidence; xcorr: the AV-Synth baseline. */
  method?: 'model' | 'xcorr' | 'auto';
  /** auto: withhold the offset below this calibrated confidence. */
  minConfidence?: number;
  /** auto: the face stack's mouth track for the decoded clip. */
  mouthTrack?: (clip: DecodedSyncClip) => Promise<MouthTrack | undefined>;
  /** auto: also the per-window offsets and drift, from the same decode. */
  timeline?: boolean;
  /**
   * A loaded model or a run folder / .safetensors path: needed for method 'model'; for auto, the learned cue (default
   * none: on the held-out real clips it changed no answer, docs/sync.md; the shipped one is `shippedSyncModel()`).
   */
  model?: SyncModel | string | false;
  start?: number;
  duration?: number;
}

export interface SyncFileResult extends SyncEstimate {
  file: string;
  /** Seconds spent decoding + extracting features, and estimating. */
  timing: { decode: number; estimate: number; total: number };
  timeline?: SyncTimeline;
}

function asModel(m: SyncModel | string): SyncModel {
  return typeof m === 'string' ? loadSyncModel(m) : m;
}

/** auto's learned cue: only when a model is given (the shipped one is weights/av-sync, `shippedSyncModel()`). */
async function learnedOf(f: SyncFeatures, m: SyncFileOptions['model']): Promise<LearnedCue | undefined> {
  if (m === undefined || m === false) return undefined;
  const model = asModel(m);
  try {
    return await learnedCue(f, model);
  } finally {
    if (model !== m) await releaseSyncModel(model);
  }
}

export async function syncFile(path: string, opts: SyncFileOptions = {}): Promise<SyncFileResult> {
  const t0 = performance.now();
  const method = opts.method ?? (opts.model ? 'model' : 'auto');
  const model = method === 'model' && opts.model ? asModel(opts.model) : undefined;
  const info = await probe(path, { scanPackets: 0 });
  const range = { start: opts.start, duration: opts.duration };
  if (!info.audio) {
    // Still decode nothing: there is no sound to time against the picture.
    const end = opts.duration ?? info.duration - (opts.start ?? 0);
    const seconds = (performance.now() - t0) / 1000;
    return {
      ...notSynchronizable(method, 'no audio stream', { start: 0, end }, 0),
      file: path,
      timing: { decode: seconds, estimate: 0, total: seconds },
    };
  }
  if (method === 'auto') {
    const clip = await decodeSyncClip(path, { ...range, info });
    const mouth = await opts.mouthTrack?.(clip);
    const t1 = performance.now();
    const features = featuresOfShifted(clip, 0);
    const learned = await learnedOf(features, opts.model);
    const estimate = autoSync(features, { minConfidence: opts.minConfidence, mouth, learned });
    const timeline = opts.timeline ? syncTimeline(features, { minConfidence: opts.minConfidence, mouth }) : undefined;
    const t2 = performance.now();
    return {
      ...estimate,
      file: path,
      timing: { decode: (t1 - t0) / 1000, estimate: (t2 - t1) / 1000, total: (t2 - t0) / 1000 },
      ...(timeline ? { timeline } : {}),
    };
  }
  const features = await featuresFromFile(path, { ...range, info });
  const t1 = performance.now();
  let estimate: SyncEstimate;
  if (method === 'model') {
    if (!model) throw new Error('syncFile: method "model" needs opts.model');
    estimate = await modelSync(features, model);
  } else {
    estimate = xcorrSync(features, { minFrames: model?.window ?? Math.round(4.8 * SYNC_RATE) });
  }
  const t2 = performance.now();
  return {
    ...estimate,
    file: path,
    timing: { decode: (t1 - t0) / 1000, estimate: (t2 - t1) / 1000, total: (t2 - t0) / 1000 },
  };
}
