import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runFfmpeg } from '../../src/media/ffmpeg.js';
import { FIX_EXIT, syncFile, verifiedFix } from '../../src/models/av_sync/index.js';

/**
 * `--fix` end to end on generated media: it writes only a copy that verifies, and a refused fix leaves the input
 * byte-identical and no file (not even a temporary one) behind, with the documented exit code.
 */
let dir = '';
const file = (name: string) => join(dir, name);
const lavfi = (spec: string) => ['-f', 'lavfi', '-i', spec];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
const bin = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-sync-fix-'));
  const times = [0.7, 1.9, 2.4, 3.8, 4.3, 5.9, 6.2, 7.6, 8.4, 9.1];
  const flashes = times.map((t) => `between(t,${t},${t + 0.08})`).join('+');
  const beeps = times.map((t) => `between(t,${t + 0.4},${t + 0.45})`).join('+');
  await Promise.all([
    runFfmpeg([
      '-y',
      ...lavfi('color=c=gray:size=160x120:rate=25:duration=10'),
      ...lavfi(`aevalsrc='0.5*sin(2*PI*1000*t)*(${beeps})':s=44100:d=10`),
      '-vf',
      `drawbox=x=40:y=30:w=80:h=60:color=white:t=fill:enable='${flashes}'`,
      ...h264,
      '-c:a',
      'aac',
      '-shortest',
      file('late.mp4'),
    ]),
    runFfmpeg([
      '-y',
      ...lavfi('testsrc=size=96x64:rate=25:duration=6'),
      ...lavfi('anoisesrc=r=16000:a=0.2:d=6:seed=3'),
      ...h264,
      '-c:a',
      'aac',
      '-shortest',
      file('noise.mp4'),
    ]),
  ]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const untouched = (name: string, bytes: Buffer) => assert.ok(readFileSync(file(name)).equals(bytes), `${name} changed`);
const onlyInputs = () => assert.deepEqual(readdirSync(dir).sort(), ['late.mp4', 'noise.mp4']);

test('auto measures the flash/beep pattern 0.4 s late', async () => {
  const r = await syncFile(file('late.mp4'), { minConfidence: 0 });
  assert.equal(r.method, 'auto');
  assert.ok(Math.abs(r.lag - 0.4) <= 0.08, `lag ${r.lag}`);
});

test('--fix below the confidence threshold refuses (exit 3) and writes nothing', async () => {
  const bytes = readFileSync(file('noise.mp4'));
  const r = await verifiedFix(file('noise.mp4'), file('out.mp4'));
  assert.equal(r.exitCode, FIX_EXIT.lowConfidence, r.reason);
  assert.equal(r.written, undefined);
  untouched('noise.mp4', bytes);
  onlyInputs();
});

test('--fix with an --offset that a confident measurement contradicts refuses (exit 4) and writes nothing', async () => {
  const bytes = readFileSync(file('late.mp4'));
  const r = await verifiedFix(file('late.mp4'), file('out.mp4'), { offset: -1, minConfidence: 0.2 });
  assert.equal(r.exitCode, FIX_EXIT.notVerified, r.reason);
  untouched('late.mp4', bytes);
  onlyInputs();
});

test('--fix with a correct --offset writes a copy that both cues measure in sync', async () => {
  const r = await verifiedFix(file('late.mp4'), file('fixed.mp4'), { offset: 0.4, minConfidence: 0.2 });
  assert.equal(r.exitCode, FIX_EXIT.fixed, r.reason);
  assert.ok(existsSync(file('fixed.mp4')));
  assert.ok(Math.abs(r.after!.lag) <= 0.2 && Math.abs(r.after!.independent.lag) <= 0.2, JSON.stringify(r.after));
  const again = await syncFile(file('fixed.mp4'), { minConfidence: 0 });
  assert.ok(Math.abs(again.lag) <= 0.08, `lag after fix ${again.lag}`);
  rmSync(file('fixed.mp4'));
});

test('attune sync --fix exits with the refusal code and says why', async () => {
  const run = promisify(execFile);
  await assert.rejects(
    run(process.execPath, [bin, 'sync', file('noise.mp4'), '--fix', file('out.mp4')]),
    (e: { code?: number; stdout?: string }) =>
      e.code === FIX_EXIT.lowConfidence && /nothing written/.test(e.stdout ?? ''),
  );
  onlyInputs();
});

test('attune sync --timeline --report: windows and drift in the JSON, the chart in a self-contained HTML file', async () => {
  const out = mkdtempSync(join(tmpdir(), 'attune-sync-report-'));
  try {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [
      bin,
      'sync',
      file('late.mp4'),
      '--timeline',
      '--report',
      join(out, 'r.html'),
      '--json',
      '--no-faces',
      '--min-confidence',
      '0',
    ]);
    const r = JSON.parse(stdout) as {
      timeline: { windows: { lag: number }[]; drift: { secondsPerMinute: number } | null };
    };
    assert.equal(r.timeline.windows.length, 3);
    // Within one grid class: 80 ms flashes move the picture twice (on, off), which pulls a 6 s window's peak early.
    for (const w of r.timeline.windows) assert.ok(Math.abs(w.lag - 0.4) <= 0.2, `window lag ${w.lag}`);
    assert.ok(r.timeline.drift && Math.abs(r.timeline.drift.secondsPerMinute) < 0.3, JSON.stringify(r.timeline.drift));
    const html = readFileSync(join(out, 'r.html'), 'utf8');
    assert.match(html, /Offset over the file/);
    assert.ok(!/<script[^>]+src=/.test(html), 'the report loads nothing from outside');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
