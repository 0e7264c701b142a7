import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { InputError, MediaError } from '../util/errors.js';
import { ffFile, runFfprobe } from './ffmpeg.js';
import { decoderBackend } from './libav/backend.js';
import { libavPacketTimes, libavProbeJson } from './libav/probe.js';
import { probeWithFfmpeg } from './probe_ffmpeg.js';

/**
 * What a media file holds, read with ffprobe (container headers only; fast, no decoding).
 *
 * Time convention used everywhere in src/media: t = 0 is the container's start time (`MediaInfo.startTime`, what
 * ffmpeg subtracts by default), so stream start times are relative to it and A/V offsets inside a file are kept.
 */
export interface VideoStreamInfo {
  index: number;
  codec: string;
  /** Coded picture size (before rotation). */
  width: number;
  height: number;
  /** Size a player shows: rotation applied (90/270 swap). This is what decoded frames have before resizing. */
  displayWidth: number;
  displayHeight: number;
  /** Sample (pixel) aspect ratio, 1 for square pixels. */
  sampleAspect: number;
  /** Nominal rate (r_frame_rate) and average rate (frames / duration), in frames per second. */
  fps: number;
  avgFps: number;
  /** True when the nominal and average rates disagree: timestamps are irregular and must be used as they are. */
  variableFrameRate: boolean;
  /** Clockwise rotation a player applies, in degrees (0, 90, 180, 270). The decoder applies it too. */
  rotation: number;
  /** Relative to the container start, seconds. */
  startTime: number;
  duration: number | null;
  frameCount: number | null;
  pixelFormat: string;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  sampleRate: number;
  channels: number;
  channelLayout: string | null;
  startTime: number;
  duration: number | null;
}

export interface MediaInfo {
  path: string;
  format: string;
  /** Container start time in seconds (absolute, as stored in the file). */
  startTime: number;
  duration: number;
  sizeBytes: number;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
  /** Every stream, in file order, with its type. */
  streams: { index: number; type: string; codec: string }[];
}

interface RawStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  pix_fmt?: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number | string }[];
  disposition?: { attached_pic?: number };
}

interface RawProbe {
  streams?: RawStream[];
  format?: { format_name?: string; start_time?: string; duration?: string; size?: string };
}

function ratio(text: string | undefined): number {
  if (!text) return 0;
  const [a, b] = text.split(/[/:]/).map(Number);
  if (b === undefined) return Number.isFinite(a) ? a : 0;
  return b > 0 && Number.isFinite(a) ? a / b : 0;
}

function num(text: string | undefined): number | null {
  if (text === undefined || text === 'N/A') return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

function clockwiseRotation(s: RawStream): number {
  const tag = s.tags?.rotate;
  // The "rotate" tag is clockwise; a display matrix angle is counter-clockwise.
  const deg =
    tag !== undefined ? Number(tag) : -Number(s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0);
  const r = (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
  return Number.isFinite(r) ? r : 0;
}

/** Checks that a path names a readable regular file; InputError otherwise (before ffmpeg says something vaguer). */
export function assertReadableFile(path: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new InputError(`${path}: not a regular file`, { file: path, reason: 'not a file' });
    size = st.size;
    accessSync(path, fsConstants.R_OK);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot read (${code})`;
    throw new InputError(`${path}: ${why}`, { file: path, reason: why });
  }
  if (size === 0) throw new MediaError(`${path}: empty file (0 bytes)`, { file: path, reason: 'empty file' });
}

function videoInfo(s: RawStream, containerStart: number): VideoStreamInfo {
  const rotation = clockwiseRotation(s);
  const width = s.width ?? 0;
  const height = s.height ?? 0;
  const swap = rotation === 90 || rotation === 270;
  const fps = ratio(s.r_frame_rate);
  const avgFps = ratio(s.avg_frame_rate);
  const start = num(s.start_time);
  return {
    index: s.index,
    codec: s.codec_name ?? 'unknown',
    width,
    height,
    displayWidth: swap ? height : width,
    displayHeight: swap ? width : height,
    sampleAspect: ratio(s.sample_aspect_ratio) || 1,
    fps: fps || avgFps,
    avgFps: avgFps || fps,
    variableFrameRate: fps > 0 && avgFps > 0 && Math.abs(fps - avgFps) / fps > 0.01,
    rotation,
    startTime: start === null ? 0 : start - containerStart,
    duration: num(s.duration),
    frameCount: num(s.nb_frames),
    pixelFormat: s.pix_fmt ?? 'unknown',
  };
}

function audioInfo(s: RawStream, containerStart: number): AudioStreamInfo {
  const start = num(s.start_time);
  return {
    index: s.index,
    codec: s.codec_name ?? 'unknown',
    sampleRate: Number(s.sample_rate ?? 0),
    channels: s.channels ?? 0,
    channelLayout: s.channel_layout ?? null,
    startTime: start === null ? 0 : start - containerStart,
    duration: num(s.duration),
  };
}

/** Parses ffprobe's JSON (exported for tests). */
export function parseProbe(path: string, sizeBytes: number, raw: RawProbe): MediaInfo {
  const streams = raw.streams ?? [];
  const containerStart = num(raw.format?.start_time) ?? 0;
  // Cover art in audio files is a one-frame "video" stream; it is not video.
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const a = streams.find((s) => s.codec_type === 'audio');
  const video = v ? videoInfo(v, containerStart) : null;
  const audio = a ? audioInfo(a, containerStart) : null;
  // MPEG-PS/TS have no stream durations; ffprobe estimates them from the bit rate, often badly. Unknown is better.
  if (/^(mpeg|mpegts|mpegvideo)$/.test(raw.format?.format_name ?? '')) {
    if (video) video.duration = null;
    if (audio) audio.duration = null;
  }
  const duration = num(raw.format?.duration) ?? Math.max(video?.duration ?? 0, audio?.duration ?? 0);
  return {
    path,
    format: raw.format?.format_name ?? 'unknown',
    startTime: containerStart,
    duration,
    sizeBytes,
    video,
    audio,
    streams: streams.map((s) => ({
      index: s.index,
      type: s.codec_type ?? 'unknown',
      codec: s.codec_name ?? 'unknown',
    })),
  };
}

/**
 * Frame intervals from the first packets of the video stream (container timestamps, no decoding). The header
 * rates of many VFR files (phone recordings, mkv with irregular timestamps) look constant, so we look.
 */
export function intervalsAreIrregular(times: number[]): boolean {
  const sorted = [...times].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) if (sorted[i] - sorted[i - 1] > 1e-6) gaps.push(sorted[i] - sorted[i - 1]);
  if (gaps.length < 2) return false;
  gaps.sort((a, b) => a - b);
  const median = gaps[gaps.length >> 1];
  // Allow timestamp rounding (e.g. 1 ms in mkv) before calling the spacing irregular.
  const tol = Math.max(0.1 * median, 0.0015);
  // One odd gap is a dropped or duplicated frame (common in AVI), not a variable rate.
  const off = gaps.filter((g) => Math.abs(g - median) > tol).length;
  return off >= Math.max(2, 0.05 * gaps.length);
}

async function scanFrameTimes(path: string, streamIndex: number, packets: number): Promise<number[]> {
  if (decoderBackend() === 'libav') return frameTimes(await libavPacketTimes(path, streamIndex, packets));
  const { stdout } = await runFfprobe(
    [
      '-select_streams',
      String(streamIndex),
      '-read_intervals',
      `%+#${packets}`,
      '-show_entries',
      'packet=pts_time,dts_time',
      '-of',
      'csv=p=0',
      ffFile(path),
    ],
    { file: path },
  );
  const rows = stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(',').map((v) => (v === 'N/A' ? NaN : Number(v))));
  return frameTimes(rows);
}

/** Frame times from [pts, dts] rows (seconds, NaN when absent). */
function frameTimes(rows: number[][]): number[] {
  // MPEG-PS/TS often carry a pts on some packets only; decode timestamps are then the regular series.
  const column = rows.every((r) => Number.isFinite(r[0])) ? 0 : 1;
  return rows.map((r) => r[column]).filter(Number.isFinite);
}

/**
 * ffprobe's JSON, or null when ffprobe crashed or printed nothing usable (then `ffmpeg -i` is asked instead).
 * A normal failure (exit code 1: invalid data, moov atom not found) is the file's fault and is thrown.
 */
async function ffprobeJson(path: string): Promise<RawProbe | null> {
  let stdout: Buffer;
  try {
    ({ stdout } = await runFfprobe(['-print_format', 'json', '-show_format', '-show_streams', ffFile(path)], {
      file: path,
    }));
  } catch (err) {
    if (err instanceof MediaError && String(err.details.reason).startsWith('was killed by')) return null;
    throw err;
  }
  try {
    const raw = JSON.parse(stdout.toString('utf8')) as RawProbe;
    return raw.streams || raw.format ? raw : null;
  } catch {
    return null;
  }
}

export interface ProbeOptions {
  /** Read the first N video packet timestamps to detect variable frame rate (default 300; 0 = header only). */
  scanPackets?: number;
}

/** Probes a media file. InputError for unreadable paths; MediaError when ffprobe cannot parse it. */
export async function probe(path: string, opts: ProbeOptions = {}): Promise<MediaInfo> {
  assertReadableFile(path);
  let raw: RawProbe | null;
  if (decoderBackend() === 'libav') raw = (await libavProbeJson(path, statSync(path).size)) as RawProbe;
  else raw = (await ffprobeJson(path)) ?? ((await probeWithFfmpeg(path)) as unknown as RawProbe);
  if (!raw.streams || raw.streams.length === 0) {
    throw new MediaError(`${path}: no audio or video streams found`, { file: path, reason: 'no streams' });
  }
  const info = parseProbe(path, statSync(path).size, raw);
  const scan = opts.scanPackets ?? 300;
  if (info.video && scan > 0 && !info.video.variableFrameRate) {
    // Best effort: a failing scan leaves the header's answer.
    const times = await scanFrameTimes(path, info.video.index, scan).catch(() => []);
    if (intervalsAreIrregular(times)) info.video.variableFrameRate = true;
  }
  return info;
}

/** The video stream, or a MediaError saying the file has none. */
export function requireVideo(info: MediaInfo): VideoStreamInfo {
  if (!info.video) {
    throw new MediaError(`${info.path}: no video stream (streams: ${describeStreams(info)})`, {
      file: info.path,
      reason: 'no video stream',
    });
  }
  return info.video;
}

/** The audio stream, or a MediaError saying the file has none. */
export function requireAudio(info: MediaInfo): AudioStreamInfo {
  if (!info.audio) {
    throw new MediaError(`${info.path}: no audio stream (streams: ${describeStreams(info)})`, {
      file: info.path,
      reason: 'no audio stream',
    });
  }
  return info.audio;
}

function describeStreams(info: MediaInfo): string {
  return info.streams.map((s) => `${s.type}/${s.codec}`).join(', ') || 'none';
}
