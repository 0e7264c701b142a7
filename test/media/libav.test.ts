// The libav backend (ATTUNE_DECODER=libav: FFmpeg 8 in-process through node-av) against the ffmpeg CLI backend on
// generated fixtures. node-av is installed in development; when it does not load, these tests fail and say so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { decodeAudio } from '../../src/media/decode_audio.js';
import { decodeVideo } from '../../src/media/decode_video.js';
import { probe } from '../../src/media/probe.js';
import { decoderBackend, loadNodeAv, openNodeAv, readAhead, type RecordSource } from '../../src/media/libav/backend.js';
import { compareFile, difference, withBackend } from '../../bench/decode_compare.js';
import { displayMatrixRotation } from '../../src/media/libav/probe.js';
import { ConfigError, MediaError } from '../../src/util/errors.js';
import { CAMERA, cameraClip, makeMedia, rampIndex, rampVideo, tempDir } from './fixtures.js';

const tmp = tempDir('attune-libav-');
let camera: string; // 29.97 fps H.264 with B-frames, VFR, rotated 90, 44.1 kHz stereo AAC starting late
let ts: string; // the same, unrotated, as MPEG-TS
let vfr: string; // lossless ramp with irregular timestamps

before(async () => {
  try {
    await loadNodeAv();
  } catch (err) {
    throw new Error(`node-av must be installed for these tests (npm install keeps optional dependencies): ${err}`, {
      cause: err,
    });
  }
  camera = await cameraClip(tmp.dir);
  ts = await makeMedia(join(tmp.dir, 'camera.ts'), ['-i', join(tmp.dir, 'plain-camera.mp4'), '-c', 'copy']);
  vfr = await rampVideo(join(tmp.dir, 'vfr.mkv'), { fps: 10, seconds: 1, pts: 'if(lt(N,5),N*100,500+(N-5)*250)' });
});
after(() => tmp.cleanup());

/** `fn` on the CLI backend, then on libav (one after the other: the backend is an environment variable). */
async function onBoth<T>(fn: () => Promise<T>): Promise<[T, T]> {
  const a = await withBackend('ffmpeg', fn);
  return [a, await withBackend('libav', fn)];
}

test('ATTUNE_DECODER picks the backend; anything else is a ConfigError', () => {
  assert.equal(decoderBackend({}), 'libav', 'node-av is installed in development: libav is the default');
  assert.equal(
    decoderBackend({}, () => false),
    'ffmpeg',
    'without node-av the CLI decodes',
  );
  assert.equal(decoderBackend({ ATTUNE_DECODER: 'ffmpeg' }), 'ffmpeg');
  assert.equal(decoderBackend({ ATTUNE_DECODER: 'libav' }), 'libav');
  assert.throws(() => decoderBackend({ ATTUNE_DECODER: 'gstreamer' }), ConfigError);
});

test('a missing node-av is a MediaError that says what to install', async () => {
  const missing = () => Promise.reject(new Error("Cannot find package 'node-av'"));
  await assert.rejects(openNodeAv(missing), (err: unknown) => {
    assert.ok(err instanceof MediaError);
    assert.match(err.message, /npm install node-av/);
    assert.match(err.message, /Cannot find package 'node-av'/);
    return true;
  });
});

test('readAhead keeps order and the final value, stops its source early, and passes failures on in turn', async () => {
  const closed = { count: 0 };
  async function* numbers(n: number, failAt = -1): RecordSource {
    try {
      for (let i = 0; i < n; i++) {
        if (i === failAt) throw new Error(`record ${i} is bad`);
        yield Uint8Array.of(i);
      }
      return 'done';
    } finally {
      closed.count++;
    }
  }
  const seen: number[] = [];
  const all = readAhead(numbers(10), 3);
  let next: IteratorResult<Uint8Array, string>;
  while (!(next = await all.next()).done) seen.push(next.value[0]);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(next.value, 'done');
  assert.equal(closed.count, 1);
  for await (const r of readAhead(numbers(1000), 4)) if (r[0] === 2) break;
  assert.equal(closed.count, 2, 'source closed after an early break');
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const r of readAhead(numbers(10, 5), 4)) got.push(r[0]);
    })(),
    /record 5 is bad/,
  );
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
});

test('display matrix rotation reads as av_display_rotation_get does', () => {
  const matrix = (a: number, b: number, c: number, d: number): Buffer => {
    const m = Buffer.alloc(36);
    [a, b, 0, c, d, 0, 0, 0, 1].forEach((v, i) =>
      m.writeInt32LE(Math.round(v * (i % 3 === 2 ? 2 ** 30 : 65536)), 4 * i),
    );
    return m;
  };
  assert.equal(displayMatrixRotation(matrix(1, 0, 0, 1)), -0);
  assert.equal(displayMatrixRotation(matrix(0, 1, -1, 0)), -90); // 90 degrees clockwise
  assert.equal(displayMatrixRotation(matrix(0, -1, 1, 0)), 90);
  assert.equal(displayMatrixRotation(Buffer.alloc(8)), undefined);
});

test('camera clip: probe, audio and both video sizes match the CLI backend', async () => {
  const c = await compareFile(camera);
  assert.deepEqual(c.probeDiffs, []);
  const info = c.probe.libav;
  assert.ok(typeof info !== 'string');
  assert.ok(info.video?.rotation === 90 || info.video?.rotation === 270, `rotation ${info.video?.rotation}`);
  assert.equal(info.video?.variableFrameRate, true);
  assert.equal(info.audio?.sampleRate, CAMERA.sampleRate);
  assert.ok(c.audio);
  assert.equal(c.audio.samples.libav, c.audio.samples.ffmpeg);
  assert.ok(c.audio.snrDb > 100, `audio SNR ${c.audio.snrDb} dB`);
  for (const [name, v] of Object.entries(c.video)) {
    assert.equal(v.frames.libav, v.frames.ffmpeg, `${name} frame count`);
    assert.ok(v.maxAbs <= 2 && v.meanAbs < 0.05, `${name}: max ${v.maxAbs}, mean ${v.meanAbs}`);
  }
  // Rotation applied: the 320x180 picture comes out 180 wide.
  const full = await withBackend('libav', () => decodeVideo(camera, { fps: 5, pixelFormat: 'gray' }));
  assert.deepEqual([full.width, full.height], [CAMERA.height, CAMERA.width]);
});

test('VFR ramp: every output frame shows the same source frame on both backends', async () => {
  const opts = { fps: 20, pixelFormat: 'gray' as const };
  const [a, b] = await onBoth(() => decodeVideo(vfr, opts));
  assert.equal(b.frameCount, a.frameCount);
  const px = a.width * a.height;
  const index = (v: typeof a, i: number): number =>
    rampIndex(v.frames.subarray(i * px, (i + 1) * px), v.width, v.height, 1);
  const shown = Array.from({ length: a.frameCount }, (_, i) => index(b, i));
  assert.deepEqual(
    shown,
    Array.from({ length: a.frameCount }, (_, i) => index(a, i)),
  );
  // Frames at 0.5, 0.75, 1.0 s: slot 11 (0.55 s) still shows frame 5, slot 15 (0.75 s) frame 6.
  assert.equal(shown[11], 5);
  assert.equal(shown[15], 6);
});

test('a time range (seek, trim, exact length) matches the CLI backend', async () => {
  const range = { start: 1.3, duration: 1.5 };
  const [a, b] = await onBoth(() => decodeAudio(camera, { ...range, sampleRate: 16000, channels: 'keep' }));
  assert.equal(b.length, Math.round(range.duration * 16000));
  assert.equal(b.channels, CAMERA.channels);
  assert.ok(difference(a.data, b.data).snrDb > 90, `SNR ${difference(a.data, b.data).snrDb}`);
  const view = { ...range, fps: 10, width: 32, height: 32, pixelFormat: 'gray' as const };
  const [va, vb] = await onBoth(() => decodeVideo(camera, view));
  assert.equal(vb.frameCount, 15);
  assert.ok(difference(va.frames, vb.frames).maxAbs <= 2);
});

test('MPEG-TS probes through libav with per-stream start times and the VFR scan', async () => {
  const info = await withBackend('libav', () => probe(ts));
  assert.equal(info.format, 'mpegts');
  assert.equal(info.video?.codec, 'h264');
  assert.ok(Math.abs((info.video?.fps ?? 0) - CAMERA.fps) < 1e-3);
  assert.equal(info.video?.duration, null); // TS carries no stream durations
  assert.equal(info.video?.variableFrameRate, true); // every 7th frame is missing
  assert.equal(info.audio?.codec, 'aac');
  assert.equal(info.audio?.channels, CAMERA.channels);
  // The audio starts 0.25 s late less the AAC encoder delay (1024 samples), as in the MP4 it was copied from.
  const mp4 = await withBackend('libav', () => probe(join(tmp.dir, 'plain-camera.mp4')));
  assert.ok(Math.abs((info.audio?.startTime ?? 0) - (mp4.audio?.startTime ?? 1)) < 2e-3, `${info.audio?.startTime}`);
  assert.ok(Math.abs(info.duration - CAMERA.seconds) < 0.05);
  // And the TS audio is the MP4's audio, sample for sample in time.
  const [x, y] = await withBackend('libav', () =>
    Promise.all([ts, join(tmp.dir, 'plain-camera.mp4')].map((p) => decodeAudio(p, { sampleRate: 16000 }))),
  );
  assert.ok(difference(y.data, x.data).snrDb > 60, `TS vs MP4 SNR ${difference(y.data, x.data).snrDb}`);
});

test('libav: unreadable media is a MediaError naming the file', async () => {
  const junk = join(tmp.dir, 'junk.mp4');
  writeFileSync(junk, Buffer.from('not a media file at all, just text'.repeat(20)));
  await assert.rejects(
    withBackend('libav', () => probe(junk)),
    (err: unknown) => err instanceof MediaError && err.message.startsWith(`${junk}: libav cannot read it`),
  );
});
