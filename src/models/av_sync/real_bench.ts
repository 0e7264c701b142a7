/**
 * `attune sync --bench real:dev|real:held-out`: the real clips of one part of the committed split (real_split.ts),
 * each decoded once and measured with its audio moved in memory by every shift in REAL_SHIFTS (positive = audio
 * late; the truth is the shift, plus the clip's own offset, assumed zero: clips the catalog marks as physically out
 * of sync, e.g. distant fireworks, are left out). Three methods side by side: the old xcorr with its AV-Synth gates,
 * the untrained baseline (the same correlation's best lag, never withheld) and auto (cues + calibrated confidence),
 * plus a simulation of `--fix` on every case (fix_check.ts rules, the corrected copy shifted in memory).
 */
import { join } from 'node:path';
import { autoSync, type AutoEstimate } from './auto.js';
import {
  CALIBRATION,
  DEFAULT_MIN_CONFIDENCE,
  FIXED_AT_ZERO,
  calibrationInputs,
  fitCalibrationWeights,
  type CueKind,
} from './calibration.js';
import { decodeSyncClip, featuresOfShifted, type DecodedSyncClip } from './decoded.js';
import { checkAfter, checkBefore, ONE_CLASS } from './fix_check.js';
import type { LipWeights } from './lip_cue.js';
import type { LearnedCue } from './model_cue.js';
import type { MouthTrack } from './mouth_cue.js';
import { readRealCatalog, stratumOf, type RealClip } from './real_clips.js';
import { REAL_SPLIT } from './real_split.js';
import { SYNC_RATE, type SyncFeatures } from './features.js';
import { expectedCalibrationError } from './result.js';
import { InputError } from '../../util/errors.js';
import { xcorrSync } from './xcorr.js';

export const REAL_SHIFTS = [-1.2, -0.6, -0.2, 0, 0.2, 0.6, 1.2];

export interface RealCase {
  file: string;
  stratum: string;
  shift: number;
  xcorr: { lag: number; synchronizable: boolean };
  auto: Pick<AutoEstimate, 'lag' | 'offset' | 'confidence' | 'synchronizable' | 'cue' | 'reason' | 'cues'>;
  fix: { outcome: 'fixed' | 'refused'; residual: number; exitCode: number };
}

export interface MethodSummary {
  cases: number;
  /** Fraction of cases answered (not withheld), and of those within 0.2 s. */
  answered: number;
  rightWhenAnswered: number;
  /** Answered and off by more than 0.2 s, over all cases. */
  confidentWrong: number;
  /** Best lag within 0.2 s, answered or not. */
  bestLagRight: number;
}

export interface RealBenchResult {
  part: 'dev' | 'held-out';
  clips: string[];
  shifts: number[];
  cases: RealCase[];
  summary: Record<'xcorr' | 'untrained' | 'auto', MethodSummary>;
  byStratum: Record<string, { cases: number; autoAnswered: number; autoRight: number }>;
  /** Auto's calibrated confidence against being within 0.2 s (10 bins). */
  ece: number;
  /** The lip cue alone at frame resolution, per talking-head stratum (cases where a face was tracked). */
  lips: Record<string, LipSummary>;
  fix: { fixed: number; refused: number; worse: number; improved: number };
  seconds: number;
}

export interface RealBenchOptions {
  dir: string;
  part: 'dev' | 'held-out';
  minConfidence?: number;
  /** A mouth track for a decoded clip (the face stack), when available. */
  mouthTrack?: (clip: DecodedSyncClip) => Promise<MouthTrack | undefined>;
  /**
   * The learned model's cue on a case's features and the clip's index in the part (the shipped model by default in
   * the CLI; cross-fitted fold models for the dev calibration fit).
   */
  learned?: (f: SyncFeatures, clipIndex: number) => Promise<LearnedCue | undefined>;
  /**
   * The lip net the lip cue's agreement reads, per clip (default: the shipped one). The dev calibration fit passes
   * cross-fitted nets (lipFold), since the shipped net was trained on the dev talking heads.
   */
  lipNet?: (file: string) => LipWeights | null;
  progress?: (done: number, total: number) => void;
}

/**
 * The fold of a dev clip for cross-fitted lip nets: its index in the dev talking-head list modulo `folds` (the
 * net of fold k was trained on the other folds' clips: `attune bench sync-lips` writes runs/lip-sync-fold<k>/);
 * other clips (no talking head, so the nets never saw them) take fold 0.
 */
export function lipFold(dir: string, file: string, folds: number): number {
  const heads = realBenchClips(dir, 'dev').filter((c) => c.category === 'talking head');
  return (
    Math.max(
      0,
      heads.findIndex((c) => c.file === file),
    ) % folds
  );
}

export interface LipSummary {
  cases: number;
  /** Integer best lag within one 25 Hz frame of the truth (the frame answer), the parabola-refined lag within 40 ms,
   * and the lag within 0.2 s. */
  withinFrame: number;
  refinedWithin40ms: number;
  within02s: number;
  /** The learned lag scorer's best lag (cue `fused`, which reads the lip curves too) within one frame. */
  fusedWithinFrame: number;
  /**
   * The lag a user gets: auto's final answer (the winning cue's integer best lag, whichever cue won) within one frame,
   * over all these cases and over those answered (not withheld).
   */
  answerWithinFrame: number;
  answered: number;
  answeredWithinFrame: number;
}

const within = (a: number, b: number) => Math.abs(a - b) <= ONE_CLASS;

/** A lag in frames (SYNC_RATE) within one frame of a shift in seconds: the talking-head target's resolution. */
export const withinOneFrame = (bestFrames: number, shiftSeconds: number) =>
  Math.abs(bestFrames - shiftSeconds * SYNC_RATE) <= 1 + 1e-6;

function summarize(cases: RealCase[], pick: (c: RealCase) => { lag: number; answered: boolean }): MethodSummary {
  let answered = 0,
    right = 0,
    wrong = 0,
    best = 0;
  for (const c of cases) {
    const r = pick(c);
    const ok = within(r.lag, c.shift);
    if (ok) best++;
    if (r.answered) {
      answered++;
      if (ok) right++;
      else wrong++;
    }
  }
  const n = cases.length || 1;
  return {
    cases: cases.length,
    answered: answered / n,
    rightWhenAnswered: answered ? right / answered : NaN,
    confidentWrong: wrong / n,
    bestLagRight: best / n,
  };
}

/** --fix on one case, in memory: the copy's audio is moved by -offset, then re-measured. */
function simulateFix(
  clip: DecodedSyncClip,
  shift: number,
  before: AutoEstimate,
  minConfidence: number,
  mouth?: MouthTrack,
  lipNet?: LipWeights | null,
): RealCase['fix'] {
  const offset = before.offset ?? before.lag;
  const refused = checkBefore(before, offset, false, minConfidence);
  if (refused) return { outcome: 'refused', residual: shift, exitCode: refused.exitCode };
  const residual = shift - offset;
  const after = autoSync(featuresOfShifted(clip, residual), { minConfidence, mouth, lipNet });
  const check = checkAfter(after, false, minConfidence);
  return check.ok
    ? { outcome: 'fixed', residual, exitCode: check.exitCode }
    : { outcome: 'refused', residual: shift, exitCode: check.exitCode };
}

/** The clips a bench part measures: the split's files present in the catalog, without known physical offsets. */
export function realBenchClips(dir: string, part: 'dev' | 'held-out'): RealClip[] {
  const catalog = new Map(readRealCatalog(dir).map((c) => [c.file, c] as [string, RealClip]));
  return (part === 'dev' ? REAL_SPLIT.dev : REAL_SPLIT.heldOut)
    .map((f) => catalog.get(f))
    .filter((c): c is RealClip => c !== undefined && !c.known_out_of_sync);
}

export async function benchReal(opts: RealBenchOptions): Promise<RealBenchResult> {
  const t0 = performance.now();
  const clips = realBenchClips(opts.dir, opts.part);
  const catalog = new Map(clips.map((c) => [c.file, c]));
  const files = clips.map((c) => c.file);
  const cases: RealCase[] = [];
  let done = 0;
  for (const [clipIndex, file] of files.entries()) {
    const clip = await decodeSyncClip(join(opts.dir, file));
    const mouth = await opts.mouthTrack?.(clip);
    const lipNet = opts.lipNet?.(file);
    for (const shift of REAL_SHIFTS) {
      const f = featuresOfShifted(clip, shift);
      const x = xcorrSync(f);
      const learned = await opts.learned?.(f, clipIndex);
      const a = autoSync(f, { minConfidence: opts.minConfidence, mouth, learned, lipNet });
      // --fix measures without the learned model (fix_safe.ts), so its simulation does too.
      const measured = learned ? autoSync(f, { minConfidence: opts.minConfidence, mouth, lipNet }) : a;
      cases.push({
        file,
        stratum: stratumOf(catalog.get(file)!),
        shift,
        xcorr: { lag: x.lag, synchronizable: x.synchronizable },
        auto: {
          lag: a.lag,
          offset: a.offset,
          confidence: a.confidence,
          synchronizable: a.synchronizable,
          cue: a.cue,
          reason: a.reason,
          cues: a.cues,
        },
        fix: simulateFix(clip, shift, measured, opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE, mouth, lipNet),
      });
      opts.progress?.(++done, files.length * REAL_SHIFTS.length);
    }
  }
  const byStratum: RealBenchResult['byStratum'] = {};
  for (const c of cases) {
    const s = (byStratum[c.stratum] ??= { cases: 0, autoAnswered: 0, autoRight: 0 });
    s.cases++;
    if (c.auto.synchronizable) {
      s.autoAnswered++;
      if (within(c.auto.lag, c.shift)) s.autoRight++;
    }
  }
  const fixes = cases.map((c) => c.fix);
  return {
    part: opts.part,
    clips: files,
    shifts: REAL_SHIFTS,
    cases,
    summary: {
      xcorr: summarize(cases, (c) => ({ lag: c.xcorr.lag, answered: c.xcorr.synchronizable })),
      untrained: summarize(cases, (c) => ({ lag: c.xcorr.lag, answered: true })),
      auto: summarize(cases, (c) => ({ lag: c.auto.lag, answered: c.auto.synchronizable })),
    },
    byStratum,
    lips: lipSummaries(cases),
    ece: expectedCalibrationError(
      cases.map((c) => c.auto.confidence),
      cases.map((c) => within(c.auto.lag, c.shift)),
    ),
    fix: {
      fixed: fixes.filter((x) => x.outcome === 'fixed').length,
      refused: fixes.filter((x) => x.outcome === 'refused').length,
      worse: cases.filter((c) => c.fix.outcome === 'fixed' && Math.abs(c.fix.residual) > Math.abs(c.shift) + 1e-6)
        .length,
      improved: cases.filter((c) => c.fix.outcome === 'fixed' && Math.abs(c.fix.residual) < Math.abs(c.shift) - 1e-6)
        .length,
    },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Frame-resolution figures per stratum over the cases with a tracked face (the lip cue measured). */
export function lipSummaries(cases: Pick<RealCase, 'stratum' | 'shift' | 'auto'>[]): Record<string, LipSummary> {
  const out: Record<string, LipSummary> = {};
  for (const c of cases) {
    const lip = c.auto.cues.find((r) => r.cue === 'mouth');
    if (!lip) continue;
    const s = (out[c.stratum] ??= {
      cases: 0,
      withinFrame: 0,
      refinedWithin40ms: 0,
      within02s: 0,
      fusedWithinFrame: 0,
      answerWithinFrame: 0,
      answered: 0,
      answeredWithinFrame: 0,
    });
    const oneFrame = (best: number) => withinOneFrame(best, c.shift);
    const fused = c.auto.cues.find((r) => r.cue === 'fused');
    if (fused && oneFrame(fused.stats.best)) s.fusedWithinFrame++;
    const answer = c.auto.cues.find((r) => r.cue === c.auto.cue);
    if (!answer)
      throw new InputError(`lip summary: the winning cue "${c.auto.cue}" is not among the case's measured cues`, {
        field: 'auto.cues',
        got: c.auto.cues.map((r) => r.cue),
      });
    s.cases++;
    s.answerWithinFrame += Number(oneFrame(answer.stats.best));
    s.answered += Number(c.auto.synchronizable);
    s.answeredWithinFrame += Number(c.auto.synchronizable && oneFrame(answer.stats.best));
    if (oneFrame(lip.stats.best)) s.withinFrame++;
    if (Math.abs(lip.lag - c.shift) <= 0.04 + 1e-6) s.refinedWithin40ms++;
    if (within(lip.lag, c.shift)) s.within02s++;
  }
  return out;
}

/**
 * Calibration weights per cue, fitted on bench cases (every cue's own lag against the truth). The `fused` row is
 * kept: the shipped lag scorer saw every dev clip, so its row is fitted out of fold by `attune bench sync-scorer`.
 */
export function fitCalibration(
  cases: { shift: number; auto: { cues: AutoEstimate['cues'] } }[],
): Record<CueKind, number[]> {
  const out = { fused: CALIBRATION.fused } as Record<CueKind, number[]>;
  for (const cue of ['onset', 'mouth', 'envelope', 'model'] as CueKind[]) {
    const rows = cases.flatMap((c) =>
      c.auto.cues
        .filter((r) => r.cue === cue)
        .map((r) => ({ x: calibrationInputs(r.stats), y: within(r.lag, c.shift) ? 1 : 0 })),
    );
    out[cue] =
      rows.length >= 10
        ? fitCalibrationWeights(
            rows.map((r) => r.x),
            rows.map((r) => r.y),
            FIXED_AT_ZERO[cue],
          ).map((w) => Math.round(w * 1e4) / 1e4)
        : [-3, 0, 0, 0, 0];
  }
  return out;
}
