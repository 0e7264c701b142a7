import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MARKER, freshOutDir, freshOutDirs, isAttuneOutDir, prepareOutDir } from '../../src/util/outdir.js';
import { InputError } from '../../src/util/errors.js';
import { ffFile } from '../../src/media/ffmpeg.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'attune-outdir-'));
}

test('prepareOutDir creates and marks, reuses marked or empty folders, refuses foreign ones unless forced', () => {
  const dir = scratch();
  try {
    const a = prepareOutDir(join(dir, 'new', 'deep'), { by: 'test' });
    assert.ok(isAttuneOutDir(a));
    writeFileSync(join(a, 'result.json'), '{}');
    assert.equal(prepareOutDir(a, { by: 'test' }), a, 'a marked folder is reused');

    const empty = join(dir, 'empty');
    mkdirSync(empty);
    prepareOutDir(empty, { by: 'test' });
    assert.ok(isAttuneOutDir(empty), "an empty folder becomes Attune's");

    const mine = join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'x');
    assert.throws(
      () => prepareOutDir(mine, { by: 'test', flag: '--out' }),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.match(
          (e as Error).message,
          /--out .*mine is not empty and was not created by Attune \(it holds notes\.txt\)/,
        );
        return true;
      },
    );
    prepareOutDir(mine, { by: 'test', force: true });
    assert.ok(!isAttuneOutDir(mine), 'forced reuse does not claim the folder');
    assert.deepEqual(readdirSync(mine), ['notes.txt']);

    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    assert.throws(() => prepareOutDir(file, { by: 'test' }), /exists and is not a folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('freshOutDir clears only marked folders; freshOutDirs checks all before clearing any', () => {
  const dir = scratch();
  try {
    const ours = prepareOutDir(join(dir, 'ours'), { by: 'test' });
    writeFileSync(join(ours, 'old.bin'), 'old');
    freshOutDir(ours, { by: 'test' });
    assert.deepEqual(readdirSync(ours), [MARKER]);

    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'IMPORTANT'), 'x');
    writeFileSync(join(ours, 'old.bin'), 'old');
    assert.throws(
      () => freshOutDirs([ours, foreign], { by: 'test' }),
      /foreign would be recreated, but it was not created by Attune/,
    );
    assert.ok(existsSync(join(ours, 'old.bin')), 'the marked folder was not cleared either');
    assert.ok(existsSync(join(foreign, 'IMPORTANT')));

    // a link to a user's folder is not a way around the rule
    const link = join(dir, 'link');
    symlinkSync(foreign, link);
    assert.throws(() => freshOutDir(link, { by: 'test' }), InputError);
    assert.ok(existsSync(join(foreign, 'IMPORTANT')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ffFile hands ffmpeg an absolute file: URL, so no other protocol can apply', () => {
  assert.equal(ffFile('x y.mp4'), `file:${join(process.cwd(), 'x y.mp4')}`);
  assert.equal(ffFile('/abs/concat:a|b.mp4'), 'file:/abs/concat:a|b.mp4');
});
