/** loadRun refuses a damaged best.safetensors by name instead of silently loading checkpoints/last.safetensors. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRun } from '../../src/train/files.js';

test('loadRun: an empty best.safetensors is an error naming it, even when checkpoints/last.safetensors exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-loadrun-'));
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: 'av-sync' }));
    mkdirSync(join(dir, 'checkpoints'));
    writeFileSync(join(dir, 'checkpoints', 'last.safetensors'), Buffer.alloc(64));
    writeFileSync(join(dir, 'best.safetensors'), Buffer.alloc(0));
    assert.throws(() => loadRun(dir, { tasks: ['av-sync'] }), (err: Error) => /best\.safetensors/.test(err.message) && !/last\.safetensors/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
