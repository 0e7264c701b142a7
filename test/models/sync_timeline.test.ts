import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featuresFromArrays, SYNC_SAMPLE_RATE } from '../../src/models/av_sync/features.js';
import { syncTimeline, theilSen } from '../../src/models/av_sync/timeline.js';
import { Rng } from '../../src/util/rng.js';

/** The per-window offset and its drift, on an event pattern whose sound slides later over a minute. */
test('Theil-Sen ignores a few wild points that least squares would follow', () => {
  const x = Array.from({ length: 20 }, (_, i) => i);
  const y = x.map((v) => 0.5 + 0.1 * v);
  y[3] = 40;
  y[11] = -25;
  y[17] = 30;
  const { slope, intercept } = theilSen(x, y);
  assert.ok(Math.abs(slope - 0.1) < 1e-9 && Math.abs(intercept - 0.5) < 1e-9, `${slope} ${intercept}`);
});

test('a drifting clip: every window measures its own lag and the drift comes out in seconds per minute', () => {
  const rng = new Rng(31);
  const seconds = 60,
    T = seconds * 25,
    size = 32;
  const driftPerSecond = 0.6 / 60; // 0.6 s per minute
  const video: Uint8Array[] = [];
  const audio = new Float32Array(seconds * SYNC_SAMPLE_RATE);
  for (let i = 0; i < audio.length; i++) audio[i] = 0.01 * (rng.uniform() - 0.5);
  let level = 40;
  let next = 10;
  for (let t = 0; t < T; t++) {
    if (t === next) {
      level = level === 40 ? 230 : 40;
      next += 6 + rng.int(14);
      const at = Math.round((t / 25) * (1 + driftPerSecond) * SYNC_SAMPLE_RATE);
      for (let i = 0; i < 1600 && at + i < audio.length; i++)
        audio[at + i] += 0.6 * (rng.uniform() - 0.5) * Math.exp(-i / 400);
    }
    const frame = new Uint8Array(size * size).fill(40);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) frame[y * size + x] = level;
    video.push(frame);
  }
  const tl = syncTimeline(featuresFromArrays(audio, video, size, size, 1), { minConfidence: 0 });
  assert.equal(tl.windows.length, 28);
  for (const w of tl.windows) {
    const truth = ((w.start + w.end) / 2) * driftPerSecond;
    assert.ok(Math.abs(w.lag - truth) <= 0.1, `window ${w.start}: lag ${w.lag} vs ${truth}`);
  }
  assert.ok(tl.drift && Math.abs(tl.drift.secondsPerMinute - 0.6) < 0.05, JSON.stringify(tl.drift));
  assert.ok(Math.abs(tl.drift.lagAtStart) < 0.06, `lag at start ${tl.drift.lagAtStart}`);
});

test('a timeline with fewer than three answered windows reports no drift and says why', () => {
  const frames = Array.from({ length: 250 }, () => new Uint8Array(16 * 16).fill(50));
  const tl = syncTimeline(featuresFromArrays(new Float32Array(10 * SYNC_SAMPLE_RATE), frames, 16, 16, 1));
  assert.equal(tl.drift, null);
  assert.match(tl.reason ?? '', /a drift needs at least 3/);
});
