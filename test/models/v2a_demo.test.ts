import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runV2aDemo } from '../../src/app/v2a_demo.js';

test('runV2aDemo (quick): run folder, report with score table and spectrograms, WAVs of generated and real audio', async () => {
  const out = mkdtempSync(join(tmpdir(), 'attune-v2a-demo-'));
  try {
    const s = await runV2aDemo({ out, quick: true });
    assert.ok(existsSync(join(s.run, 'best.safetensors')));
    assert.equal(s.audio.length, 4);
    for (const f of s.audio) assert.ok(readFileSync(f).subarray(0, 4).toString() === 'RIFF', f);
    const html = readFileSync(s.report, 'utf8');
    assert.match(html, /Scene 0 generated/);
    assert.match(html, /impacts at/);
    for (const k of ['test.onsetF1', 'test.desync', 'test.classAcc']) assert.equal(typeof s.metrics[k], 'number', k);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
