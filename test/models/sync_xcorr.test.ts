import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syncExample } from '../../src/data/synth/clip.js';
import { AUDIO_DIM, VIDEO_DIM, featuresFromClip, type SyncFeatures } from '../../src/models/av_sync/features.js';
import { syncSynthConfig } from '../../src/models/av_sync/data.js';
import {
  SYNC_GRID,
  describeEstimate,
  expectedCalibrationError,
  fitTemperature,
  softmaxOf,
} from '../../src/models/av_sync/result.js';
import { classScores, xcorrLagScores, xcorrSync } from '../../src/models/av_sync/xcorr.js';
import { Rng } from '../../src/util/rng.js';

/** Features with onset impulses at random frames and motion onsets at the same events `lag` frames earlier. */
function impulses(T: number, lag: number, seed: number, opts: { audio?: boolean; video?: boolean } = {}): SyncFeatures {
  const rng = new Rng(seed);
  const onset = new Float32Array(T);
  const motionOnset = new Float32Array(T);
  for (let e = 0; e < 14; e++) {
    const tv = 5 + rng.int(T - 10);
    const ta = tv + lag;
    if (opts.video !== false) motionOnset[tv] += 0.05 + 0.05 * rng.uniform();
    if (opts.audio !== false && ta >= 0 && ta < T) onset[ta] += 2 + 2 * rng.uniform();
  }
  for (let t = 0; t < T; t++) {
    if (opts.audio !== false) onset[t] += 0.05 * rng.uniform();
    if (opts.video !== false) motionOnset[t] += 0.001 * rng.uniform();
  }
  return {
    rate: 25,
    frames: T,
    onset,
    motionOnset,
    motion: motionOnset,
    mask: new Uint8Array(T).fill(1),
    audio: new Float32Array(T * AUDIO_DIM),
    video: new Float32Array(T * VIDEO_DIM),
  };
}

test('xcorr recovers the lag with the AV-Synth sign convention (positive = audio late)', () => {
  for (const [lag, seed] of [
    [10, 1],
    [-20, 2],
    [0, 3],
    [45, 4],
    [-50, 5],
  ] as const) {
    const e = xcorrSync(impulses(250, lag, seed));
    assert.equal(e.synchronizable, true, describeEstimate(e));
    assert.ok(Math.abs(e.lag - lag / 25) < 0.05, `lag ${lag / 25}: got ${e.lag}`);
    assert.equal(e.offset, SYNC_GRID[Math.round(lag / 5) + 10]);
    assert.ok(e.confidence > 0.5, `confidence ${e.confidence}`);
    assert.ok(e.synchronizability > 0.5);
  }
});

test('class scores take the best lag within +-2 frames of each class center', () => {
  const lag = new Float64Array(101);
  lag[50 + 12] = 0.9; // 0.48 s -> class of +0.4 s (center lag 10, window 8..12)
  const c = classScores(lag);
  assert.equal(c.length, 21);
  assert.equal(c[12], 0.9);
  assert.equal(c[13], 0);
  assert.equal(
    xcorrLagScores(new Float32Array(50), new Float32Array(50), new Uint8Array(50).fill(1)).every((v) => v === 0),
    true,
  );
});

test('silent audio, a still picture and a too-short clip are not synchronizable, with low confidence', () => {
  const silent = xcorrSync(impulses(250, 10, 6, { audio: false }));
  assert.equal(silent.synchronizable, false);
  assert.equal(silent.offset, null);
  assert.match(silent.reason ?? '', /audio/);
  assert.ok(silent.synchronizability < 0.2 && silent.confidence < 0.2);
  const still = xcorrSync(impulses(250, 10, 7, { video: false }));
  assert.equal(still.synchronizable, false);
  assert.match(still.reason ?? '', /static/);
  assert.ok(still.confidence < 0.2);
  const short = xcorrSync(impulses(60, 5, 8));
  assert.equal(short.synchronizable, false);
  assert.match(short.reason ?? '', /needs at least 4.8 s/);
  assert.ok(short.confidence <= 0.1);
});

test('unrelated onsets and motion (no correspondence) are not synchronizable', () => {
  const a = impulses(250, 0, 9);
  const b = impulses(250, 0, 10);
  const e = xcorrSync({ ...a, motionOnset: b.motionOnset });
  assert.equal(e.synchronizable, false, describeEstimate(e));
});

test('xcorr finds the offset of in-memory AV-Synth clips rendered with shifted audio', () => {
  const cfg = syncSynthConfig({ seed: 3, seconds: 6, size: 64, classes: 8, noise: 0.02 });
  let right = 0;
  const labels = [3, 8, 10, 13, 17, 6];
  labels.forEach((label, i) => {
    const e = xcorrSync(featuresFromClip(syncExample(cfg, i, label)));
    if (e.offsetClass !== null && Math.abs(e.offsetClass - label) <= 1) right++;
  });
  assert.ok(right >= 4, `xcorr within one class on ${right}/${labels.length} clips`);
});

test('temperature fit and ECE behave as defined', () => {
  // Over-confident logits: right half the time with probability ~1 -> the fit must soften them (T > 1).
  const logits = [
    [9, 0, 0],
    [0, 9, 0],
    [9, 0, 0],
    [0, 0, 9],
  ];
  const labels = [0, 0, 0, 2];
  assert.ok(fitTemperature(logits, labels, 3) > 2);
  assert.ok(Math.abs(softmaxOf([0, 0]).reduce((a, b) => a + b) - 1) < 1e-12);
  assert.equal(expectedCalibrationError([0.95, 0.95], [true, true]), 0.050000000000000044);
  assert.ok(Math.abs(expectedCalibrationError([0.9, 0.9, 0.9, 0.9], [true, false, true, false]) - 0.4) < 1e-12);
});
