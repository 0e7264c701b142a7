/**
 * The learned lag scorer of auto (issue 9, B.3: the trained model by default): a conditional logit over the 101 lags
 * (-2..+2 s at 25 Hz) that reads the lag curves the real-footage pipeline already computes - sound events against
 * motion change (onset_cue.ts), loudness against motion energy (envelopeCue), mouth opening against speech loudness
 * (mouth_cue.ts), the learned lip net (lip_cue.ts) and the face/sound pairing per lag - and turns them into one
 * distribution over lags. Trained with self-supervised shifts (the truth is the shift) on the real development clips
 * plus AV-Synth clips by `attune bench sync-scorer`, which cross-fits it by clip (every dev score out of fold) and
 * writes the weights shipped in weights/av-sync/ (lag-scorer.safetensors + lag-scorer.json). It joins the other
 * cues (auto.ts, cue `fused`); its confidence is the calibration row `fused` on the mass within 0.2 s of its peak.
 *
 *   curves [101] each ─> robust z-score ─> inputs x [101, 6] ─> score = x · w [101] ─> softmax ─> p [101]
 *   p ─> best lag, mass within ±5 lags ─> calibration.ts row `fused`
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toFloat32 } from '../../io/array.js';
import { loadSafetensors, saveSafetensors } from '../../io/safetensors.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { ConfigError } from '../../util/errors.js';
import { pairedFrames } from './lag_curve.js';
import { MAX_LAG } from './result.js';

/** What the scorer reads per lag (one weight each), in the order of the weight vector. */
export const SCORER_INPUTS = [
  'sound events vs motion change (z)',
  'the same x log(1 + surrogate significance)',
  'loudness vs motion energy (z)',
  'mouth opening vs speech loudness (z)',
  'learned lip net (z)',
  'face frames paired with sound (fraction of the most)',
] as const;

/** The cue curves of one case (each [2 MAX_LAG + 1]; the lip parts absent without a tracked face). */
export interface ScorerParts {
  onset: ArrayLike<number>;
  significance: number;
  envelope: ArrayLike<number>;
  mouth?: { curve: ArrayLike<number>; audioMask: Uint8Array; videoMask: Uint8Array };
  lip?: ArrayLike<number>;
}

export interface LagScore {
  /** Softmax over the lags [2 MAX_LAG + 1]. */
  probs: Float64Array;
  /** Best lag in frames (positive = audio late). */
  best: number;
  /** Probability within 5 lags (0.2 s) of the best. */
  mass: number;
}

const LAGS = 2 * MAX_LAG + 1;
const P = SCORER_INPUTS.length;
/** 0.2 s at 25 Hz. */
const NEAR = 5;

/** (x - median) / (1.4826 MAD), clipped: each curve on a common scale whatever its cue's typical heights. */
export function robustZ(c: ArrayLike<number> | undefined): Float64Array {
  const out = new Float64Array(LAGS);
  if (!c) return out;
  const sorted = Array.from(c).sort((a, b) => a - b);
  const med = sorted[MAX_LAG];
  const dev = Array.from(c, (x) => Math.abs(x - med)).sort((a, b) => a - b);
  const scale = 1.4826 * dev[MAX_LAG] + 1e-6;
  for (let i = 0; i < LAGS; i++) out[i] = Math.max(-4, Math.min(12, (c[i] - med) / scale));
  return out;
}

/** Scorer inputs, lag-major [LAGS * P]. */
export function scorerRows(p: ScorerParts): Float64Array {
  const on = robustZ(p.onset),
    env = robustZ(p.envelope),
    mouth = robustZ(p.mouth?.curve),
    lip = robustZ(p.mouth && p.lip);
  const sig = Math.log1p(Math.max(0, p.significance));
  const paired = new Float64Array(LAGS);
  if (p.mouth) {
    for (let i = 0; i < LAGS; i++) paired[i] = pairedFrames(p.mouth.audioMask, p.mouth.videoMask, i - MAX_LAG);
    const most = Math.max(1, ...paired);
    for (let i = 0; i < LAGS; i++) paired[i] /= most;
  }
  const x = new Float64Array(LAGS * P);
  for (let i = 0; i < LAGS; i++) x.set([on[i], on[i] * sig, env[i], mouth[i], lip[i], paired[i]], i * P);
  return x;
}

function softmaxScores(x: Float64Array, w: ArrayLike<number>): Float64Array {
  const s = new Float64Array(LAGS);
  for (let i = 0; i < LAGS; i++) for (let j = 0; j < P; j++) s[i] += x[i * P + j] * w[j];
  const top = Math.max(...s);
  let z = 0;
  for (let i = 0; i < LAGS; i++) z += s[i] = Math.exp(s[i] - top);
  for (let i = 0; i < LAGS; i++) s[i] /= z;
  return s;
}

export function scoreLags(parts: ScorerParts, w: ArrayLike<number>): LagScore {
  const probs = softmaxScores(scorerRows(parts), w);
  let b = 0;
  for (let i = 1; i < LAGS; i++) if (probs[i] > probs[b]) b = i;
  let mass = 0;
  for (let i = Math.max(0, b - NEAR); i <= Math.min(LAGS - 1, b + NEAR); i++) mass += probs[i];
  return { probs, best: b - MAX_LAG, mass };
}

export interface ScorerFitOptions {
  /** L2 penalty per weight (mean loss scale). */
  l2: number;
  iterations: number;
  learningRate: number;
}

export const SCORER_FIT_DEFAULT: ScorerFitOptions = { l2: 0.01, iterations: 400, learningRate: 0.05 };

/**
 * Maximum likelihood of the true lag (cross-entropy over the 101 lags, convex in w) by Adam from zero, weights kept
 * >= 0 (more agreement of a curve with a lag never lowers its score; with AV-Synth in the data the sound-event
 * weight otherwise went negative, against its own evidence). Deterministic: no sampling.
 */
export function fitLagScorer(
  cases: { parts: ScorerParts; lag: number }[],
  opts: ScorerFitOptions = SCORER_FIT_DEFAULT,
): number[] {
  if (!cases.length) throw new ConfigError('lag scorer: no training cases', { field: 'cases' });
  const rows = cases.map((c) => scorerRows(c.parts));
  const targets = cases.map((c) => Math.max(0, Math.min(LAGS - 1, Math.round(c.lag) + MAX_LAG)));
  const w = new Array<number>(P).fill(0);
  const m = new Array<number>(P).fill(0),
    v = new Array<number>(P).fill(0);
  for (let it = 1; it <= opts.iterations; it++) {
    const g = new Array<number>(P).fill(0);
    rows.forEach((x, n) => {
      const p = softmaxScores(x, w);
      p[targets[n]] -= 1; // d(cross-entropy)/d(score)
      for (let i = 0; i < LAGS; i++) for (let j = 0; j < P; j++) g[j] += p[i] * x[i * P + j];
    });
    for (let j = 0; j < P; j++) {
      const gj = g[j] / cases.length + opts.l2 * w[j];
      m[j] = 0.9 * m[j] + 0.1 * gj;
      v[j] = 0.999 * v[j] + 0.001 * gj * gj;
      const step = (opts.learningRate * m[j]) / (1 - 0.9 ** it) / (Math.sqrt(v[j] / (1 - 0.999 ** it)) + 1e-8);
      w[j] = Math.max(0, w[j] - step);
    }
  }
  return w;
}

/** The folder of the shipped weights (beside the av-sync model they complement). */
export const SHIPPED_SCORER_DIR = fileURLToPath(new URL('../../../../weights/av-sync/', import.meta.url));
const WEIGHTS = 'lag-scorer.safetensors';
const CONFIG = 'lag-scorer.json';

/** Reads lag-scorer.safetensors (tensor `w` [6]) from a folder. */
export function loadLagScorer(dir: string): number[] {
  const w = loadSafetensors(join(dir, WEIGHTS)).tensors.get('w');
  if (!w || w.data.length !== P)
    throw new ConfigError(`${join(dir, WEIGHTS)}: tensor "w" must hold ${P} weights (${SCORER_INPUTS.join(', ')})`, {
      field: 'w',
      got: w?.shape,
    });
  return Array.from(toFloat32(w));
}

/** Writes the weights and their config (inputs, fit, data, cross-fitted dev figures) atomically. */
export function saveLagScorer(dir: string, w: number[], meta: object): void {
  saveSafetensors(join(dir, WEIGHTS), { w: { data: Float32Array.from(w), shape: [P], dtype: 'float32' } });
  writeJsonAtomic(join(dir, CONFIG), { inputs: SCORER_INPUTS, weights: w, ...meta });
}

let shipped: number[] | null | undefined;

/** The shipped scorer, read once per process (null when this installation has none). */
export function shippedLagScorer(): number[] | null {
  shipped ??= existsSync(join(SHIPPED_SCORER_DIR, WEIGHTS)) ? loadLagScorer(SHIPPED_SCORER_DIR) : null;
  return shipped;
}

/** For tests: the raw config written beside the weights. */
export function readScorerConfig(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, CONFIG), 'utf8')) as Record<string, unknown>;
}
