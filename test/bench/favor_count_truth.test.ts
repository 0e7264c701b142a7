/**
 * bench/favor_count_truth: the object count questions sorted by the kind of object they ask about, and whether
 * countObjects' rules would answer them with perfect heads. Checked against what must hold: an object with its own
 * sound is counted right by its sound, a silent one never by a sound, and every question is in one row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countTruth } from '../../bench/favor_count_truth.js';
import { avqaConfig, generateAvqa } from '../../src/data/avqa/index.js';

test('countTruth: own sounds are counted right by their sound, silent objects never; every question counted once', () => {
  const cfg = avqaConfig({ minDuration: 10, maxDuration: 10 });
  const scenes = 120;
  const rows = countTruth(cfg, scenes, 'val');
  const asked = generateAvqa(cfg, scenes).questions.filter(
    (q) => q.split === 'val' && (q.template === 'count.sounds' || q.template === 'count.wall'),
  );
  assert.ok(asked.length > 0, 'some object count questions');
  assert.equal(
    rows.reduce((a, r) => a + r.questions, 0),
    asked.length,
  );
  assert.ok(
    rows.some((r) => r.kind === 'own sound' && r.questions > 0),
    'some objects have a sound of their own',
  );
  for (const r of rows) {
    assert.ok(['own sound', 'shared sound', 'silent'].includes(r.kind), r.kind);
    if (r.kind === 'own sound') assert.equal(r.soundCountRight, r.questions, `${r.template}: own sound`);
    if (r.kind === 'silent') {
      assert.equal(r.soundCountRight, 0, `${r.template}: silent`);
      assert.notEqual(r.template, 'count.sounds', 'a silent object makes no sound to count');
    }
    assert.ok(r.hitFramesRight <= r.questions, r.template);
  }
});
