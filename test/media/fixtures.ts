// Tests here use only media they generate with ffmpeg's lavfi sources. Checks against real footage (../shared/media)
// live in test/real and run with `npm run test:real`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeVideo } from '../../src/media/decode_video.js';
import { runFfmpeg } from '../../src/media/ffmpeg.js';
import { probe } from '../../src/media/probe.js';

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
export function rampVideo(
  out: string,
  opts: { fps: number; seconds: number; pts?: string; size?: string; extra?: string[] },
): Promise<string> {
  const size = opts.size ?? '32x32';
  const chain = [`nullsrc=s=${size}:r=${opts.fps}:d=${opts.seconds}`, "geq=lum='20+N*10':cb=128:cr=128"];
  // pts is in milliseconds (time base 1/1000), so test timestamps are exact integers.
  if (opts.pts) chain.push('settb=1/1000', `setpts='${opts.pts}'`);
  return makeMedia(out, [
    '-f',
    'lavfi',
    '-i',
    chain.join(','),
    '-vsync',
    'passthrough',
    '-c:v',
    'libx264',
    '-qp',
    '0',
    '-pix_fmt',
    'yuv444p',
    '-g',
    '4',
    ...(opts.extra ?? []),
  ]);
}

/** Which ramp frame a decoded gray/rgb frame shows (reads the center pixel's first channel). */
export function rampIndex(frame: Uint8Array, width: number, height: number, channels: number): number {
  const v = frame[((height >> 1) * width + (width >> 1)) * channels];
  // Decoding expands limited-range luma (16..235) to full range (0..255); undo that before reading n.
  const y = (v * 219) / 255 + 16;
  return Math.round((y - 20) / 10);
}

/** What `cameraClip` writes, for assertions. */
export const CAMERA = {
  /** Coded size; the clip carries a 90-degree rotation, so decoded frames are 180 wide and 320 high. */
  width: 320,
  height: 180,
  /** Nominal rate 30000/1001; every 7th frame is missing, so the average rate is lower (variable frame rate). */
  fps: 30000 / 1001,
  seconds: 4,
  sampleRate: 44100,
  channels: 2,
  /** The audio stream starts this late (s), as on cameras whose audio begins after the first frame. */
  audioStart: 0.25,
} as const;

/**
 * A camera-like clip made from lavfi sources: 29.97 fps H.264 (High profile, B-frames), frames dropped at irregular
 * times (VFR), 90-degree rotation metadata, stereo 44.1 kHz AAC starting `CAMERA.audioStart` s after the video.
 * The picture is smooth and moving (so resampled crops compare well), the left channel is a 440 Hz tone, the right a
 * quieter 660 Hz tone with a 2 Hz beat. Two ffmpeg runs, under a second on 2 cores.
 */
export async function cameraClip(dir: string, name = 'camera.mp4'): Promise<string> {
  const c = CAMERA;
  const plain = join(dir, `plain-${name}`);
  const picture = [
    `nullsrc=s=${c.width}x${c.height}:r=30000/1001:d=${c.seconds}`,
    "geq=lum='128+70*sin(X/17+T*1.5)*cos(Y/13-T)':cb='128+40*sin(X/29-T)':cr='128+40*cos(Y/23+T*0.7)'",
    "select='not(eq(mod(n,7),3))'",
  ].join(',');
  const sound = `aevalsrc='0.5*sin(2*PI*440*t)|0.2*sin(2*PI*660*t)*(0.6+0.4*sin(2*PI*2*t))':s=${c.sampleRate}:d=${c.seconds - c.audioStart}`;
  await makeMedia(plain, [
    '-f',
    'lavfi',
    '-i',
    picture,
    '-itsoffset',
    String(c.audioStart),
    '-f',
    'lavfi',
    '-i',
    sound,
    '-vsync',
    'passthrough',
    '-c:v',
    'libx264',
    '-profile:v',
    'high',
    '-bf',
    '2',
    '-g',
    '30',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ar',
    String(c.sampleRate),
    '-ac',
    String(c.channels),
  ]);
  return withRotation(plain, join(dir, name), 90);
}

/**
 * Copies `src` (stream copy) with a display rotation. ffmpeg up to 5.x writes the matrix from `-metadata:s:v rotate=`;
 * 6.0 and newer ignore that tag and take `-display_rotation` (counter-clockwise degrees) as an input option instead.
 */
export async function withRotation(src: string, out: string, clockwise: 90 | 180 | 270): Promise<string> {
  await makeMedia(out, ['-i', src, '-c', 'copy', '-metadata:s:v:0', `rotate=${clockwise}`]);
  if ((await probe(out)).video?.rotation) return out;
  await makeMedia(out, ['-display_rotation:v:0', String(360 - clockwise), '-i', src, '-c', 'copy']);
  return out;
}

/** Asserts that cropScale 2 keeps the central half of the view: a 2x zoom of the plain 64 px center crop. */
export async function assertCenterZoom(path: string): Promise<void> {
  const gray = { fps: 1, resize: 'center-crop', pixelFormat: 'gray', duration: 1 } as const;
  const plain = await decodeVideo(path, { ...gray, width: 64, height: 64 });
  const zoom = await decodeVideo(path, { ...gray, width: 32, height: 32, cropScale: 2 });
  let diff = 0;
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) diff += Math.abs(zoom.frames[y * 32 + x] - plain.frames[(16 + y) * 64 + 16 + x]);
  assert.ok(diff / 1024 < 3, `zoomed crop differs from the center of the plain crop by ${diff / 1024} on average`);
}
