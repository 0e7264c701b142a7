import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStream } from '../../src/timeline/timeline.js';
import { favorAlign, favorGroup, favorJoint, slidingWindows, windowCount } from '../../src/timeline/windows.js';
import { ShapeError } from '../../src/util/errors.js';

const ramp = (n: number, dim = 1, base = 0) => Float32Array.from({ length: n * dim }, (_, i) => base + i);

test('FAVOR grouping: 25 x 50 Hz audio frames per 2 Hz video frame, shorter stream zero-padded', () => {
  const video = makeStream(ramp(3, 2, 1000), 2, 2); // 3 frames, 1.5 s
  const audio = makeStream(ramp(60), 1, 50); // 60 frames = 1.2 s -> 3 groups, last with 10 frames
  const g = favorGroup(video, audio, { slots: 32 });
  assert.equal(g.k, 25);
  assert.equal(g.frames, 3);
  assert.equal(g.audio.length, 3 * 32);
  assert.equal(g.audio[32 + 0], 25); // group 1 slot 0 is audio frame 25
  assert.equal(g.audio[64 + 9], 59);
  assert.equal(g.audio[64 + 10], 0);
  const maskCounts = [0, 1, 2].map((t) => g.audioMask.slice(t * 32, (t + 1) * 32).reduce((a, b) => a + b, 0));
  assert.deepEqual(maskCounts, [25, 25, 10]);
  assert.deepEqual([...g.video.slice(2 * 64, 2 * 64 + 4)], [1004, 1005, 0, 0]);
  assert.deepEqual([...g.videoMask.slice(32, 35)], [1, 0, 0]);
});

test('FAVOR grouping pads video when audio is longer', () => {
  const g = favorGroup(makeStream(ramp(1), 1, 2), makeStream(ramp(51), 1, 50));
  assert.equal(g.frames, 3);
  assert.equal(g.slots, 25);
  assert.deepEqual([...g.videoMask.slice(25, 27)], [0, 0]);
  assert.equal(
    g.audioMask.slice(50, 75).reduce((a, b) => a + b, 0),
    1,
  );
});

test('FAVOR joint tokens concatenate features and OR the masks', () => {
  const g = favorGroup(makeStream(Float32Array.from([7, 8]), 1, 2), makeStream(ramp(50), 1, 50), { slots: 26 });
  const j = favorJoint(g);
  assert.equal(j.dim, 2);
  assert.deepEqual([...j.data.slice(0, 4)], [7, 0, 0, 1]);
  assert.equal(j.mask[25], 0);
  assert.deepEqual([...j.data.slice(26 * 2, 26 * 2 + 2)], [8, 25]);
});

test('FAVOR grouping rejects non-integer rate ratios and different starts', () => {
  assert.throws(() => favorGroup(makeStream(ramp(2), 1, 3), makeStream(ramp(50), 1, 50)), ShapeError);
  assert.throws(() => favorGroup(makeStream(ramp(2), 1, 2, 0.1), makeStream(ramp(50), 1, 50)), /start/);
});

test('window counts: Synchformer 8 s at 25 fps gives 24 segments; FAVOR 60 frames in windows of 10 gives 6', () => {
  assert.equal(windowCount(200, { size: 16, stride: 8, pad: false }), 24);
  assert.equal(windowCount(60, { size: 10 }), 6);
  assert.equal(windowCount(61, { size: 10 }), 7);
  assert.equal(windowCount(5, { size: 10, pad: false }), 0);
  assert.equal(windowCount(0, { size: 10 }), 0);
});

test('sliding windows copy frames, pad and mask the last one, and carry start times', () => {
  const s = makeStream(ramp(7, 2), 2, 10, 1);
  const w = slidingWindows(s, { size: 4, stride: 2 });
  assert.equal(w.count, 3);
  assert.deepEqual([...w.startFrame], [0, 2, 4]);
  assert.deepEqual([...w.startTime], [1, 1.2, 1.4]);
  assert.deepEqual([...w.data.slice(8, 16)], [4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual([...w.mask.slice(8, 12)], [1, 1, 1, 0]);
  assert.deepEqual([...w.data.slice(22, 24)], [0, 0]);
});

test('favorAlign: 30 fps video and 100 Hz audio features go to 2 Hz / 50 Hz groups on one span', () => {
  const video = makeStream(ramp(45), 1, 30); // 1.5 s
  const audio = makeStream(ramp(120), 1, 100, 0.5); // [0.5, 1.7) s
  const g = favorAlign(video, audio);
  assert.equal(g.frames, 4); // span [0, 1.7) at 2 Hz -> 4 frames
  assert.equal(g.k, 25);
  assert.deepEqual(
    [0, 1, 2, 3].map((t) => g.video[t * 25]),
    [7, 22, 37, 0],
  ); // nearest: centers 0.25, 0.75, 1.25 s
  assert.deepEqual(
    [0, 1, 2, 3].map((t) => g.videoMask[t * 25]),
    [1, 1, 1, 0],
  );
  const audioCounts = [0, 1, 2, 3].map((t) => g.audioMask.slice(t * 25, (t + 1) * 25).reduce((x, y) => x + y, 0));
  assert.deepEqual(audioCounts, [0, 25, 25, 10]); // audio covers [0.5, 1.7): 60 frames at 50 Hz
  assert.equal(g.audio[25], 0.5); // mean of audio frames 0 and 1 (100 Hz -> 50 Hz)
});
