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
import { FRAME_LOOKS, FRAME_SOUNDS, FRAME_VISUAL, LOOK_COLORS, WORD_SPECIALS } from '../../src/data/avqa/index.js';
import { SHAPES } from '../../src/data/synth/classes.js';
import { type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import { COUNT_BINS, COUNT_SD } from '../../src/models/favor/count_tokens.js';
import { askedCountValid, countCopyLogits, namedSounds } from '../../src/models/favor/count_asked.js';
import { namedLooks, objectHitCounts } from '../../src/models/favor/count_objects.js';
import { avInputs, favor } from '../../src/models/favor/model.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import { TRAIN_WORD_IDS, countedTiny, twoTrainSteps, writeStageOneRun } from './favor_fixtures.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SEP = WORD_SPECIALS.indexOf('[SEP]');
const LOOK_IDS = {
  colors: Array.from({ length: LOOK_COLORS.length }, (_, k) => 33 + k),
  shapes: Array.from({ length: SHAPES.length }, (_, k) => 33 + LOOK_COLORS.length + k),
};
const IDS = {
  sounds: [10, 11, 12, 13],
  numbers: Array.from({ length: COUNT_BINS }, (_, n) => 20 + n),
  looks: LOOK_IDS,
};
const VOCAB = 50;
const [C0, C2, S0, S2] = [LOOK_IDS.colors[0], LOOK_IDS.colors[2], LOOK_IDS.shapes[0], LOOK_IDS.shapes[2]];
const look = (color: number, shape: number) => color * SHAPES.length + shape;
// One row per question: its text (question [SEP] answer), the sounds it names, the count tokens the LM keeps, and
// the looks (colour x shape) it names.
const ROWS: [string, number[], number[], number[], number[]][] = [
  ['names the bell only', [7, 12, 8, SEP, 25, 2], [0, 0, 1, 0], [0, 0, 1, 0], []],
  ['names none: all four kept', [7, 8, 9, SEP, 11, 2], [0, 0, 0, 0], [1, 1, 1, 1], []],
  ['names piano and drum', [10, 9, 13, SEP, 30, 2], [1, 0, 0, 1], [1, 0, 0, 1], []],
  ['a sound word twice counts once', [11, 11, 9, SEP, 21, 2], [0, 1, 0, 0], [0, 1, 0, 0], []],
  ['before its [SEP] only (decoding: no [SEP] yet)', [12, 7, 7, 7, 7, 7], [0, 0, 1, 0], [0, 0, 1, 0], []],
  ['names one object', [7, C2, S0, SEP, 22, 2], [0, 0, 0, 0], [1, 1, 1, 1], [look(2, 0)]],
  ['names an object and a sound', [C0, S2, 13, SEP, 22, 2], [0, 0, 0, 1], [0, 0, 0, 1], [look(0, 2)]],
  ['two objects: their two looks, not the pairs across', [C0, S0, C2, S2, SEP, 2], [0, 0, 0, 0], [1, 1, 1, 1], [0, 14]],
  ['a colour with no shape after it names nothing', [C0, 7, S2, 9, SEP, 2], [0, 0, 0, 0], [1, 1, 1, 1], []],
  ['an object in the answer only', [7, 8, 9, SEP, C0, S0], [0, 0, 0, 0], [1, 1, 1, 1], []],
];
const texts = BigInt64Array.from(ROWS.flatMap((r) => r[1].map(BigInt)));
const [B, LT] = [ROWS.length, ROWS[0][1].length];

test('namedSounds, askedCountValid, namedLooks: the words of the question (not the answer) pick the counts', async () => {
  for (const c of [FRAME_SOUNDS, FRAME_SOUNDS + FRAME_VISUAL]) {
    const g = new Graph();
    const text = g.input('text', 'int64', [B, LT]);
    const named = namedSounds(text, IDS.sounds);
    const valid = askedCountValid(named, c);
    const looks = namedLooks(text, LOOK_IDS.colors, LOOK_IDS.shapes);
    const session = await Session.create(g, { named, valid, looks }, { threads: 1 });
    const r = await session.run({ text: hostArray('int64', [B, LT], texts) });
    await session.release();
    const [gotNamed, gotValid, gotLooks] = [toFloat32(r.named), toFloat32(r.valid), toFloat32(r.looks)];
    ROWS.forEach(([name, , wantNamed, wantValid, wantLooks], i) => {
      assert.deepEqual([...gotNamed.slice(i * 4, i * 4 + 4)], wantNamed, `${name}: named`);
      const want = [...wantValid, ...new Array<number>(c - FRAME_SOUNDS).fill(1)];
      assert.deepEqual([...gotValid.slice(i * c, (i + 1) * c)], want, `${name}: valid (${c} count tokens)`);
      const looksNamed = [...gotLooks.slice(i * FRAME_LOOKS, (i + 1) * FRAME_LOOKS)].flatMap((v, k) => (v ? [k] : []));
      assert.deepEqual(looksNamed, wantLooks, `${name}: looks`);
    });
  }
});

test("countCopyLogits: gate(state) * log(the asked sound's or object's count bins + 1e-4) on the number words only", async () => {
  const dim = 6;
  const rng = new Rng(4);
  const states = Float32Array.from({ length: B * LT * dim }, () => rng.normal());
  const counts = Float32Array.from({ length: B * (FRAME_SOUNDS + 2) }, () => rng.uniform() * 6);
  const hits = Float32Array.from({ length: B * FRAME_LOOKS }, () => Math.floor(rng.uniform() * 5));
  const binsOf = (count: number) => {
    const z = Array.from({ length: COUNT_BINS }, (_, n) => Math.exp(-((count - n) ** 2) / (2 * COUNT_SD ** 2)));
    const sum = z.reduce((a, v) => a + v, 0);
    return z.map((v) => v / sum);
  };
  for (const [point, withObjects] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    const g = new Graph();
    const store = new ParamStore(9);
    const text = g.input('text', 'int64', [B, LT]);
    const objects = withObjects
      ? {
          counts: g.input('hits', 'float32', [B, FRAME_LOOKS]),
          named: namedLooks(text, LOOK_IDS.colors, LOOK_IDS.shapes),
        }
      : undefined;
    const copy = countCopyLogits(
      new Scope(g, store),
      g.input('states', 'float32', [B, LT, dim]),
      g.input('counts', 'float32', [B, FRAME_SOUNDS + 2]),
      namedSounds(text, IDS.sounds),
      IDS,
      VOCAB,
      point,
      objects,
    );
    const params = point ? ['bias', 'point.bias', 'point.weight', 'weight'] : ['bias', 'weight'];
    assert.deepEqual(store.names().sort(), params);
    const session = await Session.create(g, { copy }, { threads: 1 });
    const r = await session.run({
      ...store.feeds(g),
      text: hostArray('int64', [B, LT], texts),
      states: hostArray('float32', [B, LT, dim], states),
      counts: hostArray('float32', [B, FRAME_SOUNDS + 2], counts),
      ...(withObjects ? { hits: hostArray('float32', [B, FRAME_LOOKS], hits) } : {}),
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
    ROWS.forEach(([name, , wantNamed, , wantLooks], i) => {
      const bins = Array.from({ length: FRAME_SOUNDS }, (_, k) => binsOf(counts[i * (FRAME_SOUNDS + 2) + k]));
      const namedCount = wantNamed.reduce((a, v) => a + v, 0);
      const byObject = withObjects && namedCount === 0 && wantLooks.length > 0;
      for (let t = 0; t < LT; t++) {
        // The asked count's bins: the named sounds' (averaged), else the named looks', else 'point''s pick.
        let asked = Array.from({ length: COUNT_BINS }, (_, n) =>
          wantNamed.reduce((a, x, k) => a + (x / Math.max(1, namedCount)) * bins[k][n], 0),
        );
        if (byObject)
          asked = Array.from({ length: COUNT_BINS }, (_, n) =>
            wantLooks.reduce((a, k) => a + binsOf(hits[i * FRAME_LOOKS + k])[n] / wantLooks.length, 0),
          );
        else if (point && namedCount === 0) {
          const z = linearAt(toFloat32(store.get('point.weight')), toFloat32(store.get('point.bias')), 4, i, t);
          const sum = z.reduce((a, v) => a + Math.exp(v), 0);
          asked = Array.from({ length: COUNT_BINS }, (_, n) =>
            z.reduce((a, v, k) => a + (Math.exp(v) / sum) * bins[k][n], 0),
          );
        }
        const on = point || namedCount > 0 || byObject ? 1 : 0;
        const gate = 1 / (1 + Math.exp(-linearAt(w, bias, 1, i, t)[0]));
        for (let v = 0; v < VOCAB; v++) {
          const n = IDS.numbers.indexOf(v);
          const want = n < 0 ? 0 : gate * on * Math.log(asked[n] + 1e-4);
          const at = got[(i * LT + t) * VOCAB + v];
          const where = `${point ? 'point' : 'copy'}${withObjects ? ' + objects' : ''}, ${name}, position ${t}, word ${v}`;
          assert.ok(Math.abs(at - want) < 1e-4 * (1 + Math.abs(want)), `${where}: ${at} vs ${want}`);
        }
      }
    });
  }
});

test('objectHitCounts: the frames whose hit logit is above 0 (probability 1/2), real frames only, per look', async () => {
  const [b, f, n, d] = [2, 4, 3, 5];
  const rng = new Rng(8);
  const visual = Float32Array.from({ length: b * f * n * d }, () => rng.normal());
  const mask = Float32Array.from([1, 1, 1, 1, 1, 1, 1, 0]);
  const g = new Graph();
  const store = new ParamStore(3);
  const counts = objectHitCounts(
    new Scope(g, store).scope('hit_head'),
    g.input('visual', 'float32', [b, f, n, d]),
    g.input('mask', 'float32', [b, f]),
  );
  const session = await Session.create(g, { counts }, { threads: 1 });
  const r = await session.run({
    ...store.feeds(g),
    visual: hostArray('float32', [b, f, n, d], visual),
    mask: hostArray('float32', [b, f], mask),
  });
  await session.release();
  assert.deepEqual(counts.shape, [b, FRAME_LOOKS]);
  const [w, bias] = [toFloat32(store.get('hit_head.weight')), toFloat32(store.get('hit_head.bias'))];
  const got = toFloat32(r.counts);
  let seen = 0;
  for (let i = 0; i < b; i++)
    for (let k = 0; k < FRAME_LOOKS; k++) {
      let want = 0;
      for (let t = 0; t < f; t++) {
        let best = -Infinity;
        for (let j = 0; j < n; j++) {
          let z = bias[k];
          for (let e = 0; e < d; e++) z += w[e * FRAME_VISUAL + k] * visual[((i * f + t) * n + j) * d + e];
          best = Math.max(best, z);
        }
        want += mask[i * f + t] * (best > 0 ? 1 : 0);
      }
      seen += want;
      assert.equal(got[i * FRAME_LOOKS + k], want, `clip ${i}, look ${k}`);
    }
  assert.ok(seen > 0, 'some frames hold a hit');
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

test('countObjects: needs copy or point and a stage-1 run with a hit head, whose head it reads frozen', async () => {
  const base = countedTiny({ freezeEncoders: false }); // the hit head stays stage 1's even where the encoders train
  const dir = mkdtempSync(join(tmpdir(), 'attune-count-objects-'));
  try {
    const withHits = join(dir, 'hits');
    const noHits = join(dir, 'no-hits');
    mkdirSync(withHits);
    mkdirSync(noHits);
    const stageOne = writeStageOneRun(
      withHits,
      { ...base, countTokens: 'off', countPeaks: 0, countWords: false, hitAux: 1, onsetAux: 1 },
      3,
    );
    writeStageOneRun(noHits, { ...base, countTokens: 'off', countPeaks: 0, countWords: false, onsetAux: 1 }, 3);
    const mask = FavorModelSchema.safeParse({ ...base, encoders: withHits, countAsked: 'mask', countObjects: true });
    assert.equal(mask.success, false);
    assert.match(
      mask.error!.message,
      /countObjects copies the named object's hits: it needs countAsked 'copy' or 'point'/,
    );
    const alone = FavorModelSchema.safeParse({ ...base, countAsked: 'copy', countObjects: true });
    assert.equal(alone.success, false, 'no model.encoders');
    const ids = TRAIN_WORD_IDS;
    const cm: FavorConfig = { ...base, countAsked: 'copy', countObjects: true };
    await assert.rejects(
      twoTrainSteps({ ...cm, encoders: noHits }, true, ids),
      /model\.countObjects reads the hit head of model\.encoders .*no-hits, which has none/,
    );
    for (const countAsked of ['copy', 'point'] as const) {
      const step = await twoTrainSteps({ ...cm, countAsked, encoders: withHits }, true, ids);
      assert.ok(step.second < step.first, `${countAsked}: one step lowers the loss: ${step.first} -> ${step.second}`);
      for (const name of ['weight', 'bias']) {
        assert.equal(
          step.store.isTrainable(`encoder.hit_head.${name}`),
          false,
          `${countAsked}: hit head ${name} frozen`,
        );
        const held = toFloat32(step.store.get(`encoder.hit_head.${name}`));
        assert.deepEqual(
          [...held],
          [...toFloat32(stageOne[`frame_aux.hits.${name}`])],
          `${countAsked}: hit head ${name} is stage 1's, unchanged`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
