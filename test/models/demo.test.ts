import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, DEMO_FULL, DEMO_QUICK } from '../../src/models/demo.js';
import { SEED_METRICS } from '../../src/models/av_align/metrics.js';

test('the demo pipeline runs end to end in a tiny configuration', async () => {
  const out = mkdtempSync(join(tmpdir(), 'attune-demo-'));
  try {
    const s = await runDemo({
      out, quick: true, quiet: true,
      scale: { alignClips: 30, alignEpochs: 2, valClips: 4, testClips: 8, syncClips: 8, syncMaxSteps: 2, files: 2, batchSize: 8 },
    });
    // every phase ran and wrote its outputs
    assert.deepEqual(Object.keys(s.phases), ['synthesize', 'av-align', 'av-sync', 'index']);
    for (const f of ['report.html', 'summary.json', 'av-align/best.safetensors', 'av-align/config.json', 'avsynth/manifest.jsonl', 'avsynth/clips/clip000000.mp4', 'avsynth/index/index.json']) {
      assert.ok(existsSync(join(out, f)), `${f} missing`);
    }
    assert.equal(s.align.steps, 2 * Math.floor(18 / 8));
    for (const m of SEED_METRICS) {
      assert.ok(Number.isFinite(s.align.before[m.key]), `before.${m.key}`);
      assert.ok(Number.isFinite(s.align.after[m.key]), `after.${m.key}`);
    }
    assert.equal(s.retrieval.testClips, 8);
    assert.equal(s.retrieval.files.indexed, 4); // 2 MP4 + 2 WAV
    assert.equal(s.retrieval.files.failed, 0);
    assert.ok('run' in s.sync, `av-sync: ${JSON.stringify(s.sync)}`);
    if ('run' in s.sync) assert.ok(Number.isFinite(s.sync.after.acc1));
    const html = readFileSync(s.report, 'utf8');
    assert.match(html, /Seed metric suite on 8 test clips/);
    assert.match(html, /temporal_consistency/);
    assert.match(html, /Retrieval recall/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).align.steps, s.align.steps);
    // a second run in the same folder starts the runs fresh and reuses the feature cache
    const again = await runDemo({ out, quick: true, quiet: true, skipSync: true, scale: { alignClips: 30, alignEpochs: 1, valClips: 4, testClips: 8, files: 1, batchSize: 8 } });
    assert.deepEqual(again.sync, { skipped: 'skipped by option' });
    assert.equal(again.retrieval.files.indexed, 2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('demo scales: quick is a strict subset of the full job', () => {
  assert.ok(DEMO_QUICK.alignClips < DEMO_FULL.alignClips && DEMO_QUICK.alignEpochs < DEMO_FULL.alignEpochs);
  assert.equal(DEMO_FULL.testClips, 100);
});
