/**
 * The real bench's frame-resolution figures (real_bench.ts lipSummaries): per stratum, over the cases with a tracked
 * face, the lip cue's own lag, the lag scorer's and the final answer's (what a user gets: whichever cue won) within
 * one 25 Hz frame of the truth, counted apart, and a case whose winning cue is missing refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CueResult } from '../../src/models/av_sync/auto.js';
import type { CueKind } from '../../src/models/av_sync/calibration.js';
import { curveStats } from '../../src/models/av_sync/lag_curve.js';
import { lipSummaries } from '../../src/models/av_sync/real_bench.js';
import { MAX_LAG } from '../../src/models/av_sync/result.js';
import { InputError } from '../../src/util/errors.js';

/** A cue whose curve peaks at `best` frames. */
function cue(kind: CueKind, best: number): CueResult {
  const c = new Float64Array(2 * MAX_LAG + 1);
  c[best + MAX_LAG] = 1;
  const stats = curveStats(c, new Uint8Array(10).fill(1));
  return { cue: kind, stats, confidence: 0.9, lag: best / 25 };
}

function headCase(shift: number, winner: CueKind, lags: Partial<Record<CueKind, number>>, answered = true) {
  const cues = Object.entries(lags).map(([k, b]) => cue(k as CueKind, b));
  const win = cues.find((c) => c.cue === winner)!;
  return {
    stratum: 'talking head',
    shift,
    auto: { lag: win.lag, offset: null, confidence: 0.9, synchronizable: answered, cue: winner, cues },
  };
}

test('lipSummaries counts the lip cue, the scorer and the final answer apart, and skips cases without a face', () => {
  const s = lipSummaries([
    // truth +0.2 s = 5 frames: lip cue 2 frames off, scorer and answer (the scorer) 1 frame off
    headCase(0.2, 'fused', { onset: 20, mouth: 7, fused: 6 }),
    // truth 0: the lip cue right, the scorer 2 off, the answer (the lip cue) right but withheld
    headCase(0, 'mouth', { onset: 0, mouth: 1, fused: -2 }, false),
    // truth 0: the sound-event cue answers 3 frames off while the lip cue is right
    headCase(0, 'onset', { onset: 3, mouth: 0, fused: 0 }),
    // no face: not a lip case
    { ...headCase(0, 'onset', { onset: 0 }), stratum: 'impacts or sports' },
  ]);
  assert.deepEqual(Object.keys(s), ['talking head']);
  assert.deepEqual(s['talking head'], {
    cases: 3,
    withinFrame: 2,
    refinedWithin40ms: 2,
    within02s: 3,
    fusedWithinFrame: 2,
    answerWithinFrame: 2,
    answered: 2,
    answeredWithinFrame: 1,
  });
});

test('lipSummaries refuses a case whose winning cue was not measured, naming the field', () => {
  const bad = headCase(0, 'mouth', { mouth: 0 });
  bad.auto.cue = 'fused';
  assert.throws(
    () => lipSummaries([bad]),
    (e: unknown) => e instanceof InputError && /auto\.cues|fused/.test(e.message),
  );
});
