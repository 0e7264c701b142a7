import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceMesh, meshCrop, mouthOpening } from '../../src/media/face_mesh.js';
import { autoSync } from '../../src/models/av_sync/auto.js';
import { fullXcorr } from '../../src/models/av_sync/lag_curve.js';
import { loudness, mouthCue } from '../../src/models/av_sync/mouth_cue.js';
import { Rng } from '../../src/util/rng.js';
import { talking } from './sync_talker.js';

/**
 * The lip cue on a synthetic talking pattern: a mouth that opens for syllables of random length and the speech
 * loudness that follows it, moved by known amounts; and the face models from @vladmandic/human, converted and run.
 */
for (const shift of [-0.6, -0.12, 0, 0.2, 1.0]) {
  test(`the lip cue finds a ${shift} s shift of a synthetic talker within one frame, and auto answers with it`, () => {
    const { feats, track } = talking(21, 8, shift);
    const cue = mouthCue(feats, track)!;
    let best = 0;
    for (let i = 1; i < cue.curve.length; i++) if (cue.curve[i] > cue.curve[best]) best = i;
    assert.ok(Math.abs((best - 50) / 25 - shift) <= 0.04 + 1e-9, `lag ${(best - 50) / 25}`);
    const e = autoSync(feats, { mouth: track });
    assert.equal(e.cue, 'mouth');
    assert.equal(e.synchronizable, true, e.reason);
    assert.ok(Math.abs(e.lag - shift) <= 0.04 + 1e-9, `lag ${e.lag}`);
  });
}

test('a mouth track that does not follow the sound (another talker) earns a clearly lower confidence from its curve', () => {
  const { feats, track } = talking(21, 8, 0);
  const other = talking(99, 8, 0).track;
  // The curve's shape alone (no lip net, so the agreement input reads 0 for both). With the shipped lip net this
  // synthetic wrong face gains the agreement too (0.71 -> 0.95): its lip shapes are an exact function of its
  // opening, so the net repeats the hand curve's spurious peak. On real footage no wrong lip lag had the agreement
  // (0 of 12 on dev with cross-fitted nets, 0 of 2 held-out; docs/sync.md, session 5), but a wrong face is the
  // case it cannot tell apart.
  const right = autoSync(feats, { mouth: track, lipNet: null });
  const wrong = autoSync(feats, { mouth: other, lipNet: null });
  assert.ok(wrong.confidence < right.confidence - 0.15, `confidence ${wrong.confidence} vs ${right.confidence}`);
  assert.ok(wrong.confidence < 0.8, `a wrong face answers at ${wrong.confidence}`);
});

test('a lip answer withheld on a short overlap says so, not that the picture is static', () => {
  // 3 s, the audio 1.2 s late: the GRID case; a still 32 px picture has no whole-frame motion.
  const { feats, track } = talking(4, 3, 1.2);
  const e = autoSync(feats, { mouth: track, lipNet: null, minConfidence: 0.999 });
  assert.equal(e.cue, 'mouth');
  assert.equal(e.synchronizable, false);
  assert.doesNotMatch(e.reason ?? '', /static/);
  assert.match(e.reason ?? '', /below --min-confidence/);
});

test('mouthOpening: inner-lip gap over inner-lip width', () => {
  const p = new Float32Array(468 * 3);
  const set = (i: number, x: number, y: number) => {
    p[3 * i] = x;
    p[3 * i + 1] = y;
  };
  set(13, 50, 40);
  set(14, 50, 50);
  set(78, 30, 45);
  set(308, 70, 45);
  assert.equal(mouthOpening(p), 10 / 40);
});

test('the face models from @vladmandic/human convert, load and run; a blank frame has no face', async () => {
  const mesh = await FaceMesh.load();
  try {
    const img = { data: new Uint8Array(320 * 240 * 3).fill(128), width: 320, height: 240 };
    assert.equal(await mesh.detect(img), null);
    const lm = await mesh.landmarks(img, { cx: 160, cy: 120, size: 100, score: 1 });
    assert.equal(lm.points.length, 1404);
    assert.ok(lm.points.every(Number.isFinite));
    assert.ok(lm.flag < 0.5, `face flag ${lm.flag} on a blank frame`);
  } finally {
    await mesh.close();
  }
});

test('the lip cue by default is the levels curve; an added change curve ignores steps into masked gaps', () => {
  const { feats, track } = talking(5, 8, 0.4);
  const levels = mouthCue(feats, track, { overlapPower: 0 })!.curve;
  const expected = fullXcorr(loudness(feats, 2, 5), track.opening, feats.audioMask ?? feats.mask, track.mask);
  assert.deepEqual(Array.from(levels), Array.from(expected));
  // A face lost for 1.2 s mid-clip: the opening reads 0 there (masked). A change curve that took the step into and
  // out of the gap as mouth movement would add two spikes; with the mask it still finds the shift.
  const gapped = { opening: track.opening.slice(), mask: track.mask.slice() };
  gapped.opening.fill(0, 80, 110);
  gapped.mask.fill(0, 80, 110);
  const withChanges = mouthCue(feats, gapped, { changeWeight: 0.5 })!.curve;
  const withoutGapFix = mouthCue(feats, gapped, { changeWeight: 0 })!.curve;
  let best = 0;
  for (let i = 1; i < withChanges.length; i++) if (withChanges[i] > withChanges[best]) best = i;
  assert.ok(Math.abs((best - 50) / 25 - 0.4) <= 0.04 + 1e-9, `lag ${(best - 50) / 25}`);
  assert.notDeepEqual(Array.from(withChanges), Array.from(withoutGapFix));
});

test('facemesh on a batch of crops gives each crop the landmarks it gets alone, in its own frame pixels', async () => {
  const mesh = await FaceMesh.load();
  try {
    const rng = new Rng(3);
    const frames = [0, 1, 2].map(() => ({
      data: Uint8Array.from({ length: 160 * 120 * 3 }, () => rng.int(256)),
      width: 160,
      height: 120,
    }));
    const boxes = [
      { cx: 80, cy: 60, size: 50, score: 1 },
      { cx: 60, cy: 50, size: 40, score: 1 },
      { cx: 100, cy: 70, size: 60, score: 1 },
    ];
    const batched = await mesh.landmarksOfCrops(
      frames.map((img, k) => ({ crop: meshCrop(img, boxes[k]), box: boxes[k] })),
    );
    for (let k = 0; k < frames.length; k++) {
      const alone = await mesh.landmarks(frames[k], boxes[k]);
      assert.ok(Math.abs(alone.flag - batched[k].flag) < 1e-4, `flag ${alone.flag} vs ${batched[k].flag}`);
      let worst = 0;
      for (let i = 0; i < alone.points.length; i++)
        worst = Math.max(worst, Math.abs(alone.points[i] - batched[k].points[i]));
      assert.ok(worst < 1e-2, `crop ${k}: max |batched - alone| ${worst} px`);
    }
  } finally {
    await mesh.close();
  }
});
