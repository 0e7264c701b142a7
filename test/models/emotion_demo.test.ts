import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_ROWS, runEmotionDemo } from '../../src/app/emotion_demo.js';

test('the emotion demo part returns the reduced ablation table and heat maps of test utterances', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-emotion-demo-'));
  try {
    const { sections, summary } = await runEmotionDemo({ out: dir, n: 60, epochs: 1, heatmaps: 1, quiet: true });
    assert.deepEqual(
      Object.keys(summary.rows),
      DEMO_ROWS.map((r) => r.name),
    );
    for (const acc of Object.values(summary.rows)) assert.ok(acc >= 0 && acc <= 1);
    assert.equal(sections[0].kind, 'text');
    assert.match((sections[0] as { text: string }).text, /\| text only \|/);
    const maps = sections.filter((s) => s.kind === 'heatmap');
    assert.equal(maps.length, 2, 'text→audio and audio→text of one utterance');
    assert.match(maps[0].title ?? '', /text→audio/);
    assert.equal((maps[0] as { colName?: string }).colName, 'time');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
