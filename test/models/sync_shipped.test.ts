/**
 * The av-sync weights that ship inside the package (weights/av-sync/): they load as a run folder, are small, are
 * listed in package.json "files", and time fresh AV-Synth clips (a synth seed no training run uses) whose audio was
 * rendered with a known shift; inside auto they are the calibrated `model` cue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { syncExample } from '../../src/data/synth/clip.js';
import { autoSync } from '../../src/models/av_sync/auto.js';
import { centralWindow } from '../../src/models/av_sync/bench.js';
import { syncSynthConfig } from '../../src/models/av_sync/data.js';
import { featuresFromClip } from '../../src/models/av_sync/features.js';
import { learnedCue, loadSyncModel, modelSync, releaseSyncModel } from '../../src/models/av_sync/infer.js';
import { SHIPPED_SYNC_MODEL, learnedCurve, shippedSyncModel } from '../../src/models/av_sync/model_cue.js';
import { SYNC_GRID, argmaxOf } from '../../src/models/av_sync/result.js';

test('the shipped av-sync weights are a small run folder listed in package.json "files"', () => {
  assert.equal(shippedSyncModel(), SHIPPED_SYNC_MODEL);
  const bytes = statSync(join(SHIPPED_SYNC_MODEL, 'best.safetensors')).size;
  assert.ok(bytes > 10_000 && bytes < 2_000_000, `best.safetensors is ${bytes} bytes`);
  const pkg = JSON.parse(readFileSync(join(SHIPPED_SYNC_MODEL, '..', '..', 'package.json'), 'utf8')) as {
    files: string[];
  };
  assert.ok(pkg.files.includes('weights'), `package.json files: ${pkg.files.join(', ')}`);
  // The run's own AV-Synth test split: weights that lost AV-Synth accuracy to the real clips must not ship
  // (issue 9: not below the demo model's 0.98; docs/sync.md "Shipped weights").
  const metrics = JSON.parse(readFileSync(join(SHIPPED_SYNC_MODEL, 'metrics.json'), 'utf8')) as {
    test: Record<string, number>;
  };
  assert.ok(metrics.test['test.acc1'] >= 0.98, `shipped test acc@1 ${metrics.test['test.acc1']}`);
});

test('the shipped weights give the known offset of generated AV-Synth clips', async () => {
  const model = loadSyncModel(SHIPPED_SYNC_MODEL);
  try {
    const cfg = syncSynthConfig({ seed: 4321, seconds: 9, size: 64, classes: 8, noise: 0.02 });
    // +0.8 s (audio late), -0.6 s (audio early), 0 and -1.4 s on three clips.
    const labels = [14, 7, 10, 3];
    let right = 0;
    const misses: string[] = [];
    for (let clip = 0; clip < 3; clip++)
      for (const label of labels) {
        const f = centralWindow(featuresFromClip(syncExample(cfg, clip, label)), model.window);
        const e = await modelSync(f, model);
        // The most probable class (answered or withheld) is the shift; an answered offset is never another one.
        if (SYNC_GRID[argmaxOf(e.probs)] === SYNC_GRID[label]) right++;
        else misses.push(`clip ${clip}: ${SYNC_GRID[argmaxOf(e.probs)]} for ${SYNC_GRID[label]}`);
        assert.ok(e.offset === null || e.offset === SYNC_GRID[label], `clip ${clip}: answered ${e.offset}`);
      }
    assert.ok(right >= 11, `${right} of 12 right; ${misses.join('; ')}`);
    // The learned cue inside auto: its curve peaks at the known shift.
    const f = centralWindow(featuresFromClip(syncExample(cfg, 0, 14)), model.window);
    const cue = await learnedCue(f, model);
    assert.ok(cue && cue.windows >= 1);
    const curve = learnedCurve(cue.probs);
    const best = curve.indexOf(Math.max(...curve)) - (curve.length - 1) / 2;
    assert.equal(best / f.rate, SYNC_GRID[14]);
    const a = autoSync(f, { learned: cue, minConfidence: 0 });
    assert.ok(a.cues.some((c) => c.cue === 'model' && Math.abs(c.lag - SYNC_GRID[14]) <= 0.2));
  } finally {
    await releaseSyncModel(model);
  }
});
