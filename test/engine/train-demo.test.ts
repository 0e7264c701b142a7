import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';

const cli = fileURLToPath(new URL('../../../bin/attune.js', import.meta.url));

test('attune demo --json trains, writes checkpoint, ONNX export, config and summary', () => {
  const out = mkdtempSync(join(tmpdir(), 'attune-demo-'));
  try {
    const r = spawnSync(process.execPath, [cli, 'demo', '--steps', '4', '--out', out, '--json'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.steps, 4);
    assert.ok(Number.isFinite(summary.lossStart) && Number.isFinite(summary.lossEnd));
    assert.ok(summary.heldOutRecallAt1 >= 0 && summary.heldOutRecallAt1 <= 1);
    for (const f of ['checkpoint.safetensors', 'av-embed.onnx', 'config.json', 'summary.json']) assert.ok(existsSync(join(out, f)), f);
    const ckpt = loadCheckpoint(join(out, 'checkpoint.safetensors'));
    assert.equal(ckpt.step, 4);
    assert.deepEqual((ckpt.config as { steps: number }).steps, 4);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), summary);

    const bad = spawnSync(process.execPath, [cli, 'demo', '--steps', 'zero', '--out', out], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--steps must be a positive integer/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
