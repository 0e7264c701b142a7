import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  align,
  alignedPositions,
  frameCenter,
  frameIndexAt,
  frameTime,
  framesFor,
  makeStream,
  positionsSeconds,
  resample,
  sliceTime,
  streamEnd,
} from '../../src/timeline/timeline.js';
import { ShapeError } from '../../src/util/errors.js';

const ramp = (n: number, dim = 1) => Float32Array.from({ length: n * dim }, (_, i) => i);

test('frame i covers [start + i/rate, start + (i+1)/rate)', () => {
  const s = makeStream(ramp(10), 1, 4, 0.5);
  assert.equal(frameTime(s, 3), 1.25);
  assert.equal(frameCenter(s, 3), 1.375);
  assert.equal(streamEnd(s), 3);
  assert.equal(frameIndexAt(s, 1.25), 3); // interval start belongs to the frame
  assert.equal(frameIndexAt(s, 1.4999), 3);
  assert.equal(frameIndexAt(s, 1.5), 4);
  assert.equal(frameIndexAt({ rate: 10, start: 0 }, 0.3), 3); // 0.3 * 10 = 2.9999999999999996
  assert.equal(framesFor(5, 16), 80);
  assert.equal(framesFor(8, 31.25), 250);
  assert.equal(framesFor(0.3, 10), 3);
});

test('makeStream rejects data that does not fit the dim or a bad rate', () => {
  assert.throws(() => makeStream(new Float32Array(7), 2, 10), ShapeError);
  assert.throws(() => makeStream(new Float32Array(4), 2, 0), /rate/);
});

test('sliceTime keeps frames whose start is inside the range', () => {
  const s = makeStream(ramp(10), 1, 10, 1);
  const sub = sliceTime(s, 1.25, 1.5);
  assert.deepEqual([...sub.data], [3, 4]);
  assert.equal(sub.start, 1.3);
});

test('mean pooling 50 Hz -> 2 Hz averages exactly 25 frames per output frame', () => {
  const s = makeStream(ramp(100), 1, 50);
  const r = resample(s, { rate: 2, start: 0, frames: 4 }, 'auto');
  assert.deepEqual([...r.data], [12, 37, 62, 87]); // mean of 0..24, 25..49, ...
  assert.deepEqual([...r.mask], [1, 1, 1, 1]);
});

test('mean pooling with a non-integer ratio weights partial overlaps', () => {
  // 4 Hz -> 3 Hz: output frame 0 covers source [0, 4/3): 1 * v0 + 1/3 * v1, divided by 4/3
  const s = makeStream(Float32Array.from([0, 3, 6, 9]), 1, 4);
  const r = resample(s, { rate: 3, start: 0, frames: 3 }, 'mean');
  assert.ok(Math.abs(r.data[0] - 0.75) < 1e-6);
  // frame 1 covers [4/3, 8/3): 2/3 * 3 + 2/3 * 6 over 4/3 = 4.5
  assert.ok(Math.abs(r.data[1] - 4.5) < 1e-6);
  // frame 2 covers [8/3, 4): 1/3 * 6 + 1 * 9 over 4/3 = 8.25
  assert.ok(Math.abs(r.data[2] - 8.25) < 1e-6);
});

test('nearest upsampling 8 fps -> 31.25 Hz matches nearest-exact', () => {
  const s = makeStream(ramp(64), 1, 8);
  const r = resample(s, { rate: 31.25, start: 0, frames: 250 }, 'nearest');
  for (let j = 0; j < 250; j++) assert.equal(r.data[j], Math.floor((j + 0.5) * (64 / 250)));
  assert.equal(
    r.mask.reduce((a, b) => a + b, 0),
    250,
  );
  // Synchformer features (24/s) onto the latent grid, as MMAudio injects them into the per-frame adaLN signal
  const sync = resample(makeStream(ramp(192), 1, 24), { rate: 31.25, start: 0, frames: 250 });
  for (let j = 0; j < 250; j++) assert.equal(sync.data[j], Math.floor((j + 0.5) * (192 / 250)));
});

test('16 fps upsampled to 25 fps keeps the whole 5 s (duplicating frames, not truncating)', () => {
  const s = makeStream(ramp(80), 1, 16);
  const { grid, streams } = align([s], { rate: 25 });
  assert.equal(grid.frames, 125);
  assert.equal(streams[0].data[124], 79);
  assert.equal(streams[0].data[1], 0); // center 0.06 s is still inside source frame 0 (ends 0.0625 s)
  assert.equal(streams[0].data[2], 1); // center 0.1 s -> source frame 1
});

test('linear resampling interpolates between frame centers and holds the edges', () => {
  const s = makeStream(Float32Array.from([0, 10, 20, 30]), 1, 2); // centers at 0.25, 0.75, 1.25, 1.75 s
  const r = resample(s, { rate: 4, start: 0, frames: 8 }, 'linear'); // centers 0.125, 0.375, ...
  assert.deepEqual([...r.data], [0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30]);
});

test('frames outside the source span are zero with mask 0; multi-dim rows move together', () => {
  const s = makeStream(ramp(3, 2), 2, 2, 1); // covers [1, 2.5) s
  const r = resample(s, { rate: 2, start: 0, frames: 6 }, 'nearest');
  assert.deepEqual([...r.mask], [0, 0, 1, 1, 1, 0]);
  assert.deepEqual([...r.data], [0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0]);
});

test('align: intersection trims to common time, union zero-pads', () => {
  const a = makeStream(ramp(10), 1, 10, 0); // [0, 1)
  const b = makeStream(ramp(4), 1, 4, 0.5); // [0.5, 1.5)
  const inter = align([a, b], { rate: 10 });
  assert.deepEqual(inter.grid, { rate: 10, start: 0.5, frames: 5 });
  assert.deepEqual([...inter.streams[0].data], [5, 6, 7, 8, 9]);
  assert.deepEqual([...inter.streams[1].data], [0, 0, 1, 1, 1]); // center 0.75 s starts source frame 1
  const uni = align([a, b], { rate: 10, span: 'union' });
  assert.equal(uni.grid.frames, 15);
  assert.deepEqual([...uni.streams[1].mask], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...uni.streams[0].mask.slice(8, 12)], [1, 1, 0, 0]);
});

test('aligned RoPE positions: tokens at the same second share a position', () => {
  const clip = alignedPositions(64, 8, 31.25);
  assert.equal(clip[1], 3.90625); // 250 / 64
  assert.equal(clip[8], 31.25); // 1 s
  const latent = alignedPositions(250, 31.25, 31.25);
  assert.equal(latent[125], 125);
  assert.equal(clip[32], latent[125]); // both at 4 s
  const sync = alignedPositions(192, 24, 31.25);
  assert.equal(sync[96], clip[32]);
  assert.deepEqual([...positionsSeconds(3, 2, 1, 'center')], [1.25, 1.75, 2.25]);
});
