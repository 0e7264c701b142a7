/**
 * The default estimator of `attune sync` on real footage (method "auto"): the sound-event cue (onset_cue.ts),
 * when a face is tracked the lip cue (mouth opening against speech loudness, mouth_cue.ts), and when a learned model
 * is given (by default the one shipped in weights/av-sync/) its class probabilities as a curve (model_cue.ts); the
 * cue whose lag curve earns the highest calibrated confidence answers. The confidence is the probability of being within 0.2 s
 * (calibration.ts). Since session 6 the learned lag scorer (lag_scorer.ts, weights shipped in weights/av-sync/)
 * reads those same curves where a face is tracked and answers as one more cue (`fused`) when its calibrated
 * confidence is the highest. Below `minConfidence` the offset is withheld (offset null) but the best lag, its
 * confidence and the reason in words are still reported, so `--min-confidence 0` shows what was withheld.
 *
 *   features ─> onsetCue ─> curve ─┐
 *   mouth track ─> mouthCue ─> curve ┤
 *   learned model ─> learnedCurve ───┤
 *   all the curves above ─> scoreLags ─┴─> curveStats ─> calibratedConfidence ─> best cue ─> estimate
 */
import type { SyncFeatures } from './features.js';
import { CALIBRATION, DEFAULT_MIN_CONFIDENCE, calibratedConfidence, type CueKind } from './calibration.js';
import { ambiguous, curveStats, pairedFrames, type CurveStats } from './lag_curve.js';
import { learnedLipCurve, shippedLipWeights, type LipWeights } from './lip_cue.js';
import { scoreLags, shippedLagScorer, type ScorerParts } from './lag_scorer.js';
import { learnedCurve, type LearnedCue } from './model_cue.js';
import { mouthCue, type MouthTrack } from './mouth_cue.js';
import { envelopeCue, onsetCue } from './onset_cue.js';
import { SYNC_GRID, softmaxOf, type SyncEstimate } from './result.js';
import { classScores, cueReason, cueStrengths } from './xcorr.js';

export interface AutoOptions {
  minConfidence?: number;
  mouth?: MouthTrack;
  /** The learned model's probabilities on the same features (infer.ts learnedCue). */
  learned?: LearnedCue;
  /** Frames with both streams needed before any answer (default 1.5 s: GRID sentences are 3 s). */
  minFrames?: number;
  calibration?: Record<CueKind, number[]>;
  /**
   * The lip net whose lag the lip cue's confidence checks its own against (default: the shipped one,
   * weights/lip-sync; null: none, the check reads "disagree"). The dev calibration fit passes cross-fitted nets.
   */
  lipNet?: LipWeights | null;
  /** The learned lag scorer's weights (default: the shipped ones, weights/av-sync/lag-scorer.safetensors; null: none). */
  scorer?: ArrayLike<number> | null;
}

export interface AutoEstimate extends SyncEstimate {
  cue: CueKind;
  /** Shape of the winning lag curve (for calibration and inspection). */
  stats: CurveStats;
  /** Cells used by the onset cue (-1 = whole frame). */
  regions: number[];
  /** Every cue measured (the winner included), for calibration and the independent --fix check. */
  cues: CueResult[];
}

export interface CueResult {
  cue: CueKind;
  stats: CurveStats;
  confidence: number;
  /** Continuous lag in seconds. */
  lag: number;
}

const CLASS_TEMPERATURE = 0.02;

/** Where each signal of a cue is present (the lip cue: the moved audio, the tracked face). */
interface Pairs {
  audio: Uint8Array;
  video: Uint8Array;
}

const CUE_WORDS: Record<CueKind, string> = {
  onset: 'sound events against motion in the picture (the best regions of this clip)',
  mouth: 'lips against speech loudness',
  model: 'the learned av-sync model',
  fused: 'the learned lag scorer over all cues',
  envelope: 'loudness against motion energy',
};

/** Which cue answered, in words (for the CLI's "method" line). */
export function cueDescription(cue: CueKind): string {
  return `answered by ${CUE_WORDS[cue]}`;
}

/** The lag curves auto reads (also the learned lag scorer's inputs: `attune bench sync-scorer` trains on them). */
export interface CueCurves extends ScorerParts {
  onset: Float64Array;
  envelope: Float64Array;
  lip?: Float64Array;
  onsetRegions: number[];
  mouth?: ReturnType<typeof mouthCue>;
}

export function cueCurves(
  f: SyncFeatures,
  mouthTrack: MouthTrack | undefined,
  lipNet: LipWeights | null | undefined,
): CueCurves {
  const onset = onsetCue(f);
  const mouth = mouthTrack ? mouthCue(f, mouthTrack) : undefined;
  const net = lipNet === undefined ? shippedLipWeights() : lipNet;
  return {
    onset: onset.curve,
    onsetRegions: onset.regions,
    significance: onset.significance,
    // Loudness against motion energy shares no signal with the onsets: its agreement is an input of the sound-event
    // cue's confidence (calibration.ts), and it is the independent check of --fix.
    envelope: envelopeCue(f).curve,
    mouth,
    lip: mouth && net ? learnedLipCurve(f, mouthTrack!, net) : undefined,
  };
}

export function autoSync(f: SyncFeatures, opts: AutoOptions = {}): AutoEstimate {
  const minConfidence = opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const weights = opts.calibration ?? CALIBRATION;
  const curves = cueCurves(f, opts.mouth, opts.lipNet);
  const { onset, envelope, mouth } = curves;
  const candidates: (CueResult & { curve: Float64Array })[] = [];
  const envelopeLag = curveStats(envelope, f.mask).refined / f.rate;
  const add = (cue: CueKind, curve: Float64Array, mask: Uint8Array, extra: Partial<CurveStats> = {}, pairs?: Pairs) => {
    const stats = { ...curveStats(curve, mask), ...extra };
    if (pairs) stats.paired = pairedFrames(pairs.audio, pairs.video, stats.best);
    candidates.push({
      cue,
      curve,
      stats,
      confidence: calibratedConfidence(stats, cue, weights[cue]),
      lag: stats.refined / f.rate,
    });
  };
  const onsetStats = curveStats(onset, f.mask);
  const agreement = !ambiguous(onsetStats) && Math.abs(onsetStats.refined / f.rate - envelopeLag) <= 0.2 ? 1 : 0;
  add('onset', onset, f.mask, { significance: curves.significance, agreement });
  if (mouth) {
    const learnedBest = curves.lip ? curveStats(curves.lip, mouth.mask).best : undefined;
    const agreement = lipAgreement(curveStats(mouth.curve, mouth.mask), learnedBest);
    add('mouth', mouth.curve, mouth.mask, { agreement }, { audio: mouth.audioMask, video: mouth.videoMask });
  }
  if (opts.learned) add('model', learnedCurve(opts.learned.probs), f.mask);
  // The lag scorer answers only with a face tracked: without one its fitted weights read the loudness envelope alone
  // (the sound-event inputs came out at 0), the cue that never answers; on the held-out clips it then out-ranked the
  // sound-event cue's withheld lags on the drum kit and the drag car, wrong (docs/sync.md, session 6).
  const scorer = opts.scorer === undefined ? shippedLagScorer() : opts.scorer;
  if (scorer && mouth) {
    const fused = scoreLags(curves, scorer);
    add('fused', fused.probs, mouth.mask, { mass: fused.mass });
  }
  // The envelope cue only checks (--fix); it never answers: it is the weakest and shares no signal with the others.
  const answering = candidates.slice();
  add('envelope', envelope, f.mask);
  const win = answering.reduce((a, b) => (b.confidence > a.confidence ? b : a));
  const lagSec = win.stats.refined / f.rate;
  const probs = softmaxOf(classScores(win.curve), CLASS_TEMPERATURE);
  const snapped = Math.max(
    0,
    Math.min(SYNC_GRID.length - 1, Math.round(win.stats.best / 5) + (SYNC_GRID.length - 1) / 2),
  );
  const reason = withholdReason(f, win, minConfidence, opts.minFrames ?? Math.round(1.5 * f.rate));
  const ok = reason === undefined;
  return {
    method: 'auto',
    offset: ok ? SYNC_GRID[snapped] : null,
    offsetClass: ok ? snapped : null,
    lag: Math.round(lagSec * 1000) / 1000,
    confidence: win.confidence,
    synchronizability: win.confidence,
    synchronizable: ok,
    reason,
    probs,
    span: { start: 0, end: f.frames / f.rate },
    windows: 1,
    cue: win.cue,
    stats: win.stats,
    regions: win.cue === 'onset' ? curves.onsetRegions : [],
    cues: candidates.map(({ cue, stats, confidence, lag }) => ({ cue, stats, confidence, lag })),
  };
}

/**
 * The lip cue's agreement input (calibration.ts): 1 when the hand curve's peak is clear (not ambiguous, the rule of
 * the sound-event cue's agreement) and the learned lip net (lip_cue.ts) puts its best lag within 5 frames (0.2 s) of
 * it. The two read different signals of one face (inner-lip gap against speech-band loudness; 40 lip landmarks
 * against all 17 audio values), so where both peak together the lag rests on more than one feature. Decided on the
 * development clips with cross-fitted nets (docs/sync.md, session 5): the mouth row's leave-one-clip-out log-loss
 * 0.582 -> 0.460 (agreement at any peak: 0.537, and the CNN panel, whose clear-peak test fails at 6 of 7 shifts,
 * then went confidently wrong in-sample).
 */
export function lipAgreement(hand: CurveStats, learnedBest: number | undefined): number {
  if (learnedBest === undefined || ambiguous(hand)) return 0;
  return Math.abs(learnedBest - hand.best) <= LIP_AGREE_FRAMES ? 1 : 0;
}

/** 0.2 s at 25 Hz: one grid class, the tolerance of every "right" in this module. */
const LIP_AGREE_FRAMES = 5;

const fmtLag = (sec: number) => (sec >= 0 ? '+' : '') + sec.toFixed(2);

/** Why the offset is withheld, in words (undefined: it is reported). */
function withholdReason(
  f: SyncFeatures,
  win: { cue: CueKind; stats: CurveStats; confidence: number },
  minConfidence: number,
  minFrames: number,
): string | undefined {
  const s = win.stats;
  if (s.frames < minFrames)
    return `only ${(s.frames / f.rate).toFixed(1)} s where both sound and picture are present; at least ${(minFrames / f.rate).toFixed(1)} s needed`;
  if (win.confidence >= minConfidence) return undefined;
  const below = `confidence ${win.confidence.toFixed(2)} is below --min-confidence ${minConfidence.toFixed(2)}`;
  // The whole picture's motion and onsets say nothing about a tracked mouth ("picture is static" on a talking head).
  // The lag scorer runs only with a face, so the same holds for it.
  const face = win.cue === 'mouth' || win.cue === 'fused';
  const cues = face ? undefined : cueReason(cueStrengths(f));
  if (cues) return `${below}: ${cues}`;
  if (s.paired !== undefined && s.paired < minFrames)
    return `${below}: the best lag pairs only ${(s.paired / f.rate).toFixed(1)} s of face with sound`;
  if (ambiguous(s))
    return `${below}: ambiguous, ${fmtLag(s.runnerUp / f.rate)} s fits almost as well as ${fmtLag(s.best / f.rate)} s (${face ? 'the mouth moves with the speech at both lags' : 'repeating events, e.g. rhythmic chopping or drumming, or weak cues'})`;
  if (s.peak < 0.15) return `${below}: sound and motion correlate weakly at every lag (peak ${s.peak.toFixed(2)})`;
  const doubts = win.cue === 'onset' ? onsetDoubts(s) : [];
  return doubts.length ? `${below}: ${doubts.join('; ')}` : below;
}

/** What the sound-event cue's confidence found missing (its two inputs beyond the curve's shape), in words. */
function onsetDoubts(s: CurveStats): string[] {
  const out: string[] = [];
  if (s.significance !== undefined && s.significance < SIGNIFICANT)
    out.push(`the peak stands only ${s.significance.toFixed(1)} SD above the same cue on the audio rotated in time`);
  if (s.agreement === 0) out.push('loudness against motion energy puts its best lag elsewhere');
  return out;
}

/**
 * A surrogate z-score below which the reason names the significance: wording only (the confidence reads the z-score
 * itself); 12 of the 13 sound-event answers on the development clips had z >= 2.
 */
const SIGNIFICANT = 2;
