/** The real-footage questions of `attune favor --bench real`: the truths per shift, the classical reading, the cut. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutWithSound, lagAnswer, syncTruth } from '../../src/app/favor_real.js';
import { AUDIO_PER_FRAME, MEL_BANDS, frameValues } from '../../src/models/favor/config.js';

test('the truth of each sync question for audio moved early, not at all and late', () => {
  const rows: [Parameters<typeof syncTruth>[0], number, string][] = [
    ['sync.late', 1, 'yes'],
    ['sync.late', 0, 'no'],
    ['sync.late', -1, 'no'],
    ['sync.sync', 1, 'no'],
    ['sync.sync', 0, 'yes'],
    ['sync.sync', -1, 'no'],
    ['sync.when', 1, 'late'],
    ['sync.when', 0, 'in sync'],
    ['sync.when', -1, 'early'],
  ];
  for (const [template, shift, truth] of rows) assert.equal(syncTruth(template, shift), truth, `${template} ${shift}`);
});

test("the cross-correlation's lag is read as in sync within half a second, else by its sign", () => {
  const rows: [number, string][] = [
    [0.49, 'in sync'],
    [-0.49, 'in sync'],
    [0.5, 'late'],
    [-0.8, 'early'],
  ];
  for (const [lag, when] of rows) assert.equal(lagAnswer('sync.when', lag), when, `lag ${lag}`);
});

test("a cut hears, at video time t, the sound of time t - shift (its own or another clip's), without silence", () => {
  const size = 4;
  // 10 frames (5 s); every value of a frame's pixels / a mel frame's bands holds its time in seconds (+ 100 for the
  // other clip's sound).
  const clip = (frames: number, plus: number) => ({
    frames,
    video: Float32Array.from({ length: frames * frameValues(size) }, (_, i) => Math.floor(i / frameValues(size)) / 2),
    audio: Float32Array.from(
      { length: frames * AUDIO_PER_FRAME * MEL_BANDS },
      (_, i) => plus + Math.floor(i / MEL_BANDS) / 50,
    ),
  });
  const own = clip(10, 0);
  for (const shift of [-1, 0, 1]) {
    const cut = cutWithSound(own, own, shift, size);
    assert.equal(cut.frames, 6);
    for (let f = 0; f < cut.frames; f++) {
      const t = cut.video[f * frameValues(size)];
      assert.equal(t, 1 + f / 2, 'the picture starts 1 s in');
      const heard = cut.audio[f * AUDIO_PER_FRAME * MEL_BANDS];
      assert.ok(Math.abs(heard - (t - shift)) < 1e-6, `shift ${shift}: at ${t} s heard ${heard}`);
    }
    assert.equal(cut.audio.length, 6 * AUDIO_PER_FRAME * MEL_BANDS);
  }
  const other = cutWithSound(own, clip(8, 100), 0, size);
  assert.equal(other.frames, 4, 'cut to the shorter of the two');
  assert.ok(Math.abs(other.audio[0] - 101) < 1e-6);
  assert.throws(() => cutWithSound(clip(4, 0), clip(4, 0), 0, size), /too short/);
  assert.throws(() => cutWithSound(own, own, 1.5, size), /too short/);
});
