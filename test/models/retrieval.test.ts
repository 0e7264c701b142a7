import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeSynth } from '../../src/data/synth/write.js';
import { resolveConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { getTask } from '../../src/models/registry.js';
import { synthFor } from '../../src/models/av_align/data.js';
import { defaultAvFeatures } from '../../src/models/av_align/features.js';
import {
  buildIndex,
  listMedia,
  loadIndex,
  rankIndex,
  type LoadedIndex,
} from '../../src/models/av_retrieval/index_store.js';
import { retrieve } from '../../src/models/av_retrieval/search.js';
import { Embedder } from '../../src/models/av_retrieval/embedder.js';
import { InputError } from '../../src/util/errors.js';

let dir = '';
let run = '';
let media = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-retrieval-'));
  const task = await getTask('av-retrieval');
  const config = resolveConfig(task, {
    source: 'synth',
    overrides: {
      variant: 'tiny',
      data: { valClips: 4, testClips: 8 },
      train: { epochs: 4, batchSize: 8, export: false, report: false, evalBefore: false },
    },
  });
  run = join(dir, 'run');
  await runTraining({ task, config, source: { kind: 'synth', clips: 32 }, out: run, quiet: true });
  // three held-out clips as MP4 + WAV, one corrupt "video", one text file that is not media
  const synth = await writeSynth({
    clips: 3,
    out: join(dir, 'synth'),
    config: synthFor(defaultAvFeatures, { seed: 99 }),
    quiet: true,
  });
  assert.equal(synth.failed.length, 0);
  media = join(dir, 'media');
  mkdirSync(join(media, 'sub'), { recursive: true });
  for (const id of ['clip000000', 'clip000001', 'clip000002'])
    copyFileSync(join(dir, 'synth', 'clips', `${id}.mp4`), join(media, `${id}.mp4`));
  copyFileSync(join(dir, 'synth', 'clips', 'clip000001.wav'), join(media, 'sub', 'sound1.wav'));
  writeFileSync(join(media, 'corrupt.mp4'), Buffer.from('this is not an mp4 file at all'.repeat(40)));
  writeFileSync(join(media, 'notes.txt'), 'not media');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('listMedia finds media files recursively and ignores other files', () => {
  assert.deepEqual(
    listMedia(media).map((p) => p.slice(media.length + 1)),
    ['clip000000.mp4', 'clip000001.mp4', 'clip000002.mp4', 'corrupt.mp4', 'sub/sound1.wav'],
  );
});

test('attune index: embeds every file, records the corrupt one and keeps going', async () => {
  const r = await buildIndex(media, { model: run, out: join(dir, 'index'), quiet: true });
  assert.equal(r.files, 5);
  assert.equal(r.indexed, 4);
  assert.equal(r.failed.length, 1);
  assert.match(r.failed[0].id, /corrupt\.mp4/);
  assert.equal(r.recall?.clips, 3);
  const idx = loadIndex(join(dir, 'index'));
  assert.equal(idx.index.entries.length, 4);
  const wav = idx.index.entries.find((e) => e.path.endsWith('sound1.wav'))!;
  assert.deepEqual([wav.hasAudio, wav.hasVideo], [true, false]);
  assert.ok(
    idx.index.entries
      .filter((e) => e.path.endsWith('.mp4'))
      .every((e) => e.hasAudio && e.hasVideo && e.validFrames === 48),
  );
  // stored embeddings are unit length where present, zero where the stream is missing
  const E = idx.index.embedDim;
  const norm = (a: Float32Array, row: number) =>
    Math.sqrt(a.subarray(row * E, (row + 1) * E).reduce((s, v) => s + v * v, 0));
  assert.ok(Math.abs(norm(idx.audio, wav.row) - 1) < 1e-4);
  assert.equal(norm(idx.video, wav.row), 0);
});

test('attune retrieve: ranks videos for an audio query and sounds for a video query', async () => {
  const a2v = await retrieve({ query: join(media, 'sub', 'sound1.wav'), index: join(dir, 'index'), k: 10 });
  assert.equal(a2v.direction, 'a2v');
  assert.equal(a2v.candidates, 3);
  assert.equal(a2v.results.length, 3);
  assert.ok(a2v.results.every((h) => h.path.endsWith('.mp4')));
  for (let i = 1; i < a2v.results.length; i++) assert.ok(a2v.results[i - 1].score >= a2v.results[i].score);
  const v2a = await retrieve({
    query: join(media, 'clip000001.mp4'),
    index: join(dir, 'index'),
    k: 2,
    direction: 'v2a',
  });
  assert.equal(v2a.direction, 'v2a');
  assert.equal(v2a.results.length, 2);
  assert.deepEqual(
    v2a.results.map((h) => h.rank),
    [1, 2],
  );
  await assert.rejects(
    retrieve({ query: join(media, 'sub', 'sound1.wav'), index: join(dir, 'index'), direction: 'v2a' }),
    InputError,
  );
  await assert.rejects(retrieve({ query: join(media, 'corrupt.mp4'), index: join(dir, 'index') }));
  await assert.rejects(retrieve({ query: join(media, 'clip000001.mp4'), index: dir }), /no retrieval index/);
});

test('the embedder matches stored index rows for the same file', async () => {
  const idx = loadIndex(join(dir, 'index'));
  const e = await Embedder.load(run);
  try {
    const q = await e.embedFile(join(media, 'clip000002.mp4'));
    const entry = idx.index.entries.find((x) => x.id === 'clip000002')!;
    const hits = rankIndex(idx, q.audio!, 'a2v', 3);
    assert.equal(hits.length, 3);
    const E = idx.index.embedDim;
    let maxDiff = 0;
    for (let j = 0; j < E; j++) maxDiff = Math.max(maxDiff, Math.abs(q.video![j] - idx.video[entry.row * E + j]));
    assert.ok(maxDiff < 1e-5, `video embedding differs by ${maxDiff}`);
  } finally {
    await e.close();
  }
});

test('rankIndex: cosine ranking over entries with the target modality', () => {
  const idx: LoadedIndex = {
    dir: '/x',
    index: {
      format: 'attune-av-index/1',
      root: '/m',
      model: { run: '', task: 'av-align', weights: '' },
      features: defaultAvFeatures,
      embedDim: 2,
      created: '',
      failed: [],
      entries: [
        { id: 'a', path: 'a.mp4', row: 0, hasVideo: true, hasAudio: true, duration: 6, validFrames: 48 },
        { id: 'b', path: 'b.wav', row: 1, hasVideo: false, hasAudio: true, duration: 6, validFrames: 48 },
        { id: 'c', path: 'c.mp4', row: 2, hasVideo: true, hasAudio: false, duration: 6, validFrames: 48 },
      ],
    },
    video: Float32Array.from([1, 0, 0, 0, 0.6, 0.8]),
    audio: Float32Array.from([0, 1, 1, 0, 0, 0]),
  };
  assert.deepEqual(
    rankIndex(idx, Float32Array.from([0, 1]), 'a2v', 5).map((h) => h.id),
    ['c', 'a'],
  );
  assert.deepEqual(
    rankIndex(idx, Float32Array.from([1, 0]), 'v2a', 1).map((h) => [h.id, h.score]),
    [['b', 1]],
  );
  assert.throws(() => rankIndex(idx, Float32Array.from([1, 0, 0]), 'a2v', 1), InputError);
});

test('the CLI exposes index and retrieve with --help and one-line errors', () => {
  const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
  assert.match(execFileSync(process.execPath, [cli, 'retrieve', '--help'], { encoding: 'utf8' }), /--query <file>/);
  assert.match(execFileSync(process.execPath, [cli, 'index', '--help'], { encoding: 'utf8' }), /--model <run>/);
  let stderr = '';
  try {
    execFileSync(
      process.execPath,
      [cli, 'retrieve', '--query', join(media, 'clip000000.mp4'), '--index', media, '--k', 'x'],
      { encoding: 'utf8', stdio: 'pipe' },
    );
  } catch (err) {
    stderr = String((err as { stderr: string }).stderr);
    assert.equal((err as { status: number }).status, 2);
  }
  assert.match(stderr, /--k must be a positive integer/);
  // nothing is written into the media folder (indexes go to --out)
  assert.equal(existsSync(join(media, '.attune-index')), false);
});

test('attune index DIR (batch layer): whole files, resumable, --out required; a folder where every file fails exits 1 with a summary', async () => {
  const cli = new URL('../../../bin/attune.js', import.meta.url).pathname;
  const attune = (...args: string[]) =>
    spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 180_000 });
  // A 14 s file: three windows (6 + 6 + 2 s), so the file is covered whole, not its first 6 s.
  const long = await writeSynth({
    clips: 1,
    out: join(dir, 'long'),
    config: synthFor({ ...defaultAvFeatures, seconds: 14 }, { seed: 5 }),
    quiet: true,
  });
  copyFileSync(join(long.out, 'clips', 'clip000000.mp4'), join(media, 'sub', 'long.mp4'));
  const out = join(dir, 'batch-index');
  const r = attune('index', media, '--model', run, '--out', out, '--jobs', '2', '--json');
  assert.equal(r.status, 1, r.stderr); // corrupt.mp4 failed
  const s = JSON.parse(r.stdout);
  assert.deepEqual([s.total, s.ok, s.failed, s.indexed], [6, 5, 1, 5]);
  const idx = loadIndex(out);
  const entry = idx.index.entries.find((e) => e.path === 'sub/long.mp4')!;
  assert.equal(entry.windows, 3);
  assert.equal(entry.validFrames, 48 + 48 + 16);
  // one-window files keep the embedding the old index stored (the first 6 s)
  const e = await Embedder.load(run);
  try {
    const q = await e.embedFile(join(media, 'clip000002.mp4'));
    const row = idx.index.entries.find((x) => x.path === 'clip000002.mp4')!.row;
    const E = idx.index.embedDim;
    for (let j = 0; j < E; j++) assert.ok(Math.abs(q.audio![j] - idx.audio[row * E + j]) < 1e-5);
  } finally {
    await e.close();
  }
  const again = JSON.parse(attune('index', media, '--model', run, '--out', out, '--json').stdout);
  assert.deepEqual([again.resumed, again.computed, again.indexed], [6, 0, 5]);
  assert.equal(loadIndex(out).index.entries.length, 5);
  rmSync(join(media, 'sub', 'long.mp4'));
  // --out is required: nothing is written into the media folder by default
  const noOut = attune('index', media, '--model', run);
  assert.equal(noOut.status, 2); // a usage error
  assert.match(noOut.stderr, /required option '--out <dir>'/);
  // every file bad: exit 1 and a summary naming each failure (was: exit 0)
  const bad = join(dir, 'all-bad');
  mkdirSync(bad);
  writeFileSync(join(bad, 'x.mp4'), 'not a video'.repeat(20));
  writeFileSync(join(bad, 'y.wav'), 'not audio'.repeat(20));
  const allBad = attune('index', bad, '--model', run, '--out', join(dir, 'all-bad-index'));
  assert.equal(allBad.status, 1);
  assert.match(allBad.stdout, /index: 0\/2 ok, 2 failed/);
  assert.match(allBad.stdout, /failed: x\.mp4: .*x\.mp4/);
  assert.match(allBad.stdout, /no index written/);
});
