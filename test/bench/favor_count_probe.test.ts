/**
 * bench/favor_count_probe.ts on a stage-1 run that trained the counting head (model.onsetAux): it reads the head
 * both ways (rates summed, peaks counted) on the val scenes of the AVQA setting asked for, and refuses a run with
 * nothing to count by name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeRun } from '../../bench/favor_count_probe.js';
import { avqaConfig, sceneSplit } from '../../src/data/avqa/index.js';
import { favorTiny } from '../../src/models/favor/config.js';
import { writeStageOneRun } from '../models/favor_fixtures.js';

test('the count probe reads a stage-1 counting head as summed rates and as peaks, over every val (clip, sound) pair', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-probe-'));
  try {
    writeStageOneRun(dir, { ...favorTiny(), window: 5, onsetAux: 1 }, 3);
    const scenes = 24;
    const cfg = avqaConfig({ minDuration: 5, maxDuration: 5 });
    const val = Array.from({ length: scenes }, (_, i) => sceneSplit(cfg, i)).filter((s) => s === 'val').length;
    assert.ok(val > 0, 'some val scenes');
    const rows = await probeRun(dir, { scenes, duration: 5, peak: 0.2 });
    assert.deepEqual(
      rows.map((r) => r.read),
      ['audio', 'audio peaks > 0.2'],
    );
    for (const r of rows) {
      assert.equal(r.pairs, 4 * val, r.read);
      assert.ok(r.nonZero > 0 && r.nonZero < r.pairs, `${r.read}: ${r.nonZero}`);
      for (const share of [r.zeroShare, r.within, r.withinNonZero]) assert.ok(share >= 0 && share <= 1, r.read);
    }
    // An untrained head (bias -6, rate 0.0025 a token) has no peaks: every pair reads 0.
    assert.equal(rows[1].within, rows[1].zeroShare);
    writeStageOneRun(dir, { ...favorTiny(), window: 5, onsetAux: 0 }, 3);
    await assert.rejects(probeRun(dir, { scenes, duration: 5 }), /model\.onsetAux is 0; nothing to probe/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
