/**
 * Generated sync test media: a square in one corner of a 32 px picture changes brightness at each event and a noise
 * burst sounds with it, the sound moved by a known shift (positive = audio late). Events come at random intervals,
 * or every `period` frames exactly (a rhythmic clip: chopping, drumming), or not at all in the audio (`silent`).
 */
import { featuresFromArrays, SYNC_SAMPLE_RATE, type SyncFeatures } from '../../src/models/av_sync/features.js';
import { Rng } from '../../src/util/rng.js';

const SIZE = 32;

export function eventClip(
  seed: number,
  seconds: number,
  shift: number,
  opts: { silent?: boolean; period?: number } = {},
): SyncFeatures {
  const rng = new Rng(seed);
  const frames = seconds * 25;
  const events: number[] = [];
  for (let t = 10; t < frames - 10; t += opts.period ?? 8 + rng.int(20)) events.push(t);
  // A square in one corner changes brightness at each event and stays (one visual change per sound).
  const video: Uint8Array[] = [];
  let level = 40;
  for (let t = 0; t < frames; t++) {
    if (events.includes(t)) level = level === 40 ? 230 : 40;
    const frame = new Uint8Array(SIZE * SIZE).fill(40);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) frame[y * SIZE + x] = level;
    video.push(frame);
  }
  const audio = new Float32Array(seconds * SYNC_SAMPLE_RATE);
  for (let i = 0; i < audio.length; i++) audio[i] = 0.01 * (rng.uniform() - 0.5);
  if (!opts.silent) {
    for (const e of events) {
      const at = Math.round((e / 25 + shift) * SYNC_SAMPLE_RATE);
      for (let i = 0; i < 1600; i++)
        if (at + i >= 0 && at + i < audio.length) audio[at + i] += 0.6 * (rng.uniform() - 0.5) * Math.exp(-i / 400);
    }
  }
  return featuresFromArrays(audio, video, SIZE, SIZE, 1);
}
