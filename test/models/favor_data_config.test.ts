/** The favor task's data fields: `data.avqa.perFamily` reaches the generator, and runs saved without it read as 1; `data.heldOutPerFamily` trims val and test. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAvqaExamples } from '../../src/models/favor/data.js';
import { FavorDataSchema } from '../../src/models/favor/index.js';
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

test('data.heldOutPerFamily: train asks perFamily questions per scene, val and test exactly those of perFamily = N', async () => {
  assert.equal(FavorDataSchema.parse(OLD_RUN_DATA).heldOutPerFamily, null);
  const task = await getTask('favor');
  assert.throws(
    () => resolveConfig(task, { source: 'synth', overrides: parseOverrides(['data.heldOutPerFamily=0']) }),
    /heldOutPerFamily/,
  );
  const data = FavorDataSchema.parse(OLD_RUN_DATA).avqa;
  const one = loadAvqaExamples(data, 60);
  const three = loadAvqaExamples({ ...data, perFamily: 3 }, 60);
  const mixed = loadAvqaExamples({ ...data, perFamily: 3 }, 60, { heldOutPerFamily: 1 });
  const ids = (qs: typeof one.questions, split: string) =>
    qs.filter((q) => q.split === split).map((q) => `${q.id} ${q.question} ${q.answer}`);
  assert.deepEqual(ids(mixed.questions, 'train'), ids(three.questions, 'train'));
  for (const split of ['val', 'test']) {
    assert.ok(ids(one.questions, split).length > 0, split);
    assert.deepEqual(ids(mixed.questions, split), ids(one.questions, split));
    assert.notDeepEqual(ids(three.questions, split), ids(one.questions, split));
  }
  // every held-out question has its clip
  for (const q of mixed.questions.filter((x) => x.split !== 'train')) assert.ok(mixed.clip(q).frames > 0, q.id);
});

test('data.trainTolerance: train asks more count questions, val and test stay those of the config, and 11 is refused', async () => {
  const task = await getTask('favor');
  const resolve = (o: string[]) => resolveConfig(task, { source: 'synth', overrides: parseOverrides(o) });
  assert.equal((resolve([]).data as { trainTolerance: number | null }).trainTolerance, null);
  assert.throws(() => resolve(['data.trainTolerance=11']), /trainTolerance/);
  const data = { ...FavorDataSchema.parse(OLD_RUN_DATA).avqa, minDuration: 10, maxDuration: 10, perFamily: 10 };
  const tight = loadAvqaExamples(data, 60);
  const loose = loadAvqaExamples(data, 60, { trainTolerance: 3 });
  const of = (qs: typeof tight.questions, split: string, family?: string) =>
    qs.filter((q) => q.split === split && (!family || q.family === family)).map((q) => `${q.id} ${q.answer}`);
  assert.ok(
    of(loose.questions, 'train', 'count').length > 1.3 * of(tight.questions, 'train', 'count').length,
    `${of(loose.questions, 'train', 'count').length} vs ${of(tight.questions, 'train', 'count').length}`,
  );
  for (const split of ['val', 'test']) assert.deepEqual(of(loose.questions, split), of(tight.questions, split));
});
