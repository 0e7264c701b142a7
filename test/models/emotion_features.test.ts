/**
 * The emotion model's audio inputs: log f0 pooled over voiced frames only (a partly voiced frame keeps its pitch),
 * and the utterance functionals (voiced log f0 mean / std / percentiles, energy, voiced fraction, duration).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUDIO_DIM, N_MELS, UTTERANCE_DIM, UTTERANCE_FEATURES } from '../../src/models/emotion/config.js';
import { audioFrames, utteranceFunctionals } from '../../src/models/emotion/features.js';

const logPitch = (hz: number) => Math.log(hz / 150) / 0.25;
const feature = (u: Float32Array, name: (typeof UTTERANCE_FEATURES)[number]) => u[UTTERANCE_FEATURES.indexOf(name)];

test('utterance functionals: percentiles and means over voiced frames only, on a hand-built prosody track', () => {
  // 10 frames at 100 Hz: f0 100, 110, ..., 190 Hz on even frames, unvoiced (0) on odd ones; energy -20 dB.
  const frames = 20;
  const prosody = new Float32Array(frames * 3);
  for (let t = 0; t < frames; t++) prosody.set([t % 2 ? 0 : 100 + 5 * t, -20, t % 2 ? 0.1 : 0.9], 3 * t);
  const u = utteranceFunctionals(prosody, frames);
  assert.equal(u.length, UTTERANCE_DIM);
  const voiced = Array.from({ length: 10 }, (_, i) => logPitch(100 + 10 * i));
  const mean = voiced.reduce((a, b) => a + b, 0) / voiced.length;
  assert.ok(Math.abs(feature(u, 'f0_mean') - mean) < 1e-5);
  assert.ok(Math.abs(feature(u, 'f0_p10') - voiced[1]) < 1e-5, 'p10 = the 2nd of 10 sorted voiced values');
  assert.ok(Math.abs(feature(u, 'f0_p90') - voiced[8]) < 1e-5, 'p90 = the 9th');
  assert.equal(feature(u, 'voiced_fraction'), 0.5);
  assert.ok(Math.abs(feature(u, 'energy_mean') - 1) < 1e-6, '(-20 + 30) / 10');
  assert.equal(feature(u, 'energy_std'), 0);
  assert.ok(Math.abs(feature(u, 'seconds') - 0.05) < 1e-6, '0.2 s / 4');
  const silent = utteranceFunctionals(new Float32Array(30), 10);
  assert.equal(feature(silent, 'f0_p90'), 0, 'no voiced frame: pitch functionals are 0, not NaN');
});

test('pooled log f0 is the voiced frames’ mean: a 200 Hz tone that stops mid-frame keeps 200 Hz', () => {
  const sr = 16000;
  const samples = new Float32Array(sr); // 1 s: 200 Hz tone for the first 0.5 s + 10 ms, then silence
  for (let i = 0; i < 0.51 * sr; i++) samples[i] = 0.5 * Math.sin((2 * Math.PI * 200 * i) / sr);
  const { data, frames, utterance } = audioFrames(samples, sr);
  assert.equal(frames, 25);
  const f0 = Array.from({ length: frames }, (_, f) => data[f * AUDIO_DIM + N_MELS]);
  const voicedFrames = f0.filter((v) => v !== 0);
  assert.ok(voicedFrames.length >= 12, `voiced frames ${voicedFrames.length}`);
  for (const v of voicedFrames) assert.ok(Math.abs(v - logPitch(200)) < 0.05, `pooled log f0 ${v} vs ${logPitch(200)}`);
  assert.ok(Math.abs(feature(utterance, 'f0_p90') - logPitch(200)) < 0.05);
  const fraction = feature(utterance, 'voiced_fraction');
  assert.ok(fraction > 0.4 && fraction < 0.6, `voiced fraction ${fraction}`);
});
