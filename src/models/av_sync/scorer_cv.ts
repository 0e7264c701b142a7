/**
 * Leave-one-clip-out cross-fitting of the learned lag scorer (lag_scorer.ts) on the real development cases, so that
 * every dev figure of the scorer is measured by weights that never saw the clip: for each dev clip, the scorer is
 * fitted on the other clips' cases (all their shifts) plus the AV-Synth cases, and scores the clip's evaluation
 * shifts; its calibration row (`fused`) is then fitted on those out-of-fold answers of the other clips (nested, so
 * the confidences are out of clip too). The weights and the row that ship are the same fits over every dev clip.
 * Only cases with a tracked face answer (auto.ts runs the scorer only then): without one the fitted scorer reads
 * the loudness envelope alone, the cue that never answers, so those cases get confidence 0. The row is still fitted
 * on every case's answer: fitted on the face cases alone it answered 95 of the 147 dev cases with 7 wrong (4.8 %,
 * over the 3 % rule), on all of them 90 with 2 wrong (docs/sync.md, session 6).
 *
 *   dev cases (clip, shift, curves) + AV-Synth cases ─> fitLagScorer per left-out clip ─> out-of-fold answers
 *   out-of-fold answers ─> fitCalibrationWeights per left-out clip ─> out-of-clip confidence
 */
import { calibrationInputs, fitCalibrationWeights, FIXED_AT_ZERO } from './calibration.js';
import { curveStats } from './lag_curve.js';
import { fitLagScorer, scoreLags, type ScorerFitOptions, type ScorerParts } from './lag_scorer.js';
import { SYNC_RATE } from './features.js';

export interface ScorerCase {
  /** Clip id (cases of one clip are left out together); AV-Synth cases use ids no dev case has. */
  clip: string;
  shift: number;
  parts: ScorerParts;
  /** Frames where both streams are present (the mask the fused curve's stats count). */
  mask: Uint8Array;
  /** Scored (the 7 bench shifts) or training only (extra shifts). */
  evaluate: boolean;
}

export interface FusedAnswer {
  clip: string;
  shift: number;
  /** Lag in seconds, out-of-fold confidence (row fitted without this clip), and the raw mass. */
  lag: number;
  confidence: number;
  mass: number;
  /** The fused best lag in frames. */
  best: number;
  /** A face was tracked (the scorer answers only then). */
  face: boolean;
}

const within = (lag: number, shift: number) => Math.abs(lag - shift) <= 0.2 + 1e-6;

function answerOf(c: ScorerCase, w: number[]): Omit<FusedAnswer, 'confidence'> & { x: number[] } {
  const r = scoreLags(c.parts, w);
  const stats = { ...curveStats(r.probs, c.mask), mass: r.mass };
  const lag = stats.refined / SYNC_RATE;
  const face = c.parts.mouth !== undefined;
  return { clip: c.clip, shift: c.shift, lag, mass: r.mass, best: r.best, face, x: calibrationInputs(stats) };
}

/** The `fused` calibration row fitted on answers (bias and the mass's logit only). */
export function fitFusedRow(answers: { x: number[]; lag: number; shift: number }[]): number[] {
  return fitCalibrationWeights(
    answers.map((a) => a.x),
    answers.map((a) => Number(within(a.lag, a.shift))),
    FIXED_AT_ZERO.fused,
  );
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Out-of-fold fused answers on every evaluated dev case, plus the weights and row fitted on all of them. */
export function crossFitScorer(
  dev: ScorerCase[],
  synth: ScorerCase[],
  fit?: ScorerFitOptions,
): { answers: FusedAnswer[]; weights: number[]; row: number[] } {
  const clips = [...new Set(dev.map((c) => c.clip))];
  const oof = clips.flatMap((clip) => {
    const w = fitLagScorer(
      [...dev.filter((c) => c.clip !== clip), ...synth].map((c) => ({ parts: c.parts, lag: c.shift * SYNC_RATE })),
      fit,
    );
    return dev.filter((c) => c.clip === clip && c.evaluate).map((c) => answerOf(c, w));
  });
  // One row per left-out clip (fitted on the other clips' answers), not one per case.
  const rows = new Map(clips.map((clip) => [clip, fitFusedRow(oof.filter((b) => b.clip !== clip))]));
  const answers = oof.map(({ x, ...a }) => {
    const row = rows.get(a.clip)!;
    return { ...a, confidence: a.face ? sigmoid(x.reduce((s, v, i) => s + v * row[i], 0)) : 0 };
  });
  const weights = fitLagScorer(
    [...dev, ...synth].map((c) => ({ parts: c.parts, lag: c.shift * SYNC_RATE })),
    fit,
  );
  return { answers, weights, row: fitFusedRow(oof) };
}
