import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeAudio } from '../../src/media/decode_audio.js';
import { decodeVideo } from '../../src/media/decode_video.js';
import { intervalsAreIrregular, parseProbe, probe } from '../../src/media/probe.js';
import { parseFfmpegSummary } from '../../src/media/probe_ffmpeg.js';
import { makeMedia, rampIndex, tempDir } from './fixtures.js';

const tmp = tempDir();
after(() => tmp.cleanup());

const SUMMARY = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:01:02.50, start: 0.023220, bitrate: 1334 kb/s
    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 1280x720 [SAR 1:1 DAR 16:9], 1196 kb/s, 29.97 fps, 29.97 tbr, 30k tbn, 59.94 tbc (default)
    Metadata:
      rotate          : 90
      handler_name    : VideoHandler
    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, 5.1, fltp, 128 kb/s (default)
    Stream #0:2: Video: mjpeg, yuvj420p(pc), 300x300, 90k tbr, 90k tbn, 90k tbc (attached pic)
At least one output file must be specified`;

test('ffmpeg -i summary parser: format, duration, start, sizes, rates, channels, rotation, cover art', () => {
  const p = parseFfmpegSummary(SUMMARY)!;
  assert.equal(p.format.format_name, 'mov,mp4,m4a,3gp,3g2,mj2');
  assert.equal(Number(p.format.duration), 62.5);
  assert.equal(p.format.start_time, '0.023220');
  const info = parseProbe('x.mp4', 1, p as never);
  assert.equal(info.video!.width, 1280);
  assert.ok(Math.abs(info.video!.fps - 29.97) < 1e-9);
  assert.equal(info.video!.rotation, 90);
  assert.equal(info.video!.displayWidth, 720);
  assert.equal(info.audio!.channels, 6);
  assert.equal(info.audio!.sampleRate, 44100);
  assert.equal(info.streams.length, 3);
  assert.equal(info.video!.index, 0); // the cover art (attached pic) is not taken as the video
  assert.equal(parseFfmpegSummary('x.mp4: Invalid data found when processing input'), null);
});

test('MPEG-TS (where the shipped ffprobe crashes): probed through ffmpeg, decoded on the container clock', async () => {
  const ts = await makeMedia(join(tmp.dir, 'ramp.ts'), [
    '-f',
    'lavfi',
    '-i',
    "nullsrc=s=32x32:r=10:d=2,geq=lum='20+N*10':cb=128:cr=128",
    '-f',
    'lavfi',
    '-i',
    'sine=d=2',
    '-c:v',
    'libx264',
    '-qp',
    '0',
    '-pix_fmt',
    'yuv444p',
    '-c:a',
    'aac',
  ]);
  const info = await probe(ts);
  assert.match(info.format, /mpegts/);
  assert.ok(info.startTime > 1, `MPEG-TS clocks start late (${info.startTime})`);
  assert.equal(info.video!.fps, 10);
  assert.equal(info.audio!.sampleRate, 44100);
  const v = await decodeVideo(ts, { fps: 10, pixelFormat: 'gray', info });
  const shown = Array.from({ length: v.frameCount }, (_, i) => rampIndex(v.frames.subarray(i * 1024), 32, 32, 1));
  // Every source frame appears once, in order (the video starts a few ms after the container clock).
  assert.ok(v.frameCount >= 20 && v.frameCount <= 21, `frames ${v.frameCount}`);
  for (let i = 1; i < shown.length; i++) assert.ok(shown[i] - shown[i - 1] <= 1 && shown[i] >= shown[i - 1]);
  assert.equal(shown[0], 0);
  assert.equal(shown.at(-1), 19);
  const a = await decodeAudio(ts, { sampleRate: 16000, info });
  assert.ok(Math.abs(a.length / 16000 - 2) < 0.1);
});

test('frame-interval regularity check', () => {
  assert.equal(intervalsAreIrregular([0, 0.04, 0.08, 0.12, 0.16]), false);
  assert.equal(intervalsAreIrregular([0, 0.033, 0.067, 0.1, 0.133]), false); // 1 ms rounding
  assert.equal(intervalsAreIrregular([0, 0.04, 0.08, 0.2, 0.24, 0.4, 0.44]), true);
  assert.equal(intervalsAreIrregular([0, 0.08, 0.12, 0.16, 0.2, 0.24]), false); // one dropped frame
  assert.equal(intervalsAreIrregular([0.08, 0, 0.04]), false); // decode order vs presentation order
});

test('common containers and codecs decode to the expected timeline (webm, avi, mov, flv, mpeg-ps, mp3, flac, ogg)', async () => {
  const av = [
    ['c.webm', ['-c:v', 'libvpx', '-c:a', 'libvorbis']],
    ['c.avi', ['-c:v', 'mpeg4', '-c:a', 'libmp3lame']],
    ['c.mov', ['-c:v', 'libx264', '-c:a', 'aac']],
    ['c.flv', ['-c:v', 'libx264', '-c:a', 'aac']],
    ['c.mpg', ['-c:v', 'mpeg2video', '-c:a', 'mp2']],
  ] as const;
  for (const [name, codecs] of av) {
    const f = await makeMedia(join(tmp.dir, name), [
      '-f',
      'lavfi',
      '-i',
      'testsrc=s=64x48:r=25:d=1',
      '-f',
      'lavfi',
      '-i',
      'sine=d=1',
      ...codecs,
    ]);
    const info = await probe(f);
    assert.equal(info.video!.variableFrameRate, false, `${name} VFR`);
    const v = await decodeVideo(f, { fps: 10, width: 32, height: 24, info });
    assert.ok(v.frameCount >= 10 && v.frameCount <= 11, `${name}: ${v.frameCount} frames`);
    const a = await decodeAudio(f, { sampleRate: 16000, info });
    assert.ok(Math.abs(a.length - 16000) < 1000, `${name}: ${a.length} samples`);
  }
  for (const name of ['c.mp3', 'c.flac', 'c.ogg']) {
    const f = await makeMedia(join(tmp.dir, name), ['-f', 'lavfi', '-i', 'sine=d=1']);
    const info = await probe(f);
    assert.equal(info.video, null);
    const a = await decodeAudio(f, { sampleRate: 16000, info });
    assert.ok(Math.abs(a.length - 16000) < 1000, `${name}: ${a.length} samples`);
  }
});
