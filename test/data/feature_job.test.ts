import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadNpy } from '../../src/io/npy.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { runFeatureJob } from '../../src/data/feature_job.js';
import { makeMedia, tempDir } from '../media/fixtures.js';

const tmp = tempDir();
let good: string;
let audioWav: string;
before(async () => {
  good = await makeMedia(join(tmp.dir, 'good.mp4'), [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=96x64:r=25:d=2',
    '-f',
    'lavfi',
    '-i',
    'sine=f=700:d=2',
    '-c:v',
    'libx264',
    '-c:a',
    'aac',
  ]);
  audioWav = await makeMedia(join(tmp.dir, 'voice.wav'), ['-f', 'lavfi', '-i', 'sine=f=220:r=16000:d=1.5']);
  writeFileSync(join(tmp.dir, 'corrupt.mp4'), Buffer.from('not a video at all, just text'.repeat(20)));
  writeFileSync(
    join(tmp.dir, 'items.jsonl'),
    [
      JSON.stringify({ id: 'good', video: 'good.mp4' }),
      JSON.stringify({ id: 'clip/part', video: 'good.mp4', start: 0.5, end: 1.5 }),
      JSON.stringify({ id: 'corrupt', video: 'corrupt.mp4' }),
      JSON.stringify({ id: 'split', video: 'good.mp4', audio: 'voice.wav' }),
      JSON.stringify({ id: 'bad-line', video: 'good.mp4', end: -1 }),
    ].join('\n') + '\n',
  );
});
after(() => tmp.cleanup());

test('manifest job: bad items are listed, good ones written, and a rerun comes from the cache', async () => {
  const out = join(tmp.dir, 'out');
  const s = await runFeatureJob({ input: join(tmp.dir, 'items.jsonl'), preset: 'av-basic', out, quiet: true });
  assert.equal(s.total, 5);
  assert.equal(s.succeeded, 3);
  assert.deepEqual(s.failed.map((f) => f.id).sort(), ['corrupt', 'items.jsonl:5']);
  assert.match(
    s.failed.find((f) => f.id === 'corrupt')!.error,
    /corrupt\.mp4: (ffprobe exited with code 1|libav cannot read it)/,
  );
  const part = loadSafetensors(join(out, s.items.find((i) => i.id === 'clip/part')!.file.slice(out.length + 1)));
  assert.match(s.items.find((i) => i.id === 'clip/part')!.file, /clip_part-[0-9a-f]{8}\.safetensors$/);
  const motion = part.tensors.get('video.motion')!;
  assert.deepEqual(motion.shape, [8, 17]); // 1 s at 8 fps
  assert.deepEqual(Array.from(part.tensors.get('video.motion@time')!.data as Float64Array), [8, 0.5]);
  assert.equal(part.metadata.preset, 'av-basic');
  // Separate audio file: the audio streams come from voice.wav (1.5 s), the visual ones from good.mp4 (2 s).
  const split = s.items.find((i) => i.id === 'split')!;
  assert.ok(Math.abs(split.streams['audio.logmel'].frames - 151) <= 1);
  assert.equal(split.streams['video.pixels'].frames, 16);
  const index = JSON.parse(readFileSync(join(out, 'features.json'), 'utf8'));
  assert.equal(index.settings.name, 'av-basic');
  assert.equal(index.failed.length, 2);
  const again = await runFeatureJob({ input: join(tmp.dir, 'items.jsonl'), preset: 'av-basic', out, quiet: true });
  assert.equal(again.cacheHits, 3);
  assert.equal(again.succeeded, 3);
});

test('single file to .npy with streams.json timing', async () => {
  const out = join(tmp.dir, 'npy');
  const s = await runFeatureJob({ input: audioWav, preset: 'audio-basic', out, format: 'npy' });
  assert.equal(s.succeeded, 1);
  const lm = loadNpy(join(out, 'voice', 'audio.logmel.npy'));
  assert.equal(lm.shape[1], 64);
  const timing = JSON.parse(readFileSync(join(out, 'voice', 'streams.json'), 'utf8'));
  assert.equal(timing.streams['audio.logmel'].rate, 100);
  assert.equal(timing.streams['audio.logmel'].frames, lm.shape[0]);
});

test('CLI: attune features --json prints the summary; errors are one line with exit code 2', async () => {
  const cli = resolve('bin/attune.js');
  if (!existsSync(cli)) assert.fail(`missing ${cli}`);
  const run = promisify(execFile);
  const out = join(tmp.dir, 'cli');
  const { stdout } = await run(process.execPath, [
    cli,
    'features',
    good,
    '--preset',
    'video-basic',
    '--out',
    out,
    '--json',
  ]);
  const summary = JSON.parse(stdout);
  assert.equal(summary.succeeded, 1);
  assert.ok(existsSync(join(out, 'good.safetensors')));
  await assert.rejects(
    run(process.execPath, [cli, 'features', join(tmp.dir, 'missing.mp4'), '--out', out]),
    (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /missing\.mp4: no such file/);
      return true;
    },
  );
});

test('issue #14: ids that sanitize alike (a/b, a_b) and non-ASCII ids get distinct, readable files', async () => {
  const manifest = join(tmp.dir, 'names.jsonl');
  writeFileSync(
    manifest,
    ['a/b', 'a_b', '日本', 'ü/x', 'ü_x'].map((id) => JSON.stringify({ id, audio: 'voice.wav' })).join('\n') + '\n',
  );
  const out = join(tmp.dir, 'names');
  const s = await runFeatureJob({ input: manifest, preset: 'audio-basic', out, quiet: true });
  assert.equal(s.succeeded, 5);
  const files = s.items.map((i) => i.file.slice(out.length + 1));
  assert.equal(new Set(files).size, 5, files.join(' '));
  assert.ok(
    files.includes('a_b.safetensors') && files.includes('日本.safetensors') && files.includes('ü_x.safetensors'),
    files.join(' '),
  );
  for (const f of files) assert.ok(existsSync(join(out, f)));
});

test('issue #14: a features run that fails outright leaves no empty --out behind', async () => {
  const cli = resolve('bin/attune.js');
  const out = join(tmp.dir, 'never-made');
  await assert.rejects(
    promisify(execFile)(process.execPath, [cli, 'features', join(tmp.dir, 'missing.mp4'), '--out', out]),
    (err: { code: number }) => err.code === 2,
  );
  assert.equal(existsSync(out), false);
  await assert.rejects(runFeatureJob({ input: join(tmp.dir, 'corrupt.mp4'), preset: 'av-basic', out, quiet: true }));
  assert.equal(existsSync(out), false);
});
