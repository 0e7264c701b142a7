/**
 * bench/favor_count_truth: the object count questions sorted by the kind of object they ask about, and whether
 * countObjects' rules would answer them with perfect heads. Checked against what must hold: an object with its own
 * sound is counted right by its sound, a silent one never by a sound, and every question is in one row; and the
 * turns of an object's centre between 2 Hz frames count its hits wherever each has a frame gap on both sides.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countTruth, frameTurns } from '../../bench/favor_count_truth.js';
import { avqaConfig, avqaScene, generateAvqa } from '../../src/data/avqa/index.js';

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
    // An own sound's impacts are the object's hits, each in a frame holding one of them.
    if (r.kind === 'own sound') assert.equal(r.impactsInHitFramesRight, r.questions, `${r.template}: own sound`);
    // Its voice is its own too: no other object makes its sound word, let alone its voice.
    if (r.kind === 'own sound') assert.equal(r.voiceCountRight, r.questions, `${r.template}: own sound`);
    if (r.kind === 'silent') {
      assert.equal(r.soundCountRight, 0, `${r.template}: silent`);
      assert.equal(r.impactsInHitFramesRight, 0, `${r.template}: silent`);
      assert.equal(r.voiceCountRight, 0, `${r.template}: silent`);
      assert.notEqual(r.template, 'count.sounds', 'a silent object makes no sound to count');
    }
    assert.ok(r.hitFramesRight <= r.questions, r.template);
    assert.ok(r.turnsRight <= r.questions, r.template);
  }
});

test('frameTurns: an object whose hits all have a whole frame gap before and after them turns once per hit', () => {
  // Frame t shows the scene at t / 2 s: a hit in [0.5, d - 1) has a step before its gap and one after it.
  const cfg = avqaConfig({ minDuration: 10, maxDuration: 10 });
  let checked = 0;
  for (let index = 0; index < 60; index++) {
    const s = avqaScene(cfg, index);
    const d = s.duration;
    for (const o of s.objects) {
      if (o.bounces.some((t) => (t >= 0 && t < 0.5) || (t >= d - 1 && t < d))) continue;
      const hits = o.bounces.filter((t) => t >= 0.5 && t < d - 1).length;
      assert.equal(frameTurns(cfg, index, o.id), hits, `scene ${index}, ${o.name}`);
      checked++;
    }
  }
  assert.ok(checked > 30, `${checked} objects checked`);
});
