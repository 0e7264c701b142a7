/**
 * Scores generated audio against held-out AV-Synth scenes, with av-benchmark's metric definitions where they apply
 * (src/metrics) in the space of the AV-Synth classifier (classifier.ts) instead of PANNs/PaSST:
 *
 * | metric   | definition                                                                                            |
 * |----------|-------------------------------------------------------------------------------------------------------|
 * | fd       | Fréchet distance of classifier logits, generated set vs the scenes' real audio                        |
 * | kl       | paired softmax KL(real ‖ generated) of classifier logits, mean over clips                              |
 * | is       | Inception score of the generated logits (10 splits, as av-benchmark; fewer when the set is small)      |
 * | onsetF1  | onsets of the generated track vs the scene's true impact times, ±50 ms, mean over clips                 |
 * | desync   | |lag| (s) of the best cross-correlation of the generated onset envelope with the picture's impacts     |
 * | classAcc | fraction of the sounding classes among the classifier's top-k on the generated track                   |
 *
 * FD's floor (`fdFloor`): the FD of real audio of other, unseen scenes against the same real set, over several
 * independent draws. FD compares two distributions of 32 points, so one draw is one sample of a noisy quantity
 * (session 5's single draws: 52.8 / 30.4 / 71.1 over three seeds); its mean and spread are the reference.
 */
import { onsetEnvelope, pickPeaks } from '../../media/audio_features.js';
import { frechetDistance, inceptionScore, onsetF1, pairedKl } from '../../metrics/generation.js';
import { SAMPLE_RATE } from './audio.js';
import { type AudioClassifier, audioFeatures, classAccuracy, classify } from './classifier.js';

export interface SceneTruth {
  heard: number[]; // impact times in the audio (s)
  seen: number[]; // impact times in the picture (s)
  classes: number[];
}

export interface Scores {
  fd: number;
  kl: number;
  is: number;
  onsetF1: number;
  desync: number;
  classAcc: number;
}

const ONSET = {
  sampleRate: SAMPLE_RATE,
  nFft: 512,
  hop: 160,
  nMels: 64,
  fMax: 8000,
  log: { kind: 'log10' as const, floor: 1e-5 },
};
const ENV_RATE = SAMPLE_RATE / ONSET.hop; // 100 Hz
/** Largest lag searched (the DeSync grid's ±2 s). */
const MAX_LAG_SEC = 2;

/** Onset times (s) of a wave: peaks of the log-mel spectral flux above 30 % of its maximum, >= 50 ms apart. */
export function onsetTimes(wave: Float32Array): number[] {
  if (!wave.some((v) => v !== 0)) return [];
  const env = onsetEnvelope(wave, ONSET);
  let max = 0;
  for (let i = 0; i < env.frames; i++) max = Math.max(max, env.data[i]);
  return max < 1e-3 ? [] : pickPeaks(env, 0.3, 5);
}

/**
 * Offset (s) between a wave and the picture's impact times: the lag of the largest summed product between the onset
 * envelope and the impacts as 30 ms triangles, over ±2 s in 10 ms steps. A silent track scores the full 2 s.
 * The sum is not divided by the overlap: a mean over the overlap favored large lags (at 2 s only half of a 4 s clip
 * overlaps, so one chance coincidence outscored every impact matched at lag 0; it gave 1.5 s on clips whose onsets
 * matched with F1 0.89).
 */
export function syncOffset(wave: Float32Array, seen: number[]): number {
  if (!seen.length) return 0;
  if (!wave.some((v) => v !== 0)) return MAX_LAG_SEC;
  const env = onsetEnvelope(wave, ONSET);
  const T = env.frames;
  const pulses = new Float64Array(T);
  for (const s of seen) {
    const c = s * ENV_RATE;
    for (let i = Math.max(0, Math.floor(c - 3)); i <= Math.min(T - 1, Math.ceil(c + 3)); i++)
      pulses[i] = Math.max(pulses[i], 1 - Math.abs(i - c) / 3);
  }
  const maxLag = Math.round(MAX_LAG_SEC * ENV_RATE);
  let best = 0,
    bestScore = -Infinity;
  for (let L = -maxLag; L <= maxLag; L++) {
    let score = 0;
    for (let t = Math.max(0, -L); t < Math.min(T, T - L); t++) score += env.data[t + L] * pulses[t];
    if (score > bestScore + 1e-12 || (Math.abs(score - bestScore) <= 1e-12 && Math.abs(L) < Math.abs(best))) {
      bestScore = score;
      best = L;
    }
  }
  return bestScore > 0 ? best / ENV_RATE : MAX_LAG_SEC;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Scores `waves` (one per scene) against the scenes and their real audio. */
export async function scoreSet(
  waves: Float32Array[],
  scenes: SceneTruth[],
  realLogits: Float64Array[],
  clf: AudioClassifier,
): Promise<Scores> {
  const logits = waves.map((w) => classify(clf, audioFeatures(w)));
  const toRows = (xs: Float64Array[]): number[][] => xs.map((x) => Array.from(x));
  const fd = waves.length >= 2 ? (await frechetDistance(toRows(logits), toRows(realLogits))).fd : NaN;
  const splits = Math.max(1, Math.min(10, Math.floor(waves.length / 4)));
  return {
    fd,
    kl: pairedKl(toRows(logits), toRows(realLogits)),
    is: inceptionScore(toRows(logits), { splits, seed: 2020 }).mean,
    onsetF1: mean(waves.map((w, i) => onsetF1(onsetTimes(w), scenes[i].heard).f1)),
    desync: mean(waves.map((w, i) => Math.abs(syncOffset(w, scenes[i].seen)))),
    classAcc: classAccuracy(
      logits,
      scenes.map((s) => s.classes),
    ),
  };
}

export interface FdFloor {
  /** FD of each draw's real audio (other scenes) against the real set. */
  perDraw: number[];
  mean: number;
  /** sample standard deviation over the draws (0 with one draw) */
  std: number;
}

/** FD of every draw's classifier logits (other scenes' real audio) against `realLogits`: the floor of the FD column. */
export async function fdFloor(draws: Float64Array[][], realLogits: Float64Array[]): Promise<FdFloor> {
  const rows = (xs: Float64Array[]): number[][] => xs.map((x) => Array.from(x));
  const perDraw: number[] = [];
  for (const draw of draws) perDraw.push((await frechetDistance(rows(draw), rows(realLogits))).fd);
  const m = mean(perDraw);
  const std = perDraw.length > 1 ? Math.sqrt(perDraw.reduce((a, v) => a + (v - m) ** 2, 0) / (perDraw.length - 1)) : 0;
  return { perDraw, mean: m, std };
}
