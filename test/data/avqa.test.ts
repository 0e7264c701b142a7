import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpeTokenizer } from '../../src/text/bpe.js';
import {
  AVQA_FAMILIES,
  AVQA_TEMPLATES,
  avqaAnswers,
  avqaConfig,
  avqaCorpus,
  avqaScene,
  avqaTokenizer,
  generateAvqa,
  questionOnlyBaselines,
  sceneDuration,
  sceneSplit,
  type AvqaQuestion,
} from '../../src/data/avqa/index.js';
import { ConfigError } from '../../src/util/errors.js';

test('scenes: seeded lengths of 5-30 s in 0.5 s steps (10-60 frames at 2 Hz), split by scene', () => {
  const cfg = avqaConfig({});
  const lengths = Array.from({ length: 400 }, (_, i) => sceneDuration(cfg, i));
  assert.ok(
    Math.min(...lengths) === 5 && Math.max(...lengths) === 30,
    `${Math.min(...lengths)}..${Math.max(...lengths)}`,
  );
  for (const d of lengths) assert.ok(Number.isInteger(d * 2));
  assert.ok(new Set(lengths).size > 40, 'lengths vary');
  const splits = Array.from({ length: 4000 }, (_, i) => sceneSplit(cfg, i));
  const share = (s: string) => splits.filter((x) => x === s).length / splits.length;
  assert.ok(
    Math.abs(share('test') - 0.1) < 0.02 && Math.abs(share('val') - 0.1) < 0.02,
    `test ${share('test')}, val ${share('val')}`,
  );
  assert.deepEqual(avqaScene(cfg, 7), avqaScene(cfg, 7));
  assert.notDeepEqual(avqaScene(cfg, 7).impacts, avqaScene({ ...cfg, seed: 1 }, 7).impacts);
  assert.throws(() => avqaConfig({ minDuration: 10, maxDuration: 5 }), ConfigError);
  assert.throws(() => avqaConfig({ sampleRate: 16001 }), /multiple of 50/);
});

test('generation: deterministic, prefix-stable, every family and template, records complete and split-clean', () => {
  const a = generateAvqa({}, 300);
  assert.deepEqual(generateAvqa({}, 300).questions, a.questions);
  const prefix = generateAvqa({}, 120).questions;
  assert.deepEqual(a.questions.slice(0, prefix.length), prefix);
  assert.deepEqual(new Set(a.questions.map((q) => q.family)), new Set(AVQA_FAMILIES));
  assert.equal(new Set(a.questions.map((q) => q.template)).size, Object.keys(AVQA_TEMPLATES).length);
  assert.equal(new Set(a.questions.map((q) => q.id)).size, a.questions.length);
  const answers = new Set(avqaAnswers(a.config));
  const cfg = avqaConfig({});
  for (const q of a.questions) {
    assert.equal(q.split, sceneSplit(cfg, q.index));
    assert.equal(q.duration, sceneDuration(cfg, q.index));
    assert.equal(AVQA_TEMPLATES[q.template].family, q.family);
    assert.ok(answers.has(q.answer), `${q.id}: answer '${q.answer}' not in the answer space`);
    assert.ok(q.question.endsWith('?') && q.question === q.question.toLowerCase());
    if (q.time !== undefined) assert.ok(q.time >= 0 && q.time < q.duration);
    if (q.choices) assert.ok(q.choices.includes(q.answer));
    if (q.audio?.foil !== undefined) {
      assert.notEqual(q.audio.foil, q.index);
      assert.equal(sceneSplit(cfg, q.audio.foil), q.split, 'foil audio comes from the same split');
    }
    if (q.audio?.offset !== undefined) assert.ok(Math.abs(q.audio.offset) <= 2);
  }
  // one question per family per scene at most (perFamily 1)
  const keys = a.questions.map((q) => `${q.index}/${q.family}`);
  assert.equal(new Set(keys).size, keys.length);
  // perFamily 2 asks more, with different texts per scene and family
  const two = generateAvqa({ perFamily: 2, families: ['visual', 'source'] }, 50).questions;
  assert.ok(two.length > 150);
  const texts = two.map((q) => `${q.index}/${q.question}`);
  assert.equal(new Set(texts).size, texts.length);
});

test('balance: no answer dominates its template; question-only predictors gain nothing over the template prior', () => {
  const data = generateAvqa({ testFraction: 0.3, valFraction: 0 }, 3000);
  const byTemplate = new Map<string, AvqaQuestion[]>();
  for (const q of data.questions) byTemplate.set(q.template, [...(byTemplate.get(q.template) ?? []), q]);
  for (const [t, qs] of byTemplate) {
    const counts = new Map<string, number>();
    for (const q of qs) {
      const key = q.choices ? String(q.choices.indexOf(q.answer)) : q.answer;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const top = Math.max(...counts.values()) / qs.length;
    assert.ok(
      top <= 1.2 / counts.size + 2 / qs.length + 0.01,
      `${t}: top answer ${(100 * top).toFixed(1)}% of ${qs.length} over ${counts.size} answers`,
    );
  }
  const rows = questionOnlyBaselines(data.questions);
  for (const r of rows) {
    assert.ok(r.test >= 150, `${r.family}: only ${r.test} test questions`);
    assert.ok(
      r.leak <= 0.04,
      `${r.family}: question-only ${(100 * Math.max(r.text_majority, r.bayes)).toFixed(1)}% vs prior ${(100 * r.template_majority).toFixed(1)}%`,
    );
    assert.ok(
      r.template_majority <= r.chance + 0.05,
      `${r.family}: prior ${(100 * r.template_majority).toFixed(1)}% vs chance ${(100 * r.chance).toFixed(1)}%`,
    );
  }
});

test('the question-only baselines do detect a leak (a generator that ties color to shape)', () => {
  const data = generateAvqa({ families: ['visual'], testFraction: 0.3, valFraction: 0 }, 1500);
  const colors = ['red', 'green', 'blue', 'yellow', 'magenta', 'cyan'];
  const leaky = data.questions.map((q) => {
    if (q.template !== 'visual.color') return q;
    const shape = q.question.match(/the (\w+)\?$/)![1];
    return { ...q, answer: colors[shape.length % colors.length] };
  });
  const row = questionOnlyBaselines(leaky).find((r) => r.family === 'visual')!;
  assert.ok(row.leak > 0.1, `leak ${row.leak}`);
});

test('word vocabulary: fixed by the grammar, covers every question and answer, round-trips', () => {
  const data = generateAvqa({}, 200);
  const tok = avqaTokenizer(data.config);
  assert.ok(tok.vocabSize < 250, `vocab ${tok.vocabSize}`);
  assert.deepEqual(avqaTokenizer(data.config).toJSON(), tok.toJSON());
  for (const q of data.questions) {
    for (const text of [q.question, q.answer]) {
      const { ids } = tok.encode(text);
      assert.ok(!ids.includes(tok.unkId), `'${text}' has an unknown word`);
      assert.equal(tok.decode(ids), text);
    }
  }
  for (const a of avqaAnswers(data.config)) assert.ok(!tok.encode(a).ids.includes(tok.unkId), a);
  const batch = tok.encodeBatch(['is the sound late?', 'what color is the square?']);
  assert.deepEqual(batch.shape, [2, 8]); // [BOS] what color is the square ? [EOS]
  assert.equal(
    batch.mask.reduce((a, b) => a + b, 0),
    7 + 8,
  );
  assert.equal(
    tok.decode(tok.encode('which object made the sound at 12.5 seconds?').ids),
    'which object made the sound at 12.5 seconds?',
  );
  // the BPE hook: any tokenizer can be trained on the corpus
  const bpe = BpeTokenizer.train(avqaCorpus(data.questions), { vocabSize: 400 });
  assert.equal(bpe.decode(bpe.encode(data.questions[0].question).ids), data.questions[0].question);
});
