import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'attune-demo-out-'));
}

test('issue #14 item 1: attune demo never deletes a folder it did not create (av-sync/IMPORTANT survives)', () => {
  const dir = scratch();
  try {
    const out = join(dir, 'X');
    mkdirSync(join(out, 'av-sync'), { recursive: true });
    writeFileSync(join(out, 'av-sync', 'IMPORTANT'), 'keep me');
    // without --force: the non-empty, unmarked --out itself is refused
    const r = spawnSync(process.execPath, [cli, 'demo', '--out', out, '--quick'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is not empty and was not created by Attune/);
    assert.ok(existsSync(join(out, 'av-sync', 'IMPORTANT')));
    // with --force: Attune writes into X, but still refuses to clear av-sync, before touching anything
    const f = spawnSync(process.execPath, [cli, 'demo', '--out', out, '--quick', '--force'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(f.status, 2, f.stderr);
    assert.match(f.stderr, /av-sync would be recreated, but it was not created by Attune/);
    assert.doesNotMatch(f.stderr, /\n\s+at /);
    assert.ok(existsSync(join(out, 'av-sync', 'IMPORTANT')));
    assert.ok(!existsSync(join(out, 'av-align')), 'nothing was started');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
