import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { AUDIO_DIM } from '../../src/models/av_sync/features.js';
import { curveStats } from '../../src/models/av_sync/lag_curve.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRows, learnedLipCurve, SHIPPED_LIP_MODEL, shippedLipWeights } from '../../src/models/av_sync/lip_cue.js';
import { LIP_NET_DEFAULT, lipInferenceGraph } from '../../src/models/av_sync/lip_net.js';
import { LIP_DIM, lipShape } from '../../src/models/av_sync/lip_shape.js';
import { lipTrainClip, trainLipNet } from '../../src/models/av_sync/lip_train.js';
import { speakingFace, speakingScore } from '../../src/models/av_sync/face_track.js';
import { mouthCue, type MouthTrack } from '../../src/models/av_sync/mouth_cue.js';
import { Rng } from '../../src/util/rng.js';
import { mouthPoints, talking } from './sync_talker.js';

/**
 * The learned lip cue: the lip shape's invariances, the plain-TypeScript forward against the engine's traced graph,
 * training on synthetic talkers (lips that open with the loudness) and finding a known shift, and the choice of the
 * speaking face among several.
 */

test('lipShape: the same mouth moved, turned and scaled gives the same shape; an opening changes it', () => {
  const a = lipShape(mouthPoints(0.3));
  const b = lipShape(mouthPoints(0.3, 120, -40, 0.4, 3.5));
  const c = lipShape(mouthPoints(0.1));
  assert.equal(a.length, LIP_DIM);
  for (let i = 0; i < LIP_DIM; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `value ${i}: ${a[i]} vs ${b[i]}`);
  assert.ok(Math.max(...a.map((x, i) => Math.abs(x - c[i]))) > 0.05);
  assert.throws(() => lipShape(new Float32Array(10)), /468 x 3 landmarks, got 10/);
});

test('the TypeScript forward of the encoders equals the engine graph of lip_net.ts', async () => {
  const cfg = LIP_NET_DEFAULT;
  const T = 40;
  const store = new ParamStore(5);
  const g = new Graph();
  const { v, a } = lipInferenceGraph(g, new Scope(g, store), cfg, T);
  const rng = new Rng(1);
  const lips = Float32Array.from({ length: T * LIP_DIM }, () => rng.normal());
  const audio = Float32Array.from({ length: T * AUDIO_DIM }, () => rng.normal());
  const session = await Session.create(g, { v, a }, { threads: 1 });
  const out = await session.run({
    lips: hostArray('float32', [1, T, LIP_DIM], lips),
    audio: hostArray('float32', [1, T, AUDIO_DIM], audio),
    ...store.feeds(g),
  });
  await session.release();
  const weights = { cfg, params: Object.fromEntries(store.names().map((n) => [n, store.get(n)])) };
  for (const [branch, rows, dim, ref] of [
    ['video', lips, LIP_DIM, out.v],
    ['audio', audio, AUDIO_DIM, out.a],
  ] as const) {
    const mine = encodeRows(weights, branch, rows, dim);
    const theirs = toFloat32(ref);
    assert.equal(mine.length, theirs.length);
    for (let i = 0; i < mine.length; i++)
      assert.ok(Math.abs(mine[i] - theirs[i]) < 1e-4, `${branch} ${i}: ${mine[i]} vs ${theirs[i]}`);
  }
  assert.throws(() => encodeRows({ cfg, params: {} }, 'video', lips, LIP_DIM), /'video.in.weight' missing/);
});

/** A lip net trained on four synthetic talkers; then shifts of an unseen talker, each within one frame. */
async function trainAndFind(shifts: number[], farNegatives = 0): Promise<void> {
  const clips = [1, 2, 3, 4].map((s) => {
    const { feats, track } = talking(s, 8, 0);
    return lipTrainClip(`talker${s}`, track, feats);
  });
  const cfg = { ...LIP_NET_DEFAULT, maxShift: 10 };
  const r = await trainLipNet(clips, { cfg, steps: 60, batch: 16, lr: 1e-2, seed: 0, farNegatives });
  assert.ok(r.acc > 0.5, `training accuracy ${r.acc} (chance ${1 / (21 + farNegatives)})`);
  for (const shift of shifts) {
    const { feats, track } = talking(77, 8, shift);
    const curve = learnedLipCurve(feats, track, { cfg, params: r.params })!;
    const best = curveStats(curve, feats.mask).best;
    assert.ok(Math.abs(best - shift * 25) <= 1, `shift ${shift}: best lag ${best} frames`);
  }
}

test('trained on synthetic talkers, the lip net finds shifts of an unseen talker within one frame', async () => {
  await trainAndFind([-0.6, 0, 0.32]);
});

test('with far-lag negatives the lip net trains and finds a shift beyond its training lags within one frame', async () => {
  await trainAndFind([-1.2, 0.32, 0.8], 4);
});

test('speakingScore: the face whose mouth follows the speech scores above a face that talks to other sounds', () => {
  const { feats, track } = talking(5, 8, 0);
  const other = talking(6, 8, 0).track;
  assert.ok(speakingScore(feats, track).score > speakingScore(feats, other).score + 0.2);
  assert.equal(speakingScore(feats, track).lag, 0);
});

test('the shipped lip net (weights/lip-sync) is small, loads, and joins the lip cue when given a weight', () => {
  const weights = shippedLipWeights();
  assert.ok(weights, 'weights/lip-sync is missing');
  assert.ok(statSync(join(SHIPPED_LIP_MODEL, 'lip.safetensors')).size < 1_000_000);
  const { feats, track } = talking(8, 6, 0.2);
  const learned = learnedLipCurve(feats, track, weights)!;
  assert.ok(learned.every(Number.isFinite));
  // The paired-frames discount (overlapPower) is left out here: this checks the mix itself.
  const hand = mouthCue(feats, track, { lipNet: null, overlapPower: 0 })!.curve;
  assert.deepEqual(Array.from(mouthCue(feats, track, { overlapPower: 0 })!.curve), Array.from(hand)); // off by default (LEARNED_WEIGHT 0)
  const mixed = mouthCue(feats, track, { learnedWeight: 1, overlapPower: 0 })!.curve;
  for (let i = 0; i < mixed.length; i++) assert.ok(Math.abs(mixed[i] - (hand[i] + learned[i]) / 2) < 1e-9);
  // Without lip shapes (a track from an older caller) the cue is the hand curve alone.
  const noLips = mouthCue(
    feats,
    { opening: track.opening, mask: track.mask },
    { learnedWeight: 1, overlapPower: 0 },
  )!.curve;
  assert.deepEqual(Array.from(noLips), Array.from(hand));
});

test('speakingFace: the talker among listeners; none when two talking faces disagree on the lag', () => {
  const { feats, track } = talking(5, 8, 0);
  const listener: MouthTrack = { opening: new Float32Array(track.opening.length), mask: track.mask };
  for (let t = 0; t < listener.opening.length; t++) listener.opening[t] = 0.01 * Math.sin(t / 7);
  assert.equal(speakingFace(feats, [listener, track]), track);
  // The same talker's mouth 0.4 s late: a second face that talks to this sound at another lag.
  const late: MouthTrack = { opening: new Float32Array(track.opening.length), mask: track.mask };
  late.opening.set(track.opening.subarray(0, track.opening.length - 10), 10);
  assert.equal(speakingFace(feats, [track, late]), undefined);
  assert.equal(speakingFace(feats, [track]), track);
});
