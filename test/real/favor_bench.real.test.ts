// `attune favor --bench real:held-out` on the held-out real clips with a model at its initial weights: every clip of
// 5 s or more gets its nine sync questions and two matching ones with the designed truths, and the classical
// cross-correlation answers "is the sound in sync?" above the majority answer (as measured: docs/favor.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFavorReal, favorRealClips } from '../../src/app/favor_real.js';
import { favorTiny } from '../../src/models/favor/config.js';
import { loadFavorModel } from '../../src/models/favor/infer.js';
import { writeStageTwoRun } from '../models/favor_fixtures.js';
import { REAL_DIR } from './shared.js';

test('favor --bench real:held-out: the questions per clip, their truths, and the cross-correlation above the majority', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-bench-real-'));
  try {
    writeStageTwoRun(dir, { ...favorTiny(), window: 10 });
    const { files, skipped } = favorRealClips(REAL_DIR, 'held-out');
    assert.ok(files.length >= 5, `${files.length} held-out clips of 5 s or more`);
    assert.ok(skipped.every((s) => /under 5 s/.test(s.reason)));
    const r = await benchFavorReal({ model: loadFavorModel(dir), dir: REAL_DIR, part: 'held-out' });
    const by = new Map(r.templates.map((t) => [t.template, t]));
    for (const t of ['sync.late', 'sync.sync', 'sync.when']) assert.equal(by.get(t as never)?.n, 3 * files.length, t);
    assert.equal(by.get('matching.belong')?.n, 2 * files.length);
    assert.ok(Math.abs(by.get('sync.late')!.majority - 2 / 3) < 1e-9, 'one late shift in three');
    assert.ok(Math.abs(by.get('sync.when')!.majority - 1 / 3) < 1e-9);
    for (const q of r.questions) assert.ok(q.answer.length > 0, `${q.file} ${q.template}: empty answer`);
    const sync = by.get('sync.sync')!;
    assert.ok(sync.xcorr! > sync.majority, `cross-correlation ${sync.xcorr} vs majority ${sync.majority}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
