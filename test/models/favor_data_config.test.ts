/** The favor task's data fields: `data.avqa.perFamily` reaches the generator, and runs saved without it read as 1; `data.heldOutPerFamily` trims val and test; `data.trainTolerance` loosens train's balance only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AvqaQuestion } from '../../src/data/avqa/index.js';
import { loadAvqaExamples } from '../../src/models/favor/data.js';
import { FavorDataSchema } from '../../src/models/favor/index.js';
import { getTask } from '../../src/models/registry.js';
import { parseOverrides, resolveConfig } from '../../src/train/config.js';

const OLD_RUN_DATA = { avqa: { seed: 0, minDuration: 5, maxDuration: 5, families: ['audio', 'count'] } };

const FAVOR = await getTask('favor');
/** The favor config resolved from `--set` overrides. */
const resolveFavor = (overrides: string[]) =>
  resolveConfig(FAVOR, { source: 'synth', overrides: parseOverrides(overrides) });

/** A split's questions (optionally one family's) as 'id question answer' lines. */
const questionLines = (qs: AvqaQuestion[], split: string, family?: string) =>
  qs
    .filter((q) => q.split === split && (!family || q.family === family))
    .map((q) => `${q.id} ${q.question} ${q.answer}`);

test('data.avqa.perFamily: defaults to 1, parses from a config.json without it, and refuses 0 naming the field', () => {
  assert.equal(FavorDataSchema.parse(OLD_RUN_DATA).avqa.perFamily, 1);
  assert.equal((resolveFavor([]).data as { avqa: { perFamily: number } }).avqa.perFamily, 1);
  assert.equal((resolveFavor(['data.avqa.perFamily=3']).data as { avqa: { perFamily: number } }).avqa.perFamily, 3);
  assert.throws(() => resolveFavor(['data.avqa.perFamily=0']), /perFamily/);
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

test('data.heldOutPerFamily: train asks perFamily questions per scene, val and test exactly those of perFamily = N', () => {
  assert.equal(FavorDataSchema.parse(OLD_RUN_DATA).heldOutPerFamily, null);
  assert.throws(() => resolveFavor(['data.heldOutPerFamily=0']), /heldOutPerFamily/);
  const data = FavorDataSchema.parse(OLD_RUN_DATA).avqa;
  const one = loadAvqaExamples(data, 60);
  const three = loadAvqaExamples({ ...data, perFamily: 3 }, 60);
  const mixed = loadAvqaExamples({ ...data, perFamily: 3 }, 60, { heldOutPerFamily: 1 });
  assert.deepEqual(questionLines(mixed.questions, 'train'), questionLines(three.questions, 'train'));
  for (const split of ['val', 'test']) {
    assert.ok(questionLines(one.questions, split).length > 0, split);
    assert.deepEqual(questionLines(mixed.questions, split), questionLines(one.questions, split));
    assert.notDeepEqual(questionLines(three.questions, split), questionLines(one.questions, split));
  }
  // every held-out question has its clip
  for (const q of mixed.questions.filter((x) => x.split !== 'train')) assert.ok(mixed.clip(q).frames > 0, q.id);
});

test('data.trainTolerance: train asks more count questions, val and test stay those of the config, and 11 is refused', () => {
  assert.equal((resolveFavor([]).data as { trainTolerance: number | null }).trainTolerance, null);
  assert.throws(() => resolveFavor(['data.trainTolerance=11']), /trainTolerance/);
  const data = { ...FavorDataSchema.parse(OLD_RUN_DATA).avqa, minDuration: 10, maxDuration: 10, perFamily: 10 };
  const tight = loadAvqaExamples(data, 60);
  const loose = loadAvqaExamples(data, 60, { trainTolerance: 3 });
  const [looseCounts, tightCounts] = [loose, tight].map((ex) => questionLines(ex.questions, 'train', 'count').length);
  assert.ok(looseCounts > 1.3 * tightCounts, `${looseCounts} vs ${tightCounts}`);
  for (const split of ['val', 'test'])
    assert.deepEqual(questionLines(loose.questions, split), questionLines(tight.questions, split));
});
