import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clipStreams,
  generateClip,
  positionAt,
  simulateScene,
  syncExample,
  syncGrid,
  synthClasses,
  synthConfig,
  MAX_CLASSES,
} from '../../src/data/synth/index.js';
import { ConfigError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { isolated, onsetNear } from './onset.js';

test('classes are distinct in look and pitch, and do not depend on the seed', () => {
  const cls = synthClasses(MAX_CLASSES);
  assert.equal(new Set(cls.map((c) => c.name)).size, MAX_CLASSES);
  const eight = synthClasses(8);
  assert.equal(eight[0].f0, 180);
  assert.ok(Math.abs(eight[7].f0 - 1800) < 1e-9);
  for (let k = 1; k < 8; k++) assert.ok(eight[k].f0 > eight[k - 1].f0);
});

test('clips are deterministic per (seed, index) and differ across indices and seeds', () => {
  const a = generateClip({ duration: 2, size: 48 }, 3);
  const b = generateClip({ duration: 2, size: 48 }, 3);
  assert.deepEqual(a.audio, b.audio);
  assert.deepEqual(a.video, b.video);
  assert.equal(a.frames, 32);
  assert.equal(a.video.length, 32 * 48 * 48 * 3);
  assert.equal(a.audio.length, 32000);
  const c = generateClip({ duration: 2, size: 48, seed: 1 }, 3);
  assert.notDeepEqual(a.audio, c.audio);
  const d = generateClip({ duration: 2, size: 48 }, 4);
  assert.notDeepEqual(a.audio, d.audio);
});

test('bounces are exact: at each impact the object touches the wall and its normal velocity flips', () => {
  const cfg = synthConfig({ duration: 6 });
  const scene = simulateScene(cfg, new Rng('bounce-test'));
  assert.ok(scene.events.length > 3);
  for (const e of scene.events) {
    const obj = scene.objects[e.object];
    const [xb, yb] = positionAt(obj, e.time - 1e-4);
    const [xa, ya] = positionAt(obj, e.time + 1e-4);
    const lo = obj.radius,
      hi = cfg.size - obj.radius;
    if (e.wall === 'left') {
      assert.ok(Math.abs(e.x - lo) < 1e-6);
      assert.ok(xb > e.x && xa > e.x);
    }
    if (e.wall === 'right') {
      assert.ok(Math.abs(e.x - hi) < 1e-6);
      assert.ok(xb < e.x && xa < e.x);
    }
    if (e.wall === 'top') {
      assert.ok(Math.abs(e.y - lo) < 1e-6);
      assert.ok(yb > e.y && ya > e.y);
    }
    if (e.wall === 'bottom') {
      assert.ok(Math.abs(e.y - hi) < 1e-6);
      assert.ok(yb < e.y && ya < e.y);
    }
  }
  for (const o of scene.objects) {
    for (const t of [-2, 0, 1.234, 5.9, 8]) {
      const [x, y] = positionAt(o, t);
      assert.ok(
        x >= o.radius - 1e-6 &&
          x <= cfg.size - o.radius + 1e-6 &&
          y >= o.radius - 1e-6 &&
          y <= cfg.size - o.radius + 1e-6,
      );
    }
  }
});

test('each isolated impact starts a sharp sound within 1 ms of its ground-truth time', () => {
  let checked = 0;
  for (let i = 0; i < 4; i++) {
    const clip = generateClip({ duration: 4 }, i, { video: false });
    const times = clip.audioEvents.map((e) => e.time);
    times.forEach((t, k) => {
      if (!isolated(times, k) || t < 0.05) return;
      const found = onsetNear(clip.audio, clip.sampleRate, t);
      assert.ok(found !== null, `clip ${i}: no onset near ${t}`);
      assert.ok(Math.abs(found - t) <= 0.001 + 1e-9, `clip ${i}: onset ${found} vs truth ${t}`);
      checked++;
    });
  }
  assert.ok(checked >= 6, `only ${checked} isolated impacts checked`);
});

test('a shifted copy is the same sound moved by the offset (positive = audio late)', () => {
  const cfg = { duration: 3, noise: 0 };
  const base = generateClip(cfg, 7, { video: false });
  const late = generateClip(cfg, 7, { video: false, offset: 0.5 });
  const early = generateClip(cfg, 7, { video: false, offset: -0.5 });
  assert.equal(late.id, 'clip000007_s+0.50');
  assert.deepEqual(late.events, base.events); // the video timeline does not move
  for (const e of late.audioEvents)
    assert.ok(base.events.some((b) => Math.abs(b.time + 0.5 - e.time) < 1e-9) || e.time < 0.5);
  const k = 8000;
  let num = 0,
    den = 0;
  for (let n = k; n < base.audio.length; n++) {
    num += late.audio[n] * base.audio[n - k];
    den += base.audio[n - k] ** 2;
  }
  const scale = num / den; // peak normalization may scale a copy
  let err = 0;
  for (let n = k; n < base.audio.length; n++) err = Math.max(err, Math.abs(late.audio[n] - scale * base.audio[n - k]));
  assert.ok(err < 1e-4, `late copy differs by ${err}`);
  err = 0;
  const s2 = early.audio[0] !== 0 ? early.audio[100] / base.audio[100 + k] : 1;
  for (let n = 0; n + k < base.audio.length; n++)
    err = Math.max(err, Math.abs(early.audio[n] - s2 * base.audio[n + k]));
  assert.ok(err < 1e-3, `early copy differs by ${err}`);
  assert.throws(() => generateClip(cfg, 7, { offset: 3 }), ConfigError);
});

test('impact patterns identify the offset on the +-2 s / 0.2 s sync grid (non-periodic)', () => {
  const grid = Array.from({ length: 21 }, (_, i) => Math.round((i * 0.2 - 2) * 10) / 10);
  let unique = 0;
  const n = 40;
  for (let i = 0; i < n; i++) {
    const clip = generateClip({ duration: 6 }, i, { video: false, audio: false });
    const truth = grid[(i * 7) % 21];
    const heard = generateClip({ duration: 6 }, i, { video: false, audio: false, offset: truth }).audioEvents.map(
      (e) => e.time,
    );
    const seen = clip.events.map((e) => e.time);
    const score = (d: number) =>
      seen.filter((t) => heard.some((h) => Math.abs(h - d - t) < 0.04)).length / Math.max(1, seen.length);
    const scores = grid.map(score);
    const best = Math.max(...scores);
    if (scores.filter((s) => s === best).length === 1 && grid[scores.indexOf(best)] === truth) unique++;
  }
  assert.ok(unique >= 0.9 * n, `offset uniquely identified in ${unique}/${n} clips`);
});

test('100 clips have pairwise different impact patterns (retrieval is possible)', () => {
  const patterns = Array.from({ length: 100 }, (_, i) =>
    generateClip({}, i, { video: false, audio: false }).events.map((e) => e.time),
  );
  for (const p of patterns) assert.ok(p.length >= 2, 'every clip has at least two impacts');
  for (let a = 0; a < 100; a++) {
    for (let b = a + 1; b < 100; b++) {
      const pa = patterns[a],
        pb = patterns[b];
      const far =
        pa.some((t) => pb.every((u) => Math.abs(u - t) > 0.05)) ||
        pb.some((t) => pa.every((u) => Math.abs(u - t) > 0.05));
      assert.ok(far, `clips ${a} and ${b} share their impact pattern`);
    }
  }
});

test('sounding objects flash at impacts; distractors are gray and silent', () => {
  const clip = generateClip({ duration: 4, size: 64, distractors: [2, 2], sounding: [1, 1] }, 11);
  assert.ok(clip.classes.length <= 1);
  const distractors = new Set(clip.events.map((e) => e.object));
  assert.ok(!distractors.has(1) && !distractors.has(2), 'distractors (objects 1, 2) never sound');
  // A frame right after an impact is brighter than the frame before it (the object is lit and 20% larger).
  const brightness = (f: number) =>
    clip.video.subarray(f * 64 * 64 * 3, (f + 1) * 64 * 64 * 3).reduce((a, b) => a + b, 0);
  let checked = 0;
  for (const e of clip.events) {
    const f = Math.ceil(e.time * clip.fps);
    if (f < 1 || f >= clip.frames || (f - e.time * clip.fps) / clip.fps > 0.09) continue;
    assert.ok(brightness(f) > brightness(f - 1) + 3000, `no flash at frame ${f} for impact at ${e.time}`);
    checked++;
  }
  assert.ok(checked >= 1);
});

test('bad settings give a ConfigError naming the field', () => {
  assert.throws(() => synthConfig({ size: 101 }), /size/);
  assert.throws(() => synthConfig({ classes: 99 }), /classes/);
  assert.throws(() => synthConfig({ sounding: [3, 1] }), ConfigError);
});

test('sync grid and examples: 21 offsets from -2 to 2 s, label i moves the audio by grid[i]', () => {
  const grid = syncGrid();
  assert.equal(grid.length, 21);
  assert.deepEqual([grid[0], grid[1], grid[10], grid[20]], [-2, -1.8, 0, 2]);
  const ex = syncExample({ duration: 4 }, 5, 17, grid);
  assert.equal(ex.offset, 1.4);
  assert.equal(ex.label, 17);
  const base = generateClip({ duration: 4 }, 5, { video: false, audio: false });
  for (const e of base.events)
    if (e.time + 1.4 < 4) assert.ok(ex.audioEvents.some((h) => Math.abs(h.time - e.time - 1.4) < 1e-9));
  assert.throws(() => syncExample({}, 0, 21), ConfigError);
});

test('clipStreams exposes the clip on the exact timeline', () => {
  const clip = generateClip({ duration: 1, size: 32, fps: 10 }, 2);
  const { video, audio } = clipStreams(clip);
  assert.equal(video.frames, 10);
  assert.equal(video.dim, 32 * 32 * 3);
  assert.equal(video.rate, 10);
  assert.equal(video.data[5], Math.fround(clip.video[5] / 255));
  assert.equal(audio.frames, 16000);
  assert.equal(audio.rate, 16000);
});
