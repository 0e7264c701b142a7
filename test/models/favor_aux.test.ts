/** FAVOR's training aids: the learned queries' initial spread, the auxiliary answer classifier and its batch fields. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, ParamStore, Scope } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { avqaConfig, avqaTokenizer } from '../../src/data/avqa/index.js';
import { type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import { answerClassBatch, avBatch, textBatch } from '../../src/models/favor/data.js';
import { avInputs, favor, favorLoss } from '../../src/models/favor/model.js';
import { InputError } from '../../src/util/errors.js';
import { randomClip } from './favor_fixtures.js';

const VOCAB = 30;
const LT = 6;
const cfg = (over: Partial<FavorConfig> = {}): FavorConfig => ({ ...favorTiny(), window: 5, ...over });

function std(values: Float32Array): number {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
}

test('the learned queries start with the standard deviation model.queryInit asks for', () => {
  for (const [queryInit, lo, hi] of [
    [1, 0.7, 1.3],
    [0.02, 0.014, 0.026],
  ]) {
    const g = new Graph();
    const store = new ParamStore(1);
    favor(new Scope(g, store), avInputs(g, 1, 10), g.input('text', 'int64', [1, LT]), VOCAB, cfg({ queryInit }));
    const q = store.get('encoder.qformer.queries');
    assert.ok(q, 'encoder.qformer.queries declared');
    const s = std(toFloat32(q));
    assert.ok(s > lo && s < hi, `queryInit ${queryInit}: std ${s}`);
  }
});

test("answer classes index AVQA's answer set and an unknown answer is refused by name", () => {
  const answers = ['yes', 'no', 'red', 'in sync'];
  const ids = answerClassBatch(answers, [{ answer: 'in sync' }, { answer: 'yes' }, { answer: 'red' }]);
  assert.deepEqual(ids.shape, [3]);
  assert.deepEqual(Array.from(ids.data as BigInt64Array, Number), [3, 0, 2]);
  assert.throws(
    () => answerClassBatch(answers, [{ answer: 'purple' }]),
    (e: unknown) => e instanceof InputError && /"purple"/.test(e.message),
  );
});

test('the question mask covers the question words only, not [SEP], the answer or padding', () => {
  const tok = avqaTokenizer(avqaConfig({}));
  const items = [
    { question: 'what color is the square?', answer: 'red' },
    { question: 'is the sound late?', answer: 'no' },
  ];
  const words = items.map((it) => tok.encode(it.question, { addSpecial: false }).ids.length);
  const len = Math.max(...words) + 3;
  const mask = toFloat32(textBatch(tok, items, len).question_mask);
  words.forEach((n, i) =>
    assert.deepEqual(
      Array.from(mask.slice(i * len, (i + 1) * len)),
      Array.from({ length: len }, (_, t) => (t < n ? 1 : 0)),
    ),
  );
});

test("with answerAux the loss adds the classifier's cross-entropy, and one step lowers it", async () => {
  const c = cfg({ answerAux: 0.5 });
  const b = 2;
  const classes = 5;
  const compiled = compileTrainStep(
    (g, p) => {
      const x = avInputs(g, b, 10);
      const text = g.input('text', 'int64', [b, LT]);
      const aux = {
        inputs: {
          text,
          questionMask: g.input('question_mask', 'float32', [b, LT]),
          answerClass: g.input('answer_class', 'int64', [b]),
        },
        classes,
      };
      return favorLoss(
        p,
        x,
        text,
        g.input('target', 'int64', [b, LT]),
        g.input('target_mask', 'float32', [b, LT]),
        VOCAB,
        c,
        aux,
      );
    },
    new ParamStore(2),
    { optimizer: adamw({ weightDecay: 0 }) },
  );
  const trainer = await Trainer.create(compiled, { lr: 3e-3, worker: false, session: { threads: 1 } });
  const ids = (f: (i: number) => number, n: number) => BigInt64Array.from({ length: n }, (_, i) => BigInt(f(i)));
  const batch = {
    ...avBatch([randomClip(10, 4), randomClip(7, 14)], 10),
    text: hostArray(
      'int64',
      [b, LT],
      ids((i) => (i * 7) % VOCAB, b * LT),
    ),
    target: hostArray(
      'int64',
      [b, LT],
      ids((i) => (i * 3) % VOCAB, b * LT),
    ),
    target_mask: hostArray('float32', [b, LT], new Float32Array(b * LT).fill(1)),
    question_mask: hostArray(
      'float32',
      [b, LT],
      Float32Array.from({ length: b * LT }, (_, i) => (i % LT < 3 ? 1 : 0)),
    ),
    answer_class: hostArray(
      'int64',
      [b],
      ids((i) => i + 1, b),
    ),
  };
  const first = await trainer.trainStep(batch);
  const m = first.metrics;
  assert.ok(m.aux_ce > 0 && Number.isFinite(m.aux_ce), `aux_ce ${m.aux_ce}`);
  assert.ok(
    Math.abs(first.loss - (m.answer_ce + 0.01 * m.diversity + 0.5 * m.aux_ce)) < 1e-4,
    `loss ${first.loss} vs its parts ${JSON.stringify(m)}`,
  );
  const second = await trainer.trainStep(batch);
  assert.ok(second.metrics.aux_ce < m.aux_ce, `aux_ce ${m.aux_ce} -> ${second.metrics.aux_ce}`);
  await trainer.close();
});
