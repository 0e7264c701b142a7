import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEL_MEAN, MEL_STD, decodeAudio, encodeAudio, logMel10 } from '../../src/models/v2a/audio.js';
import { sequence } from '../../src/models/v2a/config.js';
import { poolFrames, synthExample, v2aSynthConfig } from '../../src/models/v2a/data.js';
import { generateClip } from '../../src/data/synth/index.js';
import { InputError } from '../../src/util/errors.js';
import { onsetF1 } from '../../src/metrics/generation.js';
import { onsetTimes } from '../../src/models/v2a/evaluate.js';
import { flashOnsets } from '../../src/models/v2a/probe.js';

test('the normalization constants still fit AV-Synth (mean within 0.1, std within 20 %)', () => {
  let s = 0,
    s2 = 0,
    n = 0;
  for (let i = 0; i < 6; i++) {
    const clip = generateClip(v2aSynthConfig(8), i, { video: false });
    for (const v of logMel10(clip.audio, 250)) {
      s += v;
      s2 += v * v;
      n++;
    }
  }
  const mean = s / n,
    std = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean - MEL_MEAN) < 0.1, `mean ${mean}`);
  assert.ok(Math.abs(std / MEL_STD - 1) < 0.2, `std ${std}`);
});

test('decode -> encode returns the log-mel frames (mel -> NNLS -> Griffin-Lim loses < 0.07 log10 units on average)', () => {
  const clip = generateClip(v2aSynthConfig(2), 3, { video: false });
  const z = encodeAudio(clip.audio, 62);
  const wave = decodeAudio(z, 62, { iterations: 24 });
  assert.equal(wave.length, 62 * 512);
  const back = encodeAudio(wave, 62);
  let err = 0;
  for (let i = 0; i < z.length; i++) err += Math.abs(z[i] - back[i]) * MEL_STD;
  assert.ok(err / z.length < 0.07, `mean |d log10 mel| = ${err / z.length}`);
  assert.ok(wave.every((v) => v >= -1 && v <= 1));
  assert.throws(() => decodeAudio(new Float32Array(10), 2), InputError);
});

test('pooled frames: 2 x 2 means; examples carry latent, frames and impact times', () => {
  const video = Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => i);
  const pooled = poolFrames(video, 1, 4);
  assert.equal(pooled.length, 2 * 2 * 3);
  assert.equal(pooled[0], Math.round((0 + 3 + 12 + 15) / 4));
  const seq = sequence(2);
  const e = synthExample(0, seq, 0, true);
  assert.equal(e.latent.length, seq.latent * 64);
  assert.equal(e.frames!.length, 50 * 24 * 24 * 3);
  assert.ok(e.events.every((ev) => ev.time >= 0 && ev.time < 2));
  assert.equal(synthExample(0, seq, 0, false).frames, null);
});

test('decoded real audio keeps its onsets and has no clipped clicks (the tail spike and the hop-512 ripple)', () => {
  const seq = sequence(2);
  let f1 = 0;
  for (const index of [0, 1, 2]) {
    const e = synthExample(index, seq, 0, false);
    const wave = decodeAudio(e.latent, seq.latent, { length: e.audio.length });
    f1 +=
      onsetF1(
        onsetTimes(wave),
        e.events.map((ev) => ev.time),
      ).f1 / 3;
    const clipped = wave.filter((v) => Math.abs(v) >= 0.999).length;
    assert.ok(clipped < 20, `clip ${index}: ${clipped} samples at full scale`);
  }
  assert.ok(f1 >= 0.85, `onset F1 of decoded real audio ${f1}`);
});

test('the onset probe finds the impacts in the 25 fps frames (flashes), and none in a still picture', () => {
  const seq = sequence(2);
  let f1 = 0;
  for (const index of [0, 1, 2]) {
    const e = synthExample(index, seq, 0, true);
    f1 +=
      onsetF1(
        flashOnsets(e.frames!, seq.sync),
        e.events.map((ev) => ev.time),
      ).f1 / 3;
  }
  assert.ok(f1 >= 0.6, `flash onset F1 ${f1}`);
  const still = synthExample(0, seq, 0, true).frames!.slice(0, 24 * 24 * 3);
  const repeated = new Uint8Array(still.length * seq.sync);
  for (let t = 0; t < seq.sync; t++) repeated.set(still, t * still.length);
  assert.deepEqual(flashOnsets(repeated, seq.sync), []);
});
