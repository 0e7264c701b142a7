/**
 * A mouth-opening track for the lip cue: the clip's frames at 25 fps (RGB, long side FACE_SIDE px), the most
 * confident face found by blazeface, then followed from its own landmarks (facemesh), detecting again when
 * facemesh's face flag drops below 0.5 (a cutaway, a turn away), at most every REDETECT_EVERY frames (blazeface costs
 * four facemesh runs). Facemesh can run on several frames at a time (FaceTrackOptions.batch), all cropped around the
 * box of the last landmarks before the batch; it is off by default, like skipping the deblocking filter: on the
 * development talking heads each saved 2-3 % of the face path's CPU and cost 1-3 of 98 cases within one frame
 * (`attune bench sync-lips`), inside the noise but no gain. One face per clip. Clips
 * where blazeface finds no face in PROBE_FRAMES frames spread over the clip (the first one included) get no track, at
 * the cost of those few detections; clips with less than MIN_SPEECH_SECONDS of speech (Silero VAD, media/vad.ts) get
 * none and cost no face tracking.
 */
import { iterateVideoFrames, planVideo } from '../../media/decode_video.js';
import { speechPerFrame, speechWindows } from '../../media/vad.js';
import { boxOfLandmarks, FaceMesh, meshCrop, mouthOpening, type FaceBox } from '../../media/face_mesh.js';
import { SYNC_RATE, SYNC_SAMPLE_RATE } from './features.js';
import type { DecodedSyncClip } from './decoded.js';
import { LIP_DIM, lipShape } from './lip_shape.js';
import type { MouthTrack } from './mouth_cue.js';

export const FACE_SIDE = 480;
const MIN_FLAG = 0.5;
const REDETECT_EVERY = 5;
const PROBE_FRAMES = 5;
/** Seconds of speech (Silero VAD P > 0.5) below which a clip gets no lip cue and no face tracking. */
export const MIN_SPEECH_SECONDS = 1;

/** Speed settings of the face path (the defaults are the shipped ones; the bench measures the others). */
export interface FaceTrackOptions {
  /** Frames per facemesh run (default 1: each crop from the previous frame's landmarks). */
  batch?: number;
  /** Long side of the decoded frames in pixels. */
  side?: number;
  /** Skip H.264/HEVC deblocking in the face decode (default false). */
  skipLoopFilter?: boolean;
}

let shared: Promise<FaceMesh> | null = null;

/** The face models, converted and loaded once per process. */
export function faceMesh(): Promise<FaceMesh> {
  shared ??= FaceMesh.load();
  return shared;
}

async function speechSeconds(clip: DecodedSyncClip, frames: number): Promise<number> {
  const p = speechPerFrame(await speechWindows(clip.samples, SYNC_SAMPLE_RATE), SYNC_RATE, frames);
  return p.reduce((n, x) => n + (x > 0.5 ? 1 : 0), 0) / SYNC_RATE;
}

export async function mouthTrackOf(
  clip: DecodedSyncClip,
  opts: FaceTrackOptions = {},
): Promise<MouthTrack | undefined> {
  const v = clip.info.video;
  if (!v) return undefined;
  const frames = clip.planes.length;
  // Mouths are timed against speech: without it (music, a crying baby, engines) a moving mouth answers wrongly.
  if ((await speechSeconds(clip, frames)) < MIN_SPEECH_SECONDS) return undefined;
  const side = opts.side ?? FACE_SIDE;
  const batch = Math.max(1, opts.batch ?? 1);
  const mesh = await faceMesh();
  const opening = new Float32Array(frames);
  const mask = new Uint8Array(frames);
  const lips = new Float32Array(frames * LIP_DIM);
  let box: FaceBox | null = null;
  let lastTry = -Infinity;
  // The first probe is frame 0: a track that starts at a later probe loses the frames before it, which a shifted
  // short clip needs (GRID, 3 s, with audio 1.2 s late pairs its speech with the first 1.8 s of picture).
  const probes = new Set(Array.from({ length: PROBE_FRAMES }, (_, k) => Math.floor((k * frames) / PROBE_FRAMES)));
  let probed = 0;
  let anyFace = false;
  let pending: { index: number; crop: Float32Array; box: FaceBox }[] = [];
  const flush = async (): Promise<void> => {
    if (!pending.length) return;
    const found = await mesh.landmarksOfCrops(pending);
    found.forEach((lm, k) => {
      if (lm.flag < MIN_FLAG) return;
      opening[pending[k].index] = mouthOpening(lm.points);
      lipShape(lm.points, lips.subarray(pending[k].index * LIP_DIM, (pending[k].index + 1) * LIP_DIM));
      mask[pending[k].index] = 1;
    });
    const last = found[found.length - 1];
    box = last.flag < MIN_FLAG ? null : boxOfLandmarks(last.points, last.flag);
    pending = [];
  };
  const decode = {
    start: clip.start,
    duration: frames / SYNC_RATE,
    fps: SYNC_RATE,
    info: clip.info,
    pixelFormat: 'rgb' as const,
    skipLoopFilter: opts.skipLoopFilter ?? false,
    ...(v.width >= v.height ? { width: Math.min(side, v.width) } : { height: Math.min(side, v.height) }),
  };
  const { timeline } = await planVideo(clip.path, decode);
  for await (const frame of iterateVideoFrames(clip.path, decode)) {
    if (frame.index >= frames) break;
    const img = { data: frame.data, width: timeline.width, height: timeline.height };
    if (!anyFace && !probes.has(frame.index)) continue;
    if (!box && (probes.has(frame.index) || frame.index - lastTry >= REDETECT_EVERY)) {
      lastTry = frame.index;
      box = await mesh.detect(img);
      if (probes.has(frame.index)) probed++;
      anyFace ||= box !== null;
    }
    if (!anyFace && probed >= PROBE_FRAMES) return undefined;
    if (!box) continue;
    // Cropped now: the decoder may reuse the frame's buffer.
    pending.push({ index: frame.index, crop: meshCrop(img, box), box });
    if (pending.length >= batch) await flush();
  }
  await flush();
  let found = 0;
  for (const m of mask) found += m;
  return found >= SYNC_RATE ? { opening, mask, lips } : undefined;
}
