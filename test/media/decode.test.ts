import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeAudio, iterateAudioChunks } from '../../src/media/decode_audio.js';
import { decodeVideo, iterateVideoFrames } from '../../src/media/decode_video.js';
import { runFfmpeg, spawnTool } from '../../src/media/ffmpeg.js';
import { probe } from '../../src/media/probe.js';
import { gridCount } from '../../src/media/timing.js';
import {
  CAMERA,
  assertCenterZoom,
  cameraClip,
  makeMedia,
  rampIndex,
  rampVideo,
  tempDir,
  withRotation,
} from './fixtures.js';

const tmp = tempDir();
let ramp10: string; // 10 fps, 2 s, frame n has luma 20 + 10 n
let vfr: string; // irregular timestamps
let late: string; // video at 0, audio (440 Hz) starting at 0.5 s
let rotated: string;
let camera: string; // camera-like: 29.97 fps H.264 with B-frames, VFR, rotated 90, 44.1 kHz stereo AAC starting late

before(async () => {
  ramp10 = await rampVideo(join(tmp.dir, 'ramp10.mp4'), { fps: 10, seconds: 2 });
  // Frames at 0, .1, .2, .3, .4, then every 0.25 s: 0.5, 0.75, 1.0, 1.25, 1.5.
  vfr = await rampVideo(join(tmp.dir, 'vfr.mkv'), { fps: 10, seconds: 1, pts: 'if(lt(N,5),N*100,500+(N-5)*250)' });
  late = await makeMedia(join(tmp.dir, 'late.mkv'), [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=64x48:r=25:d=2',
    '-itsoffset',
    '0.5',
    '-f',
    'lavfi',
    '-i',
    'sine=f=440:r=44100:d=1',
    '-c:v',
    'libx264',
    '-c:a',
    'pcm_s16le',
  ]);
  // ffmpeg writes the rotation matrix when remuxing (stream copy), not when encoding.
  const upright = await makeMedia(join(tmp.dir, 'upright.mp4'), [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=64x48:r=10:d=1',
    '-c:v',
    'libx264',
  ]);
  rotated = await withRotation(upright, join(tmp.dir, 'rot.mp4'), 90);
  camera = await cameraClip(tmp.dir);
});
after(() => tmp.cleanup());

test('video frames follow the exact timeline: frame i shows the source frame on screen at i/fps', async () => {
  const v = await decodeVideo(ramp10, { fps: 25, pixelFormat: 'gray', width: 32, height: 32 });
  assert.equal(v.frameCount, 50);
  const shown = Array.from({ length: v.frameCount }, (_, i) =>
    rampIndex(v.frames.subarray(i * 1024, (i + 1) * 1024), 32, 32, 1),
  );
  assert.deepEqual(
    shown,
    Array.from({ length: 50 }, (_, i) => Math.floor((i * 10) / 25 + 1e-9)),
  );
});

test('video time range: a late start keeps the frame still on screen (no accurate-seek drop)', async () => {
  const v = await decodeVideo(ramp10, { fps: 4, start: 0.45, pixelFormat: 'gray', width: 32, height: 32 });
  // t = 0.45 + i/4 for t < 2.0 -> 7 frames showing floor(10 t).
  assert.equal(v.frameCount, 7);
  assert.equal(v.start, 0.45);
  const shown = Array.from({ length: 7 }, (_, i) => rampIndex(v.frames.subarray(i * 1024), 32, 32, 1));
  assert.deepEqual(shown, [4, 7, 9, 12, 14, 17, 19]);
  const cut = await decodeVideo(ramp10, { fps: 10, start: 1, duration: 0.5, pixelFormat: 'gray' });
  assert.equal(cut.frameCount, 5);
  assert.equal(rampIndex(cut.frames, 32, 32, 1), 10);
});

test('variable frame rate: probe flags it and frames are held between irregular timestamps', async () => {
  const info = await probe(vfr);
  assert.equal(info.video?.variableFrameRate, true);
  const regular = await probe(ramp10);
  assert.equal(regular.video?.variableFrameRate, false);
  const v = await decodeVideo(vfr, { fps: 10, pixelFormat: 'gray' });
  const shown = Array.from({ length: v.frameCount }, (_, i) => rampIndex(v.frames.subarray(i * 1024), 32, 32, 1));
  const times = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.25, 1.5];
  const expected = shown.map((_, i) => times.filter((t) => t <= i / 10 + 1e-6).length - 1);
  assert.deepEqual(shown, expected);
  assert.ok(v.frameCount >= 16, `frames ${v.frameCount}`);
});

test('resize modes give the requested size; rgb has 3 channels; letterbox pads with black', async () => {
  for (const resize of ['stretch', 'center-crop', 'letterbox'] as const) {
    const v = await decodeVideo(late, { fps: 5, width: 40, height: 40, resize, duration: 0.4 });
    assert.equal(v.width, 40);
    assert.equal(v.height, 40);
    assert.equal(v.channels, 3);
    assert.equal(v.frames.length, 2 * 40 * 40 * 3);
    const topRow = v.frames.subarray(0, 40 * 3);
    const topMax = Math.max(...topRow);
    if (resize === 'letterbox') assert.ok(topMax < 8, `letterbox top row should be black, max ${topMax}`);
    else assert.ok(topMax > 30, `${resize} top row should hold picture, max ${topMax}`);
  }
  await assertCenterZoom(camera);
  const half = await decodeVideo(late, { fps: 5, width: 32, duration: 0.2 });
  assert.equal(half.height, 24); // aspect kept: 64x48 -> 32x24
});

test('rotation is reported and applied (display size swaps)', async () => {
  const info = await probe(rotated);
  assert.ok(info.video!.rotation === 90 || info.video!.rotation === 270, `rotation ${info.video!.rotation}`);
  assert.equal(info.video!.displayWidth, 48);
  assert.equal(info.video!.displayHeight, 64);
  const v = await decodeVideo(rotated, { fps: 10, duration: 0.2, pixelFormat: 'gray' });
  assert.equal(v.width, 48);
  assert.equal(v.height, 64);
});

test('audio that starts late is padded with silence so sample j sits at j / rate', async () => {
  const info = await probe(late);
  assert.ok(Math.abs(info.audio!.startTime - 0.5) < 0.01);
  const a = await decodeAudio(late, { sampleRate: 16000 });
  let first = 0;
  while (Math.abs(a.data[first]) < 1e-3) first++;
  assert.ok(Math.abs(first / 16000 - 0.5) < 0.002, `first sound at ${first / 16000} s`);
  assert.ok(Math.abs(a.length / 16000 - 1.5) < 0.01, `length ${a.length}`);
  // An exact range is exactly round(duration * rate) samples, padded past the end of the stream.
  const r = await decodeAudio(late, { sampleRate: 8000, start: 1.2, duration: 0.6 });
  assert.equal(r.length, 4800);
  assert.ok(r.data.subarray(0, 2000).some((x) => Math.abs(x) > 0.1));
  assert.ok(
    r.data.subarray(3000).every((x) => x === 0),
    'silence after the audio stream ends at 1.5 s',
  );
});

test('camera-like clip (29.97 fps, B-frames, VFR, rotated, 44.1 kHz AAC starting late): probe, channels kept or mixed, 8 fps frames', async () => {
  const info = await probe(camera);
  assert.equal(info.video!.codec, 'h264');
  assert.equal(info.video!.width, CAMERA.width);
  assert.ok(Math.abs(info.video!.fps - CAMERA.fps) < 1e-3, `fps ${info.video!.fps}`);
  assert.equal(info.video!.variableFrameRate, true);
  assert.ok(info.video!.rotation === 90 || info.video!.rotation === 270, `rotation ${info.video!.rotation}`);
  assert.equal(info.video!.displayWidth, CAMERA.height);
  assert.equal(info.audio!.codec, 'aac');
  assert.equal(info.audio!.sampleRate, CAMERA.sampleRate);
  assert.equal(info.audio!.channels, CAMERA.channels);
  assert.ok(Math.abs(info.audio!.startTime - CAMERA.audioStart) < 0.03, `audio starts at ${info.audio!.startTime}`);
  assert.ok(Math.abs(info.duration - CAMERA.seconds) < 0.1, `duration ${info.duration}`);
  const stereo = await decodeAudio(camera, { sampleRate: 44100, channels: 'keep', duration: 2, info });
  assert.equal(stereo.channels, 2);
  assert.equal(stereo.length, 88200);
  // Planar: the left channel (440 Hz, louder) and the right (660 Hz) differ once the audio has started.
  let l = 0;
  let r = 0;
  for (let i = 22050; i < 88200; i++) {
    l += stereo.data[i] ** 2;
    r += stereo.data[88200 + i] ** 2;
  }
  assert.ok(l > 3 * r && r > 0, `channel energies ${l} / ${r}`);
  const mono = await decodeAudio(camera, { sampleRate: 16000, start: 1, duration: 1.5, info });
  assert.equal(mono.length, 24000);
  assert.ok(mono.data.some((x) => Math.abs(x) > 1e-3));
  const frames: number[] = [];
  for await (const f of iterateVideoFrames(camera, { fps: 8, width: 224, height: 224, resize: 'center-crop', info })) {
    assert.equal(f.data.length, 224 * 224 * 3);
    assert.ok(Math.abs(f.time - f.index / 8) < 1e-9);
    frames.push(f.index);
  }
  // 8 fps over the whole video stream (29.97 fps frames end at 4.004 s: 33 frames of the 8 fps grid).
  assert.equal(frames.length, gridCount(0, info.video!.startTime + info.video!.duration!, 8));
  assert.ok(frames.length >= CAMERA.seconds * 8);
});

test('streaming audio chunks have the requested size and cover the stream', async () => {
  let total = 0;
  let chunks = 0;
  for await (const c of iterateAudioChunks(camera, { sampleRate: 16000, chunkFrames: 4000, duration: 3 })) {
    assert.equal(c.offset, total);
    assert.ok(c.frames <= 4000);
    total += c.frames;
    chunks++;
  }
  assert.equal(total, 48000);
  assert.equal(chunks, 12);
});

test('runFfmpeg writes media from stdin bytes; spawnTool streams raw frames in', async () => {
  const tone = new Float32Array(8000);
  for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 8000);
  const wavPath = join(tmp.dir, 'from_stdin.wav');
  await runFfmpeg(['-y', '-f', 'f32le', '-ar', '8000', '-ac', '1', '-i', 'pipe:0', '-c:a', 'pcm_s16le', wavPath], {
    stdin: new Uint8Array(tone.buffer),
  });
  const back = await decodeAudio(wavPath, { sampleRate: 8000 });
  assert.equal(back.length, 8000);
  let err = 0;
  for (let i = 0; i < 8000; i++) err = Math.max(err, Math.abs(back.data[i] - tone[i]));
  assert.ok(err < 1e-3, `pcm round trip error ${err}`);
  // Ten gray frames with luma 20 + 10 n, streamed into a lossless encoder through stdin.
  const mp4 = join(tmp.dir, 'from_frames.mp4');
  const proc = spawnTool(
    'ffmpeg',
    [
      '-y',
      '-loglevel',
      'error',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-s',
      '32x32',
      '-r',
      '10',
      '-i',
      'pipe:0',
      '-c:v',
      'libx264',
      '-qp',
      '0',
      '-pix_fmt',
      'yuv444p',
      mp4,
    ],
    { stdin: 'pipe' },
  );
  for (let n = 0; n < 10; n++) {
    // gray is full range; write the value that decodes back to luma 20 + 10 n.
    const v = Math.round(((20 + 10 * n - 16) * 255) / 219);
    if (!proc.stdin.write(new Uint8Array(32 * 32).fill(v))) await new Promise((r) => proc.stdin.once('drain', r));
  }
  proc.stdin.end();
  await proc.done;
  const v = await decodeVideo(mp4, { fps: 10, pixelFormat: 'gray' });
  assert.deepEqual(
    Array.from({ length: v.frameCount }, (_, i) => rampIndex(v.frames.subarray(i * 1024), 32, 32, 1)),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test('breaking out of a frame loop stops ffmpeg early', async () => {
  let n = 0;
  for await (const f of iterateVideoFrames(camera, { fps: 30, width: 64, height: 36 })) {
    n = f.index + 1;
    if (n === 3) break;
  }
  assert.equal(n, 3);
});
