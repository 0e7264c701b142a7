import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readManifest } from '../../src/data/manifest.js';

const run = promisify(execFile);

test('attune synth --json writes clips and a manifest; bad options exit 2 with one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-synth-cli-'));
  try {
    const { stdout } = await run('node', [
      'bin/attune.js',
      'synth',
      '--clips',
      '2',
      '--out',
      dir,
      '--duration',
      '1',
      '--size',
      '32',
      '--audio-only',
      '--shifts=-0.4',
      '--json',
    ]);
    const summary = JSON.parse(stdout);
    assert.equal(summary.files, 4);
    assert.equal(summary.config.duration, 1);
    assert.deepEqual(readdirSync(join(dir, 'clips')).sort(), [
      'clip000000.wav',
      'clip000000_s-0.40.wav',
      'clip000001.wav',
      'clip000001_s-0.40.wav',
    ]);
    const { items } = readManifest(join(dir, 'manifest.jsonl'), { checkFiles: true });
    assert.deepEqual(
      items.map((i) => i.labels!.offset),
      [0, -0.4, 0, -0.4],
    );
    await assert.rejects(
      run('node', ['bin/attune.js', 'synth', '--clips', '1', '--out', dir, '--size', '33']),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /^attune: synth config field 'size': must be even/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
