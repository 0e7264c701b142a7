import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logMel, mfcc, onsetEnvelope, pickPeaks, rmsEnergy } from '../../src/media/audio_features.js';
import { AUDIO_PRESETS } from '../../src/media/presets.js';
import { naiveDft, RealFft } from '../../src/media/fft.js';
import { dctMatrix, hzToMel, melFilterBank, melToHz } from '../../src/media/mel.js';
import { yin } from '../../src/media/pitch.js';
import { makeWindow, stft } from '../../src/media/stft.js';
import { InputError, NumericError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

function sine(freq: number, seconds: number, sr: number, amp = 0.5): Float32Array {
  const x = new Float32Array(Math.round(seconds * sr));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / sr);
  return x;
}

function argmax(a: ArrayLike<number>, from = 0, to = a.length): number {
  let best = from;
  for (let i = from; i < to; i++) if (a[i] > a[best]) best = i;
  return best;
}

test('real FFT matches a naive DFT for random input (sizes 8..1024) and inverts exactly', () => {
  const rng = new Rng(1);
  for (const n of [8, 64, 512, 1024]) {
    const x = Float64Array.from({ length: n }, () => rng.normal());
    const fft = new RealFft(n);
    const re = new Float64Array(fft.bins);
    const im = new Float64Array(fft.bins);
    fft.forward(x, re, im);
    const ref = naiveDft(x);
    for (let k = 0; k < fft.bins; k++) {
      assert.ok(Math.abs(re[k] - ref.re[k]) < 1e-8 * n, `n=${n} re[${k}]`);
      assert.ok(Math.abs(im[k] - ref.im[k]) < 1e-8 * n, `n=${n} im[${k}]`);
    }
    const back = new Float64Array(n);
    fft.inverse(re, im, back);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(back[i] - x[i]) < 1e-12, `n=${n} inverse[${i}]`);
  }
  assert.throws(() => new RealFft(1000), /power of two/);
});

test('Parseval: sum |x|^2 = (|X0|^2 + 2 sum |Xk|^2 + |X_N/2|^2) / N', () => {
  const rng = new Rng(2);
  const n = 256;
  const x = Float32Array.from({ length: n }, () => rng.normal());
  const p = new Float64Array(n / 2 + 1);
  new RealFft(n).power(x, p);
  let time = 0;
  for (const v of x) time += v * v;
  let freq = p[0] + p[n / 2];
  for (let k = 1; k < n / 2; k++) freq += 2 * p[k];
  assert.ok(Math.abs(time - freq / n) < 1e-6 * time);
});

test('STFT of a sine peaks at bin f * nFft / sr; frame counts follow the padding mode', () => {
  const sr = 16000;
  const x = sine(1000, 1, sr);
  const s = stft(x, { nFft: 1024, hop: 256, pad: 'center' });
  assert.equal(s.frames, 1 + Math.floor(16000 / 256));
  assert.equal(s.bins, 513);
  assert.equal(argmax(s.data.subarray(10 * 513, 11 * 513)), 64); // 1000 * 1024 / 16000
  assert.equal(stft(x, { nFft: 1024, hop: 256, pad: 'bigvgan' }).frames, Math.floor(16000 / 256));
  assert.equal(stft(x, { nFft: 1024, hop: 256, pad: 'none' }).frames, 1 + Math.floor((16000 - 1024) / 256));
  assert.equal(stft(x, { nFft: 512, winLength: 400, hop: 160, pad: 'end' }).frames, 1 + Math.ceil((16000 - 400) / 160));
  // A periodic Hann window sums (overlap-add at hop n/4) to a constant 2.
  const w = makeWindow('hann', 1024);
  for (let i = 0; i < 256; i++) assert.ok(Math.abs(w[i] + w[i + 256] + w[i + 512] + w[i + 768] - 2) < 1e-12);
});

test('mel scales: HTK and Slaney formulas, round trips, and Slaney filters have area 1 per Hz-normalized width', () => {
  assert.ok(Math.abs(hzToMel(1000, 'htk') - 2595 * Math.log10(1 + 1000 / 700)) < 1e-9);
  assert.ok(Math.abs(hzToMel(1000, 'slaney') - 15) < 1e-9);
  assert.ok(Math.abs(hzToMel(500, 'slaney') - 7.5) < 1e-9);
  assert.ok(Math.abs(hzToMel(6400, 'slaney') - 42) < 1e-9);
  for (const f of [50, 440, 1000, 3000, 8000]) {
    for (const s of ['htk', 'slaney'] as const) assert.ok(Math.abs(melToHz(hzToMel(f, s), s) - f) < 1e-6);
  }
  const fb = melFilterBank({ sampleRate: 16000, nFft: 1024, nMels: 80, fMax: 8000, scale: 'slaney', norm: 'slaney' });
  assert.equal(fb.weights.length, 80);
  // Area of triangle m in Hz (sum of weights * bin width) is 1 for slaney norm.
  const binHz = 16000 / 1024;
  for (const m of [10, 40, 79]) {
    let area = 0;
    for (const w of fb.weights[m]) area += w * binHz;
    assert.ok(Math.abs(area - 1) < 0.05, `mel ${m} area ${area}`);
  }
  const htk = melFilterBank({ sampleRate: 16000, nFft: 512, nMels: 26, scale: 'htk', norm: 'none' });
  assert.ok(Math.max(...htk.weights[13]) <= 1 && Math.max(...htk.weights[13]) > 0.8);
  // Centers increase and stay within range.
  for (let m = 1; m < fb.nMels; m++) assert.ok(fb.centers[m] > fb.centers[m - 1]);
});

test('log-mel presets: a 1 kHz sine lights the mel band whose center is nearest 1 kHz; rates and starts', () => {
  const sr = 16000;
  const x = sine(1000, 2, sr);
  for (const name of ['mmaudio16k', 'panns'] as const) {
    const cfg = AUDIO_PRESETS[name];
    const lm = logMel(x, cfg);
    const fb = melFilterBank({ ...cfg });
    const expect = argmax(Array.from(fb.centers, (c) => -Math.abs(c - 1000)));
    const mid = Math.floor(lm.frames / 2);
    const peak = argmax(lm.data.subarray(mid * lm.dim, (mid + 1) * lm.dim));
    assert.ok(Math.abs(peak - expect) <= 1, `${name}: peak band ${peak}, expected ~${expect}`);
    assert.equal(lm.rate, sr / cfg.hop);
  }
  const mm = logMel(x, AUDIO_PRESETS.mmaudio16k);
  assert.equal(mm.frames, (2 * 16000) / 256); // floor(N / hop): 8 s -> 500 frames -> 250 latents in MMAudio
  assert.equal(mm.start, 0);
  const pn = logMel(x, AUDIO_PRESETS.panns);
  assert.equal(pn.frames, 1 + 2 * 100);
  assert.ok(Math.abs(pn.start + 0.005) < 1e-12); // centerd frames: frame 0 covers [-5 ms, 5 ms)
});

test('a chirp moves the peak mel band upward over time', () => {
  const sr = 16000;
  const n = sr * 2;
  const x = new Float32Array(n);
  // f(t) = 200 + 1800 t (Hz), phase = 2 pi (200 t + 900 t^2)
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    x[i] = 0.5 * Math.sin(2 * Math.PI * (200 * t + 900 * t * t));
  }
  const lm = logMel(x, AUDIO_PRESETS.panns);
  let prev = -1;
  let rises = 0;
  for (let t = 10; t < lm.frames - 10; t += 20) {
    const p = argmax(lm.data.subarray(t * lm.dim, (t + 1) * lm.dim));
    if (p > prev) rises++;
    assert.ok(p >= prev, `peak band fell at frame ${t}`);
    prev = p;
  }
  assert.ok(rises >= 7);
});

test('MFCC: DCT-II is orthonormal, and a constant log-mel frame gives energy only in c0', () => {
  const D = dctMatrix(26, 26);
  for (let a = 0; a < 26; a++) {
    for (let b = 0; b < 26; b++) {
      let dot = 0;
      for (let n = 0; n < 26; n++) dot += D[a * 26 + n] * D[b * 26 + n];
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-12);
    }
  }
  const cfg = AUDIO_PRESETS.syncnetMfcc;
  const rng = new Rng(3);
  const noise = Float32Array.from({ length: 16000 }, () => 0.1 * rng.normal());
  const m = mfcc(noise, cfg);
  assert.equal(m.dim, 13);
  assert.equal(m.rate, 100);
  assert.equal(m.frames, 1 + Math.ceil((16000 - 400) / 160));
  assert.ok(m.data.every(Number.isFinite));
  const plain = mfcc(noise, { ...cfg, lifter: 0, energyC0: false });
  const lm = logMel(noise, cfg);
  // c0 = sqrt(1/M) * sum of the log-mel frame.
  let sum = 0;
  for (let i = 0; i < lm.dim; i++) sum += lm.data[5 * lm.dim + i];
  assert.ok(Math.abs(plain.data[5 * 13] - sum / Math.sqrt(lm.dim)) < 1e-3);
});

test('RMS energy of a sine is amp / sqrt(2); onsets of clicks are found at their times', () => {
  const sr = 16000;
  const r = rmsEnergy(sine(440, 1, sr, 0.8), { sampleRate: sr, frameLength: 1024, hop: 256 });
  assert.ok(Math.abs(r.data[20] - 0.8 / Math.SQRT2) < 0.01);
  const x = new Float32Array(sr * 3);
  const clicks = [0.5, 1.25, 2.0, 2.6];
  const rng = new Rng(4);
  for (const c of clicks) {
    const at = Math.round(c * sr);
    // A short decaying noise burst.
    for (let i = 0; i < 400; i++) x[at + i] = 0.8 * Math.exp(-i / 80) * rng.normal();
  }
  const env = onsetEnvelope(x, AUDIO_PRESETS.panns);
  const found = pickPeaks(env, 0.3, 5);
  assert.equal(found.length, clicks.length, `found ${found.join(', ')}`);
  found.forEach((t, i) => assert.ok(Math.abs(t - clicks[i]) < 0.02, `onset ${t} vs ${clicks[i]}`));
});

test('YIN finds the f0 of a harmonic tone and marks silence unvoiced', () => {
  const sr = 16000;
  const f0 = 220;
  const x = new Float32Array(sr);
  for (let i = 0; i < sr; i++) {
    const t = i / sr;
    x[i] =
      0.5 * Math.sin(2 * Math.PI * f0 * t) +
      0.3 * Math.sin(2 * Math.PI * 2 * f0 * t) +
      0.2 * Math.sin(2 * Math.PI * 3 * f0 * t);
  }
  const p = yin(x, { sampleRate: sr });
  assert.equal(p.dim, 2);
  assert.equal(p.rate, 100);
  for (let t = 5; t < p.frames - 5; t++) assert.ok(Math.abs(p.data[2 * t] - f0) < 1, `frame ${t}: ${p.data[2 * t]} Hz`);
  const silent = yin(new Float32Array(8000), { sampleRate: sr });
  assert.ok(Array.from({ length: silent.frames }, (_, t) => silent.data[2 * t]).every((f) => f === 0));
  const high = yin(sine(587.33, 0.5, sr), { sampleRate: sr });
  assert.ok(Math.abs(high.data[2 * 20] - 587.33) < 2);
});

test('empty signals and NaN samples are rejected with typed errors', () => {
  assert.throws(
    () => logMel(new Float32Array(0), AUDIO_PRESETS.mmaudio16k),
    (e: unknown) => e instanceof InputError && /zero samples/.test(e.message),
  );
  assert.throws(() => yin(new Float32Array(0), { sampleRate: 16000 }), /YIN: empty signal/);
  const x = new Float32Array(4000);
  x[1234] = Number.NaN;
  assert.throws(
    () => logMel(x, AUDIO_PRESETS.panns),
    (e: unknown) => e instanceof NumericError && /non-finite sample \(NaN\) at index 1234/.test(e.message),
  );
  x[1234] = Number.POSITIVE_INFINITY;
  assert.throws(() => yin(x, { sampleRate: 16000 }), /YIN: signal has a non-finite sample \(Infinity\) at index 1234/);
  assert.throws(() => rmsEnergy(x, { sampleRate: 16000, frameLength: 400, hop: 160 }), NumericError);
});
