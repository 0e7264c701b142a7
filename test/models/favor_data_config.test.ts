/** The favor task's data fields: `data.avqa.perFamily` reaches the generator, and runs saved without it read as 1; `data.heldOutPerFamily` trims val and test. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAvqaExamples } from '../../src/models/favor/data.js';
import { FavorDataSchema, favorSplits } from '../../src/models/favor/index.js';
import { getTask } from '../../src/models/registry.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';

const OLD_RUN_DATA = { avqa: { seed: 0, minDuration: 5, maxDuration: 5, families: ['audio', 'count'] } };

test('data.avqa.perFamily: defaults to 1, parses from a config.json without it, and refuses 0 naming the field', async () => {
  assert.equal(FavorDataSchema.parse(OLD_RUN_DATA).avqa.perFamily, 1);
  const task = await getTask('favor');
  const resolve = (o: string[]) => resolveConfig(task, { source: 'synth', overrides: parseOverrides(o) });
  assert.equal((resolve([]).data as { avqa: { perFamily: number } }).avqa.perFamily, 1);
  assert.equal((resolve(['data.avqa.perFamily=3']).data as { avqa: { perFamily: number } }).avqa.perFamily, 3);
  assert.throws(() => resolve(['data.avqa.perFamily=0']), /perFamily/);
});

test('data.avqa.perFamily=2 asks more questions of the same scenes (no more scenes rendered)', () => {
  const data = FavorDataSchema.parse(OLD_RUN_DATA).avqa;
  const one = loadAvqaExamples(data, 12);
  const two = loadAvqaExamples({ ...data, perFamily: 2 }, 12);
  const scenes = (qs: { scene: string }[]) => new Set(qs.map((q) => q.scene));
  assert.deepEqual(scenes(two.questions), scenes(one.questions));
  assert.ok(two.questions.length > one.questions.length * 1.5, `${two.questions.length} vs ${one.questions.length}`);
  for (const qs of [one.questions, two.questions]) assert.ok(qs.every((q) => data.families.includes(q.family)));
});

test('data.heldOutPerFamily keeps every train question and, per val and test scene, the first N per family', async () => {
  assert.equal(FavorDataSchema.parse(OLD_RUN_DATA).heldOutPerFamily, null);
  const task = await getTask('favor');
  assert.throws(
    () => resolveConfig(task, { source: 'synth', overrides: parseOverrides(['data.heldOutPerFamily=0']) }),
    /heldOutPerFamily/,
  );
  const data = { ...FavorDataSchema.parse(OLD_RUN_DATA).avqa, perFamily: 3 };
  const { questions } = loadAvqaExamples(data, 60);
  const all = favorSplits(questions, null);
  const trimmed = favorSplits(questions, 1);
  assert.deepEqual(trimmed.train, all.train);
  for (const split of ['val', 'test'] as const) {
    assert.ok(trimmed[split].length > 0 && trimmed[split].length < all[split].length, split);
    const kept = trimmed[split].map((i) => questions[i]);
    assert.ok(
      kept.every((q) => q.id.endsWith('.0')),
      split,
    );
    // one question per scene and family, and every scene and family of the split still asked
    const keys = (qs: typeof kept) => new Set(qs.map((q) => `${q.scene}/${q.family}`));
    assert.equal(keys(kept).size, kept.length);
    assert.deepEqual(keys(kept), keys(all[split].map((i) => questions[i])));
  }
});
