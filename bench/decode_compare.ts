/**
 * Decodes one file with both backends (ffmpeg CLI and libav in-process) and measures how far they differ: probe
 * fields, 16 kHz mono audio, and video at the sizes `attune sync` and the av-basic feature preset decode. Used by
 * `attune bench decode` (the table in docs/media.md) and by the libav tests.
 */
import type { MediaInfo } from '../src/media/probe.js';
import { probe } from '../src/media/probe.js';
import { decodeAudio } from '../src/media/decode_audio.js';
import { decodeVideo, type VideoDecodeOptions } from '../src/media/decode_video.js';
import { FEATURE_PRESETS } from '../src/media/presets.js';
import { DECODER_VAR, type DecoderBackend } from '../src/media/libav/backend.js';

/**
 * Runs `fn` with ATTUNE_DECODER set to `backend`, restoring the previous value after. The backend is read from the
 * environment, so calls must not overlap (await one before starting the next).
 */
export async function withBackend<T>(backend: DecoderBackend, fn: () => Promise<T>): Promise<T> {
  const before = process.env[DECODER_VAR];
  process.env[DECODER_VAR] = backend;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[DECODER_VAR];
    else process.env[DECODER_VAR] = before;
  }
}

/** The video decodes compared: `attune sync`'s motion planes (src/models/av_sync/features.ts) and av-basic's crops. */
export const COMPARED_VIEWS: Record<'sync' | 'features', Omit<VideoDecodeOptions, 'info'>> = {
  sync: {
    fps: 25,
    width: 64,
    height: 64,
    resize: 'stretch',
    pixelFormat: 'gray',
    scaleFlags: 'area',
    skipLoopFilter: true,
  },
  features: (() => {
    const v = FEATURE_PRESETS['av-basic'].video!;
    return { fps: v.fps, width: v.width, height: v.height, resize: v.resize, pixelFormat: v.pixelFormat };
  })(),
};
export const COMPARED_SAMPLE_RATE = 16000;

export interface FieldDiff {
  field: string;
  ffmpeg: unknown;
  libav: unknown;
}

/** MediaInfo fields that differ (numbers by more than 1e-4 relative or 1e-5 absolute; `path` and `streams` aside). */
export function probeDifferences(a: MediaInfo, b: MediaInfo): FieldDiff[] {
  const out: FieldDiff[] = [];
  const walk = (x: unknown, y: unknown, field: string): void => {
    if (typeof x === 'number' && typeof y === 'number') {
      if (Math.abs(x - y) > Math.max(1e-5, 1e-4 * Math.abs(x))) out.push({ field, ffmpeg: x, libav: y });
    } else if (x && y && typeof x === 'object' && typeof y === 'object') {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of keys) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${field}.${k}`);
    } else if (x !== y) out.push({ field, ffmpeg: x, libav: y });
  };
  const { path: _a, streams: _s, ...restA } = a;
  const { path: _b, streams: _t, ...restB } = b;
  walk(restA, restB, 'info');
  return out.map((d) => ({ ...d, field: d.field.slice('info.'.length) }));
}

/** Largest and mean absolute difference over the common prefix, and SNR (dB) of b against a. */
export function difference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { maxAbs: number; meanAbs: number; snrDb: number } {
  const n = Math.min(a.length, b.length);
  let maxAbs = 0;
  let sumAbs = 0;
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
    sumAbs += Math.abs(d);
    signal += a[i] * a[i];
    noise += d * d;
  }
  const snrDb = noise === 0 ? Infinity : signal === 0 ? -Infinity : 10 * Math.log10(signal / noise);
  return { maxAbs, meanAbs: n > 0 ? sumAbs / n : 0, snrDb };
}

export interface Side<T> {
  ffmpeg: T | string;
  libav: T | string;
}

export interface FileComparison {
  path: string;
  probe: Side<MediaInfo>;
  probeDiffs: FieldDiff[] | null;
  audio: { samples: Side<number>; maxAbs: number; snrDb: number } | null;
  video: Record<string, { frames: Side<number>; size: string; maxAbs: number; meanAbs: number }>;
}

/** Runs `fn` on both backends; a failure is kept as its message. */
async function both<T>(fn: () => Promise<T>): Promise<{ ffmpeg: T | string; libav: T | string }> {
  const run = (b: DecoderBackend): Promise<T | string> => withBackend(b, fn).catch((e: Error) => e.message);
  return { ffmpeg: await run('ffmpeg'), libav: await run('libav') };
}

const ok = <T>(v: T | string): v is T => typeof v !== 'string';

/** Both backends on one file: probe, 16 kHz mono audio, and the sync and features video decodes. */
export async function compareFile(path: string): Promise<FileComparison> {
  const info = await both(() => probe(path));
  const result: FileComparison = { path, probe: info, probeDiffs: null, audio: null, video: {} };
  if (!ok(info.ffmpeg) || !ok(info.libav)) return result;
  result.probeDiffs = probeDifferences(info.ffmpeg, info.libav);
  // Each backend decodes with its own probe result, as a caller on that backend would.
  const own = (b: DecoderBackend): MediaInfo => (b === 'ffmpeg' ? info.ffmpeg : info.libav) as MediaInfo;
  const current = (): DecoderBackend => (process.env[DECODER_VAR] as DecoderBackend) ?? 'ffmpeg';
  if (info.ffmpeg.audio) {
    const a = await both(() => decodeAudio(path, { sampleRate: COMPARED_SAMPLE_RATE, info: own(current()) }));
    const d = ok(a.ffmpeg) && ok(a.libav) ? difference(a.ffmpeg.data, a.libav.data) : { maxAbs: NaN, snrDb: NaN };
    const samples = {
      ffmpeg: ok(a.ffmpeg) ? a.ffmpeg.length : a.ffmpeg,
      libav: ok(a.libav) ? a.libav.length : a.libav,
    };
    result.audio = { samples, maxAbs: d.maxAbs, snrDb: d.snrDb };
  }
  if (info.ffmpeg.video) {
    for (const [name, view] of Object.entries(COMPARED_VIEWS)) {
      const v = await both(() => decodeVideo(path, { ...view, info: own(current()) }));
      const d =
        ok(v.ffmpeg) && ok(v.libav) ? difference(v.ffmpeg.frames, v.libav.frames) : { maxAbs: NaN, meanAbs: NaN };
      result.video[name] = {
        frames: {
          ffmpeg: ok(v.ffmpeg) ? v.ffmpeg.frameCount : v.ffmpeg,
          libav: ok(v.libav) ? v.libav.frameCount : v.libav,
        },
        size: ok(v.ffmpeg) ? `${v.ffmpeg.width}x${v.ffmpeg.height}` : '?',
        maxAbs: d.maxAbs,
        meanAbs: d.meanAbs,
      };
    }
  }
  return result;
}
