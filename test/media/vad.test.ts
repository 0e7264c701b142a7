/**
 * Silero VAD (media/vad.ts) on generated audio: a sentence spoken by espeak-ng between stretches of silence and a
 * steady tone; speech found where it was spoken and not elsewhere; the frame averaging; a wrong rate refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Espeak } from '../../src/data/emospeech/espeak.js';
import { speechPerFrame, speechWindows } from '../../src/media/vad.js';
import { InputError } from '../../src/util/errors.js';

const RATE = 16000;

/** Linear resampling to 16 kHz (enough for a detector). */
function to16k(x: Float32Array, rate: number): Float32Array {
  const out = new Float32Array(Math.floor((x.length * RATE) / rate));
  for (let i = 0; i < out.length; i++) {
    const u = (i * rate) / RATE,
      k = Math.floor(u),
      f = u - k;
    out[i] = (1 - f) * x[k] + f * (x[Math.min(k + 1, x.length - 1)] ?? 0);
  }
  return out;
}

test('Silero VAD finds a spoken sentence and not the silence and the tone around it', async () => {
  const es = await Espeak.create();
  const u = es.speak('The quick brown fox jumps over the lazy dog near the river bank.', {
    voice: 'en-us',
    variant: 'f3',
    pitch: 50,
    range: 50,
    rate: 170,
    volume: 100,
  });
  const speech = to16k(u.samples, u.sampleRate);
  const gap = 2 * RATE;
  const audio = new Float32Array(gap + speech.length + gap);
  audio.set(speech, gap);
  for (let i = gap + speech.length; i < audio.length; i++) audio[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / RATE);
  const frames = Math.floor(audio.length / 640);
  const p = speechPerFrame(await speechWindows(audio), 25, frames);
  const mean = (a: number, b: number) => p.subarray(a, b).reduce((s, x) => s + x, 0) / (b - a);
  const start = Math.ceil((gap / RATE) * 25),
    end = Math.floor(((gap + speech.length) / RATE) * 25);
  assert.ok(mean(start, end) > 0.6, `speech part: mean P ${mean(start, end)}`);
  assert.ok(mean(0, start - 5) < 0.2, `silence before: mean P ${mean(0, start - 5)}`);
  assert.ok(mean(end + 10, frames) < 0.2, `tone after: mean P ${mean(end + 10, frames)}`);
});

test('speechPerFrame averages the 32 ms windows that overlap each frame, by overlap', () => {
  const w = Float32Array.from([1, 0, 1, 0]); // 0-32, 32-64, 64-96, 96-128 ms
  const p = speechPerFrame(w, 25, 4); // 0-40, 40-80, 80-120, 120-160 ms
  assert.ok(
    Math.abs(p[0] - 32 / 40) < 1e-6 && Math.abs(p[1] - 16 / 40) < 1e-6 && Math.abs(p[2] - 16 / 40) < 1e-6,
    Array.from(p).join(' '),
  );
  assert.ok(Math.abs(p[3] - 0) < 1e-6 && p.length === 4);
});

test('speech detection refuses audio that is not 16 kHz', async () => {
  await assert.rejects(speechWindows(new Float32Array(4800), 48000), InputError);
});
