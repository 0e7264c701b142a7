/**
 * Reading one stream of a file through libav in-process: open, optional seek, packets -> decoder -> filtergraph ->
 * frames. The filtergraph strings are the ones the CLI path passes to `-vf`/`-af`, so both backends filter alike.
 *
 * Packets are read with av_read_frame directly rather than node-av's Demuxer.packets(): that generator relies on
 * Promise.withResolvers, which Node 20 lacks, and it would clone every packet through a queue we do not need.
 */
import type { Decoder, Demuxer, FilterAPI } from 'node-av/api';
import type { Frame } from 'node-av/lib';
import { MediaError } from '../../util/errors.js';
import { loadNodeAv, withLogLines, type NodeAv } from './backend.js';

export interface StreamDecodeOptions {
  streamIndex: number;
  /** Absolute file time (s) to seek to, keyframe at or before it (the CLI's `-ss` before `-i`); null reads all. */
  seekTo: number | null;
  /** Filtergraph description (buffer source and sink are added around it). */
  filter: string;
  /** Decoder and filter threads; undefined lets FFmpeg choose (as the CLI does). */
  threads?: number;
  /** Decoder AVOptions, e.g. { skip_loop_filter: 'all' }. */
  decoderOptions?: Record<string, string>;
  /** swscale options for scalers the graph inserts itself (the CLI's default is flags=bicubic). */
  scaleSwsOpts?: string;
  /** Called on each decoded frame before it enters the filtergraph (e.g. to shift its timestamp). */
  beforeFilter?: (frame: Frame) => void;
  /**
   * Read, decode and filter with node-av's synchronous calls. For audio: each call does microseconds of work, and
   * a round trip to libuv's thread pool per call cost 4x the CLI's CPU on a 10 s AAC track.
   */
  blocking?: boolean;
}

/** Opens a file with libav; a MediaError naming the file when FFmpeg cannot read it. */
export async function openInput(path: string, av: NodeAv): Promise<Demuxer> {
  try {
    return await withLogLines(() => av.api.Demuxer.open(path));
  } catch (err) {
    // FFmpeg's own lines say why ("moov atom not found"); the exception only says "Invalid data".
    const { message, lines = [] } = err as Error & { lines?: string[] };
    throw new MediaError(`${path}: libav cannot read it: ${[...lines, message].join(' | ')}`, {
      file: path,
      reason: 'unreadable media',
    });
  }
}

/** Seconds from a stream timestamp, or null when the stream does not say. */
export function seconds(ts: bigint, timeBase: { num: number; den: number }, av: NodeAv): number | null {
  if (ts === av.constants.AV_NOPTS_VALUE || timeBase.den === 0) return null;
  return (Number(ts) * timeBase.num) / timeBase.den;
}

/**
 * Filtered frames of one stream, in order. Each yielded frame is freed when the consumer asks for the next one,
 * so copy what you need first. Decode errors go to `log` and decoding continues with the next packet, as the CLI
 * does; breaking out of the loop closes everything.
 */
export async function* filteredFrames(path: string, opts: StreamDecodeOptions, log: string[]): AsyncGenerator<Frame> {
  const av = await loadNodeAv();
  const { AVDISCARD_ALL, AVERROR_EOF, AVSEEK_FLAG_BACKWARD } = av.constants;
  const demuxer = await openInput(path, av);
  const fc = demuxer.getFormatContext();
  const stream = demuxer.streams[opts.streamIndex];
  if (!stream) {
    await demuxer.close();
    throw new MediaError(`${path}: libav finds no stream ${opts.streamIndex}`, { file: path, reason: 'no stream' });
  }
  const packet = new av.lib.Packet();
  packet.alloc();
  let decoder: Decoder | null = null;
  let filter: FilterAPI | null = null;
  try {
    if (opts.seekTo !== null) {
      const ret = await fc.seekFrame(-1, BigInt(Math.round(opts.seekTo * 1e6)), AVSEEK_FLAG_BACKWARD);
      if (ret < 0) log.push(`seek to ${opts.seekTo} s failed: ${av.lib.FFmpegError.strerror(ret)}`);
    }
    // Let the demuxer skip the other streams' packets, as the CLI does for unmapped streams. Only after seeking:
    // the seek then still lands on a video keyframe for an audio stream too (as the CLI's does), which gives the
    // audio decoder a pre-roll before the start; seeking the audio stream alone would make its first frame wrong.
    for (const s of demuxer.streams) if (s.index !== stream.index) s.discard = AVDISCARD_ALL;
    decoder = await av.api.Decoder.create(stream, {
      threadCount: opts.threads ?? 0,
      ...(opts.decoderOptions ? { options: opts.decoderOptions } : {}),
    }).catch((err: Error) => {
      const codec = av.lib.avGetCodecName(stream.codecpar.codecId) ?? `codec id ${stream.codecpar.codecId}`;
      throw new MediaError(`${path}: libav cannot decode stream ${stream.index} (${codec}): ${err.message}`, {
        file: path,
        reason: 'decoder not found',
      });
    });
    filter = av.api.FilterAPI.create(opts.filter, {
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.scaleSwsOpts ? { scaleSwsOpts: opts.scaleSwsOpts } : {}),
    });
    const dec = decoder;
    const graph = filter;
    // A trim (atrim=duration) ends the graph before the stream ends; adding a frame then reports end of file.
    let graphEnded = false;
    const filterFrames = async function* (frames: Frame[]): AsyncGenerator<Frame> {
      for (const frame of frames) {
        opts.beforeFilter?.(frame);
        let out: Frame[] = [];
        try {
          if (!graphEnded) out = opts.blocking ? graph.processAllSync(frame) : await graph.processAll(frame);
        } catch (err) {
          if ((err as { code?: number }).code !== AVERROR_EOF) {
            throw new MediaError(`${path}: libav filtering failed (${opts.filter}): ${(err as Error).message}`, {
              file: path,
              reason: 'filter failed',
            });
          }
          graphEnded = true;
        } finally {
          frame.free();
        }
        for (const o of out) {
          try {
            yield o;
          } finally {
            o.free();
          }
        }
      }
    };
    const decode = async (p: typeof packet | null): Promise<Frame[]> => {
      try {
        return opts.blocking ? dec.decodeAllSync(p) : await dec.decodeAll(p);
      } catch (err) {
        log.push((err as Error).message);
        return [];
      }
    };
    while (!graphEnded) {
      const ret = opts.blocking ? fc.readFrameSync(packet) : await fc.readFrame(packet);
      if (ret < 0) {
        if (ret !== AVERROR_EOF) log.push(`read error: ${av.lib.FFmpegError.strerror(ret)}`);
        break;
      }
      if (packet.streamIndex === stream.index) {
        packet.timeBase = stream.timeBase;
        const frames = await decode(packet);
        packet.unref();
        yield* filterFrames(frames);
      } else packet.unref();
    }
    if (!graphEnded) yield* filterFrames(await decode(null));
    if (graph.isFilterInitialized && !graphEnded) {
      for (const o of await graph.processAll(null)) {
        try {
          yield o;
        } finally {
          o.free();
        }
      }
    }
  } finally {
    packet.free();
    filter?.close();
    decoder?.close();
    await demuxer.close();
  }
}
