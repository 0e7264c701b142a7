/**
 * Audio samples through libav in-process, matching what `ffmpeg [-ss S] [-t D] -i FILE -af CHAIN -ac N -f f32le`
 * does: timestamps counted from `container start + S` (the CLI subtracts them at the demuxer), a trim at 0 and to
 * D (the CLI inserts it for -ss/-t), the caller's chain, then packed float32 in the default layout for N channels
 * (the CLI's output format filter for -ac N).
 */
import { secondsArg } from '../timing.js';
import { captureLog, loadNodeAv, type RecordSource } from './backend.js';
import { filteredFrames } from './demux.js';

export interface LibavAudioPlan {
  streamIndex: number;
  /** The CLI's -af chain (aresample=...). */
  filter: string;
  /** Absolute file time (s) of output sample 0: container start + requested start. */
  absStart: number;
  /** Requested start (s); > 0 seeks and trims like `-ss`. */
  start: number;
  duration: number | undefined;
  channels: number;
  recordBytes: number;
  threads?: number;
}

/** Interleaved float32 records of `plan.recordBytes` (the last may be shorter); returns FFmpeg's error lines. */
export function libavAudioRecords(path: string, plan: LibavAudioPlan): RecordSource {
  return captureLog(async function* (log) {
    const av = await loadNodeAv();
    const layout = av.lib.avChannelLayoutDescribe(av.lib.avChannelLayoutDefault(plan.channels));
    const trim = [
      ...(plan.start > 0 ? ['start=0'] : []),
      ...(plan.duration !== undefined ? [`duration=${secondsArg(plan.duration)}`] : []),
    ];
    const filter = [
      ...(trim.length > 0 ? [`atrim=${trim.join(':')}`] : []),
      plan.filter,
      `aformat=sample_fmts=flt:channel_layouts=${layout}`,
    ].join(',');
    const frames = filteredFrames(
      path,
      {
        streamIndex: plan.streamIndex,
        seekTo: plan.start > 0 ? plan.absStart : null,
        filter,
        threads: plan.threads,
        blocking: true,
        // The decoder hands frames over in 1/sample_rate; shift them so that t = 0 is absStart.
        beforeFilter: (frame) => {
          const tb = frame.timeBase;
          frame.pts -= BigInt(Math.round((plan.absStart * tb.den) / tb.num));
        },
      },
      log,
    );
    let record = new Uint8Array(plan.recordBytes);
    let filled = 0;
    for await (const frame of frames) {
      const bytes = frame.toBuffer();
      for (let off = 0; off < bytes.length;) {
        const take = Math.min(plan.recordBytes - filled, bytes.length - off);
        record.set(bytes.subarray(off, off + take), filled);
        filled += take;
        off += take;
        if (filled === plan.recordBytes) {
          yield record;
          record = new Uint8Array(plan.recordBytes);
          filled = 0;
        }
      }
    }
    if (filled > 0) yield record.subarray(0, filled);
  });
}
