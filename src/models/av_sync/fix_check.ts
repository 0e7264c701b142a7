/**
 * Whether a --fix may be written. Re-measuring a corrected file with the method that chose the correction cannot
 * catch that method's own mistake (a wrong peak stays the peak, moved to zero), so the corrected copy is measured
 * by the same estimator AND by an independent cue that shares no signal with the answering one (lips <-> sound
 * events; loudness envelope x motion energy when no face is tracked), and a measured correction must also be
 * confident. Rules (docs/sync.md, "--fix"):
 *   1. without --offset the measurement must be confident (>= min confidence), else REFUSED_LOW_CONFIDENCE;
 *   2. with --offset and a confident measurement, the two must agree within one grid class (0.2 s);
 *   3. the corrected copy must measure within one grid class of zero by the same estimator and by the independent
 *      cue; with --offset a re-measure below min confidence is not held against the user's offset.
 */
import type { AutoEstimate, CueResult } from './auto.js';

/** Process exit codes of `attune sync --fix` (documented in --help and docs/sync.md). */
export const FIX_EXIT = { fixed: 0, lowConfidence: 3, notVerified: 4 } as const;

/** One grid class, with a little room for the parabola refinement of the lag. */
export const ONE_CLASS = 0.2 + 1e-6;

export interface FixCheck {
  ok: boolean;
  exitCode: number;
  reason: string;
  /** The lags of the corrected copy (same estimator, independent cue), seconds. */
  after?: { lag: number; confidence: number; independent: CueResult };
}

/** The independent cue to a given answer: the other answering cue when there is one, else the envelope cue. */
export function independentCue(e: AutoEstimate): CueResult {
  const other = e.cues.find((c) => c.cue !== e.cue && c.cue !== 'envelope');
  return other ?? e.cues.find((c) => c.cue === 'envelope')!;
}

/** Rules 1 and 2: may a correction of `offset` seconds be tried at all? */
export function checkBefore(
  before: AutoEstimate,
  offset: number,
  userOffset: boolean,
  minConfidence: number,
): FixCheck | undefined {
  const confident = before.confidence >= minConfidence && before.offset !== null;
  if (!userOffset && !confident) {
    return {
      ok: false,
      exitCode: FIX_EXIT.lowConfidence,
      reason: `not fixed: ${before.reason ?? `confidence ${before.confidence.toFixed(2)} below ${minConfidence.toFixed(2)}`}. Pass --offset S to apply a known shift`,
    };
  }
  if (userOffset && confident && Math.abs(before.lag - offset) > ONE_CLASS) {
    return {
      ok: false,
      exitCode: FIX_EXIT.notVerified,
      reason: `not fixed: --offset ${offset.toFixed(2)} s disagrees with the measured ${before.lag.toFixed(2)} s (confidence ${before.confidence.toFixed(2)})`,
    };
  }
  return undefined;
}

/** Rule 3 on the corrected copy's estimate. */
export function checkAfter(after: AutoEstimate, userOffset: boolean, minConfidence: number): FixCheck {
  const independent = independentCue(after);
  const measured = { lag: after.lag, confidence: after.confidence, independent };
  const bad: string[] = [];
  const unchecked: string[] = [];
  const judge = (name: string, lag: number, confidence: number) => {
    if (Math.abs(lag) <= ONE_CLASS) return;
    if (userOffset && confidence < minConfidence) return void unchecked.push(name);
    bad.push(
      `${name} measures the corrected copy ${lag >= 0 ? '+' : ''}${lag.toFixed(2)} s off (confidence ${confidence.toFixed(2)})`,
    );
  };
  judge(`the ${after.cue} cue`, after.lag, after.confidence);
  judge(`the independent ${independent.cue} cue`, independent.lag, independent.confidence);
  if (bad.length)
    return { ok: false, exitCode: FIX_EXIT.notVerified, reason: `not fixed: ${bad.join('; ')}`, after: measured };
  if (unchecked.length)
    return {
      ok: true,
      exitCode: FIX_EXIT.fixed,
      reason: `written with your --offset; not verified: ${unchecked.join(' and ')} ${unchecked.length > 1 ? 'are' : 'is'} below --min-confidence on the corrected copy`,
      after: measured,
    };
  return {
    ok: true,
    exitCode: FIX_EXIT.fixed,
    reason: `verified: the ${after.cue} cue and the independent ${independent.cue} cue both find the corrected copy within 0.2 s of zero`,
    after: measured,
  };
}
