/** Shared fixtures of the FAVOR tests: random clips in the layout the model reads. */
import { AUDIO_PER_FRAME, FRAME_VALUES, MEL_BANDS } from '../../src/models/favor/config.js';
import type { ClipStreams } from '../../src/models/favor/data.js';
import { Rng } from '../../src/util/rng.js';

/** `frames` frames of uniform pixels in [0, 1] and log-mel in [-1, 1], seeded. */
export function randomClip(frames: number, seed: number): ClipStreams {
  const rng = new Rng(seed);
  const video = Float32Array.from({ length: frames * FRAME_VALUES }, () => rng.uniform());
  const audio = Float32Array.from({ length: frames * AUDIO_PER_FRAME * MEL_BANDS }, () => rng.uniform() * 2 - 1);
  return { frames, video, audio };
}
