import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { logMel, mfcc, onsetEnvelope, rmsEnergy } from '../../src/media/audio_features.js';
import { AudioFeaturePipeline } from '../../src/media/audio_pipeline.js';
import { FACE_DIM, faceTrackingAvailable } from '../../src/media/face.js';
import { extractFeatures, streamsToTensors, tensorsToStreams } from '../../src/media/features.js';
import { applyDct, dctMatrix } from '../../src/media/mel.js';
import { yin } from '../../src/media/pitch.js';
import { AUDIO_PRESETS, FEATURE_PRESETS, type AudioFeatureSpec } from '../../src/media/presets.js';
import { VisualFeatureExtractor } from '../../src/media/video_features.js';
import { colorMoments, downsample, gridPool, luma } from '../../src/media/visual.js';
import { Rng } from '../../src/util/rng.js';
import { cameraClip, makeMedia, tempDir } from './fixtures.js';

const tmp = tempDir();
let clip: string;
before(async () => {
  clip = await makeMedia(join(tmp.dir, 'clip.mp4'), [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=160x120:r=30:d=3',
    '-f',
    'lavfi',
    '-i',
    'sine=f=500:r=44100:d=3',
    '-c:v',
    'libx264',
    '-c:a',
    'aac',
  ]);
});
after(() => tmp.cleanup());

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('chunked audio pipeline equals whole-signal features (every kind, random chunk sizes)', () => {
  const sr = 16000;
  const rng = new Rng(7);
  const x = new Float32Array(sr * 3 + 123);
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 180 * i) / sr) + 0.05 * rng.normal();
  const specs: AudioFeatureSpec[] = [
    { kind: 'logmel', name: 'panns', config: AUDIO_PRESETS.panns },
    { kind: 'logmel', name: 'mm', config: AUDIO_PRESETS.mmaudio16k },
    { kind: 'mfcc', name: 'mfcc', config: AUDIO_PRESETS.syncnetMfcc },
    { kind: 'rms', name: 'rms', frameLength: 400, hop: 160 },
    { kind: 'onset', name: 'onset', config: AUDIO_PRESETS.panns },
    { kind: 'pitch', name: 'pitch', hop: 160 },
  ];
  const t0 = 1.5;
  const pipe = new AudioFeaturePipeline(specs, sr, t0, 0.25);
  for (let i = 0; i < x.length;) {
    const n = 1 + rng.int(3000);
    pipe.push(x.subarray(i, Math.min(x.length, i + n)));
    i += n;
  }
  const got = pipe.finish();
  const whole = {
    panns: logMel(x, AUDIO_PRESETS.panns, t0),
    mm: logMel(x, AUDIO_PRESETS.mmaudio16k, t0),
    mfcc: mfcc(x, AUDIO_PRESETS.syncnetMfcc, t0),
    rms: rmsEnergy(x, { sampleRate: sr, frameLength: 400, hop: 160 }, t0),
    onset: onsetEnvelope(x, AUDIO_PRESETS.panns, t0),
    pitch: yin(x, { sampleRate: sr, hop: 160 }, t0),
  };
  // An onset envelope without a matching log-mel spec is computed segment by segment on its own.
  const alone = new AudioFeaturePipeline(
    [{ kind: 'onset', name: 'onset', config: AUDIO_PRESETS.mmaudio16k }],
    sr,
    t0,
    0.3,
  );
  for (let i = 0; i < x.length; i += 777) alone.push(x.subarray(i, i + 777));
  const onsetAlone = alone.finish().onset;
  assert.ok(maxAbsDiff(onsetAlone.data, onsetEnvelope(x, AUDIO_PRESETS.mmaudio16k, t0).data) < 1e-3);
  for (const [name, ref] of Object.entries(whole)) {
    const s = got[name];
    assert.equal(s.frames, ref.frames, `${name} frames`);
    assert.equal(s.dim, ref.dim);
    assert.equal(s.rate, ref.rate);
    assert.ok(Math.abs(s.start - ref.start) < 1e-12, `${name} start`);
    assert.ok(maxAbsDiff(s.data, ref.data) < 1e-3, `${name} differs by ${maxAbsDiff(s.data, ref.data)}`);
  }
});

test('visual primitives: downsampling, color moments, grid pooling', () => {
  const W = 8;
  const H = 4;
  // Left half black, right half white, RGB.
  const frame = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = W / 2; x < W; x++) frame.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
  const shape = { width: W, height: H, channels: 3 as const };
  assert.deepEqual(Array.from(downsample(frame, shape, 2, 1)), [0, 0, 0, 1, 1, 1]);
  const m = colorMoments(frame, shape);
  assert.ok(Math.abs(m[0] - 0.5) < 1e-6 && Math.abs(m[3] - 0.5) < 1e-6); // mean, std of a 50/50 split
  assert.ok(Math.abs(m[6]) < 1e-6); // symmetric: no skew
  const y = luma(frame, shape);
  assert.deepEqual(
    Array.from(gridPool(y, W, H, 4, 1)).map((v) => Math.round(v * 1000) / 1000),
    [0, 0, 1, 1],
  );
  assert.throws(() => downsample(new Uint8Array(5), shape, 2, 2), /expected 4x8x3/);
});

test('motion energy lights the grid cell where an object moves, and is zero for a still scene', () => {
  const W = 32;
  const H = 32;
  const ex = new VisualFeatureExtractor(
    { width: W, height: H, channels: 1 },
    { motionGrid: { gx: 2, gy: 2 }, lumaGrid: { gx: 2, gy: 2 } },
  );
  for (let t = 0; t < 4; t++) {
    const f = new Uint8Array(W * H);
    // A 4x4 white square moving right inside the bottom-right quadrant.
    for (let yy = 20; yy < 24; yy++) for (let xx = 17 + 2 * t; xx < 21 + 2 * t; xx++) f[yy * W + xx] = 255;
    ex.push(f);
  }
  const s = ex.finish(8, 0);
  const motion = s.motion;
  assert.equal(motion.dim, 5);
  assert.deepEqual(Array.from(motion.data.subarray(0, 5)), [0, 0, 0, 0, 0]);
  for (let t = 1; t < 4; t++) {
    const row = motion.data.subarray(t * 5, t * 5 + 5);
    assert.equal(row[0] + row[1] + row[2], 0);
    assert.ok(row[3] > 0.02, `frame ${t} bottom-right motion ${row[3]}`);
    assert.ok(Math.abs(row[4] - row[3] / 4) < 1e-6); // global mean = quadrant mean / 4
  }
  assert.ok(s.luma_grid.data[3] > 0 && s.luma_grid.data[0] === 0);
});

test('MFCC of a constant log-mel frame has energy only in c0', () => {
  const M = 26;
  const frame = new Float32Array(M).fill(-3);
  const c = applyDct(frame, 1, M, dctMatrix(M, 13), 13);
  assert.ok(Math.abs(c[0] + 3 * Math.sqrt(M)) < 1e-4);
  for (let k = 1; k < 13; k++) assert.ok(Math.abs(c[k]) < 1e-5);
});

test('extractFeatures: named streams with exact rates/lengths, and a safetensors-ready round trip', async () => {
  const r = await extractFeatures(clip, 'av-basic');
  assert.deepEqual(r.missing, []);
  const s = r.streams;
  assert.deepEqual(Object.keys(s).sort(), [
    'audio.logmel',
    'audio.onset',
    'audio.pitch',
    'audio.rms',
    'video.color_moments',
    'video.luma_grid',
    'video.motion',
    'video.pixels',
  ]);
  assert.equal(s['video.pixels'].frames, 24); // 3 s at 8 fps
  assert.equal(s['video.pixels'].dim, 8 * 8 * 3);
  assert.equal(s['video.motion'].rate, 8);
  assert.equal(s['audio.logmel'].dim, 64);
  assert.equal(s['audio.logmel'].rate, 100);
  assert.ok(Math.abs(s['audio.logmel'].frames - 301) <= 3, `logmel frames ${s['audio.logmel'].frames}`);
  // The 500 Hz tone: YIN agrees where voiced.
  const pitch = s['audio.pitch'];
  assert.ok(Math.abs(pitch.data[2 * 150] - 500) < 3, `f0 ${pitch.data[2 * 150]}`);
  // testsrc has a moving element: some motion after frame 0.
  assert.ok(s['video.motion'].data.some((v) => v > 0));
  const back = tensorsToStreams(streamsToTensors(s));
  assert.deepEqual(Object.keys(back).sort(), Object.keys(s).sort());
  assert.equal(back['audio.logmel'].rate, 100);
  assert.equal(back['audio.logmel'].start, s['audio.logmel'].start);
  // A time range shifts the timeline.
  const part = await extractFeatures(clip, 'video-basic', { start: 1, duration: 1 });
  assert.equal(part.streams['video.motion'].frames, 8);
  assert.equal(part.streams['video.motion'].start, 1);
});

test('every preset names existing feature kinds and sane rates', () => {
  for (const [name, p] of Object.entries(FEATURE_PRESETS)) {
    assert.equal(p.name, name);
    assert.ok(p.audio || p.video || p.face);
    if (p.video) assert.ok(p.video.fps > 0 && p.video.width > 0);
  }
  // SyncNet pairing: 4 MFCC frames per 25 fps video frame.
  const sync = FEATURE_PRESETS.syncnet;
  assert.equal(AUDIO_PRESETS.syncnetMfcc.sampleRate / AUDIO_PRESETS.syncnetMfcc.hop / sync.video!.fps, 4);
});

test('face track: the face models ship with the package; a clip without a face gives zero rows', async () => {
  assert.deepEqual(await faceTrackingAvailable(), { ok: true });
  // No face in a generated clip: the track keeps its shape and says "no face" (real faces: test/real).
  const r = await extractFeatures(await cameraClip(tmp.dir), 'face', { start: 1, duration: 0.6 });
  const track = r.streams['face.track'];
  assert.equal(track.dim, FACE_DIM);
  assert.equal(track.rate, 5);
  assert.equal(track.frames, 3);
  for (let t = 0; t < track.frames; t++) assert.equal(track.data[t * FACE_DIM], 0, `no face in frame ${t}`);
});
