import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoSync, type AutoEstimate } from '../../src/models/av_sync/auto.js';
import { calibratedConfidence, fitCalibrationWeights, fitLogistic } from '../../src/models/av_sync/calibration.js';
import { shiftSamples } from '../../src/models/av_sync/decoded.js';
import { checkAfter, checkBefore, FIX_EXIT } from '../../src/models/av_sync/fix_check.js';
import { curveStats, fullXcorr } from '../../src/models/av_sync/lag_curve.js';
import { Rng } from '../../src/util/rng.js';
import { eventClip } from './sync_event_clip.js';

/**
 * The real-footage estimator on generated media: event patterns (a square flashing in one corner, a noise burst
 * each time) with the sound moved by known amounts, pure noise, and the --fix rules as a table.
 */
test('fullXcorr finds a known lag of a sparse pulse train and its stats show one clear peak', () => {
  const rng = new Rng(3);
  const v = new Float32Array(300);
  for (let t = 5; t < 290; t += 7 + rng.int(15)) v[t] = 1;
  for (const lag of [-30, -7, 0, 12, 45]) {
    const a = new Float32Array(300);
    for (let t = 0; t < 300; t++) if (t - lag >= 0 && t - lag < 300) a[t] = v[t - lag];
    const s = curveStats(fullXcorr(a, v, new Uint8Array(300).fill(1)), new Uint8Array(300).fill(1));
    assert.equal(s.best, lag);
    assert.ok(s.gap > 0.2 && s.margin > 5, `gap ${s.gap} margin ${s.margin}`);
  }
});

test('fullXcorr centers each signal over its own frames: audio 1.2 s late on a 3 s clip keeps its full overlap', () => {
  const rng = new Rng(5);
  const T = 75,
    lag = 30;
  const v = new Float32Array(T);
  for (let t = 0; t < T; t++) v[t] = rng.uniform();
  const a = new Float32Array(T);
  const maskA = new Uint8Array(T);
  for (let t = lag; t < T; t++) {
    a[t] = v[t - lag];
    maskA[t] = 1;
  }
  const maskV = new Uint8Array(T).fill(1);
  const own = curveStats(fullXcorr(a, v, maskA, maskV), maskA);
  const common = curveStats(fullXcorr(a, v, maskA), maskA);
  assert.equal(own.best, lag);
  // One mask for both blanks the first 30 frames of picture too, which the true lag pairs with present audio.
  assert.ok(own.peak > 0.6 && own.peak > common.peak + 0.2, `peak ${own.peak} (own masks) vs ${common.peak} (common)`);
});

test('shiftSamples moves audio later or earlier with silence where nothing moved in', () => {
  const x = Float32Array.from([1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(shiftSamples(x, 2 / 16000)), [0, 0, 1, 2, 3]);
  assert.deepEqual(Array.from(shiftSamples(x, -1 / 16000)), [2, 3, 4, 5, 0]);
  assert.deepEqual(Array.from(shiftSamples(x, 10 / 16000)), [0, 0, 0, 0, 0]);
});

for (const shift of [-1.2, -0.4, 0, 0.6, 1.2]) {
  test(`auto finds a ${shift} s audio shift of an event pattern, more confident than on noise`, () => {
    const e = autoSync(eventClip(7, 10, shift), { minConfidence: 0 });
    assert.equal(e.cue, 'onset');
    assert.ok(Math.abs(e.lag - shift) <= 0.08, `lag ${e.lag}`);
    assert.equal(e.offset, Math.round(shift * 5) / 5);
    const noise = autoSync(eventClip(7, 10, shift, { silent: true }), { minConfidence: 0 });
    assert.ok(e.confidence > noise.confidence, `confidence ${e.confidence} vs noise ${noise.confidence}`);
  });
}

test('auto withholds the offset of a clip with silent audio, says why, and --min-confidence 0 shows the best lag', () => {
  const f = eventClip(8, 10, 0, { silent: true });
  const e = autoSync(f);
  assert.equal(e.synchronizable, false);
  assert.equal(e.offset, null);
  assert.match(e.reason ?? '', /below --min-confidence/);
  const shown = autoSync(f, { minConfidence: 0 });
  assert.equal(shown.synchronizable, true);
  assert.equal(shown.lag, e.lag);
});

test('fitLogistic recovers the weights that generated the labels', () => {
  const rng = new Rng(5);
  const truth = [-0.5, 2, -1];
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const x = [1, rng.normal(), rng.normal()];
    X.push(x);
    y.push(rng.uniform() < 1 / (1 + Math.exp(-x.reduce((s, v, k) => s + v * truth[k], 0))) ? 1 : 0);
  }
  const w = fitLogistic(X, y, 1e-6);
  truth.forEach((t, k) => assert.ok(Math.abs(w[k] - t) < 0.15, `w${k} ${w[k]} vs ${t}`));
  assert.ok(
    calibratedConfidence(
      { best: 0, refined: 0, peak: 0.9, gap: 0.5, runnerUp: 10, margin: 20, frames: 250 },
      'onset',
    ) >= 0,
  );
});

test('fitCalibrationWeights leaves a fixed input at 0 and fits the rest', () => {
  const rng = new Rng(6);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const x = [1, rng.normal(), rng.normal()];
    X.push(x);
    // Both inputs carry the label; fixing the second at 0 must still fit the first.
    y.push(rng.uniform() < 1 / (1 + Math.exp(-(x[1] + x[2]))) ? 1 : 0);
  }
  const free = fitCalibrationWeights(X, y);
  const fixed = fitCalibrationWeights(X, y, [2]);
  assert.ok(free[2] > 0.5, `free w2 ${free[2]}`);
  assert.equal(fixed[2], 0);
  assert.ok(fixed[1] > 0.3, `w1 ${fixed[1]}`);
});

const estimate = (
  lag: number,
  confidence: number,
  independentLag: number,
  cue: 'onset' | 'mouth' = 'onset',
): AutoEstimate => {
  const stats = { best: 0, refined: 0, peak: 0.5, gap: 0.1, runnerUp: 10, margin: 10, frames: 250 };
  return {
    method: 'auto',
    offset: confidence >= 0.7 ? Math.round(lag * 5) / 5 : null,
    offsetClass: null,
    lag,
    confidence,
    synchronizability: confidence,
    synchronizable: confidence >= 0.7,
    probs: [],
    span: { start: 0, end: 10 },
    windows: 1,
    cue,
    stats,
    regions: [],
    cues: [
      { cue, stats, confidence, lag },
      { cue: 'envelope', stats, confidence: 0.3, lag: independentLag },
    ],
  };
};

// One row per case: [measured, --offset, corrected copy (same cue, independent cue), expected exit code].
const rows: [string, AutoEstimate, number | undefined, AutoEstimate | undefined, number][] = [
  ['confident, copy verifies', estimate(0.6, 0.9, 0.6), undefined, estimate(0.02, 0.9, 0.1), FIX_EXIT.fixed],
  ['unconfident, no --offset', estimate(0.6, 0.4, 0.6), undefined, undefined, FIX_EXIT.lowConfidence],
  [
    'confident, independent cue disagrees on the copy',
    estimate(-1.8, 0.95, 1.0),
    undefined,
    estimate(0, 0.95, 2.8),
    FIX_EXIT.notVerified,
  ],
  [
    'confident, same cue still off on the copy',
    estimate(0.6, 0.9, 0.6),
    undefined,
    estimate(0.6, 0.9, 0),
    FIX_EXIT.notVerified,
  ],
  ['--offset disagrees with a confident measurement', estimate(0.6, 0.9, 0.6), -1, undefined, FIX_EXIT.notVerified],
  [
    '--offset, unconfident re-measure is not held against it',
    estimate(0, 0.3, 0),
    1,
    estimate(0.8, 0.3, -1),
    FIX_EXIT.fixed,
  ],
];
for (const [name, before, offset, after, code] of rows) {
  test(`--fix rules: ${name} -> exit ${code}`, () => {
    const pre = checkBefore(before, offset ?? before.offset ?? before.lag, offset !== undefined, 0.7);
    const result = pre ?? checkAfter(after!, offset !== undefined, 0.7);
    assert.equal(result.exitCode, code, result.reason);
    assert.equal(result.ok, code === FIX_EXIT.fixed);
  });
}
