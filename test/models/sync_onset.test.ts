/**
 * The sound-event cue (onset_cue.ts) on generated event patterns: the motion change counts a stop as much as a start,
 * the region that moves with the sound is chosen, the surrogate significance separates a timed pattern from a
 * rhythmic one, the independent envelope cue's agreement counts only where the peak is clear, and auto says
 * "ambiguous" on a rhythmic clip instead of guessing; the learned model's curve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoSync } from '../../src/models/av_sync/auto.js';
import { calibratedConfidence, calibrationInputs } from '../../src/models/av_sync/calibration.js';
import { VIDEO_DIM } from '../../src/models/av_sync/features.js';
import { cellChanges, onsetCue, onsetSignificance } from '../../src/models/av_sync/onset_cue.js';
import { learnedCurve } from '../../src/models/av_sync/model_cue.js';
import { MAX_LAG } from '../../src/models/av_sync/result.js';
import { Rng } from '../../src/util/rng.js';
import { eventClip } from './sync_event_clip.js';

test('cellChanges rises where a cell starts moving and where it stops', () => {
  const f = eventClip(1, 6, 0);
  // Motion level of cell 0 (column 0): 0 except frames 40-59; a start at 40 and a stop at 60.
  const video = new Float32Array(f.frames * VIDEO_DIM);
  for (let t = 40; t < 60; t++) video[t * VIDEO_DIM] = 2;
  const c = cellChanges({ ...f, video }, 0);
  assert.equal(c[40], 2);
  assert.equal(c[60], 2);
  assert.equal(c[50], 0);
});

for (const shift of [-0.8, 0.4, 1.2]) {
  test(`the sound-event cue times a ${shift} s shift in the corner cells and finds it significant`, () => {
    const f = eventClip(11, 10, shift);
    const cue = onsetCue(f);
    const best = cue.curve.indexOf(Math.max(...cue.curve)) - MAX_LAG;
    assert.ok(Math.abs(best / f.rate - shift) <= 0.08, `best lag ${best / f.rate}`);
    // The square covers the top-left of the 4x4 grid (cells 0, 1, 4, 5) or the whole frame (-1).
    assert.ok([0, 1, 4, 5, -1].includes(cue.regions[0]), `regions ${cue.regions}`);
    assert.ok(cue.significance > 2.5, `significance ${cue.significance}`);
  });
}

test('regions are re-chosen at the consensus lag: a clean region peaking at another lag does not dilute the curve', () => {
  const base = eventClip(14, 10, 0);
  const T = base.frames;
  const rng = new Rng(14);
  const onset = new Float32Array(T).map(() => (rng.uniform() < 0.1 ? 5 * rng.uniform() : 0));
  const noise = (amount: number) => Float32Array.from({ length: T }, () => amount * rng.uniform());
  // Motion change of each cell [T] (levels are its running sum): cells 0 and 1 follow the sound 10 frames early
  // (audio late 0.4 s), cell 0 exactly, cell 1 buried in noise; cell 2 follows it cleanly 15 frames late (peaks
  // between the two); every other cell is noise.
  const change: Float32Array[] = Array.from({ length: 17 }, () => noise(1));
  const follow = (lag: number, extra: Float32Array) =>
    Float32Array.from({ length: T }, (_, t) => (t + lag >= 0 && t + lag < T ? onset[t + lag] : 0) + extra[t]);
  change[0] = follow(10, new Float32Array(T));
  change[1] = follow(10, noise(8));
  change[2] = follow(-15, noise(2));
  const video = new Float32Array(T * VIDEO_DIM);
  for (let i = 0; i < 17; i++)
    for (let t = 1; t < T; t++) video[t * VIDEO_DIM + i] = video[(t - 1) * VIDEO_DIM + i] + change[i][t];
  const cue = onsetCue({ ...base, onset, video });
  assert.equal(cue.curve.indexOf(Math.max(...cue.curve)) - MAX_LAG, 10);
  assert.ok(cue.regions.includes(0) && cue.regions.includes(1), `regions ${cue.regions}`);
  assert.ok(!cue.regions.includes(2), `regions ${cue.regions}: the region one lag off was kept`);
});

test('a rhythmic pattern (an event every 0.8 s) is less significant and auto calls the lag ambiguous', () => {
  const periodic = eventClip(12, 10, 0.4, { period: 20 });
  const timed = eventClip(12, 10, 0.4);
  const p = onsetCue(periodic);
  const t = onsetCue(timed);
  assert.ok(p.significance < t.significance - 1, `periodic ${p.significance} vs timed ${t.significance}`);
  const e = autoSync(periodic);
  // One period (20 frames) off fits almost as well as the truth.
  assert.equal(Math.abs(e.stats.runnerUp - e.stats.best), 20);
  assert.equal(e.offset, null);
  assert.match(e.reason ?? '', /ambiguous|repeat/);
});

test('the sound-event cue counts the envelope cue agreeing on a timed clip, not on a rhythmic one', () => {
  const onsetOf = (f: ReturnType<typeof eventClip>) => autoSync(f).cues.find((c) => c.cue === 'onset')!;
  const timed = onsetOf(eventClip(12, 10, 0.4));
  const periodic = onsetOf(eventClip(12, 10, 0.4, { period: 20 }));
  assert.equal(timed.stats.agreement, 1);
  assert.equal(periodic.stats.agreement, 0);
  const alone = calibratedConfidence({ ...timed.stats, agreement: 0 }, 'onset');
  assert.ok(timed.confidence > alone + 0.1, `with agreement ${timed.confidence} vs ${alone}`);
});

test('onsetSignificance is 0 where the clip is too short to rotate, and the calibration reads it', () => {
  const short = eventClip(13, 4, 0);
  assert.equal(onsetSignificance(short, 1), 0);
  const stats = { best: 0, refined: 0, peak: 0.4, gap: 0.1, runnerUp: 10, margin: 8, frames: 250 };
  assert.equal(calibrationInputs(stats).length, 8); // the 8th: the learned lag scorer's mass (sync_lag_scorer.test.ts)
  const w = [-2, 0, 0, 0, 0, 1];
  assert.ok(calibratedConfidence({ ...stats, significance: 20 }, 'onset', w) > calibratedConfidence(stats, 'onset', w));
});

test('learnedCurve peaks at the most probable class center and interpolates between centers', () => {
  const probs = new Array<number>(21).fill(0);
  probs[14] = 0.7;
  probs[15] = 0.3;
  const c = learnedCurve(probs);
  assert.equal(c.length, 2 * MAX_LAG + 1);
  assert.equal(c.indexOf(Math.max(...c)), 14 * 5);
  assert.ok(Math.abs(c[14 * 5 + 2] - (0.6 * 0.7 + 0.4 * 0.3)) < 1e-9);
  assert.equal(c[2 * MAX_LAG], 0);
});
