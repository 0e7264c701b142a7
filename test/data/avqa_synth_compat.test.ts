/**
 * AVQA's two AV-Synth additions (config.timbre, config.speed) are optional and leave every existing
 * config bit-identical: the av-align / av-sync demo figures depend on these clips. The hashes were
 * taken from the code before the additions (Node 20) over frames, samples and all ground truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateClip, synthClasses, synthConfig, type SynthConfig } from '../../src/data/synth/index.js';
import { realFft } from '../../src/media/fft.js';

const GOLDEN: [Partial<SynthConfig>, number, number, string][] = [
  [{}, 0, 0, '7dc3b83b7b75e365f9d567ca4e178abfe7c47d462e4e32b6333460a9bf37d62c'],
  [{}, 1, 0, '697b655ef24ff64f7ac695b757dca8d13010b8e8a1aec625ab9bf50c170ab1da'],
  [{}, 2, 0.4, '11cfee39d9e28a135db3593d8b5535aead0aa65f6eeb4d6f8f49d7bab08d4bdb'],
  [
    { duration: 4.8, fps: 25, size: 64, classes: 8, noise: 0.02, seed: 3 },
    5,
    -1.2,
    'bcf06c04950bd1ac7fe75de879b3bdbd0f931428fe2b41e20ba8601a7978bc0f',
  ],
  [{ duration: 2, size: 48 }, 3, 0, '662083fdf0744b03fb3af6fb4338942619019fc2a9d8956a1d45da74120a1322'],
  [
    { duration: 3, sounding: [2, 3], distractors: [0, 0], classes: 48, size: 32, fps: 2 },
    7,
    2,
    'fdb7d720be563c97b78944141a81f824d2b9d8e58786a99739a3b19bad786f8f',
  ],
];

function clipHash(cfg: Partial<SynthConfig>, index: number, offset: number): string {
  const c = generateClip(cfg, index, { offset });
  const h = createHash('sha256');
  h.update(Buffer.from(c.video.buffer, c.video.byteOffset, c.video.byteLength));
  h.update(Buffer.from(c.audio.buffer, c.audio.byteOffset, c.audio.byteLength));
  h.update(
    JSON.stringify({
      id: c.id,
      config: c.config,
      events: c.events,
      audioEvents: c.audioEvents,
      classes: c.classes,
      caption: c.caption,
      frames: c.frames,
    }),
  );
  return h.digest('hex');
}

test('existing AV-Synth configs render bit-identically (frames, samples, ground truth, parsed config)', () => {
  for (const [cfg, index, offset, hash] of GOLDEN)
    assert.equal(clipHash(cfg, index, offset), hash, `config ${JSON.stringify(cfg)} clip ${index} offset ${offset}`);
  // synth.json and manifests serialize the parsed config: no new keys appear unless set
  assert.equal(
    JSON.stringify(synthConfig({})),
    '{"seed":0,"duration":6,"fps":16,"sampleRate":16000,"size":112,"classes":8,"sounding":[1,2],"distractors":[1,2],"noise":0.02,"margin":2.5,"flash":0.1}',
  );
  assert.equal('voices' in generateClip({ duration: 1, size: 32 }, 0), false);
  // timbre 'class' spelled out is the default behavior
  const spelled = generateClip({ duration: 2, size: 48, timbre: 'class' }, 3);
  const plain = generateClip({ duration: 2, size: 48 }, 3);
  assert.deepEqual([spelled.audio, spelled.video, spelled.events], [plain.audio, plain.video, plain.events]);
});

test("timbre 'scene': same motion and pictures, a per-scene permutation of the class sounds", () => {
  const cfg = {
    duration: 3,
    size: 48,
    classes: 48,
    sounding: [1, 1] as [number, number],
    distractors: [0, 0] as [number, number],
    noise: 0,
  };
  const seen = new Set<string>();
  let checked = 0;
  for (let i = 0; i < 6; i++) {
    const plain = generateClip(cfg, i);
    const shuffled = generateClip({ ...cfg, timbre: 'scene' }, i);
    assert.deepEqual(shuffled.video, plain.video);
    assert.deepEqual(shuffled.events, plain.events);
    const v = shuffled.voices!;
    assert.deepEqual(
      [...v].sort((a, b) => a - b),
      Array.from({ length: 48 }, (_, k) => k),
    );
    seen.add(v.join(','));
    // The one sounding object's isolated impacts ring at its voice's pitch, not its own class's.
    const classes = synthClasses(48);
    const cls = plain.events[0].cls;
    if (Math.abs(classes[v[cls]].f0 - classes[cls].f0) < 40) continue;
    const e = plain.events.find(
      (x) => x.time > 0.05 && x.time < 2.8 && plain.events.every((y) => y === x || Math.abs(y.time - x.time) > 0.2),
    );
    if (!e) continue;
    const peak = (audio: Float32Array): number => {
      const n = 2048;
      const power = new Float32Array(n / 2 + 1);
      const window = Float32Array.from({ length: n }, (_, k) => 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / n));
      const frame = audio.slice(Math.round((e.time + 0.005) * 16000));
      realFft(n).power(
        frame.length >= n ? frame : Float32Array.from({ length: n }, (_, k) => frame[k] ?? 0),
        power,
        window,
      );
      let best = 1;
      for (let b = 2; b < power.length; b++) if (power[b] > power[best]) best = b;
      return (best * 16000) / n;
    };
    assert.ok(
      Math.abs(peak(shuffled.audio) - classes[v[cls]].f0) < 16,
      `clip ${i}: shuffled peak ${peak(shuffled.audio)} Hz vs voice f0 ${classes[v[cls]].f0}`,
    );
    assert.ok(
      Math.abs(peak(plain.audio) - classes[cls].f0) < 16,
      `clip ${i}: plain peak ${peak(plain.audio)} Hz vs class f0 ${classes[cls].f0}`,
    );
    checked++;
  }
  assert.ok(seen.size === 6, 'every scene draws its own permutation');
  assert.ok(checked >= 3, `pitch checked in ${checked} clips`);
});

test('config.speed slows objects down (fewer impacts) and keys a different scene only when set', () => {
  const fast = generateClip({ duration: 20, size: 64 }, 1, { video: false, audio: false });
  const slow = generateClip({ duration: 20, size: 64, speed: [22, 55] }, 1, { video: false, audio: false });
  assert.ok(slow.events.length < 0.75 * fast.events.length, `${slow.events.length} vs ${fast.events.length} impacts`);
  assert.throws(() => synthConfig({ speed: [60, 20] }), /min <= max/);
});
