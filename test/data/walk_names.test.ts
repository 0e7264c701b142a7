/** Folder walking with symlinks (issue #14: index followed links out of DIR and crashed on dangling links and loops) and output names. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputNames, slugify } from '../../src/data/names.js';
import { walkMedia } from '../../src/data/walk.js';
import { listMedia } from '../../src/models/av_retrieval/index_store.js';

const root = mkdtempSync(join(tmpdir(), 'attune-walk-'));
after(() => rmSync(root, { recursive: true, force: true }));

function tree(): string {
  const dir = join(root, 'media');
  const outside = join(root, 'outside');
  mkdirSync(join(dir, 'sub', 'deep'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  for (const f of ['a.mp4', 'sub/b.wav', 'sub/deep/c.mkv', 'notes.txt']) writeFileSync(join(dir, f), 'x');
  writeFileSync(join(outside, 'secret.mp4'), 'x');
  symlinkSync(join(root, 'missing.mp4'), join(dir, 'dangling.mp4')); // dangling
  symlinkSync('..', join(dir, 'sub', 'deep', 'up')); // a loop back to sub
  symlinkSync('self', join(dir, 'self')); // a link to itself (ELOOP)
  symlinkSync(outside, join(dir, 'out-link')); // leaves DIR
  symlinkSync(join(outside, 'secret.mp4'), join(dir, 'secret-link.mp4')); // leaves DIR
  symlinkSync('sub', join(dir, 'alias')); // inside DIR: files listed once
  symlinkSync('a.mp4', join(dir, 'z-same.mp4')); // the same file again
  return dir;
}

test('walkMedia: stays inside DIR, records dangling links and loops as bad items, lists each file once', () => {
  const dir = tree();
  const w = walkMedia(dir);
  assert.deepEqual(
    w.files.map((f) => f.rel),
    ['a.mp4', 'alias/b.wav', 'alias/deep/c.mkv'],
  );
  const bad = Object.fromEntries(w.bad.map((b) => [b.rel, b.reason]));
  assert.deepEqual(Object.keys(bad).sort(), [
    'alias/deep/up',
    'dangling.mp4',
    'out-link',
    'secret-link.mp4',
    'self',
    'sub/deep/up',
  ]);
  assert.match(bad['dangling.mp4'], /dangling symlink/);
  assert.match(bad['sub/deep/up'], /symlink loop/);
  assert.match(bad.self, /symlink loop/);
  assert.match(bad['out-link'], /outside the folder/);
  assert.ok(w.files.every((f) => !f.path.includes('outside')));
});

test('listMedia (attune index before the batch layer) no longer crashes on dangling links or loops', () => {
  const dir = join(root, 'media');
  assert.deepEqual(
    listMedia(dir).map((p) => p.slice(dir.length + 1)),
    ['a.mp4', 'alias/b.wav', 'alias/deep/c.mkv'],
  );
});

test('walkMedia: --out inside DIR is skipped; a missing DIR or a file is a clear error', () => {
  const dir = join(root, 'media');
  mkdirSync(join(dir, 'results'), { recursive: true });
  writeFileSync(join(dir, 'results', 'x.mp4'), 'x');
  assert.ok(walkMedia(dir).files.some((f) => f.rel === 'results/x.mp4'));
  assert.ok(!walkMedia(dir, { exclude: [join(dir, 'results')] }).files.some((f) => f.rel.startsWith('results')));
  assert.throws(() => walkMedia(join(root, 'nope')), /no such file or folder/);
  assert.throws(() => walkMedia(join(dir, 'a.mp4')), /not a folder/);
});

test('outputNames: readable, distinct for distinct ids (issue #14: a/b and a_b, non-ASCII ids)', () => {
  const ids = ['clip001', 'a/b', 'a_b', 'a b', '日本語', 'über', 'ü/ber', 'Clip001', '..hidden', 'con', ''];
  const names = outputNames(ids.filter(Boolean));
  const values = [...names.values()];
  assert.equal(new Set(values.map((v) => v.toLowerCase())).size, values.length, values.join(' '));
  assert.equal(names.get('a_b'), 'a_b');
  assert.match(names.get('a/b')!, /^a_b-[0-9a-f]{8}$/);
  assert.equal(names.get('日本語'), '日本語');
  assert.equal(names.get('über'), 'über');
  assert.match(names.get('ü/ber')!, /^ü_ber-[0-9a-f]{8}$/);
  // clip001 and Clip001 would share a file on macOS and Windows: both get a hash.
  assert.match(names.get('clip001')!, /^clip001-[0-9a-f]{16}$/);
  assert.match(names.get('..hidden')!, /^_hidden-/);
  assert.match(names.get('con')!, /^con-/);
  // the same ids give the same names in any order
  assert.deepEqual(outputNames([...names.keys()].reverse()), names);
  assert.equal(slugify('x'.repeat(300)).length, 100);
});
