import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readManifest } from '../../src/data/manifest.js';
import { WordTokenizer, generateAvqa, type AvqaQuestion } from '../../src/data/avqa/index.js';
import { decodeAudio } from '../../src/media/decode_audio.js';

const run = promisify(execFile);

const readJsonl = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

test('attune synth avqa writes questions.jsonl, scenes.jsonl, vocab.json and avqa.json that match the in-memory generator', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-avqa-'));
  try {
    // --out after the subcommand name belongs to avqa, not to `synth` (which has its own --out)
    const { stdout } = await run('node', [
      'bin/attune.js',
      'synth',
      'avqa',
      '--n',
      '40',
      '--out',
      dir,
      '--seed',
      '3',
      '--json',
    ]);
    const summary = JSON.parse(stdout);
    assert.equal(summary.scenes, 40);
    const qs = readJsonl<AvqaQuestion>(join(dir, 'questions.jsonl'));
    assert.equal(qs.length, summary.questions);
    assert.deepEqual(qs, generateAvqa({ seed: 3 }, 40).questions);
    for (const key of ['id', 'scene', 'index', 'split', 'family', 'template', 'question', 'answer', 'duration'])
      assert.ok(key in qs[0], key);
    const scenes = readJsonl<{
      id: string;
      duration: number;
      frames: number;
      objects: unknown[];
      impacts: { time: number }[];
    }>(join(dir, 'scenes.jsonl'));
    assert.equal(scenes.length, 40);
    assert.equal(scenes[0].frames, scenes[0].duration * 2);
    const tok = WordTokenizer.load(join(dir, 'vocab.json'));
    for (const q of qs) assert.ok(!tok.encode(q.question).ids.includes(tok.unkId));
    const meta = JSON.parse(readFileSync(join(dir, 'avqa.json'), 'utf8'));
    assert.equal(meta.config.seed, 3);
    assert.ok(meta.baselines.length >= 9 && typeof meta.baselinesTable === 'string');
    assert.equal(existsSync(join(dir, 'clips')), false, 'no media without --media');
    const plain = await run('node', [
      'bin/attune.js',
      'synth',
      'avqa',
      '--n',
      '10',
      '--out',
      dir,
      '--families',
      'sync,count',
    ]);
    assert.match(plain.stdout, /question-only baselines/);
    await assert.rejects(
      run('node', ['bin/attune.js', 'synth', 'avqa', '--n', '0', '--out', dir]),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /--n must be a positive integer/);
        return true;
      },
    );
    const help = await run('node', ['bin/attune.js', 'synth', '--help']);
    assert.match(help.stdout, /avqa/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attune synth avqa --media writes an MP4 + WAV per scene and per altered audio, named in each question', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-avqa-media-'));
  try {
    await run('node', [
      'bin/attune.js',
      'synth',
      'avqa',
      '--n',
      '2',
      '--out',
      dir,
      '--min-duration',
      '5',
      '--max-duration',
      '5',
      '--families',
      'matching,sync,source',
      '--media',
      '--json',
    ]);
    const qs = readJsonl<AvqaQuestion & { video: string; wav: string }>(join(dir, 'questions.jsonl'));
    const { items } = readManifest(join(dir, 'manifest.jsonl'), { checkFiles: true });
    assert.ok(items.length >= 2);
    for (const q of qs) {
      assert.ok(existsSync(join(dir, q.video)) && existsSync(join(dir, q.wav)), q.id);
      if (q.audio?.offset) assert.match(q.wav, /_s[+-]\d\.\d\d\.wav$/);
      if (q.audio?.foil !== undefined) assert.match(q.wav, /_x\d{6}\.wav$/);
    }
    const audio = await decodeAudio(join(dir, qs[0].wav), { sampleRate: 16000 });
    assert.ok(Math.abs(audio.length - 5 * 16000) <= 1024);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
