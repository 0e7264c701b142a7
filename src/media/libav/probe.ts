/**
 * probe() through libav in-process: the same fields ffprobe's JSON gives (the subset parseProbe reads), so one
 * parser turns either into a MediaInfo. Unlike the bundled ffprobe, this reads MPEG-TS, with per-stream start times.
 */
import type { Stream } from 'node-av/lib';
import { loadNodeAv, type NodeAv } from './backend.js';
import { openInput, seconds } from './demux.js';

/** ffprobe's -show_streams / -show_format JSON, the fields parseProbe reads. */
export interface ProbeJson {
  streams?: Record<string, unknown>[];
  format?: { format_name?: string; start_time?: string; duration?: string; size?: string };
}

const text = (v: number | null): string | undefined => (v === null ? undefined : String(v));
const fraction = (r: { num: number; den: number }): string => `${r.num}/${r.den}`;

/** Counter-clockwise degrees of a display matrix, as av_display_rotation_get (and ffprobe) report them. */
export function displayMatrixRotation(matrix: Buffer): number | undefined {
  if (matrix.length < 36) return undefined;
  const m = (i: number): number => matrix.readInt32LE(4 * i) / 65536;
  const scale0 = Math.hypot(m(0), m(3));
  const scale1 = Math.hypot(m(1), m(4));
  if (scale0 === 0 || scale1 === 0) return undefined;
  return -Math.round((Math.atan2(m(1) / scale1, m(0) / scale0) * 180) / Math.PI);
}

function streamJson(s: Stream, av: NodeAv): Record<string, unknown> {
  const { lib, constants } = av;
  const p = s.codecpar;
  const type = lib.avGetMediaTypeString(p.codecType) ?? 'unknown';
  const out: Record<string, unknown> = {
    index: s.index,
    codec_type: type,
    codec_name: lib.avGetCodecName(p.codecId) ?? 'unknown',
    start_time: text(seconds(s.startTime, s.timeBase, av)),
    duration: text(seconds(s.duration, s.timeBase, av)),
    tags: s.metadata?.getAll() ?? {},
    disposition: { attached_pic: s.hasDisposition(constants.AV_DISPOSITION_ATTACHED_PIC) ? 1 : 0 },
  };
  if (type === 'video') {
    // ffprobe reports the stream's aspect ratio when it has one, the codec's otherwise.
    const sar = s.sampleAspectRatio.num > 0 ? s.sampleAspectRatio : p.sampleAspectRatio;
    const matrix = p.getCodedSideData(constants.AV_PKT_DATA_DISPLAYMATRIX);
    const rotation = matrix ? displayMatrixRotation(matrix) : undefined;
    Object.assign(out, {
      width: p.width,
      height: p.height,
      sample_aspect_ratio: sar.num > 0 ? `${sar.num}:${sar.den}` : undefined,
      r_frame_rate: fraction(s.rFrameRate),
      avg_frame_rate: fraction(s.avgFrameRate),
      nb_frames: s.nbFrames > 0n ? String(s.nbFrames) : undefined,
      pix_fmt: lib.avGetPixFmtName(p.format as never) ?? undefined,
      side_data_list: rotation !== undefined ? [{ rotation }] : [],
    });
  } else if (type === 'audio') {
    Object.assign(out, {
      sample_rate: String(p.sampleRate),
      channels: p.channels,
      channel_layout: lib.avChannelLayoutDescribe(p.channelLayout) ?? undefined,
    });
  }
  return out;
}

/** ffprobe-style JSON for a file, read with libav; MediaError when FFmpeg cannot open it. */
export async function libavProbeJson(path: string, sizeBytes: number): Promise<ProbeJson> {
  const av = await loadNodeAv();
  const demuxer = await openInput(path, av);
  try {
    const fc = demuxer.getFormatContext();
    const micro = { num: 1, den: 1_000_000 };
    return {
      streams: demuxer.streams.map((s) => streamJson(s, av)),
      format: {
        format_name: demuxer.formatName,
        start_time: text(seconds(fc.startTime, micro, av)),
        duration: text(seconds(fc.duration, micro, av)),
        size: String(sizeBytes),
      },
    };
  } finally {
    await demuxer.close();
  }
}

/** Presentation and decode times (s, NaN when absent) of the first `packets` packets of a stream. */
export async function libavPacketTimes(path: string, streamIndex: number, packets: number): Promise<number[][]> {
  const av = await loadNodeAv();
  const demuxer = await openInput(path, av);
  const packet = new av.lib.Packet();
  packet.alloc();
  try {
    const fc = demuxer.getFormatContext();
    const stream = demuxer.streams[streamIndex];
    const rows: number[][] = [];
    while (stream && rows.length < packets && (await fc.readFrame(packet)) >= 0) {
      if (packet.streamIndex === streamIndex) {
        rows.push([seconds(packet.pts, stream.timeBase, av) ?? NaN, seconds(packet.dts, stream.timeBase, av) ?? NaN]);
      }
      packet.unref();
    }
    return rows;
  } finally {
    packet.free();
    await demuxer.close();
  }
}
