/**
 * How the language model reads the AV tokens (docs/favor.md, session 9): model.lmAux, a head on the LM's
 * answer-position states that predicts how many frames of the clip hold each kind of sound (lm_aux.ts), and
 * model.questionAv, the question's mean word embedding added to every AV token (lm.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { FRAME_SOUNDS, WORD_SPECIALS } from '../../src/data/avqa/index.js';
import { type FavorConfig, favorSmall, favorTiny } from '../../src/models/favor/config.js';
import { avBatch } from '../../src/models/favor/data.js';
import { lmAuxLoss } from '../../src/models/favor/lm_aux.js';
import { avInputs, favor } from '../../src/models/favor/model.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import { randomClip, twoTrainSteps } from './favor_fixtures.js';

const [B, LT, D, F] = [2, 4, 3, 5];

test("lmAuxLoss is the Poisson NLL of each sound's frame count, over the answer positions only", async () => {
  const rng = new Rng(8);
  const states = Float32Array.from({ length: B * LT * D }, () => rng.uniform() * 2 - 1);
  const mask = Float32Array.from([0, 1, 1, 0, 0, 0, 1, 1]); // [B, LT]
  const audio = Float32Array.from({ length: B * F * FRAME_SOUNDS }, () => +(rng.uniform() < 0.4)); // [B, F, 4]
  const g = new Graph();
  const store = new ParamStore(2);
  const loss = lmAuxLoss(
    new Scope(g, store),
    g.input('states', 'float32', [B, LT, D]),
    g.input('mask', 'float32', [B, LT]),
    g.input('audio', 'float32', [B, F, FRAME_SOUNDS]),
  );
  const session = await Session.create(g, { loss }, { threads: 1 });
  const r = await session.run({
    states: hostArray('float32', [B, LT, D], states),
    mask: hostArray('float32', [B, LT], mask),
    audio: hostArray('float32', [B, F, FRAME_SOUNDS], audio),
    ...store.feeds(g),
  });
  await session.release();
  const [w, bias] = [toFloat32(store.get('weight')), toFloat32(store.get('bias'))]; // [D, 4], [4]
  let sum = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < LT; t++) {
      if (!mask[b * LT + t]) continue;
      for (let k = 0; k < FRAME_SOUNDS; k++) {
        let z = bias[k];
        for (let d = 0; d < D; d++) z += states[(b * LT + t) * D + d] * w[d * FRAME_SOUNDS + k];
        let count = 0;
        for (let f = 0; f < F; f++) count += audio[(b * F + f) * FRAME_SOUNDS + k];
        const rate = Math.log1p(Math.exp(z));
        sum += rate - count * Math.log(rate + 1e-6);
      }
    }
  const want = sum / mask.reduce((a, v) => a + v, 0);
  const got = toFloat32(r.loss)[0];
  assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
});

test('lmAux: 0 by default (a config.json without it parses as 0) and declares nothing; on, its head trains', async () => {
  assert.equal(favorSmall().lmAux, 0);
  assert.equal(FavorModelSchema.parse({ ...favorSmall(), lmAux: undefined }).lmAux, 0, 'older runs read as off');
  assert.ok(!FavorModelSchema.safeParse({ ...favorSmall(), lmAux: -1 }).success, 'a negative factor is refused');
  const tiny: FavorConfig = { ...favorTiny(), window: 5 };
  const off = await twoTrainSteps(tiny, true);
  assert.ok(!off.names.some((n) => n.startsWith('lm_aux')) && !off.metrics.includes('lm_aux_nll'), 'off: no head');
  const on = await twoTrainSteps({ ...tiny, lmAux: 1 }, true);
  assert.ok(on.names.includes('lm_aux.weight') && on.metrics.includes('lm_aux_nll'), 'on: the head and its metric');
  assert.ok(on.first > off.first, `the head's NLL adds to the loss: ${on.first} vs ${off.first}`);
  assert.ok(on.second < on.first, `one step lowers the loss: ${on.first} -> ${on.second}`);
});

const SEP = WORD_SPECIALS.indexOf('[SEP]');

/** Logits [1, 6, 20] of one 5-frame clip and the text `ids` (parameters seeded 3) and the parameter names. */
async function logits(cfg: FavorConfig, ids: number[]): Promise<{ logits: Float32Array; names: string[] }> {
  const g = new Graph();
  const store = new ParamStore(3);
  const text = g.input('text', 'int64', [1, ids.length]);
  const out = favor(new Scope(g, store), avInputs(g, 1, 5), text, 20, cfg);
  const session = await Session.create(g, { logits: out.logits }, { threads: 1 });
  const r = await session.run({
    ...avBatch([randomClip(5, 1)], 5),
    text: hostArray('int64', [1, ids.length], BigInt64Array.from(ids, BigInt)),
    ...store.feeds(g),
  });
  await session.release();
  return { logits: toFloat32(r.logits), names: store.names() };
}

test('questionAv: off by default and declares nothing; on, the question reaches the AV tokens and the answer does not', async () => {
  assert.equal(FavorModelSchema.parse({ ...favorSmall(), questionAv: undefined }).questionAv, false, 'old runs: off');
  const tiny: FavorConfig = { ...favorTiny(), window: 5 };
  const question = [7, 9, 11, SEP]; // question words, [SEP] (emits the first answer word)
  const off = await logits(tiny, [...question, 12, 13]);
  assert.ok(!off.names.some((n) => n.includes('question_av')), 'off: no projection');
  const on = await logits({ ...tiny, questionAv: true }, [...question, 12, 13]);
  assert.ok(on.names.includes('lm.question_av.weight'), 'on: the projection');
  const v = 20;
  const upToSep = (l: Float32Array) => l.slice(0, question.length * v); // positions 0..[SEP]
  assert.ok(
    upToSep(on.logits).some((x, i) => Math.abs(x - upToSep(off.logits)[i]) > 1e-5),
    'the question summary changes what the LM reads',
  );
  // Another answer after [SEP]: with causal text, the logits up to [SEP] must not move (no answer leak via the AV).
  const otherAnswer = await logits({ ...tiny, questionAv: true }, [...question, 15, 2]);
  assert.deepEqual(upToSep(otherAnswer.logits), upToSep(on.logits));
  // Another question word: the first position's logits move too (only the AV prefix can carry it there).
  const otherQuestion = await logits({ ...tiny, questionAv: true }, [7, 9, 16, SEP, 12, 13]);
  assert.ok(
    otherQuestion.logits.slice(0, v).some((x, i) => Math.abs(x - on.logits[i]) > 1e-5),
    'question -> AV',
  );
  const step = await twoTrainSteps({ ...tiny, questionAv: true });
  assert.ok(step.second < step.first, `one step lowers the loss: ${step.first} -> ${step.second}`);
});
