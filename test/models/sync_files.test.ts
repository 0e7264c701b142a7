import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { syncExample } from '../../src/data/synth/clip.js';
import { writeClipFiles, writeSynth } from '../../src/data/synth/write.js';
import { FeatureCache } from '../../src/data/cache.js';
import { getTask } from '../../src/models/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { parseDataSource } from '../../src/train/data.js';
import { runTraining } from '../../src/train/run.js';
import { runFfmpeg } from '../../src/media/ffmpeg.js';
import { syncSynthConfig } from '../../src/models/av_sync/data.js';
import { benchShifts, fixSync, syncFile } from '../../src/models/av_sync/index.js';
import { InputError, MediaError } from '../../src/util/errors.js';

/** Bad inputs made with ffmpeg's lavfi sources, and the --fix round trip on an AV-Synth file with a known shift. */
let dir = '';
const file = (name: string) => join(dir, name);
const lavfi = (spec: string) => ['-f', 'lavfi', '-i', spec];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-sync-files-'));
  const beeps = (d: number) => `sine=frequency=660:sample_rate=16000:duration=${d}:beep_factor=4`;
  await Promise.all([
    runFfmpeg([
      '-y',
      ...lavfi('testsrc=size=96x64:rate=25:duration=2'),
      ...lavfi(beeps(2)),
      ...h264,
      '-c:a',
      'aac',
      '-shortest',
      file('short.mp4'),
    ]),
    runFfmpeg(['-y', ...lavfi('testsrc=size=96x64:rate=25:duration=6'), ...h264, file('noaudio.mp4')]),
    runFfmpeg([
      '-y',
      ...lavfi('testsrc=size=96x64:rate=25:duration=6'),
      ...lavfi('anullsrc=r=16000:cl=mono'),
      ...h264,
      '-c:a',
      'aac',
      '-t',
      '6',
      file('silent.mp4'),
    ]),
    runFfmpeg([
      '-y',
      ...lavfi('color=c=navy:size=96x64:rate=25:duration=6'),
      ...lavfi(beeps(6)),
      ...h264,
      '-c:a',
      'aac',
      '-shortest',
      file('static.mp4'),
    ]),
    runFfmpeg(['-y', ...lavfi(beeps(6)), file('audio_only.wav')]),
  ]);
  writeFileSync(file('garbage.mp4'), 'this is not a video');
});

after(() => rmSync(dir, { recursive: true, force: true }));

for (const [name, reason] of [
  ['short.mp4', /needs at least 4\.8 s/],
  ['noaudio.mp4', /no audio stream/],
  ['silent.mp4', /audio is silent/],
  ['static.mp4', /picture is static/],
] as const) {
  test(`xcorr: ${name}: not synchronizable with a reason and a low confidence, no crash`, async () => {
    const r = await syncFile(file(name), { method: 'xcorr' });
    assert.equal(r.synchronizable, false);
    assert.equal(r.offset, null);
    assert.match(r.reason ?? '', reason);
    assert.ok(r.synchronizability < 0.5, `synchronizability ${r.synchronizability}`);
    assert.ok(r.confidence <= Math.max(r.synchronizability, 1 / 21) + 1e-9, `confidence ${r.confidence}`);
  });
}

test('unreadable, missing and audio-only files are clear typed errors naming the file', async () => {
  await assert.rejects(
    syncFile(file('garbage.mp4')),
    (e: unknown) => e instanceof MediaError && e.message.includes('garbage.mp4'),
  );
  await assert.rejects(
    syncFile(file('missing.mp4')),
    (e: unknown) => e instanceof InputError && e.message.includes('missing.mp4'),
  );
  await assert.rejects(
    syncFile(file('audio_only.wav')),
    (e: unknown) => e instanceof MediaError && /no video stream/.test(e.message),
  );
});

test('xcorr: a file with audio 0.8 s late measures +0.8 s; fixSync writes a stream copy that measures ~0', async () => {
  const cfg = syncSynthConfig({ seed: 11, seconds: 8, size: 64, classes: 8, noise: 0.02 });
  mkdirSync(join(dir, 'clips'), { recursive: true });
  const item = await writeClipFiles(syncExample(cfg, 2, 14), dir); // class 14 = +0.8 s
  const r = await syncFile(item.video!, { method: 'xcorr' });
  assert.equal(r.synchronizable, true, r.reason);
  assert.equal(r.offset, 0.8);
  assert.ok(Math.abs(r.lag - 0.8) < 0.1, `lag ${r.lag}`);
  const fixed = await fixSync(item.video!, file('fixed.mp4'), r.offset!);
  assert.equal(fixed.mode, 'copy');
  assert.equal(fixed.shift, -0.8);
  const again = await syncFile(file('fixed.mp4'), { method: 'xcorr' });
  assert.equal(again.synchronizable, true, again.reason);
  assert.equal(again.offset, 0);
  assert.ok(Math.abs(again.lag) < 0.1, `lag after fix ${again.lag}`);
  await assert.rejects(fixSync(item.video!, item.video!, 0.8), InputError);
});

test('attune sync --json prints the estimate; a bad file exits 2 with a one-line message', async () => {
  const bin = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));
  const run = promisify(execFile);
  const ok = await run(process.execPath, [bin, 'sync', file('noaudio.mp4'), '--json']);
  const out = JSON.parse(ok.stdout) as { synchronizable: boolean; reason: string; offset: null };
  assert.equal(out.synchronizable, false);
  assert.equal(out.offset, null);
  assert.equal(out.reason, 'no audio stream');
  await assert.rejects(
    run(process.execPath, [bin, 'sync', file('garbage.mp4')]),
    (e: { code?: number; stderr?: string }) =>
      e.code === 2 && /garbage\.mp4/.test(e.stderr ?? '') && e.stderr!.trim().split('\n').length === 1,
  );
});

test('--shifts evaluation: copies of an in-sync file with known audio shifts are measured right', async () => {
  mkdirSync(join(dir, 'clips'), { recursive: true });
  const cfg = syncSynthConfig({ seed: 11, seconds: 8, size: 64, classes: 8, noise: 0.02 });
  const item = await writeClipFiles(syncExample(cfg, 2, 10), dir); // class 10 = in sync
  const r = await benchShifts(item.video!, [-0.6, 0.4]);
  assert.deepEqual(
    r.rows.map((row) => row.shift),
    [-0.6, 0.4],
  );
  assert.deepEqual(r.summary.xcorr, { right: 2, notSynchronizable: 0, wrong: 0 });
  assert.equal(r.summary.model, undefined);
});

test('av-sync trains from a manifest of your own videos (features cached by file content)', async () => {
  const out = join(dir, 'own');
  const written = await writeSynth({ clips: 8, out, config: { seed: 4, duration: 6, fps: 25, size: 64 }, quiet: true });
  const source = parseDataSource(written.manifest);
  const task = await getTask('av-sync');
  const config = resolveConfig(task, {
    source: 'manifest',
    overrides: {
      variant: 'tiny',
      split: { val: 0.2, test: 0.2 },
      train: { batchSize: 4, epochs: 2, worker: false, export: false, report: false, evalBefore: false },
    },
  });
  const r = await runTraining({
    task,
    config,
    source,
    out: join(dir, 'own-run'),
    cacheDir: join(dir, 'cache'),
    quiet: true,
  });
  assert.equal(r.status, 'completed');
  assert.ok(Number.isFinite(r.metrics!.test['test.acc1']));
  const cache = FeatureCache.open(join(dir, 'cache'));
  assert.equal(cache.size, 8);
});

test('xcorr: a flash/beep test pattern (not AV-Synth) with the beeps 0.4 s late measures +0.4 s', async () => {
  const times = [0.7, 1.9, 2.4, 3.8, 4.3, 5.9, 6.2, 7.6];
  const flashes = times.map((t) => `between(t,${t},${t + 0.08})`).join('+');
  const beeps = times.map((t) => `between(t,${t + 0.4},${t + 0.45})`).join('+');
  await runFfmpeg([
    '-y',
    ...lavfi('color=c=gray:size=160x120:rate=30:duration=8'),
    ...lavfi(`aevalsrc='0.5*sin(2*PI*1000*t)*(${beeps})':s=44100:d=8`),
    '-vf',
    `drawbox=x=40:y=30:w=80:h=60:color=white:t=fill:enable='${flashes}'`,
    ...h264,
    '-c:a',
    'aac',
    '-shortest',
    file('flashbeep.mp4'),
  ]);
  const r = await syncFile(file('flashbeep.mp4'), { method: 'xcorr' });
  assert.equal(r.synchronizable, true, r.reason);
  assert.equal(r.offset, 0.4);
  assert.ok(r.confidence > 0.7);
});
