import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateClip } from '../../src/data/synth/index.js';
import { audioFeatures, classify, trainClassifier } from '../../src/models/v2a/classifier.js';
import { v2aSynthConfig } from '../../src/models/v2a/data.js';
import { fdFloor, onsetTimes, scoreSet, syncOffset } from '../../src/models/v2a/evaluate.js';
import { generateSound, loadV2aModel } from '../../src/models/v2a/infer.js';
import { trainToyV2a } from './v2a_toy.js';

const clip = (i: number) => generateClip(v2aSynthConfig(4, 0), i, { video: false });

/** The scoring classifier trained on 48 clips' real audio. */
function classifierOn48() {
  const train = Array.from({ length: 48 }, (_, i) => clip(i));
  return trainClassifier(
    train.map((c) => audioFeatures(c.audio)),
    train.map((c) => c.classes),
    8,
    200,
  );
}

/** The clip's audio moved later by `seconds` (zeros in front). */
function delayed(wave: Float32Array, seconds: number): Float32Array {
  const n = Math.round(seconds * 16000);
  const out = new Float32Array(wave.length);
  out.set(wave.subarray(0, wave.length - n), n);
  return out;
}

test('syncOffset finds the delay of a track against the picture; onsets hit the true impact times', () => {
  for (const i of [1, 2, 3]) {
    const c = clip(i);
    const seen = c.events.map((e) => e.time);
    assert.ok(Math.abs(syncOffset(c.audio, seen)) <= 0.03, `clip ${i}: in sync -> ${syncOffset(c.audio, seen)}`);
    const late = seen.filter((t) => t < 3.4);
    if (late.length)
      assert.ok(Math.abs(syncOffset(delayed(c.audio, 0.4), late) - 0.4) <= 0.03, `clip ${i}: 0.4 s late`);
    const found = onsetTimes(c.audio);
    for (const t of c.audioEvents.map((e) => e.time))
      assert.ok(
        found.some((f) => Math.abs(f - t) <= 0.05),
        `clip ${i}: impact at ${t} missed in ${found}`,
      );
  }
  assert.equal(syncOffset(new Float32Array(16000), [0.5]), 2, 'silence scores the full 2 s');
  assert.deepEqual(onsetTimes(new Float32Array(16000)), []);
});

test('scores: real audio beats another scene and silence on every metric (the reference rows)', async () => {
  const clf = classifierOn48();
  const test = Array.from({ length: 12 }, (_, i) => clip(500 + i));
  const other = Array.from({ length: 12 }, (_, i) => clip(900 + i));
  const scenes = test.map((c) => ({
    heard: c.audioEvents.map((e) => e.time),
    seen: c.events.map((e) => e.time),
    classes: c.classes,
  }));
  const realLogits = test.map((c) => classify(clf, audioFeatures(c.audio)));
  const real = await scoreSet(
    test.map((c) => c.audio),
    scenes,
    realLogits,
    clf,
  );
  const wrong = await scoreSet(
    other.map((c) => c.audio),
    scenes,
    realLogits,
    clf,
  );
  const silent = await scoreSet(
    test.map((c) => new Float32Array(c.audio.length)),
    scenes,
    realLogits,
    clf,
  );
  assert.ok(real.fd < 1e-6 && real.kl < 1e-9, `real vs itself: fd ${real.fd} kl ${real.kl}`);
  assert.ok(real.onsetF1 > 0.9 && real.desync < 0.05 && real.classAcc > 0.8, JSON.stringify(real));
  for (const ref of [wrong, silent]) {
    assert.ok(
      ref.kl > real.kl && ref.onsetF1 < real.onsetF1 && ref.desync > real.desync && ref.classAcc < real.classAcc,
      JSON.stringify(ref),
    );
  }
});

test('fdFloor: one FD per independent draw of other scenes, their mean and sample std; the real set itself scores 0', async () => {
  const clf = classifierOn48();
  const real = Array.from({ length: 12 }, (_, i) => clip(500 + i).audio);
  const realLogits = real.map((w) => classify(clf, audioFeatures(w)));
  const draws = [900, 920, 940].map((at) =>
    Array.from({ length: 12 }, (_, i) => classify(clf, audioFeatures(clip(at + i).audio))),
  );
  const floor = await fdFloor([...draws, realLogits], realLogits);
  assert.equal(floor.perDraw.length, 4);
  assert.ok(floor.perDraw[3] < 1e-6, `the real set against itself: ${floor.perDraw[3]}`);
  for (const fd of floor.perDraw.slice(0, 3)) assert.ok(fd > 1, `other scenes are another distribution: ${fd}`);
  assert.ok(new Set(floor.perDraw.slice(0, 3)).size === 3, `draws of different scenes differ: ${floor.perDraw}`);
  const m = floor.perDraw.reduce((a, b) => a + b, 0) / 4;
  const std = Math.sqrt(floor.perDraw.reduce((a, v) => a + (v - m) ** 2, 0) / 3);
  assert.ok(Math.abs(floor.mean - m) < 1e-9 && Math.abs(floor.std - std) < 1e-9, JSON.stringify(floor));
  assert.equal((await fdFloor([draws[0]], realLogits)).std, 0);
});

test('attune train v2a runs end to end at toy scale: run folder, metrics with every score; the run loads for t2a', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-v2a-'));
  try {
    assert.equal(await trainToyV2a(join(dir, 'run')), 'completed');
    const metrics = JSON.parse(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8'));
    for (const k of ['fd', 'kl', 'is', 'onsetF1', 'desync', 'classAcc', 'fdFloor', 'fdFloorStd'])
      assert.equal(typeof metrics.test[`test.${k}`], 'number', k);
    assert.ok(existsSync(join(dir, 'run', 'best.safetensors')));
    const model = loadV2aModel(join(dir, 'run'));
    assert.equal(model.seconds, 1);
    const sound = await generateSound(model, { prompt: 'a red circle bounces twice; zebra', steps: 2, griffinLim: 4 });
    assert.equal(sound.wave.length, 16000);
    assert.deepEqual(sound.unknownWords, ['zebra']);
    // the guidance interval reaches the sampler: guidance from t = 1 never guides, so it is CFG 1 exactly
    const ask = { prompt: 'a red circle bounces twice', steps: 2, griffinLim: 4, cfg: 4.5 };
    const never = await generateSound(model, { ...ask, guidanceFrom: 1 });
    const unguided = await generateSound(model, { ...ask, cfg: 1 });
    const always = await generateSound(model, { ...ask, guidanceFrom: 0 });
    assert.deepEqual(never.wave, unguided.wave);
    assert.notDeepEqual(always.wave, unguided.wave);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
