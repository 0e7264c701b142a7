import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeAudio, iterateAudioChunks } from '../../src/media/decode_audio.js';
import { iterateVideoFrames } from '../../src/media/decode_video.js';
import { FACE_DIM, faceTrackingAvailable } from '../../src/media/face.js';
import { extractFeatures } from '../../src/media/features.js';
import { probe } from '../../src/media/probe.js';
import { assertCenterZoom } from '../media/fixtures.js';
import { BABY_CLIP } from './shared.js';

test('44.1 kHz / 30 fps real clip: probe, audio channels kept or mixed, 8 fps frames', async () => {
  const info = await probe(BABY_CLIP);
  assert.equal(info.video!.width, 1280);
  assert.equal(info.video!.fps, 30);
  assert.equal(info.video!.variableFrameRate, false);
  assert.equal(info.audio!.sampleRate, 44100);
  assert.ok(Math.abs(info.duration - 10) < 0.05);
  const stereo = await decodeAudio(BABY_CLIP, { sampleRate: 44100, channels: 'keep', duration: 2, info });
  assert.equal(stereo.channels, info.audio!.channels);
  assert.equal(stereo.length, 88200);
  const mono = await decodeAudio(BABY_CLIP, { sampleRate: 16000, start: 3, duration: 1.5, info });
  assert.equal(mono.length, 24000);
  assert.ok(mono.data.some((x) => Math.abs(x) > 1e-3));
  const frames: number[] = [];
  for await (const f of iterateVideoFrames(BABY_CLIP, {
    fps: 8,
    width: 224,
    height: 224,
    resize: 'center-crop',
    info,
  })) {
    assert.equal(f.data.length, 224 * 224 * 3);
    assert.ok(Math.abs(f.time - f.index / 8) < 1e-9);
    frames.push(f.index);
  }
  assert.equal(frames.length, 80); // 10 s x 8 fps
});

test('real clip: a 2x center zoom matches the center of the plain crop; audio chunks cover the range; early stop', async () => {
  await assertCenterZoom(BABY_CLIP);
  let total = 0;
  let chunks = 0;
  for await (const c of iterateAudioChunks(BABY_CLIP, { sampleRate: 16000, chunkFrames: 4000, duration: 3 })) {
    assert.equal(c.offset, total);
    total += c.frames;
    chunks++;
  }
  assert.equal(total, 48000);
  assert.equal(chunks, 12);
  let n = 0;
  for await (const f of iterateVideoFrames(BABY_CLIP, { fps: 30, width: 64, height: 36 })) {
    n = f.index + 1;
    if (n === 3) break;
  }
  assert.equal(n, 3);
});

test('face track on the real clip: the face of the child, a mouth opening and seven expression probabilities', async () => {
  assert.deepEqual(await faceTrackingAvailable(), { ok: true });
  const r = await extractFeatures(BABY_CLIP, 'face', { start: 2, duration: 0.6 });
  const track = r.streams['face.track'];
  assert.equal(track.dim, FACE_DIM);
  assert.equal(track.rate, 5);
  assert.equal(track.frames, 3);
  for (let t = 0; t < track.frames; t++) {
    const row = track.data.subarray(t * FACE_DIM, (t + 1) * FACE_DIM);
    assert.equal(row[0], 1, `face found in frame ${t}`);
    // The child's face is near the center of the frame, upper half.
    assert.ok(row[2] > 0.35 && row[2] < 0.7 && row[3] > 0.2 && row[3] < 0.6, `center ${row[2]}, ${row[3]}`);
    const probs = Array.from(row.subarray(7));
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 0.02);
    assert.ok(row[6] >= 0 && row[6] < 1);
  }
});

test('attune sync on the real clip (classical baseline) answers with a verdict over the whole clip', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['bin/attune.js', 'sync', BABY_CLIP, '--method', 'xcorr', '--json'],
    {
      timeout: 120_000,
    },
  );
  const r = JSON.parse(stdout) as {
    method: string;
    synchronizable: boolean;
    offset: number | null;
    lag: number;
    span: { end: number };
  };
  assert.equal(r.method, 'xcorr');
  assert.equal(typeof r.synchronizable, 'boolean');
  assert.ok(r.synchronizable ? typeof r.offset === 'number' : r.offset === null, stdout);
  assert.equal(typeof r.lag, 'number');
  assert.ok(Math.abs(r.span.end - 10) < 0.1);
});
