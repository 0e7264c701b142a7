import { ParamStore } from '../../engine/params.js';
import { Predictor } from '../../engine/export.js';
import type { HostArray } from '../../io/array.js';
import { loadRun } from '../../train/files.js';
import { InputError } from '../../util/errors.js';
import type { SyncExampleSpec } from './data.js';
import { SYNC_RATE, type SyncFeatures } from './features.js';
import type { LearnedCue } from './model_cue.js';
import type { AvSyncModelConfig } from './task.js';
import { AvSyncModelSchema, avSyncInference, predictExamples } from './task.js';
import { SYNC_GRID, SYNCHRONIZABLE_AT, argmaxOf, confidenceGate, softmaxOf, type SyncEstimate } from './result.js';

const ZERO_CLASS = SYNC_GRID.indexOf(0);
import { cueReason, cueStrengths } from './xcorr.js';

/**
 * Running a trained av-sync model on a clip: windows of 4.8 s (stride half a window) over the clip, temperature-
 * scaled class probabilities averaged over windows (weighted by each window's synchronizability), and
 * synchronizability = min(model's sync probability, audio cue gate, video cue gate, confidence gate) so a still
 * picture, silence or evidence that does not single out one offset never produces a confident number, even if the
 * learned head were fooled.
 */
export interface SyncModel {
  config: AvSyncModelConfig;
  /** Window in frames at 25 Hz. */
  window: number;
  temperature: number;
  weights: Record<string, HostArray>;
  source: string;
  /** Inference sessions by batch size (a clip's window count), built on first use; release with releaseSyncModel. */
  predictors?: Map<number, Promise<Predictor>>;
}

function predictorFor(model: SyncModel, batch: number): Promise<Predictor> {
  model.predictors ??= new Map();
  let p = model.predictors.get(batch);
  if (!p) {
    const store = new ParamStore(0);
    store.load(model.weights);
    p = Predictor.create((g, scope) => avSyncInference(g, scope, model.config, batch, model.window), store, {
      worker: false,
    });
    model.predictors.set(batch, p);
  }
  return p;
}

/** Closes the model's inference sessions. */
export async function releaseSyncModel(model: SyncModel): Promise<void> {
  const all = [...(model.predictors?.values() ?? [])];
  model.predictors?.clear();
  await Promise.all(all.map(async (p) => (await p).close()));
}

/** Loads a trained model from a run folder (config.json + best.safetensors + metrics.json) or a .safetensors file in one. */
export function loadSyncModel(path: string): SyncModel {
  const run = loadRun(path, { tasks: ['av-sync'] });
  const parsed = AvSyncModelSchema.safeParse(run.config.model);
  if (!parsed.success)
    throw new InputError(
      `${run.dir}/config.json: model section is not an av-sync config: ${parsed.error.issues[0]?.message}`,
      { file: run.dir, field: 'model' },
    );
  const t = run.metrics?.test?.['test.temperature'];
  const temperature = typeof t === 'number' && t > 0 ? t : 1;
  const window = Math.round(((run.config.data?.window as number | undefined) ?? 4.8) * SYNC_RATE);
  return { config: parsed.data, window, temperature, weights: run.params, source: run.weightsPath };
}

/** Window starts covering the clip (stride half a window; the last window ends at the clip's end). */
export function windowStarts(frames: number, window: number): number[] {
  if (frames < window) return [];
  const stride = Math.max(1, Math.floor(window / 2));
  const starts: number[] = [];
  for (let t = 0; t + window <= frames; t += stride) starts.push(t);
  if (starts[starts.length - 1] !== frames - window) starts.push(frames - window);
  return starts;
}

export async function modelSync(
  f: SyncFeatures,
  model: SyncModel,
  opts: { hasAudio?: boolean } = {},
): Promise<SyncEstimate> {
  const W = model.window;
  const span = { start: 0, end: f.frames / f.rate };
  const cues = cueStrengths(f);
  let reason = cueReason(cues, opts.hasAudio ?? true);
  const starts = modelWindows(f, W);
  if (!starts.length) {
    reason ??=
      f.frames < W
        ? `clip is ${(f.frames / f.rate).toFixed(2)} s; the model needs at least ${(W / f.rate).toFixed(1)} s`
        : 'no window with both audio and video present';
    return notSynchronizable('model', reason, span, 0);
  }
  const { probs, syncProb } = await predictWindows(f, model, starts);
  const k = argmaxOf(probs);
  const synchronizability = Math.min(syncProb, cues.audioGate, cues.videoGate, confidenceGate(probs[k]));
  if (!reason && synchronizability < SYNCHRONIZABLE_AT) {
    reason =
      syncProb < SYNCHRONIZABLE_AT
        ? 'the model finds no sound-motion correspondence it can time'
        : 'the evidence does not single out one offset (low confidence)';
  }
  const ok = reason === undefined;
  return {
    method: 'model',
    offset: ok ? SYNC_GRID[k] : null,
    offsetClass: ok ? k : null,
    lag: Math.round(refinedOffset(probs, k) * 1000) / 1000,
    confidence: ok ? probs[k] : Math.min(probs[k], synchronizability),
    synchronizability,
    synchronizable: ok,
    reason,
    probs,
    span,
    windows: starts.length,
  };
}

/** The windows the model reads (stride half a window, at least half covered by both streams). */
function modelWindows(f: SyncFeatures, W: number): number[] {
  return windowStarts(f.frames, W).filter((t0) => coverage(f.mask, t0, W) >= 0.5);
}

/** The model's class probabilities on a clip for auto's learned cue (undefined: no window to read). */
export async function learnedCue(f: SyncFeatures, model: SyncModel): Promise<LearnedCue | undefined> {
  const starts = modelWindows(f, model.window);
  return starts.length ? { ...(await predictWindows(f, model, starts)), windows: starts.length } : undefined;
}

async function predictWindows(
  f: SyncFeatures,
  model: SyncModel,
  starts: number[],
): Promise<{ probs: number[]; syncProb: number }> {
  // The file's own audio at the file's time: an 'offset' example of the zero-offset class (no shift applied).
  const examples: SyncExampleSpec[] = starts.map((t0) => ({ clip: 0, kind: 'offset', label: ZERO_CLASS, t0 }));
  // At most 32 windows per run (long clips are processed in chunks; the last chunk is padded).
  const batch = Math.min(examples.length, 32);
  const r = await predictExamples(await predictorFor(model, batch), [f], examples, batch, model.window);
  const probs = new Array<number>(SYNC_GRID.length).fill(0);
  let wsum = 0;
  r.logits.forEach((l, i) => {
    const w = Math.max(1e-3, r.sync[i]);
    softmaxOf(l, model.temperature).forEach((p, k) => (probs[k] += w * p));
    wsum += w;
  });
  for (let k = 0; k < probs.length; k++) probs[k] /= wsum;
  return { probs, syncProb: r.sync.reduce((a, b) => a + b, 0) / r.sync.length };
}

function coverage(mask: Uint8Array, t0: number, W: number): number {
  let n = 0;
  for (let t = t0; t < t0 + W; t++) n += mask[t];
  return n / W;
}

/** Grid offset refined by a parabola through the log-probabilities around the peak. */
function refinedOffset(probs: number[], k: number): number {
  if (k === 0 || k === probs.length - 1) return SYNC_GRID[k];
  const [a, b, c] = [probs[k - 1], probs[k], probs[k + 1]].map((p) => Math.log(Math.max(p, 1e-12)));
  const d = a - 2 * b + c;
  const shift = d < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / d)) : 0;
  return SYNC_GRID[k] + shift * (SYNC_GRID[1] - SYNC_GRID[0]);
}

export function notSynchronizable(
  method: SyncEstimate['method'],
  reason: string,
  span: SyncEstimate['span'],
  windows: number,
): SyncEstimate {
  const probs = new Array<number>(SYNC_GRID.length).fill(1 / SYNC_GRID.length);
  return {
    method,
    offset: null,
    offsetClass: null,
    lag: 0,
    confidence: 1 / SYNC_GRID.length,
    synchronizability: 0,
    synchronizable: false,
    reason,
    probs,
    span,
    windows,
  };
}
