/**
 * The learned lip cue at inference: a trained lip net (lip_net.ts; weights shipped in weights/lip-sync/, reproduced
 * by `attune bench sync-lips`, which writes runs/lip-sync/) embeds a clip's lip shapes and audio rows, and the lag curve is the
 * channels' mean full-length correlation, on the frames each stream covers (like the hand cue in mouth_cue.ts).
 * The two encoders are small (a linear layer, GELU, a 5-tap convolution), so they run here in plain TypeScript,
 * synchronously, with no ORT session per clip length; test/models/sync_lip_net.test.ts checks this forward
 * against the engine's traced graph of lip_net.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toFloat32, type HostArray } from '../../io/array.js';
import { loadSafetensors, saveSafetensors } from '../../io/safetensors.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { ConfigError } from '../../util/errors.js';
import { AUDIO_DIM, type SyncFeatures } from './features.js';
import { LIP_DIM } from './lip_shape.js';
import { embeddingCurve, prepareLipInputs, type LipNetConfig } from './lip_net.js';
import type { MouthTrack } from './mouth_cue.js';

export const SHIPPED_LIP_MODEL = fileURLToPath(new URL('../../../../weights/lip-sync/', import.meta.url));
const WEIGHTS = 'lip.safetensors';

export interface LipWeights {
  cfg: LipNetConfig;
  params: Record<string, HostArray>;
}

/** A folder with config.json and lip.safetensors (as saveLipWeights writes). */
export function loadLipWeights(dir: string): LipWeights {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as LipNetConfig;
  return { cfg, params: Object.fromEntries(loadSafetensors(join(dir, WEIGHTS)).tensors) };
}

/** Writes a trained lip net as weights/lip-sync/ holds it (atomic files). */
export function saveLipWeights(dir: string, w: LipWeights, meta: object): void {
  writeJsonAtomic(join(dir, 'config.json'), w.cfg);
  saveSafetensors(join(dir, WEIGHTS), w.params);
  writeJsonAtomic(join(dir, 'metrics.json'), meta);
}

let shipped: LipWeights | null | undefined;

/** The shipped lip net, read once per process (null when this installation has no weights/lip-sync). */
export function shippedLipWeights(): LipWeights | null {
  shipped ??= existsSync(join(SHIPPED_LIP_MODEL, 'config.json')) ? loadLipWeights(SHIPPED_LIP_MODEL) : null;
  return shipped;
}

/** erf to ~1.5e-7 (Abramowitz & Stegun 7.1.26): the exact GELU the engine's ONNX Gelu computes. */
function erf(x: number): number {
  const s = Math.sign(x),
    a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

function param(w: LipWeights, name: string, size: number): Float32Array {
  const p = w.params[name];
  if (!p || p.data.length !== size)
    throw new ConfigError(`lip net weights: '${name}' missing or not ${size} values`, { field: name });
  return toFloat32(p);
}

/** One encoder of lip_net.ts: rows [T, inDim] -> [T, dim] (linear, GELU, 'same' convolution over time). */
export function encodeRows(w: LipWeights, branch: 'video' | 'audio', rows: Float32Array, inDim: number): Float32Array {
  const { hidden: H, dim: D, kernel: K } = w.cfg;
  const T = rows.length / inDim;
  const wIn = param(w, `${branch}.in.weight`, inDim * H); // [inDim, H]
  const bIn = param(w, `${branch}.in.bias`, H);
  const wConv = param(w, `${branch}.conv.weight`, D * H * K); // [D, H, K]
  const bConv = param(w, `${branch}.conv.bias`, D);
  const h = new Float32Array(T * H);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < H; j++) {
      let s = bIn[j];
      for (let i = 0; i < inDim; i++) s += rows[t * inDim + i] * wIn[i * H + j];
      h[t * H + j] = 0.5 * s * (1 + erf(s / Math.SQRT2));
    }
  const left = Math.floor((K - 1) / 2);
  const out = new Float32Array(T * D);
  for (let t = 0; t < T; t++)
    for (let o = 0; o < D; o++) {
      let s = bConv[o];
      for (let k = 0; k < K; k++) {
        const u = t + k - left;
        if (u < 0 || u >= T) continue;
        for (let c = 0; c < H; c++) s += wConv[(o * H + c) * K + k] * h[u * H + c];
      }
      out[t * D + o] = s;
    }
  return out;
}

/** The learned lag curve of a clip (undefined without lip shapes). */
export function learnedLipCurve(f: SyncFeatures, track: MouthTrack, w: LipWeights): Float64Array | undefined {
  if (!track.lips) return undefined;
  const audioMask = f.audioMask ?? f.mask;
  const x = prepareLipInputs(track.lips, track.mask, f.audio, audioMask);
  const v = encodeRows(w, 'video', x.lips, LIP_DIM);
  const a = encodeRows(w, 'audio', x.audio, AUDIO_DIM);
  return embeddingCurve(v, a, w.cfg.dim, audioMask, track.mask);
}
