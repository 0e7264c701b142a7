/**
 * v2a examples from AV-Synth: a clip rendered at 25 fps and 48 px (pooled to 24 x 24), its audio as normalized
 * log-mel frames, its caption as word ids, and the exact impact times for evaluation. Audio-text pairs are clips
 * whose video is never rendered (MMAudio's AudioCaps/WavCaps side of joint training): they always use the empty
 * visual and sync conditions.
 *
 *   frames  [Ts, P] uint8 at 25 fps --pick floor(i * 25 / 8)--> visual [Tv, P] in [0, 1]
 *                                   --f_t - f_{t-1}, x4-------> motion [Ts, P]
 *   audio   [N] @ 16 kHz --encodeAudio--> latent [Ta, 64]
 */
import {
  type SynthClip,
  type SynthEvent,
  generateClip,
  synthConfig,
  type SynthConfig,
} from '../../data/synth/index.js';
import { encodeAudio } from './audio.js';
import { FRAME_SIZE, PIXELS, type Sequence, SYNC_FPS, VISUAL_FPS } from './config.js';
import { tokenize, v2aCaption } from './text.js';

const RENDER_SIZE = FRAME_SIZE * 2;
/** Frame differences are small (objects move a few pixels per frame); x4 brings them near unit scale. */
const MOTION_GAIN = 4;

export interface V2aExample {
  id: string;
  frames: Uint8Array | null; // [Ts, P] pooled 25 fps frames; null for an audio-text pair
  latent: Float32Array; // [Ta, 64]
  audio: Float32Array; // [N] 16 kHz, the real sound (evaluation and reports)
  caption: string;
  text: number[]; // [L]
  textValid: number[]; // [L]
  events: SynthEvent[]; // impacts heard in [0, duration)
  classes: number[];
}

/** AV-Synth as v2a renders it: 25 fps (the sync rate), 48 px, 16 kHz, 8 classes, no audio offset. */
export function v2aSynthConfig(seconds: number, seed = 0): SynthConfig {
  return synthConfig({ seed, duration: seconds, fps: SYNC_FPS, size: RENDER_SIZE, sampleRate: 16000, classes: 8 });
}

/** 2 x 2 average pooling of [T, 2S, 2S, 3] RGB to [T, S*S*3]. */
export function poolFrames(video: Uint8Array, frames: number, size: number): Uint8Array {
  const s = size >> 1;
  const out = new Uint8Array(frames * s * s * 3);
  for (let t = 0; t < frames; t++) {
    const src = t * size * size * 3,
      dst = t * s * s * 3;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        for (let c = 0; c < 3; c++) {
          const at = (yy: number, xx: number): number => video[src + (yy * size + xx) * 3 + c];
          out[dst + (y * s + x) * 3 + c] =
            (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1) + 2) >> 2;
        }
      }
    }
  }
  return out;
}

export function exampleFromClip(clip: SynthClip, seq: Sequence, withVideo: boolean): V2aExample {
  const caption = v2aCaption(clip);
  const tokens = tokenize(caption, seq.text);
  return {
    id: clip.id,
    frames: withVideo ? poolFrames(clip.video, clip.frames, clip.width) : null,
    latent: encodeAudio(clip.audio, seq.latent),
    audio: clip.audio,
    caption,
    text: tokens.ids,
    textValid: tokens.valid,
    events: clip.audioEvents,
    classes: clip.classes,
  };
}

/** Clip `index` of the v2a AV-Synth dataset (video rendered only when `withVideo`). */
export function synthExample(index: number, seq: Sequence, seed: number, withVideo = true): V2aExample {
  return exampleFromClip(generateClip(v2aSynthConfig(seq.seconds, seed), index, { video: withVideo }), seq, withVideo);
}

/** Visual tokens' input: frames at 8 fps, [Tv * P] in [0, 1] (frame shown at i / 8 s). Zeros without frames. */
export function visualInput(
  frames: Uint8Array | null,
  seq: Sequence,
  out = new Float32Array(seq.visual * PIXELS),
  at = 0,
): Float32Array {
  if (!frames) return out;
  const available = frames.length / PIXELS;
  for (let i = 0; i < seq.visual; i++) {
    const f = Math.min(available - 1, Math.floor((i * SYNC_FPS) / VISUAL_FPS + 1e-9));
    for (let k = 0; k < PIXELS; k++) out[at + i * PIXELS + k] = frames[f * PIXELS + k] / 255;
  }
  return out;
}

/** Sync input: differences of consecutive 25 fps frames, [Ts * P] (frame 0's difference is 0). Zeros without frames. */
export function motionInput(
  frames: Uint8Array | null,
  seq: Sequence,
  out = new Float32Array(seq.sync * PIXELS),
  at = 0,
): Float32Array {
  if (!frames) return out;
  const available = frames.length / PIXELS;
  for (let i = 1; i < seq.sync; i++) {
    const f = Math.min(available - 1, i),
      prev = Math.min(available - 1, i - 1);
    for (let k = 0; k < PIXELS; k++)
      out[at + i * PIXELS + k] = ((frames[f * PIXELS + k] - frames[prev * PIXELS + k]) / 255) * MOTION_GAIN;
  }
  return out;
}
