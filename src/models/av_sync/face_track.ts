/**
 * A mouth-opening track for the lip cue: the clip's frames at 25 fps (RGB, long side FACE_SIDE px), the most
 * confident face blazeface finds (FaceTrackOptions.faces: more), followed from its own landmarks (facemesh), detecting again when
 * facemesh's face flag drops below 0.5 (a cutaway, a turn away), at most every REDETECT_EVERY frames (blazeface costs
 * four facemesh runs). Facemesh can run on several frames at a time (FaceTrackOptions.batch), all cropped around the
 * box of the last landmarks before the batch; it is off by default, like skipping the deblocking filter: on the
 * development talking heads each saved 2-3 % of the face path's CPU and cost 1-3 of 98 cases within one frame
 * (`attune bench sync-lips`), inside the noise but no gain. With several faces followed, each is redetected near
 * where it was last seen and the speaking one answers (speakingTrack: the mouth that co-varies most with the
 * speech, if the other talking faces agree on its lag); off by default, it gained nothing on the development clips
 * (docs/sync.md). Besides the opening, the track keeps each frame's lip shape
 * (lip_shape.ts) for the learned lip cue. Clips
 * where blazeface finds no face in PROBE_FRAMES frames spread over the clip (the first one included) get no track, at
 * the cost of those few detections; clips with less than MIN_SPEECH_SECONDS of speech (Silero VAD, media/vad.ts) get
 * none and cost no face tracking.
 */
import { iterateVideoFrames, planVideo } from '../../media/decode_video.js';
import { speechPerFrame, speechWindows } from '../../media/vad.js';
import { boxOfLandmarks, FaceMesh, meshCrop, mouthOpening, type FaceBox } from '../../media/face_mesh.js';
import { SYNC_RATE, SYNC_SAMPLE_RATE, type SyncFeatures } from './features.js';
import { featuresOfShifted, type DecodedSyncClip } from './decoded.js';
import { curveStats } from './lag_curve.js';
import { LIP_DIM, lipShape } from './lip_shape.js';
import { mouthCue, type MouthTrack } from './mouth_cue.js';

export const FACE_SIDE = 480;
const MIN_FLAG = 0.5;
const REDETECT_EVERY = 5;
const PROBE_FRAMES = 5;
/** Faces followed at most (each costs a facemesh run per frame). */
const MAX_FACES = 4;
/** Frames by which the speaking faces of one clip may disagree on the lag (speakingTrack). */
const AGREE_FRAMES = 2;
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
  /**
   * Faces followed (default 1, the most confident blazeface face). Above 1, the speaking face answers
   * (speakingTrack); not the default: on the development clips it gained nothing (docs/sync.md).
   */
  faces?: number;
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

/** One face followed through the clip: its track so far and the box to crop next (null when lost). */
class FaceFollower {
  readonly opening: Float32Array;
  readonly mask: Uint8Array;
  readonly lips: Float32Array;
  lastTry = -Infinity;
  pending: { index: number; crop: Float32Array; box: FaceBox }[] = [];

  constructor(
    frames: number,
    public box: FaceBox | null,
    /** Where the face was last seen: a redetection takes the box nearest to it. */
    public seen: FaceBox,
  ) {
    this.opening = new Float32Array(frames);
    this.mask = new Uint8Array(frames);
    this.lips = new Float32Array(frames * LIP_DIM);
  }

  async flush(mesh: FaceMesh): Promise<void> {
    if (!this.pending.length) return;
    const found = await mesh.landmarksOfCrops(this.pending);
    found.forEach((lm, k) => {
      if (lm.flag < MIN_FLAG) return;
      const t = this.pending[k].index;
      this.opening[t] = mouthOpening(lm.points);
      lipShape(lm.points, this.lips.subarray(t * LIP_DIM, (t + 1) * LIP_DIM));
      this.mask[t] = 1;
    });
    const last = found[found.length - 1];
    this.box = last.flag < MIN_FLAG ? null : boxOfLandmarks(last.points, last.flag);
    if (this.box) this.seen = this.box;
    this.pending = [];
  }

  track(): MouthTrack | undefined {
    const found = this.mask.reduce((n, m) => n + m, 0);
    return found >= SYNC_RATE ? { opening: this.opening, mask: this.mask, lips: this.lips } : undefined;
  }
}

const nearest = (to: FaceBox, boxes: FaceBox[]): FaceBox | null =>
  boxes
    .filter((b) => Math.hypot(b.cx - to.cx, b.cy - to.cy) < Math.max(b.size, to.size))
    .reduce<FaceBox | null>(
      (best, b) =>
        !best || Math.hypot(b.cx - to.cx, b.cy - to.cy) < Math.hypot(best.cx - to.cx, best.cy - to.cy) ? b : best,
      null,
    );

/**
 * How well a face's mouth co-varies with the clip's speech: the hand lip cue's peak over lags -2..+2 s (any lag:
 * the clip's offset is not known yet), against the clip's own audio, and the lag of that peak (frames).
 */
export function speakingScore(f: SyncFeatures, track: MouthTrack): { score: number; lag: number } {
  const cue = mouthCue(f, track, { lipNet: null });
  if (!cue) return { score: -Infinity, lag: 0 };
  const stats = curveStats(cue.curve, cue.mask);
  return { score: stats.peak, lag: stats.best };
}

/** The mouth tracks of every face followed in the clip (see mouthTrackOf); empty without speech or faces. */
export async function mouthTracksOf(clip: DecodedSyncClip, opts: FaceTrackOptions = {}): Promise<MouthTrack[]> {
  const v = clip.info.video;
  if (!v) return [];
  const frames = clip.planes.length;
  // Mouths are timed against speech: without it (music, a crying baby, engines) a moving mouth answers wrongly.
  if ((await speechSeconds(clip, frames)) < MIN_SPEECH_SECONDS) return [];
  const side = opts.side ?? FACE_SIDE;
  const batch = Math.max(1, opts.batch ?? 1);
  const maxFaces = Math.max(1, Math.min(MAX_FACES, opts.faces ?? 1));
  const mesh = await faceMesh();
  // The first probe is frame 0: a track that starts at a later probe loses the frames before it, which a shifted
  // short clip needs (GRID, 3 s, with audio 1.2 s late pairs its speech with the first 1.8 s of picture).
  const probes = new Set(Array.from({ length: PROBE_FRAMES }, (_, k) => Math.floor((k * frames) / PROBE_FRAMES)));
  let probed = 0;
  let faces: FaceFollower[] = [];
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
    if (!faces.length) {
      if (!probes.has(frame.index)) continue;
      probed++;
      // Every face of the first frame that has one is followed; the one whose mouth moves with the speech wins.
      faces = (await mesh.detectAll(img, 0.5, maxFaces)).map((b) => new FaceFollower(frames, b, b));
      if (!faces.length && probed >= PROBE_FRAMES) return [];
    }
    for (const face of faces) {
      if (!face.box && frame.index - face.lastTry >= REDETECT_EVERY) {
        face.lastTry = frame.index;
        const found = await mesh.detectAll(img, 0.5, maxFaces);
        // One face followed: whichever face is there now (a cutaway to another speaker is still speech).
        face.box = maxFaces === 1 ? (found[0] ?? null) : nearest(face.seen, found);
      }
      if (!face.box) continue;
      // Cropped now: the decoder may reuse the frame's buffer.
      face.pending.push({ index: frame.index, crop: meshCrop(img, face.box), box: face.box });
      if (face.pending.length >= batch) await face.flush(mesh);
    }
  }
  for (const face of faces) await face.flush(mesh);
  return faces.map((face) => face.track()).filter((t): t is MouthTrack => t !== undefined);
}

export async function mouthTrackOf(
  clip: DecodedSyncClip,
  opts: FaceTrackOptions = {},
): Promise<MouthTrack | undefined> {
  return speakingTrack(clip, await mouthTracksOf(clip, opts));
}

/**
 * Of several faces' tracks, the one whose mouth co-varies most with the clip's speech (speakingScore), unless
 * another face that co-varies at least half as well puts the speech at a lag more than AGREE_FRAMES away: two
 * talkers of one soundtrack share its offset, so faces that disagree (a split-screen panel of remote feeds, each with
 * its own delay; a face that only seems to talk) leave the clip without a lip cue rather than with a guess. On the
 * development panel clip the best face was +13 frames off the assumed truth and another -23 at every shift,
 * confidently wrong before this rule.
 */
export function speakingTrack(clip: DecodedSyncClip, tracks: MouthTrack[]): MouthTrack | undefined {
  return tracks.length <= 1 ? tracks[0] : speakingFace(featuresOfShifted(clip, 0), tracks);
}

/** speakingTrack on the clip's features. */
export function speakingFace(f: SyncFeatures, tracks: MouthTrack[]): MouthTrack | undefined {
  if (tracks.length <= 1) return tracks[0];
  const faces = tracks.map((t) => speakingScore(f, t));
  const top = faces.reduce((b, x, i) => (x.score > faces[b].score ? i : b), 0);
  const rivals = faces.filter((x) => x.score >= 0.5 * faces[top].score);
  if (rivals.some((x) => Math.abs(x.lag - faces[top].lag) > AGREE_FRAMES)) return undefined;
  return tracks[top];
}
