/**
 * Video frames through libav in-process, on the plan decode_video.ts makes for the CLI: the same `-vf` chain,
 * the same seek (keyframe at or before the start, like `-ss` with `-noaccurate_seek`), file timestamps kept
 * (`-copyts`: node-av does not shift them) and the same frame limit (`-frames:v`).
 */
import { captureLog, type RecordSource } from './backend.js';
import { filteredFrames } from './demux.js';

export interface LibavVideoPlan {
  streamIndex: number;
  /** The CLI's -vf chain (videoFilter()). */
  filter: string;
  /** Clockwise display rotation: the CLI inserts these filters itself (autorotate), so libav must too. */
  rotation: number;
  /** Absolute seconds to seek to, or null from the start. */
  seekTo: number | null;
  frameCount: number;
  frameBytes: number;
  threads?: number;
  skipLoopFilter: boolean;
}

/** What ffmpeg's autorotate puts in front of the user's chain for a clockwise rotation. */
export function rotationFilter(rotation: number): string | null {
  if (rotation === 90) return 'transpose=clock';
  if (rotation === 180) return 'hflip,vflip';
  if (rotation === 270) return 'transpose=cclock';
  return null;
}

/** Packed [H, W, C] frames of `plan.frameBytes` bytes; returns FFmpeg's error lines. */
export function libavVideoRecords(path: string, plan: LibavVideoPlan): RecordSource {
  const rotate = rotationFilter(plan.rotation);
  return captureLog(async function* (log) {
    const frames = filteredFrames(
      path,
      {
        streamIndex: plan.streamIndex,
        seekTo: plan.seekTo,
        filter: rotate ? `${rotate},${plan.filter}` : plan.filter,
        threads: plan.threads,
        decoderOptions: plan.skipLoopFilter ? { skip_loop_filter: 'all' } : undefined,
        // ffmpeg 4.1's default for the scalers it inserts (sws_flags); the chain's own scale filters set theirs.
        scaleSwsOpts: 'flags=bicubic',
      },
      log,
    );
    let count = 0;
    for await (const frame of frames) {
      const bytes = frame.toBuffer();
      if (bytes.length !== plan.frameBytes) {
        log.push(
          `libav gave a ${frame.width}x${frame.height} frame of ${bytes.length} bytes, ${plan.frameBytes} expected`,
        );
        break;
      }
      yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      if (++count >= plan.frameCount) break;
    }
  });
}
