import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoSync, lipAgreement } from '../../src/models/av_sync/auto.js';
import { pairedFrames, type CurveStats } from '../../src/models/av_sync/lag_curve.js';
import { mouthCue, OVERLAP_POWER } from '../../src/models/av_sync/mouth_cue.js';
import { talking } from './sync_talker.js';

/**
 * Session 5 of the lip cue: the frames a lag pairs (and the discount of lags that pair few), and the agreement with
 * the learned lip net that the lip cue's confidence reads.
 */
test('pairedFrames counts the frames a lag pairs: audio present at t + lag, picture present at t', () => {
  const T = 75;
  const audio = new Uint8Array(T).fill(1, 30); // audio 1.2 s late on a 3 s clip
  const face = new Uint8Array(T).fill(1);
  assert.equal(pairedFrames(audio, face, 30), 45);
  assert.equal(pairedFrames(audio, face, 0), 45);
  assert.equal(pairedFrames(audio, face, -32), 13); // t in 62..74 pairs audio 30..42
  assert.equal(pairedFrames(audio, face, 80), 0);
  face.fill(0, 0, 10);
  assert.equal(pairedFrames(audio, face, 30), 35);
});

test('the lip curve is discounted at each lag by the square root of the frames that lag pairs', () => {
  const { feats, track } = talking(3, 3, 1.2);
  const plain = mouthCue(feats, track, { overlapPower: 0 })!;
  const discounted = mouthCue(feats, track)!;
  const paired = Array.from(plain.curve, (_, i) => pairedFrames(plain.audioMask, track.mask, i - 50));
  const most = Math.max(...paired);
  assert.equal(OVERLAP_POWER, 0.5);
  for (let i = 0; i < plain.curve.length; i++)
    assert.ok(Math.abs(discounted.curve[i] - plain.curve[i] * Math.sqrt(paired[i] / most)) < 1e-12, `lag ${i - 50}`);
  // The truth still wins, and the stats say how many frames it pairs (the lip cue alone: no lag scorer over it).
  const e = autoSync(feats, { mouth: track, lipNet: null, scorer: null, minConfidence: 0 });
  assert.equal(e.cue, 'mouth');
  assert.ok(Math.abs(e.lag - 1.2) <= 0.04 + 1e-9, `lag ${e.lag}`);
  assert.equal(e.stats.paired, pairedFrames(plain.audioMask, track.mask, e.stats.best));
});

const stats = (best: number, peak: number, gap: number): CurveStats => ({
  best,
  refined: best,
  peak,
  gap,
  margin: 5,
  runnerUp: best + 10,
  frames: 200,
});

test('lipAgreement: 1 only where the hand peak is clear and the learned lag is within 5 frames of it', () => {
  assert.equal(lipAgreement(stats(10, 0.5, 0.2), 15), 1);
  assert.equal(lipAgreement(stats(10, 0.5, 0.2), 5), 1);
  assert.equal(lipAgreement(stats(10, 0.5, 0.2), 16), 0);
  assert.equal(lipAgreement(stats(10, 0.5, 0.2), undefined), 0);
  // An ambiguous hand peak (runner-up within 10 % of it, as the CNN panel): agreement says nothing there.
  assert.equal(lipAgreement(stats(10, 0.5, 0.04), 10), 0);
});

test('the lip cue reads the agreement: the shipped lip net on a synthetic talker, none without a net', () => {
  const { feats, track } = talking(21, 8, 0.4);
  const withNet = autoSync(feats, { mouth: track }).cues.find((c) => c.cue === 'mouth')!;
  const without = autoSync(feats, { mouth: track, lipNet: null }).cues.find((c) => c.cue === 'mouth')!;
  assert.equal(without.stats.agreement, 0);
  assert.equal(withNet.stats.best, without.stats.best);
  assert.ok(withNet.stats.agreement === 0 || withNet.stats.agreement === 1);
  // Agreement can only raise the confidence (its weight is constrained >= 0), and raises it when present.
  assert.ok(withNet.confidence >= without.confidence);
  assert.equal(withNet.confidence > without.confidence, withNet.stats.agreement === 1);
});
