/**
 * The asked sound's count (model.countAsked, docs/favor.md session 17): the question's sound words pick its count
 * tokens ('mask'); a gated copy path puts the log of the named sound's count bins on the number words' logits
 * ('copy'), and where the question names none, those of a sound its state points to ('point'). The sound words are
 * found in the question only (never in the answer), the validity and the copy logits are checked in float64 against
 * their formulas, and every mode trains through the whole model.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { FRAME_SOUNDS, FRAME_VISUAL, WORD_SPECIALS } from '../../src/data/avqa/index.js';
import { type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import { COUNT_BINS, COUNT_SD } from '../../src/models/favor/count_tokens.js';
import { askedCountValid, countCopyLogits, namedSounds } from '../../src/models/favor/count_asked.js';
import { avInputs, favor } from '../../src/models/favor/model.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import { twoTrainSteps } from './favor_fixtures.js';

const SEP = WORD_SPECIALS.indexOf('[SEP]');
const IDS = { sounds: [10, 11, 12, 13], numbers: Array.from({ length: COUNT_BINS }, (_, n) => 20 + n) };
const VOCAB = 40;
// One row per question: its text (question [SEP] answer), the sounds it names, and the count tokens the LM keeps.
const ROWS: [string, number[], number[], number[]][] = [
  ['names the bell only', [7, 12, 8, SEP, 25, 2], [0, 0, 1, 0], [0, 0, 1, 0]],
  ['names none: all four kept', [7, 8, 9, SEP, 11, 2], [0, 0, 0, 0], [1, 1, 1, 1]],
  ['names piano and drum', [10, 9, 13, SEP, 30, 2], [1, 0, 0, 1], [1, 0, 0, 1]],
  ['a sound word twice counts once', [11, 11, 9, SEP, 21, 2], [0, 1, 0, 0], [0, 1, 0, 0]],
  ['before its [SEP] only (decoding: no [SEP] yet)', [12, 7, 7, 7, 7, 7], [0, 0, 1, 0], [0, 0, 1, 0]],
];
const texts = BigInt64Array.from(ROWS.flatMap((r) => r[1].map(BigInt)));
const [B, LT] = [ROWS.length, ROWS[0][1].length];

test('namedSounds and askedCountValid: the sound words of the question (not the answer) pick the count tokens', async () => {
  for (const c of [FRAME_SOUNDS, FRAME_SOUNDS + FRAME_VISUAL]) {
    const g = new Graph();
    const named = namedSounds(g.input('text', 'int64', [B, LT]), IDS.sounds);
    const valid = askedCountValid(named, c);
    const session = await Session.create(g, { named, valid }, { threads: 1 });
    const r = await session.run({ text: hostArray('int64', [B, LT], texts) });
    await session.release();
    const [gotNamed, gotValid] = [toFloat32(r.named), toFloat32(r.valid)];
    ROWS.forEach(([name, , wantNamed, wantValid], i) => {
      assert.deepEqual([...gotNamed.slice(i * 4, i * 4 + 4)], wantNamed, `${name}: named`);
      const want = [...wantValid, ...new Array<number>(c - FRAME_SOUNDS).fill(1)];
      assert.deepEqual([...gotValid.slice(i * c, (i + 1) * c)], want, `${name}: valid (${c} count tokens)`);
    });
  }
});

test("countCopyLogits: gate(state) * log(the asked sound's count bins + 1e-4) on the number words only", async () => {
  const dim = 6;
  const rng = new Rng(4);
  const states = Float32Array.from({ length: B * LT * dim }, () => rng.normal());
  const counts = Float32Array.from({ length: B * (FRAME_SOUNDS + 2) }, () => rng.uniform() * 6);
  for (const point of [false, true]) {
    const g = new Graph();
    const store = new ParamStore(9);
    const named = namedSounds(g.input('text', 'int64', [B, LT]), IDS.sounds);
    const copy = countCopyLogits(
      new Scope(g, store),
      g.input('states', 'float32', [B, LT, dim]),
      g.input('counts', 'float32', [B, FRAME_SOUNDS + 2]),
      named,
      IDS,
      VOCAB,
      point,
    );
    const params = point ? ['bias', 'point.bias', 'point.weight', 'weight'] : ['bias', 'weight'];
    assert.deepEqual(store.names().sort(), params);
    const session = await Session.create(g, { copy }, { threads: 1 });
    const r = await session.run({
      ...store.feeds(g),
      text: hostArray('int64', [B, LT], texts),
      states: hostArray('float32', [B, LT, dim], states),
      counts: hostArray('float32', [B, FRAME_SOUNDS + 2], counts),
    });
    await session.release();
    const got = toFloat32(r.copy);
    const [w, bias] = [toFloat32(store.get('weight')), toFloat32(store.get('bias'))];
    const linearAt = (weight: Float32Array, b: Float32Array, out: number, i: number, t: number) =>
      Array.from({ length: out }, (_, k) => {
        let z = b[k];
        for (let d = 0; d < dim; d++) z += weight[d * out + k] * states[(i * LT + t) * dim + d];
        return z;
      });
    ROWS.forEach(([name, , wantNamed], i) => {
      const bins = Array.from({ length: FRAME_SOUNDS }, (_, k) => {
        const z = Array.from({ length: COUNT_BINS }, (_, n) =>
          Math.exp(-((counts[i * (FRAME_SOUNDS + 2) + k] - n) ** 2) / (2 * COUNT_SD ** 2)),
        );
        const sum = z.reduce((a, v) => a + v, 0);
        return z.map((v) => v / sum);
      });
      const namedCount = wantNamed.reduce((a, v) => a + v, 0);
      for (let t = 0; t < LT; t++) {
        let pick = wantNamed.map((x) => x / Math.max(1, namedCount));
        if (point && namedCount === 0) {
          const z = linearAt(toFloat32(store.get('point.weight')), toFloat32(store.get('point.bias')), 4, i, t);
          const sum = z.reduce((a, v) => a + Math.exp(v), 0);
          pick = z.map((v) => Math.exp(v) / sum);
        }
        const on = point || namedCount > 0 ? 1 : 0;
        const gate = 1 / (1 + Math.exp(-linearAt(w, bias, 1, i, t)[0]));
        for (let v = 0; v < VOCAB; v++) {
          const n = IDS.numbers.indexOf(v);
          const asked = n < 0 ? 0 : pick.reduce((a, share, k) => a + share * bins[k][n], 0);
          const want = n < 0 ? 0 : gate * on * Math.log(asked + 1e-4);
          const at = got[(i * LT + t) * VOCAB + v];
          const where = `${point ? 'point' : 'copy'}, ${name}, position ${t}, word ${v}`;
          assert.ok(Math.abs(at - want) < 1e-4 * (1 + Math.abs(want)), `${where}: ${at} vs ${want}`);
        }
      }
    });
  }
});

test('countAsked: needs count tokens and the vocabulary ids; mask and copy train through the whole model', async () => {
  const base: FavorConfig = { ...favorTiny(), window: 5, queryAux: 1, countTokens: 'audio', countPeaks: 0.15 };
  assert.equal(FavorModelSchema.parse(base).countAsked, 'off', 'off by default');
  const off = FavorModelSchema.safeParse({ ...base, countTokens: 'off', countPeaks: 0, countAsked: 'mask' });
  assert.equal(off.success, false);
  assert.match(off.error!.message, /countAsked picks the question's count token: it needs countTokens on/);
  assert.equal(FavorModelSchema.safeParse({ ...base, countAsked: 'sum' }).success, false, 'an unknown mode');
  const g = new Graph();
  const cm: FavorConfig = { ...base, countAsked: 'copy' };
  assert.throws(
    () => favor(new Scope(g, new ParamStore(1)), avInputs(g, 2, 10), g.input('text', 'int64', [2, 4]), 20, cm),
    /model\.countAsked needs the count words' ids/,
  );
  const ids = { sounds: [1, 2, 3, 4], numbers: Array.from({ length: COUNT_BINS }, (_, n) => 5 + n) };
  for (const countAsked of ['mask', 'copy', 'point'] as const) {
    const step = await twoTrainSteps({ ...base, countWords: countAsked !== 'mask', countAsked }, true, ids);
    assert.equal(step.names.includes('lm.count_copy.weight'), countAsked !== 'mask', countAsked);
    assert.equal(step.names.includes('lm.count_copy.point.weight'), countAsked === 'point', countAsked);
    assert.ok(step.second < step.first, `${countAsked}: one step lowers the loss: ${step.first} -> ${step.second}`);
  }
});
