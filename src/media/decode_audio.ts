import { InputError, MediaError, NumericError } from '../util/errors.js';
import { ffmpegThreadArgs, threadCap } from '../util/threads.js';
import { ffFile, stderrTail } from './ffmpeg.js';
import { cliRecords, decoderBackend, readAhead, readAheadDepth, type RecordSource } from './libav/backend.js';
import { libavAudioRecords, type LibavAudioPlan } from './libav/audio.js';
import { probe, requireAudio, type MediaInfo } from './probe.js';
import { checkRange, secondsArg, type TimeRange } from './timing.js';

/**
 * Audio -> float32 samples at a requested rate. Sample j sits at start + j/sampleRate on the file clock: if the
 * audio stream starts after `start` (or has gaps), silence fills in, so audio stays aligned with video frames.
 */
export interface AudioDecodeOptions extends TimeRange {
  sampleRate: number;
  /** 'mono' (default) downmixes; 'keep' keeps the source channels; a number asks ffmpeg for that many. */
  channels?: 'mono' | 'keep' | number;
  info?: MediaInfo;
}

export interface AudioChunk {
  /** Index of the chunk's first sample on the output timeline. */
  offset: number;
  /** Planar [C, n] samples. */
  data: Float32Array;
  frames: number;
  channels: number;
}

export interface DecodedAudio {
  path: string;
  sampleRate: number;
  channels: number;
  /** Time of sample 0, seconds. */
  start: number;
  /** Samples per channel. */
  length: number;
  /** Planar [C, length]: channel c is data.subarray(c * length, (c + 1) * length). */
  data: Float32Array;
}

interface AudioPlan {
  args: string[];
  /** The same decode for the in-process backend (ATTUNE_DECODER=libav), less the record size. */
  libav: Omit<LibavAudioPlan, 'recordBytes'>;
  channels: number;
  start: number;
  /** Exact sample count when a duration was asked for; otherwise null (until the stream ends). */
  exactLength: number | null;
  /** Seconds the container says the range holds (null when unknown). */
  expectedSeconds: number | null;
}

async function planAudio(path: string, opts: AudioDecodeOptions): Promise<AudioPlan> {
  if (!Number.isInteger(opts.sampleRate) || opts.sampleRate < 1000 || opts.sampleRate > 384000) {
    throw new InputError(`${path}: sampleRate must be an integer in [1000, 384000], got ${opts.sampleRate}`, {
      file: path,
      field: 'sampleRate',
      got: opts.sampleRate,
    });
  }
  const { start, duration } = checkRange(path, opts);
  const info = opts.info ?? (await probe(path));
  const audio = requireAudio(info);
  if (audio.channels < 1 && opts.channels === 'keep') {
    throw new MediaError(`${path}: audio stream reports no channels`, { file: path, reason: 'no channels' });
  }
  const want = opts.channels ?? 'mono';
  const channels = want === 'mono' ? 1 : want === 'keep' ? audio.channels : want;
  if (!Number.isInteger(channels) || channels < 1 || channels > 64) {
    throw new InputError(`${path}: channels must be 'mono', 'keep' or an integer in [1, 64]`, {
      file: path,
      field: 'channels',
      got: want,
    });
  }
  if (start >= info.duration && info.duration > 0) {
    throw new MediaError(`${path}: start ${start} s is past the end of the file (${info.duration.toFixed(3)} s)`, {
      file: path,
      reason: 'empty time range',
      start,
      end: info.duration,
    });
  }
  // first_pts=0 pads the front with silence when the audio starts late, and async fills timestamp gaps.
  const filter = `aresample=${opts.sampleRate}:async=1:first_pts=0`;
  const args = [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    ...ffmpegThreadArgs(),
    ...(start > 0 ? ['-ss', secondsArg(start)] : []),
    ...(duration !== undefined ? ['-t', secondsArg(duration)] : []),
    '-i',
    ffFile(path),
    '-map',
    `0:${audio.index}`,
    '-vn',
    '-sn',
    '-dn',
    '-af',
    filter,
    '-ac',
    String(channels),
    '-f',
    'f32le',
    '-acodec',
    'pcm_f32le',
    'pipe:1',
  ];
  const exactLength = duration !== undefined ? Math.round(duration * opts.sampleRate) : null;
  const streamEnd = audio.duration !== null ? audio.startTime + audio.duration : info.duration;
  const end = duration !== undefined ? Math.min(start + duration, streamEnd) : streamEnd;
  const expectedSeconds = end > start ? end - start : null;
  const libav = {
    streamIndex: audio.index,
    filter,
    absStart: info.startTime + start,
    start,
    duration,
    channels,
    threads: threadCap(),
  };
  return { args, libav, channels, start, exactLength, expectedSeconds };
}

function deinterleave(src: Float32Array, channels: number): Float32Array {
  if (channels === 1) return src;
  const n = src.length / channels;
  const out = new Float32Array(src.length);
  for (let c = 0; c < channels; c++) {
    const base = c * n;
    for (let i = 0; i < n; i++) out[base + i] = src[i * channels + c];
  }
  return out;
}

/**
 * Streams planar chunks of `chunkFrames` samples per channel (the last one may be shorter) with bounded memory.
 * With a duration, the stream is padded with zeros or cut to exactly round(duration * sampleRate) samples.
 */
export async function* iterateAudioChunks(
  path: string,
  opts: AudioDecodeOptions & { chunkFrames?: number },
): AsyncGenerator<AudioChunk> {
  const plan = await planAudio(path, opts);
  const C = plan.channels;
  const chunkFrames = opts.chunkFrames ?? opts.sampleRate;
  const chunkBytes = chunkFrames * C * 4;
  const source: RecordSource =
    decoderBackend() === 'libav'
      ? readAhead(libavAudioRecords(path, { ...plan.libav, recordBytes: chunkBytes }), readAheadDepth(chunkBytes))
      : cliRecords(path, plan.args, chunkBytes);
  let offset = 0;
  let stderr = '';
  const limit = plan.exactLength ?? Infinity;
  const emit = (bytes: Uint8Array): AudioChunk => {
    const frames = Math.min(Math.floor(bytes.length / (4 * C)), limit - offset);
    const inter = new Float32Array(bytes.buffer, bytes.byteOffset, frames * C);
    const bad = inter.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const at = offset + Math.floor(bad / C);
      throw new NumericError(
        `${path}: decoded audio has a non-finite sample (${inter[bad]}) at sample ${at} (${(plan.start + at / opts.sampleRate).toFixed(3)} s)`,
        {
          file: path,
          reason: 'non-finite sample',
          sample: at,
        },
      );
    }
    const chunk = { offset, data: deinterleave(inter, C), frames, channels: C };
    offset += frames;
    return chunk;
  };
  try {
    let next: IteratorResult<Uint8Array, string>;
    while (offset < limit && !(next = await source.next()).done) {
      if (next.value.length >= 4 * C) yield emit(next.value);
    }
    if (offset < limit) stderr = next!.value as string;
  } finally {
    // Stops ffmpeg (or closes libav) when the exact length was reached before the stream ended.
    await source.return('');
  }
  if (offset === 0) {
    throw new MediaError(
      `${path}: the audio stream decoded to zero samples${stderr.trim() ? ` (${stderrTail(stderr)})` : ''}`,
      {
        file: path,
        reason: 'zero-length audio',
      },
    );
  }
  checkComplete(path, plan, offset, opts.sampleRate, stderr);
  if (plan.exactLength !== null && offset < plan.exactLength) {
    // The stream ended early (range past the end of the audio): pad with silence to the exact length.
    const rest = plan.exactLength - offset;
    for (let o = 0; o < rest; o += chunkFrames) {
      const frames = Math.min(chunkFrames, rest - o);
      yield { offset, data: new Float32Array(frames * C), frames, channels: C };
      offset += frames;
    }
  }
}

/**
 * ffmpeg keeps going over damaged data (exit code 0, errors on stderr). A stream that ends well before the
 * container says it should, with decode errors, is a truncated or corrupt file.
 */
function checkComplete(path: string, plan: AudioPlan, decoded: number, sampleRate: number, stderr: string): void {
  if (plan.expectedSeconds === null || !stderr.trim()) return;
  const got = decoded / sampleRate;
  if (got < 0.98 * plan.expectedSeconds - 0.05) {
    throw new MediaError(
      `${path}: truncated or corrupt audio: decoded ${got.toFixed(3)} s of ${plan.expectedSeconds.toFixed(3)} s (${stderrTail(stderr)})`,
      {
        file: path,
        reason: 'truncated or corrupt',
        decodedSeconds: got,
        expectedSeconds: plan.expectedSeconds,
      },
    );
  }
}

/** Decodes a whole range into one planar array. */
export async function decodeAudio(path: string, opts: AudioDecodeOptions): Promise<DecodedAudio> {
  const info = opts.info ?? (await probe(path));
  const start = opts.start ?? 0;
  const parts: AudioChunk[] = [];
  let length = 0;
  let channels = 1;
  for await (const chunk of iterateAudioChunks(path, { ...opts, info, chunkFrames: 1 << 16 })) {
    parts.push(chunk);
    length += chunk.frames;
    channels = chunk.channels;
  }
  const data = new Float32Array(length * channels);
  for (const p of parts) {
    for (let c = 0; c < channels; c++)
      data.set(p.data.subarray(c * p.frames, (c + 1) * p.frames), c * length + p.offset);
  }
  return { path, sampleRate: opts.sampleRate, channels, start, length, data };
}
