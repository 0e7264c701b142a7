/** loadRun refuses a damaged best.safetensors by name instead of silently loading checkpoints/last.safetensors. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    assert.throws(
      () => loadRun(dir, { tasks: ['av-sync'] }),
      (err: Error) => /best\.safetensors/.test(err.message) && !/last\.safetensors/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--resume names a damaged config.json instead of training past it; deleted, it is rewritten from the checkpoint', async () => {
  const { runTraining } = await import('../../src/train/run.js');
  const { toyTask } = await import('./toy.js');
  const { parseOverrides, resolveConfig } = await import('../../src/train/config.js');
  const dir = mkdtempSync(join(tmpdir(), 'attune-config-damaged-'));
  try {
    const source = { kind: 'synth' as const, clips: 40 };
    const out = join(dir, 'run');
    await runTraining({
      task: toyTask,
      config: resolveConfig(toyTask, { source: 'synth', overrides: parseOverrides(['train.epochs=1']) }),
      source,
      out,
      quiet: true,
    });
    rmSync(join(out, 'metrics.json'));
    writeFileSync(join(out, 'config.json'), '{"task": "toy", ');
    await assert.rejects(
      runTraining({ task: toyTask, out, resume: true, quiet: true }),
      /config\.json: not valid JSON/,
    );
    rmSync(join(out, 'config.json'));
    await runTraining({ task: toyTask, out, resume: true, quiet: true });
    assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).task, 'toy');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
