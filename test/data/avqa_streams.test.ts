import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  avqaConfig,
  avqaLogMel,
  avqaScene,
  avqaStreams,
  favorBatch,
  questionStreams,
  sceneDuration,
  sceneSynthConfig,
} from '../../src/data/avqa/index.js';
import { generateClip } from '../../src/data/synth/index.js';

const cfg = avqaConfig({ maxDuration: 12 });

/** Sum over mel bands of audio frame a. */
const energy = (mel: { data: Float32Array; dim: number }, a: number) =>
  mel.data.subarray(a * mel.dim, (a + 1) * mel.dim).reduce((x, y) => x + y, 0);

test('streams: 2 Hz frames and 50 Hz log-mel on one timeline, 25 audio frames per FAVOR group, nothing padded', () => {
  for (const index of [0, 1, 2]) {
    const s = avqaStreams(cfg, index);
    const d = sceneDuration(cfg, index);
    assert.equal(s.duration, d);
    assert.deepEqual([s.video.frames, s.video.dim, s.video.rate, s.video.start], [2 * d, 32 * 32 * 3, 2, 0]);
    assert.deepEqual([s.audio.frames, s.audio.dim, s.audio.rate, s.audio.start], [50 * d, 64, 50, 0]);
    const g = s.groups;
    assert.deepEqual([g.frames, g.slots, g.k, g.videoDim, g.audioDim], [2 * d, 25, 25, 3072, 64]);
    assert.equal(
      g.audioMask.reduce((a, b) => a + b, 0),
      50 * d,
    );
    assert.equal(
      g.videoMask.reduce((a, b) => a + b, 0),
      2 * d,
    );
    // group t, slot k holds audio frame 25 t + k
    const t = 3,
      k = 7;
    assert.deepEqual(
      g.audio.subarray((t * 25 + k) * 64, (t * 25 + k + 1) * 64),
      s.audio.data.subarray((25 * t + k) * 64, (25 * t + k + 1) * 64),
    );
  }
});

test('video frame t is the scene at t / 2 s, area-averaged to 32 px; patches regroup the same pixels', () => {
  const s = avqaStreams(cfg, 4);
  const synth = sceneSynthConfig(cfg, 4);
  const full = generateClip(synth, 4, { audio: false }); // 16 fps: frame 8t shows t / 2 s
  const S = synth.size;
  for (const t of [0, 3, 7]) {
    for (const [y, x, c] of [
      [0, 0, 0],
      [10, 17, 1],
      [31, 5, 2],
      [20, 20, 0],
    ]) {
      const f = 8 * t;
      let acc = 0;
      for (const [dy, dx] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ])
        acc += full.video[((f * S + 2 * y + dy) * S + 2 * x + dx) * 3 + c];
      assert.ok(
        Math.abs(s.video.data[t * 3072 + (y * 32 + x) * 3 + c] - acc / 4 / 255) < 1e-6,
        `frame ${t} (${y}, ${x}, ${c})`,
      );
    }
  }
  const p = avqaStreams(cfg, 4, {}, { patch: 8 });
  assert.equal(p.videoTokens, 16);
  assert.equal(p.groups.videoDim, 8 * 8 * 3);
  for (const [t, y, x, c] of [
    [2, 9, 30, 1],
    [5, 31, 0, 2],
    [0, 17, 12, 0],
  ]) {
    const token = Math.floor(y / 8) * 4 + Math.floor(x / 8);
    const v = p.video.data[t * 3072 + token * 192 + ((y % 8) * 8 + (x % 8)) * 3 + c];
    assert.equal(v, s.video.data[t * 3072 + (y * 32 + x) * 3 + c]);
  }
});

test('an impact at t s lights up audio frame floor(50 t) in group floor(2 t); a late copy lights it offset later', () => {
  let checked = 0;
  for (const index of [0, 1, 2, 3, 5]) {
    const scene = avqaScene(cfg, index);
    const s = avqaStreams(cfg, index);
    const late = questionStreams(cfg, { index, audio: { offset: 1 } });
    const sounds = scene.impacts.filter((i) => i.sounding).map((i) => i.time);
    for (const e of sounds) {
      if (e < 0.2 || e > scene.duration - 1.2 || sounds.some((o) => o !== e && Math.abs(o - e) < 0.3)) continue;
      const a = Math.floor(50 * e);
      const rise = (mel: typeof s.audio, at: number) =>
        Math.max(energy(mel, at), energy(mel, at + 1)) - energy(mel, at - 3);
      assert.ok(rise(s.audio, a) > 5, `scene ${index}: impact ${e} s, rise ${rise(s.audio, a)}`);
      assert.ok(rise(late.audio, a + 50) > 5, `scene ${index}: late impact ${e + 1} s`);
      const g = Math.floor(2 * e);
      assert.equal(s.groups.audio[(g * 25 + (a - 25 * g)) * 64 + 10], s.audio.data[a * 64 + 10]);
      checked++;
    }
  }
  assert.ok(checked >= 8, `${checked} impacts checked`);
});

test("a foil question plays another scene's audio over this scene's frames", () => {
  const own = avqaStreams(cfg, 6);
  const foil = questionStreams(cfg, { index: 6, audio: { foil: 11 } });
  assert.deepEqual(foil.video.data, own.video.data);
  const expected = avqaLogMel(
    generateClip(sceneSynthConfig(cfg, 11, own.duration), 11, { video: false }).audio,
    16000,
    64,
  );
  assert.deepEqual(foil.audio.data, expected.data);
  assert.notDeepEqual(foil.audio.data, own.audio.data);
});

test('favorBatch pads clips of different lengths and masks the padding', () => {
  const items = [0, 1, 2].map((i) => avqaStreams(cfg, i).groups);
  const b = favorBatch(items, { multiple: 10 });
  const longest = Math.max(...items.map((g) => g.frames));
  assert.equal(b.frames, Math.ceil(longest / 10) * 10);
  assert.deepEqual(
    Array.from(b.lengths),
    items.map((g) => g.frames),
  );
  items.forEach((g, i) => {
    const fm = b.frameMask.subarray(i * b.frames, (i + 1) * b.frames);
    assert.equal(
      fm.reduce((x, y) => x + y, 0),
      g.frames,
    );
    const am = b.audioMask.subarray(i * b.frames * 25, (i + 1) * b.frames * 25);
    assert.equal(
      am.reduce((x, y) => x + y, 0),
      g.frames * 25,
    );
    assert.equal(
      am.subarray(g.frames * 25).reduce((x, y) => x + y, 0),
      0,
    );
  });
  assert.throws(() => favorBatch([items[0], avqaStreams(cfg, 0, {}, { patch: 16 }).groups]), /differ/);
});
