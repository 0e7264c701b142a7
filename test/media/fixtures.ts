import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runFfmpeg } from '../../src/media/ffmpeg.js';

/** The real 10 s clip (1280x720, 30 fps, 44.1 kHz AAC); CI clones the repo with shared/ beside it (override: ATTUNE_TEST_CLIP). */
export const BABY_CLIP = process.env.ATTUNE_TEST_CLIP ?? resolve('../shared/media/baby_30fps_44k.mp4');

/** A temp dir removed by the returned cleanup function. */
export function tempDir(prefix = 'attune-media-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `out` with ffmpeg from the given input/output arguments (lavfi sources etc.). */
export async function makeMedia(out: string, args: string[]): Promise<string> {
  await runFfmpeg(['-y', ...args, out]);
  return out;
}

/**
 * A lossless video whose frame n has luma 20 + 10 n (n < 20), so a decoded pixel tells which source frame it is.
 * `pts` is an optional setpts expression (for VFR); `extra` goes before the output name.
 */
export function rampVideo(out: string, opts: { fps: number; seconds: number; pts?: string; size?: string; extra?: string[] }): Promise<string> {
  const size = opts.size ?? '32x32';
  const chain = [`nullsrc=s=${size}:r=${opts.fps}:d=${opts.seconds}`, "geq=lum='20+N*10':cb=128:cr=128"];
  // pts is in milliseconds (time base 1/1000), so test timestamps are exact integers.
  if (opts.pts) chain.push('settb=1/1000', `setpts='${opts.pts}'`);
  return makeMedia(out, [
    '-f', 'lavfi', '-i', chain.join(','),
    '-vsync', 'passthrough', '-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv444p', '-g', '4',
    ...(opts.extra ?? []),
  ]);
}

/** Which ramp frame a decoded gray/rgb frame shows (reads the centre pixel's first channel). */
export function rampIndex(frame: Uint8Array, width: number, height: number, channels: number): number {
  const v = frame[((height >> 1) * width + (width >> 1)) * channels];
  // Decoding expands limited-range luma (16..235) to full range (0..255); undo that before reading n.
  const y = (v * 219) / 255 + 16;
  return Math.round((y - 20) / 10);
}
