/**
 * Training the learned lip cue (lip_net.ts) with the engine, self-supervised: clips are assumed in sync, so a lip
 * window and the audio around it, displaced by a random d in -K..K frames, make an example whose right lag index is
 * K - d. Windows are drawn only where the face and the audio cover every frame the example reads. Augmentations
 * (GRID-like variety from few speakers): the lip shape scaled by 1 +- 10 % and jittered (landmark noise), the audio
 * rows given a random gain (the band levels move together) and noise.
 *
 *   examples: lips [B, W, 80], audio [B, W + 2K, 17], target [B] ─ compileTrainStep (AdamW, clip 1) ─ Trainer
 */
import { hostArray, type HostArray } from '../../io/array.js';
import { ParamStore, adamw, compileTrainStep, Trainer, warmupCosine } from '../../engine/index.js';
import { Rng } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';
import { AUDIO_DIM, type SyncFeatures } from './features.js';
import { LIP_DIM } from './lip_shape.js';
import { farMargin, lipSyncLoss, prepareLipInputs, type LipNetConfig } from './lip_net.js';
import type { MouthTrack } from './mouth_cue.js';

/** One in-sync clip, prepared for training. */
export interface LipTrainClip {
  name: string;
  lips: Float32Array; // [T, LIP_DIM], centered
  audio: Float32Array; // [T, AUDIO_DIM], centered
  /** 1 where both a face and the audio are present. */
  mask: Uint8Array;
  /** 1 where the audio is present (the audio window may reach past the face). */
  audioMask: Uint8Array;
}

export function lipTrainClip(name: string, track: MouthTrack, f: SyncFeatures): LipTrainClip {
  if (!track.lips) throw new InputError(`${name}: the mouth track has no lip shapes`, { file: name, field: 'lips' });
  const audioMask = f.audioMask ?? f.mask;
  const prepared = prepareLipInputs(track.lips, track.mask, f.audio, audioMask);
  const mask = Uint8Array.from(track.mask, (m, t) => m & audioMask[t]);
  return { name, ...prepared, mask, audioMask: Uint8Array.from(audioMask) };
}

export interface LipTrainOptions {
  cfg: LipNetConfig;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  /**
   * Far-lag negatives per example (default 0): audio windows displaced beyond +-maxShift (up to the curve's +-50
   * frames) added to the softmax as wrong candidates (lip_net.ts farScores).
   */
  farNegatives?: number;
  progress?: (step: number, loss: number, acc: number) => void;
}

export const LIP_TRAIN_DEFAULT = { steps: 400, batch: 64, lr: 3e-3, seed: 0 };

/** Every (clip, start) whose lip window lies on frames with a face and audio, and whose d = 0 audio window too. */
function windowStarts(clips: LipTrainClip[], cfg: LipNetConfig): [number, number][] {
  const W = cfg.window,
    K = cfg.maxShift;
  const starts: [number, number][] = [];
  clips.forEach((c, i) => {
    for (let t0 = K; t0 + W + K <= c.mask.length; t0++) {
      let ok = true;
      for (let t = t0; ok && t < t0 + W; t++) ok = c.mask[t] === 1;
      for (let t = t0 - K; ok && t < t0 + W + K; t++) ok = c.audioMask[t] === 1;
      if (ok) starts.push([i, t0]);
    }
  });
  return starts;
}

/** A displacement d in -K..K whose audio window [t0 - K + d, t0 + W + K + d) lies on present audio, if any. */
function displacement(c: LipTrainClip, t0: number, cfg: LipNetConfig, rng: Rng): number | undefined {
  const K = cfg.maxShift;
  const ok = (d: number) => {
    const a0 = t0 - K + d,
      a1 = t0 + cfg.window + K + d;
    if (a0 < 0 || a1 > c.mask.length) return false;
    for (let t = a0; t < a1; t++) if (!c.audioMask[t]) return false;
    return true;
  };
  const valid = Array.from({ length: 2 * K + 1 }, (_, i) => i - K).filter(ok);
  return valid.length ? valid[rng.int(valid.length)] : undefined;
}

/** Lags the inference curve spans (frames), so far negatives come from where the curve will look. */
const CURVE_LAGS = 50;

/**
 * Start of an audio window of W + farMargin frames centered on the lip window displaced by d, |d| > maxShift, on
 * present audio of the same clip; another clip's in-sync window where the clip is too short to have one.
 */
function farWindow(clips: LipTrainClip[], ci: number, t0: number, cfg: LipNetConfig, rng: Rng): [number, number] {
  const c = clips[ci],
    m = farMargin(cfg) / 2,
    A = cfg.window + farMargin(cfg);
  const ok = (a0: number) => {
    if (a0 < 0 || a0 + A > c.audioMask.length) return false;
    for (let t = a0; t < a0 + A; t++) if (!c.audioMask[t]) return false;
    return true;
  };
  const valid: number[] = [];
  for (let d = -CURVE_LAGS; d <= CURVE_LAGS; d++) if (Math.abs(d) > cfg.maxShift && ok(t0 + d - m)) valid.push(d);
  if (valid.length) return [ci, t0 + valid[rng.int(valid.length)] - m];
  const other = clips.length > 1 ? (ci + 1 + rng.int(clips.length - 1)) % clips.length : ci;
  const o = clips[other];
  return [other, Math.max(0, Math.min(o.audioMask.length - A, rng.int(Math.max(1, o.audioMask.length - A))))];
}

function drawBatch(
  clips: LipTrainClip[],
  starts: [number, number][],
  cfg: LipNetConfig,
  B: number,
  rng: Rng,
  farNegatives = 0,
): Record<string, HostArray> {
  const K = cfg.maxShift,
    W = cfg.window,
    A = W + 2 * K;
  const lips = new Float32Array(B * W * LIP_DIM);
  const audio = new Float32Array(B * A * AUDIO_DIM);
  const target = new BigInt64Array(B);
  const F = cfg.window + farMargin(cfg);
  const far = new Float32Array(B * farNegatives * F * AUDIO_DIM);
  for (let b = 0; b < B; b++) {
    let ci: number, t0: number, d: number | undefined;
    do {
      [ci, t0] = starts[rng.int(starts.length)];
      d = displacement(clips[ci], t0, cfg, rng);
    } while (d === undefined);
    const c = clips[ci];
    target[b] = BigInt(K - d);
    const scale = 1 + 0.1 * rng.normal();
    for (let t = 0; t < W; t++)
      for (let j = 0; j < LIP_DIM; j++)
        lips[(b * W + t) * LIP_DIM + j] = scale * c.lips[(t0 + t) * LIP_DIM + j] + 0.02 * rng.normal();
    const gain = 0.3 * rng.normal();
    const a0 = t0 - K + d;
    for (let t = 0; t < A; t++)
      for (let j = 0; j < AUDIO_DIM; j++) {
        const level = j >= 1 && j <= 8 ? gain : 0;
        audio[(b * A + t) * AUDIO_DIM + j] = c.audio[(a0 + t) * AUDIO_DIM + j] + level + 0.02 * rng.normal();
      }
    for (let n = 0; n < farNegatives; n++) {
      const [fi, f0] = farWindow(clips, ci, t0, cfg, rng);
      const src = clips[fi].audio,
        base = (b * farNegatives + n) * F;
      for (let t = 0; t < F; t++)
        for (let j = 0; j < AUDIO_DIM; j++) {
          const level = j >= 1 && j <= 8 ? gain : 0;
          const u = f0 + t;
          const x = u < clips[fi].audioMask.length ? src[u * AUDIO_DIM + j] : 0;
          far[(base + t) * AUDIO_DIM + j] = x + level + 0.02 * rng.normal();
        }
    }
  }
  const farInput: Record<string, HostArray> = farNegatives
    ? { far: hostArray('float32', [B, farNegatives, F, AUDIO_DIM], far) }
    : {};
  return {
    ...farInput,
    lips: hostArray('float32', [B, W, LIP_DIM], lips),
    audio: hostArray('float32', [B, A, AUDIO_DIM], audio),
    target: hostArray('int64', [B], target),
  };
}

/** Trains a lip net on in-sync clips; returns its parameters and the last 50 steps' mean loss and accuracy. */
export async function trainLipNet(
  clips: LipTrainClip[],
  opts: LipTrainOptions,
): Promise<{ params: Record<string, HostArray>; loss: number; acc: number; windows: number }> {
  const { cfg } = opts;
  const starts = windowStarts(clips, cfg);
  if (starts.length === 0)
    throw new InputError(`no training window of ${cfg.window} frames with a face and audio`, {
      field: 'clips',
    });
  const store = new ParamStore(opts.seed);
  const K2 = 2 * cfg.maxShift;
  const compiled = compileTrainStep(
    (g, p) => {
      const lips = g.input('lips', 'float32', [opts.batch, cfg.window, LIP_DIM]);
      const audio = g.input('audio', 'float32', [opts.batch, cfg.window + K2, AUDIO_DIM]);
      const target = g.input('target', 'int64', [opts.batch]);
      const far = opts.farNegatives
        ? g.input('far', 'float32', [opts.batch, opts.farNegatives, cfg.window + farMargin(cfg), AUDIO_DIM])
        : undefined;
      const { loss, acc } = lipSyncLoss(p, lips, audio, target, cfg, far);
      return { loss, metrics: { acc } };
    },
    store,
    { optimizer: adamw({ weightDecay: 0.01 }), clipNorm: 1 },
  );
  const lr = warmupCosine({ lr: opts.lr, warmupSteps: Math.round(opts.steps / 20), totalSteps: opts.steps });
  const trainer = await Trainer.create(compiled, { lr, seed: opts.seed, worker: false, session: { threads: 1 } });
  const rng = new Rng(opts.seed).fork('lip-batches');
  const tail: [number, number][] = [];
  try {
    for (let s = 0; s < opts.steps; s++) {
      const r = await trainer.trainStep(drawBatch(clips, starts, cfg, opts.batch, rng, opts.farNegatives ?? 0));
      tail.push([r.loss, r.metrics.acc]);
      if (tail.length > 50) tail.shift();
      opts.progress?.(s + 1, r.loss, r.metrics.acc);
    }
    const params = await trainer.params();
    const mean = (k: 0 | 1) => tail.reduce((x, y) => x + y[k], 0) / tail.length;
    return { params, loss: mean(0), acc: mean(1), windows: starts.length };
  } finally {
    await trainer.close();
  }
}
