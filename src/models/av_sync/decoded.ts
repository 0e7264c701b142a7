/**
 * A clip decoded once for sync analysis, kept in memory so the audio can be moved by any amount without decoding
 * again: the real-clip evaluation measures each clip at seven known shifts, and --fix verification and the timeline
 * reuse the same decode. The audio of a shifted copy is what `ffmpeg -itsoffset` would give: silence (masked out)
 * where the moved audio no longer covers the picture.
 */
import { decodeAudio } from '../../media/decode_audio.js';
import { probe, type MediaInfo } from '../../media/probe.js';
import {
  EDGE_GUARD,
  MotionFrontEnd,
  SYNC_RATE,
  SYNC_SAMPLE_RATE,
  audioFrontEnd,
  combine,
  decodeLumaPlanes,
  type SyncFeatures,
} from './features.js';

export interface DecodedSyncClip {
  path: string;
  info: MediaInfo;
  /** Seconds on the file clock of frame 0 / sample 0. */
  start: number;
  /** 25 fps luma planes (64 x 64). */
  planes: Float32Array[];
  /** 16 kHz mono samples from `start`, silence where the file has no audio. */
  samples: Float32Array;
  /** File-clock span the audio stream really covers (null when the file has no audio). */
  audioSpan: [number, number] | null;
}

export async function decodeSyncClip(
  path: string,
  opts: { start?: number; duration?: number; info?: MediaInfo } = {},
): Promise<DecodedSyncClip> {
  const info = opts.info ?? (await probe(path, { scanPackets: 0 }));
  const range = { start: opts.start, duration: opts.duration };
  const planes: Float32Array[] = [];
  const videoJob = decodeLumaPlanes(path, { ...range, info }, (p) => planes.push(p));
  const audioJob = info.audio
    ? decodeAudio(path, { ...range, sampleRate: SYNC_SAMPLE_RATE, info })
    : Promise.resolve(null);
  const [, audio] = await Promise.all([videoJob, audioJob]);
  const samples = audio ? audio.data.slice(0, audio.length) : new Float32Array(0);
  const a = info.audio;
  const audioSpan: [number, number] | null = a
    ? [a.startTime, a.duration !== null ? a.startTime + a.duration : info.duration]
    : null;
  return { path, info, start: opts.start ?? 0, planes, samples, audioSpan };
}

/** Samples moved by `shift` seconds (positive = later), zero where nothing moved in. */
export function shiftSamples(samples: Float32Array, shift: number, rate = SYNC_SAMPLE_RATE): Float32Array {
  const n = Math.round(shift * rate);
  const out = new Float32Array(samples.length);
  if (n >= 0) out.set(samples.subarray(0, Math.max(0, samples.length - n)), Math.min(n, samples.length));
  else out.set(samples.subarray(Math.min(-n, samples.length)));
  return out;
}

/** Sync features of the clip with its audio moved by `shift` seconds (positive = audio later than in the file). */
export function featuresOfShifted(clip: DecodedSyncClip, shift = 0): SyncFeatures {
  const frames = clip.planes.length;
  const motion = new MotionFrontEnd();
  for (const p of clip.planes) motion.push(p);
  const samples = shift === 0 ? clip.samples : shiftSamples(clip.samples, shift);
  const feats = combine(audioFrontEnd(samples, SYNC_SAMPLE_RATE, frames), motion.finish(frames), frames);
  if (!clip.audioSpan) {
    feats.mask.fill(0);
    feats.audioMask?.fill(0);
    return feats;
  }
  // Where the moved audio does not cover the picture the decoder's silence would make false onsets at its edges.
  const a0 = clip.audioSpan[0] + shift + EDGE_GUARD;
  const a1 = clip.audioSpan[1] + shift - EDGE_GUARD;
  for (let t = 0; t < frames; t++) {
    const c = clip.start + (t + 0.5) / SYNC_RATE;
    if (c >= a0 && c <= a1) continue;
    feats.mask[t] = 0;
    if (feats.audioMask) feats.audioMask[t] = 0;
  }
  return feats;
}
