import { InputError, MediaError } from '../util/errors.js';
import { ffmpegThreadArgs, threadCap } from '../util/threads.js';
import { ffFile, stderrTail } from './ffmpeg.js';
import { cliRecords, decoderBackend, readAhead, readAheadDepth, type RecordSource } from './libav/backend.js';
import { libavVideoRecords, type LibavVideoPlan } from './libav/video.js';
import { probe, requireVideo, type MediaInfo } from './probe.js';
import { checkRange, gridCount, secondsArg, type TimeRange } from './timing.js';

/**
 * Video -> frames on an exact timeline: frame i shows what a player displays at t_i = start + i/fps, i.e. the last
 * source frame whose timestamp is <= t_i (frames repeat when the source rate is lower; irregular/VFR timestamps are
 * used as they are). Before the first source frame the first frame is shown; the timeline ends at the end of the
 * video stream (its last frame is held for its duration) or at start + duration.
 */
export type ResizeMode =
  | 'stretch' // scale to width x height, ignoring the aspect ratio
  | 'center-crop' // scale to cover width x height, then crop the center
  | 'letterbox'; // scale to fit inside width x height, then pad with black

export type PixelFormat = 'rgb' | 'gray';

export interface VideoDecodeOptions extends TimeRange {
  /** Output frames per second (the timeline rate). */
  fps: number;
  /** Output size; both omitted keeps the display size (rotation applied). One given keeps the aspect ratio. */
  width?: number;
  height?: number;
  resize?: ResizeMode;
  /**
   * center-crop only: scale to cover (width, height) x cropScale before cropping, keeping the central
   * 1/cropScale of the view (e.g. 256/224 for "resize the short side to 256, center-crop 224"). Default 1.
   */
  cropScale?: number;
  pixelFormat?: PixelFormat;
  /** swscale filter: 'bilinear' (default, fast), 'area', 'bicubic', 'lanczos'. */
  scaleFlags?: 'bilinear' | 'area' | 'bicubic' | 'lanczos' | 'fast_bilinear';
  /** Decoder threads (default: ATTUNE_THREADS when set, else ffmpeg's choice). */
  threads?: number;
  /**
   * Skip the H.264/HEVC deblocking filter while decoding. Invisible at small output sizes and about a third less
   * decode CPU; for analysis at low resolution (sync features), not for frames people look at.
   */
  skipLoopFilter?: boolean;
  /** Reuse a probe result instead of probing again. */
  info?: MediaInfo;
}

export interface VideoTimeline {
  path: string;
  fps: number;
  /** Time of frame 0 in seconds (file clock). */
  start: number;
  /** Frames the timeline should have (the decoder may deliver fewer if the file is truncated). */
  frameCount: number;
  /** Whether frameCount comes from a stream duration stored in the file (not the container's or a guess). */
  exactEnd: boolean;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface VideoFrame {
  index: number;
  /** start + index / fps */
  time: number;
  /** [H, W, C] bytes, row-major. */
  data: Uint8Array;
}

function evenSize(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

/** Resolves the output size from the options and the display size. */
export function outputSize(
  srcW: number,
  srcH: number,
  opts: Pick<VideoDecodeOptions, 'width' | 'height'>,
): [number, number] {
  const { width, height } = opts;
  if (width !== undefined && height !== undefined) return [width, height];
  if (width !== undefined) return [width, evenSize((width * srcH) / srcW)];
  if (height !== undefined) return [evenSize((height * srcW) / srcH), height];
  return [srcW, srcH];
}

/** The -vf chain: hold-sampling at fps, then resize, then pixel format. Exported for tests and docs. */
export function videoFilter(
  t: VideoTimeline,
  absStart: number,
  resize: ResizeMode,
  flags: string,
  sampleAspect: number,
  cropScale = 1,
): string {
  const { width: w, height: h, fps } = t;
  const parts: string[] = [];
  // Put t_0 at pts 0 (rounded to whole ticks of the stream time base, so a frame exactly at t_i stays at t_i).
  parts.push(`setpts=PTS-round(${secondsArg(absStart)}/TB)`);
  // Hold the last frame a little past the end so that the fps filter never stops one frame short.
  parts.push(`tpad=stop_mode=clone:stop_duration=${secondsArg(2 / fps)}`);
  // round=up maps a source frame at pts p to grid slot ceil(p*fps): slot i then shows the last frame with p <= t_i.
  parts.push(`fps=fps=${fps}:start_time=0:round=up`);
  if (Math.abs(sampleAspect - 1) > 1e-3) parts.push('scale=iw*sar:ih', 'setsar=1');
  if (resize === 'stretch') parts.push(`scale=${w}:${h}:flags=${flags}`);
  else if (resize === 'center-crop') {
    const [cw, ch] = [Math.round(w * cropScale), Math.round(h * cropScale)];
    parts.push(`scale=${cw}:${ch}:force_original_aspect_ratio=increase:flags=${flags}`, `crop=${w}:${h}`);
  } else
    parts.push(
      `scale=${w}:${h}:force_original_aspect_ratio=decrease:flags=${flags}`,
      `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:black`,
    );
  parts.push(`format=${t.channels === 3 ? 'rgb24' : 'gray'}`, 'setsar=1');
  return parts.join(',');
}

function checkOptions(path: string, opts: VideoDecodeOptions): void {
  if (!(opts.fps > 0) || !Number.isFinite(opts.fps)) {
    throw new InputError(`${path}: fps must be a positive number, got ${opts.fps}`, {
      file: path,
      field: 'fps',
      got: opts.fps,
    });
  }
  for (const key of ['width', 'height'] as const) {
    const v = opts[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 16384)) {
      throw new InputError(`${path}: ${key} must be an integer in [1, 16384], got ${v}`, {
        file: path,
        field: key,
        got: v,
      });
    }
  }
}

export interface VideoPlan {
  timeline: VideoTimeline;
  /** ffmpeg CLI arguments. */
  args: string[];
  /** The same decode for the in-process backend (ATTUNE_DECODER=libav). */
  libav: LibavVideoPlan;
}

/** Plans the timeline without decoding (probes the file unless `info` is given). */
export async function planVideo(path: string, opts: VideoDecodeOptions): Promise<VideoPlan> {
  checkOptions(path, opts);
  const { start, duration } = checkRange(path, opts);
  const info = opts.info ?? (await probe(path));
  const video = requireVideo(info);
  const streamEnd = video.duration !== null ? video.startTime + video.duration : info.duration;
  const end = duration !== undefined ? Math.min(start + duration, streamEnd) : streamEnd;
  const frameCount = gridCount(start, end, opts.fps);
  if (frameCount === 0) {
    throw new MediaError(`${path}: no video frames in [${start}, ${end}) s (video ends at ${streamEnd.toFixed(3)} s)`, {
      file: path,
      reason: 'empty time range',
      start,
      end: streamEnd,
    });
  }
  const dispW = Math.round(video.displayWidth * (video.rotation % 180 === 0 ? video.sampleAspect : 1));
  const [width, height] = outputSize(dispW, video.displayHeight, opts);
  const channels = (opts.pixelFormat ?? 'rgb') === 'rgb' ? 3 : 1;
  const timeline: VideoTimeline = {
    path,
    fps: opts.fps,
    start,
    frameCount,
    width,
    height,
    channels,
    exactEnd: video.duration !== null,
  };
  const absStart = info.startTime + start;
  const cropScale = opts.cropScale ?? 1;
  if (!(cropScale >= 1 && cropScale <= 8)) {
    throw new InputError(`${path}: cropScale must be in [1, 8], got ${cropScale}`, {
      file: path,
      field: 'cropScale',
      got: cropScale,
    });
  }
  const vf = videoFilter(
    timeline,
    absStart,
    opts.resize ?? 'stretch',
    opts.scaleFlags ?? 'bilinear',
    video.sampleAspect,
    cropScale,
  );
  // -copyts keeps file timestamps, so the fps filter sees true times; -noaccurate_seek keeps the frame that is
  // still on screen at `start` (an accurate seek would drop it).
  const args = [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    ...(opts.threads ? ['-threads', String(opts.threads)] : ffmpegThreadArgs()),
    ...(opts.skipLoopFilter ? ['-skip_loop_filter', 'all'] : []),
    '-copyts',
    '-noaccurate_seek',
    // -ss counts from the container start even with -copyts.
    ...(start > 0 ? ['-ss', secondsArg(start)] : []),
    '-i',
    ffFile(path),
    '-map',
    `0:${video.index}`,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    vf,
    '-vsync',
    'passthrough',
    '-frames:v',
    String(frameCount),
    '-f',
    'rawvideo',
    'pipe:1',
  ];
  const libav: LibavVideoPlan = {
    streamIndex: video.index,
    filter: vf,
    rotation: video.rotation,
    seekTo: start > 0 ? absStart : null,
    frameCount,
    frameBytes: width * height * channels,
    threads: opts.threads ?? threadCap(),
    skipLoopFilter: opts.skipLoopFilter ?? false,
  };
  return { timeline, args, libav };
}

/**
 * Streams frames with bounded memory (one frame plus a pipe buffer). Stop early by breaking out of the loop.
 * Throws a MediaError if ffmpeg fails or delivers no frame at all.
 */
export async function* iterateVideoFrames(
  path: string,
  opts: VideoDecodeOptions,
): AsyncGenerator<VideoFrame, VideoTimeline> {
  const { timeline, args, libav } = await planVideo(path, opts);
  const frameBytes = libav.frameBytes;
  const source: RecordSource =
    decoderBackend() === 'libav'
      ? readAhead(libavVideoRecords(path, libav), readAheadDepth(frameBytes))
      : cliRecords(path, args, frameBytes);
  let index = 0;
  let next: IteratorResult<Uint8Array, string>;
  try {
    while (!(next = await source.next()).done) {
      const frame = next.value;
      if (frame.length < frameBytes) continue; // a partial frame only comes from a broken pipe; ignore it
      yield { index, time: timeline.start + index / timeline.fps, data: frame };
      index++;
    }
  } finally {
    await source.return('');
  }
  const stderr = next.value;
  const why = stderr.trim() ? ` (${stderrTail(stderr)})` : '';
  if (index === 0) {
    throw new MediaError(`${path}: the video stream decoded to no frames${why}`, {
      file: path,
      reason: 'no frames decoded',
    });
  }
  // ffmpeg decodes what it can of a damaged file and exits 0; a timeline that ends early with decode errors
  // (or far too early without) means the file is truncated or corrupt.
  const short = index < timeline.frameCount;
  if ((short && why) || (timeline.exactEnd && index < 0.9 * timeline.frameCount - 2)) {
    throw new MediaError(
      `${path}: truncated or corrupt video: decoded ${index} of ${timeline.frameCount} frames${why}`,
      {
        file: path,
        reason: 'truncated or corrupt',
        frames: index,
        expected: timeline.frameCount,
      },
    );
  }
  return { ...timeline, frameCount: index };
}

export interface DecodedVideo extends VideoTimeline {
  /** [T, H, W, C] bytes. */
  frames: Uint8Array;
}

/** Decodes a whole range into one array. For long inputs prefer iterateVideoFrames. */
export async function decodeVideo(path: string, opts: VideoDecodeOptions): Promise<DecodedVideo> {
  const info = opts.info ?? (await probe(path));
  const { timeline } = await planVideo(path, { ...opts, info });
  const frameBytes = timeline.width * timeline.height * timeline.channels;
  const frames = new Uint8Array(frameBytes * timeline.frameCount);
  let count = 0;
  for await (const f of iterateVideoFrames(path, { ...opts, info })) {
    if (count >= timeline.frameCount) break;
    frames.set(f.data, count * frameBytes);
    count++;
  }
  return {
    ...timeline,
    frameCount: count,
    frames: count === timeline.frameCount ? frames : frames.slice(0, count * frameBytes),
  };
}
