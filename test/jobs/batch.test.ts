/** The batch layer with the local pool: folders and manifests, results.jsonl + summary.csv, resume, bad items, a dying worker. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeSynth } from '../../src/data/synth/write.js';
import { syncFile } from '../../src/models/av_sync/analyze.js';
import { ProcessPool } from '../../src/jobs/pool.js';
import { runJobs } from '../../src/jobs/submit.js';
import { combineSegments, segmentRanges } from '../../src/jobs/kinds/sync.js';
import { CLI, readResults, synthClips } from './helpers.js';

let dir = '';
let media = '';
let clips: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-batch-'));
  clips = await synthClips(join(dir, 'synth'), 4);
  media = join(dir, 'media');
  mkdirSync(join(media, 'sub'), { recursive: true });
  copyFileSync(clips[0], join(media, 'a.mp4'));
  copyFileSync(clips[1], join(media, 'sub', 'b.mp4'));
  copyFileSync(clips[2], join(media, 'sub', 'c.mp4'));
  writeFileSync(join(media, 'corrupt.mp4'), 'this is not an mp4'.repeat(40));
  symlinkSync(join(dir, 'nowhere.mp4'), join(media, 'dangling.mp4'));
  symlinkSync('..', join(media, 'sub', 'loop'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('attune sync DIR: one line per file, summary.csv, bad files recorded, exit code 1 (was: "not a regular file")', () => {
  const out = join(dir, 'cli-out');
  const r = spawnSync(process.execPath, [CLI, 'sync', media, '--out', out, '--jobs', '2', '--json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /not a regular file/);
  const s = JSON.parse(r.stdout);
  assert.equal(s.total, 6);
  assert.equal(s.ok, 3);
  assert.deepEqual(s.failures.map((f: { source: string }) => f.source).sort(), [
    'corrupt.mp4',
    'dangling.mp4',
    'sub/loop',
  ]);
  assert.match(s.failures.find((f: { source: string }) => f.source === 'sub/loop').error, /symlink loop/);
  const lines = readResults(out);
  assert.deepEqual(
    lines.map((l) => l.id),
    ['a', 'corrupt', 'sub/b', 'sub/c', 'dangling.mp4', 'sub/loop'],
  );
  const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 7);
  assert.match(csv[0], /^id,source,path,status,error,offset,lag,confidence,synchronizability,synchronizable,/);
  // Single-file behavior is unchanged: a one-window file gives exactly `attune sync FILE`'s numbers.
  const single = spawnSync(process.execPath, [CLI, 'sync', join(media, 'a.mp4'), '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(single.status, 0, single.stderr);
  const one = JSON.parse(single.stdout);
  const a = lines[0];
  for (const k of ['offset', 'lag', 'synchronizable', 'windows']) assert.deepEqual(a[k], one[k], k);
  assert.ok(Math.abs((a.confidence as number) - one.confidence) < 1e-4);
});

test('resume: a re-run skips finished files and bad files; other options or changed content run again', async () => {
  const out = join(dir, 'resume');
  const first = await runJobs({ kind: 'sync', input: media, out, options: { method: 'xcorr' }, jobs: 2, quiet: true });
  assert.deepEqual([first.ok, first.failed, first.resumed, first.computed], [3, 3, 0, 4]);
  const again = await runJobs({ kind: 'sync', input: media, out, options: { method: 'xcorr' }, jobs: 2, quiet: true });
  assert.deepEqual([again.ok, again.failed, again.resumed, again.computed], [3, 3, 4, 0]);
  assert.equal(readResults(out).length, 6, 'still one line per file after a re-run');
  // --retry-failed runs the bad file again; new options give new keys.
  const retry = await runJobs({
    kind: 'sync',
    input: media,
    out,
    options: { method: 'xcorr' },
    jobs: 2,
    retryFailed: true,
    quiet: true,
  });
  assert.deepEqual([retry.resumed, retry.computed], [3, 1]);
  const other = await runJobs({
    kind: 'sync',
    input: media,
    out,
    options: { method: 'xcorr', segment: 5 },
    jobs: 2,
    quiet: true,
  });
  assert.equal(other.computed, 4);
  // Same content under another name keeps its result; changed content is recomputed.
  copyFileSync(clips[3], join(media, 'a.mp4'));
  const changed = await runJobs({
    kind: 'sync',
    input: media,
    out,
    options: { method: 'xcorr', segment: 5 },
    jobs: 2,
    quiet: true,
  });
  assert.deepEqual([changed.resumed, changed.computed], [3, 1]);
  copyFileSync(clips[0], join(media, 'a.mp4'));
});

test('manifest input, --out inside the media folder (asked for) is left out of the walk', async () => {
  const manifest = join(dir, 'items.jsonl');
  writeFileSync(
    manifest,
    [
      JSON.stringify({ id: 'first', video: 'media/a.mp4', start: 0, end: 5 }),
      JSON.stringify({ id: 'second', video: 'media/sub/b.mp4' }),
      JSON.stringify({ id: 'text-only', text: 'no media' }),
      '{"id": "broken"',
    ].join('\n') + '\n',
  );
  const s = await runJobs({
    kind: 'sync',
    input: manifest,
    out: join(dir, 'm-out'),
    options: { method: 'xcorr' },
    jobs: 1,
    quiet: true,
  });
  assert.deepEqual([s.total, s.ok, s.failed], [4, 2, 2]);
  const lines = readResults(join(dir, 'm-out'));
  assert.equal(lines[0].duration, 5);
  assert.deepEqual(
    lines.slice(2).map((l) => l.source),
    ['items.jsonl:3', 'items.jsonl:4'],
  );
  const inside = join(media, 'results');
  const r = await runJobs({
    kind: 'sync',
    input: media,
    out: inside,
    options: { method: 'xcorr' },
    jobs: 2,
    quiet: true,
  });
  assert.equal(r.total, 6);
  assert.ok(existsSync(join(inside, 'results.jsonl')));
  const again = await runJobs({
    kind: 'sync',
    input: media,
    out: inside,
    options: { method: 'xcorr' },
    jobs: 2,
    quiet: true,
  });
  assert.equal(again.total, 6, 'the results folder inside DIR was walked');
  rmSync(inside, { recursive: true });
});

test('a pool worker killed mid-job is replaced and its file is tried again', async () => {
  const out = join(dir, 'killed');
  let killed = 0;
  const s = await runJobs({
    kind: 'sync',
    input: join(media, 'sub'),
    out,
    options: { method: 'xcorr' },
    jobs: 1,
    executor: 'pool',
    quiet: true,
    onExecutor: (e) => {
      const pool = e as ProcessPool;
      const run = pool.run.bind(pool);
      pool.run = async (req) => {
        if (!killed++) {
          // Kill the worker while it decodes (a job takes several hundred ms).
          setTimeout(() => process.kill(pool.pids()[0], 'SIGKILL'), 150);
        }
        return run(req);
      };
    },
  });
  assert.equal(s.ok, 2, JSON.stringify(s.failures));
  const lines = readResults(out).filter((l) => l.status === 'ok');
  assert.deepEqual(lines.map((l) => l.attempts).sort(), [1, 2]);
});

test('a dead pool worker that never recovers fails its item after --attempts tries, and the run goes on', async () => {
  const pool = new ProcessPool(1, 2);
  try {
    const req = {
      kind: 'sync' as const,
      options: { method: 'xcorr' },
      key: 'k',
      item: { id: 'a', source: 'a.mp4', path: join(media, 'a.mp4') },
    };
    const run = pool.run(req);
    const kill = setInterval(() => pool.pids().forEach((p) => process.kill(p, 'SIGKILL')), 50);
    const r = await run;
    clearInterval(kill);
    assert.equal(r.status, 'failed');
    assert.equal(r.attempts, 2);
    assert.match(r.status === 'failed' ? r.error : '', /failed 2 time\(s\): worker process .*exited .*SIGKILL/);
    const ok = await pool.run(req);
    assert.equal(ok.status, 'ok');
  } finally {
    await pool.close();
  }
});

test('sync windows: equal parts of at least --segment seconds; the file estimate averages synchronizable windows', async () => {
  assert.deepEqual(segmentRanges(0, 6, 60), [{ start: 0, duration: 6 }]);
  assert.deepEqual(segmentRanges(0, 130, 60), [
    { start: 0, duration: 65 },
    { start: 65, duration: 65 },
  ]);
  assert.deepEqual(
    segmentRanges(10, 20, 5).map((r) => r.start),
    [10, 15, 20, 25],
  );
  const e = await syncFile(clips[0]);
  const combined = combineSegments([
    { start: 0, duration: 6, e },
    { start: 6, duration: 6, e: { ...e, synchronizable: false, offset: null, reason: 'x' } },
  ]);
  assert.equal(combined.offset, e.synchronizable ? e.offset : null);
  assert.equal((combined.segments as unknown[]).length, 2);
  // A 12 s file with --segment 5: two 6 s windows, each exactly what `attune sync FILE --start S --duration 6` says.
  const long = await writeSynth({
    clips: 1,
    out: join(dir, 'long'),
    config: { seed: 3, size: 64, duration: 12 },
    quiet: true,
  });
  const file = join(long.out, 'clips', 'clip000000.mp4');
  const s = await runJobs({
    kind: 'sync',
    input: join(long.out, 'clips'),
    out: join(dir, 'long-out'),
    options: { method: 'xcorr', segment: 5 },
    jobs: 1,
    quiet: true,
  });
  assert.deepEqual([s.ok, s.failed], [1, 1], JSON.stringify(s.failures)); // the WAV has no video stream
  const line = readResults(join(dir, 'long-out')).find((l) => basename(String(l.path)) === 'clip000000.mp4')!;
  const segs = line.segments as { start: number; end: number; offset: number | null; lag: number }[];
  assert.deepEqual(
    segs.map((x) => [x.start, x.end]),
    [
      [0, 6],
      [6, 12],
    ],
  );
  const second = await syncFile(file, { method: 'xcorr', start: 6, duration: 6 });
  assert.equal(segs[1].offset, second.offset);
  assert.equal(segs[1].lag, second.lag);
});

test('attune features DIR: one output file per item with collision-free names, features.json, resumable', async () => {
  const dir2 = join(dir, 'feat-media');
  mkdirSync(join(dir2, 'a'), { recursive: true });
  copyFileSync(join(dir, 'synth', 'clips', 'clip000000.wav'), join(dir2, 'a', 'b.wav'));
  copyFileSync(join(dir, 'synth', 'clips', 'clip000001.wav'), join(dir2, 'a_b.wav'));
  writeFileSync(join(dir2, 'bad.wav'), 'RIFF nonsense');
  const out = join(dir, 'feat-out');
  const s = await runJobs({
    kind: 'features',
    input: dir2,
    out,
    options: { preset: 'audio-basic' },
    jobs: 2,
    quiet: true,
  });
  assert.deepEqual([s.ok, s.failed], [2, 1]);
  const lines = readResults(out).filter((l) => l.status === 'ok');
  assert.equal(lines.find((l) => l.id === 'a_b')!.file, 'a_b.safetensors');
  assert.match(String(lines.find((l) => l.id === 'a/b')!.file), /^a_b-[0-9a-f]{8}\.safetensors$/);
  for (const l of lines) assert.ok(existsSync(join(out, String(l.file))));
  const index = JSON.parse(readFileSync(join(out, 'features.json'), 'utf8'));
  assert.equal(index.items.length, 2);
  assert.equal(index.failed[0].source, 'bad.wav');
  const again = await runJobs({
    kind: 'features',
    input: dir2,
    out,
    options: { preset: 'audio-basic' },
    jobs: 2,
    quiet: true,
  });
  assert.deepEqual([again.resumed, again.computed], [3, 0]);
  rmSync(join(out, 'a_b.safetensors'));
  const missing = await runJobs({
    kind: 'features',
    input: dir2,
    out,
    options: { preset: 'audio-basic' },
    jobs: 2,
    quiet: true,
  });
  assert.deepEqual([missing.resumed, missing.computed], [2, 1], 'a deleted output file is written again');
});
