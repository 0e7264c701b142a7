/**
 * What is on screen (model.visualAnswers, docs/favor.md session 20): the stage-1 visual head's calls per token answer
 * "what color is the {shape}", "what shape is the {color} object" and "how many (gray) objects are there"; the shape
 * after a colour word is that colour's (shapeAfterColor); the scene's count reaches the number words through
 * countAsked's copy path. One row per question, each checked by hand in float64; the whole model trains with the head
 * frozen at stage 1's values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { FRAME_LOOKS, FRAME_SOUNDS, FRAME_VISUAL, LOOK_COLORS, WORD_SPECIALS } from '../../src/data/avqa/index.js';
import { SHAPES } from '../../src/data/synth/classes.js';
import type { FavorConfig } from '../../src/models/favor/config.js';
import { COUNT_BINS, COUNT_SD } from '../../src/models/favor/count_tokens.js';
import { countCopyLogits, namedSounds } from '../../src/models/favor/count_asked.js';
import { SHARPNESS, shapeAfterColor } from '../../src/models/favor/object_answers.js';
import { lookTokens, visualAnswers } from '../../src/models/favor/visual_answers.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import { TRAIN_WORD_IDS, countedTiny, twoTrainSteps, writeStageOneRun } from './favor_fixtures.js';

const SEP = WORD_SPECIALS.indexOf('[SEP]');
const LOOKS = {
  colors: Array.from({ length: LOOK_COLORS.length }, (_, k) => 30 + k),
  shapes: Array.from({ length: SHAPES.length }, (_, k) => 30 + LOOK_COLORS.length + k),
};
const SCENE = { color: 21, shape: 22, objects: 23 };
const [RED, GRAY] = [LOOK_COLORS.indexOf('red'), LOOK_COLORS.indexOf('gray')];
const [CIRCLE, SQUARE] = [SHAPES.indexOf('circle'), SHAPES.indexOf('square')];
const [F, NV] = [4, 3];
const look = (color: number, shape: number) => color * SHAPES.length + shape;

// One row per question: its words (question [SEP] answer) and which path it asks: 'color' of the named shape,
// 'shape' of the named colour, 'count' of the named colour's objects (all colours where it names none), or none.
const ROWS: [string, number[], 'color' | 'shape' | 'count' | 'none', number][] = [
  ['what color is the circle', [7, SCENE.color, 8, LOOKS.shapes[CIRCLE], SEP, 2], 'color', CIRCLE],
  [
    'what color is the square (two gray ones in a frame)',
    [7, SCENE.color, 8, LOOKS.shapes[SQUARE], SEP, 2],
    'color',
    SQUARE,
  ],
  ['what shape is the red object', [7, SCENE.shape, LOOKS.colors[RED], 9, SEP, 2], 'shape', RED],
  ['how many objects are there', [7, 8, SCENE.objects, 9, SEP, 2], 'count', -1],
  ['how many gray objects are there', [7, LOOKS.colors[GRAY], SCENE.objects, 9, SEP, 2], 'count', GRAY],
  ['the words in the answer only', [7, 8, 9, SEP, SCENE.color, LOOKS.shapes[SQUARE]], 'none', -1],
  ['color with no shape named', [7, SCENE.color, 8, 9, SEP, 2], 'none', -1],
  ['shape with no colour named', [7, SCENE.shape, 8, 9, SEP, 2], 'none', -1],
];
const [B, LT] = [ROWS.length, ROWS[0][1].length];
const TEXT = BigInt64Array.from(ROWS.flatMap((r) => r[1].map(BigInt)));
// Real frames per clip: the last frame of the odd clips is padding.
const MASK = Float32Array.from({ length: B * F }, (_, i) => (i % F === F - 1 && Math.floor(i / F) % 2 ? 0 : 1));

/**
 * Calls per token [B, F, Nv, 54]: a few looks per clip, on in most real frames, on no padded frame; two gray squares
 * (two tokens of one look) in the first frame, which the count must count twice.
 */
function randomCalls(rng: Rng): Float32Array {
  const calls = new Float32Array(B * F * NV * FRAME_LOOKS);
  for (let i = 0; i < B; i++) {
    const shown = [look(RED, CIRCLE), look(GRAY, SQUARE), look(GRAY, CIRCLE), Math.floor(rng.uniform() * 54)];
    for (let t = 0; t < F; t++)
      for (const k of shown)
        if (MASK[i * F + t] && rng.uniform() < 0.7)
          calls[((i * F + t) * NV + Math.floor(rng.uniform() * NV)) * FRAME_LOOKS + k] = 1;
    for (let n = 0; n < 2; n++) calls[(i * F * NV + n) * FRAME_LOOKS + look(GRAY, SQUARE)] = 1;
  }
  return calls;
}

const softmax = (z: number[]) => {
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / sum);
};

const close = (got: number, want: number, where: string) =>
  assert.ok(Math.abs(got - want) < 1e-5 * (1 + Math.abs(want)), `${where}: ${got} vs ${want}`);

test('visualAnswers: the named shape colour, the named colour shape and the objects per frame, by hand', async () => {
  const calls = randomCalls(new Rng(5));
  const g = new Graph();
  const out = visualAnswers(
    g.input('calls', 'float32', [B, F, NV, FRAME_LOOKS]),
    g.input('mask', 'float32', [B, F]),
    g.input('text', 'int64', [B, LT]),
    SCENE,
    LOOKS,
  );
  const session = await Session.create(g, { ...out }, { threads: 1 });
  const r = await session.run({
    calls: hostArray('float32', [B, F, NV, FRAME_LOOKS], calls),
    mask: hostArray('float32', [B, F], MASK),
    text: hostArray('int64', [B, LT], TEXT),
  });
  await session.release();
  const got = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toFloat32(v)]));
  const counted = new Set<number>();
  ROWS.forEach(([name, , asks, named], i) => {
    const real = Math.max(
      1,
      MASK.slice(i * F, i * F + F).reduce((a, v) => a + v, 0),
    );
    const at = (t: number, n: number, k: number) => calls[((i * F + t) * NV + n) * FRAME_LOOKS + k];
    const share = (k: number) => {
      let frames = 0;
      for (let t = 0; t < F; t++) frames += Math.max(...Array.from({ length: NV }, (_, n) => at(t, n, k)));
      return frames / real;
    };
    const color = softmax(LOOK_COLORS.map((_, c) => SHARPNESS * share(look(c, named < 0 ? 0 : named))));
    const shape = softmax(SHAPES.map((_, s) => SHARPNESS * share(look(named < 0 ? 0 : named, s))));
    let count = 0;
    for (let t = 0; t < F; t++)
      for (let n = 0; n < NV; n++)
        for (let k = 0; k < FRAME_LOOKS; k++)
          if (named < 0 || Math.floor(k / SHAPES.length) === named) count += at(t, n, k);
    assert.equal(got.onColor[i], +(asks === 'color'), `${name}: onColor`);
    assert.equal(got.onShape[i], +(asks === 'shape'), `${name}: onShape`);
    assert.equal(got.onCount[i], +(asks === 'count'), `${name}: onCount`);
    if (asks === 'color') color.forEach((p, c) => close(got.color[i * LOOK_COLORS.length + c], p, `${name}: ${c}`));
    if (asks === 'shape') shape.forEach((p, s) => close(got.shape[i * SHAPES.length + s], p, `${name}: ${s}`));
    if (asks === 'count') {
      close(got.count[i], count / real, `${name}: count`);
      counted.add(Math.round(1000 * got.count[i]));
    }
  });
  assert.equal(counted.size, 2, 'the gray objects are fewer than all');
});

test('lookTokens: the visual head per token, logit above 0 on the looks, real frames only', async () => {
  const [b, d] = [2, 5];
  const rng = new Rng(6);
  const visual = Float32Array.from({ length: b * F * NV * d }, () => rng.normal());
  const mask = Float32Array.from([1, 1, 1, 1, 1, 1, 0, 0]);
  const g = new Graph();
  const store = new ParamStore(2);
  const calls = lookTokens(
    new Scope(g, store).scope('look_head'),
    g.input('visual', 'float32', [b, F, NV, d]),
    g.input('mask', 'float32', [b, F]),
  );
  assert.deepEqual(calls.shape, [b, F, NV, FRAME_LOOKS]);
  const session = await Session.create(g, { calls }, { threads: 1 });
  const r = await session.run({
    ...store.feeds(g),
    visual: hostArray('float32', [b, F, NV, d], visual),
    mask: hostArray('float32', [b, F], mask),
  });
  await session.release();
  const [w, bias] = [toFloat32(store.get('look_head.weight')), toFloat32(store.get('look_head.bias'))];
  const got = toFloat32(r.calls);
  let on = 0;
  for (let i = 0; i < b; i++)
    for (let t = 0; t < F; t++)
      for (let n = 0; n < NV; n++)
        for (let k = 0; k < FRAME_LOOKS; k++) {
          let z = bias[k];
          for (let e = 0; e < d; e++) z += w[e * FRAME_VISUAL + k] * visual[((i * F + t) * NV + n) * d + e];
          const want = mask[i * F + t] * +(z > 0);
          on += want;
          assert.equal(
            got[((i * F + t) * NV + n) * FRAME_LOOKS + k],
            want,
            `clip ${i} frame ${t} token ${n} look ${k}`,
          );
        }
  assert.ok(on > 0 && on < b * F * NV * FRAME_LOOKS, 'some calls on, some off');
});

test('shapeAfterColor: after a colour word, the shapes of that colour; elsewhere the marginal', async () => {
  const [b, lt] = [2, 4];
  // Clip 0: red circle 0.6, gray square 0.4. Clip 1: red square 0.3, red circle 0.2, gray circle 0.5.
  const joint = new Float32Array(b * FRAME_LOOKS);
  joint[look(RED, CIRCLE)] = 0.6;
  joint[look(GRAY, SQUARE)] = 0.4;
  joint[FRAME_LOOKS + look(RED, SQUARE)] = 0.3;
  joint[FRAME_LOOKS + look(RED, CIRCLE)] = 0.2;
  joint[FRAME_LOOKS + look(GRAY, CIRCLE)] = 0.5;
  const blue = LOOK_COLORS.indexOf('blue');
  const words = [7, LOOKS.colors[RED], LOOKS.colors[GRAY], LOOKS.colors[blue]]; // a word, red, gray, blue (no look)
  const g = new Graph();
  const shape = shapeAfterColor(
    g.input('joint', 'float32', [b, LOOK_COLORS.length, SHAPES.length]),
    g.input('text', 'int64', [b, lt]),
    LOOKS.colors,
  );
  const session = await Session.create(g, { shape }, { threads: 1 });
  const r = await session.run({
    joint: hostArray('float32', [b, LOOK_COLORS.length, SHAPES.length], joint),
    text: hostArray('int64', [b, lt], BigInt64Array.from([...words, ...words].map(BigInt))),
  });
  await session.release();
  const got = toFloat32(r.shape);
  for (let i = 0; i < b; i++) {
    const row = (c: number) => SHAPES.map((_, s) => joint[i * FRAME_LOOKS + look(c, s)]);
    const marginal = SHAPES.map((_, s) => LOOK_COLORS.reduce((a, _, c) => a + joint[i * FRAME_LOOKS + look(c, s)], 0));
    const norm = (x: number[]) => x.map((v) => v / x.reduce((a, u) => a + u, 0));
    const want = [marginal, norm(row(RED)), norm(row(GRAY)), marginal]; // blue: no look of that colour
    want.forEach((p, t) =>
      p.forEach((v, s) => close(got[(i * lt + t) * SHAPES.length + s], v, `clip ${i} position ${t} shape ${s}`)),
    );
  }
  assert.ok(got[(1 * lt + 1) * SHAPES.length + SQUARE] > 0.5, 'clip 1: after red, square (0.3 / 0.5)');
});

test("countCopyLogits with the scene's count: copied where the question asks it and names no sound or object", async () => {
  const rng = new Rng(4);
  const dim = 4;
  const rows: [string, number[], number, number][] = [
    // words, whether the scene path asks (onCount), the expected source: 1 scene, 2 the named sound, 0 nothing
    ['how many objects', [7, 8, 9, SEP, 2], 1, 1],
    ['names a sound too: the sound wins', [7, 10, 9, SEP, 2], 1, 2],
    ['not asked', [7, 8, 9, SEP, 2], 0, 0],
  ];
  const [b, lt] = [rows.length, 5];
  const states = Float32Array.from({ length: b * lt * dim }, () => rng.normal());
  const counts = Float32Array.from({ length: b * FRAME_SOUNDS }, () => rng.uniform() * 6);
  const scene = Float32Array.from([2.6, 3.2, 1.0]);
  const g = new Graph();
  const store = new ParamStore(9);
  const text = g.input('text', 'int64', [b, lt]);
  const ids = { sounds: [10, 11, 12, 13], numbers: Array.from({ length: COUNT_BINS }, (_, n) => 20 + n) };
  const copy = countCopyLogits(
    new Scope(g, store),
    g.input('states', 'float32', [b, lt, dim]),
    g.input('counts', 'float32', [b, FRAME_SOUNDS]),
    namedSounds(text, ids.sounds),
    ids,
    40,
    false,
    undefined,
    { count: g.input('scene', 'float32', [b, 1]), on: g.input('on', 'float32', [b, 1]) },
  );
  const session = await Session.create(g, { copy }, { threads: 1 });
  const r = await session.run({
    ...store.feeds(g),
    text: hostArray('int64', [b, lt], BigInt64Array.from(rows.flatMap((x) => x[1].map(BigInt)))),
    states: hostArray('float32', [b, lt, dim], states),
    counts: hostArray('float32', [b, FRAME_SOUNDS], counts),
    scene: hostArray('float32', [b, 1], scene),
    on: hostArray('float32', [b, 1], Float32Array.from(rows.map((x) => x[2]))),
  });
  await session.release();
  const got = toFloat32(r.copy);
  const [w, bias] = [toFloat32(store.get('weight')), toFloat32(store.get('bias'))];
  const binsOf = (count: number) =>
    softmax(Array.from({ length: COUNT_BINS }, (_, n) => -((count - n) ** 2) / (2 * COUNT_SD ** 2)));
  rows.forEach(([name, , , source], i) => {
    const bins = source === 1 ? binsOf(scene[i]) : binsOf(counts[i * FRAME_SOUNDS]);
    for (let t = 0; t < lt; t++) {
      let z = bias[0];
      for (let d = 0; d < dim; d++) z += w[d] * states[(i * lt + t) * dim + d];
      const gate = 1 / (1 + Math.exp(-z));
      ids.numbers.forEach((v, n) =>
        close(got[(i * lt + t) * 40 + v], source ? gate * Math.log(bins[n] + 1e-4) : 0, `${name}, ${t}, ${n}`),
      );
      close(got[(i * lt + t) * 40 + 7], 0, `${name}: not a number word`);
    }
  });
});

test('visualAnswers: needs objectAnswers and a stage-1 visual head, which it reads frozen; trains the whole model', async () => {
  const base = countedTiny({ freezeEncoders: false }); // the visual head stays stage 1's even where the encoders train
  const dir = mkdtempSync(join(tmpdir(), 'attune-visual-answers-'));
  try {
    const withHits = join(dir, 'hits');
    mkdirSync(withHits);
    const stageOne = writeStageOneRun(
      withHits,
      { ...base, countTokens: 'off', countPeaks: 0, countWords: false, hitAux: 1, onsetAux: 1 },
      3,
    );
    const cm: FavorConfig = { ...base, encoders: withHits, countAsked: 'copy', countObjects: true };
    const alone = FavorModelSchema.safeParse({ ...cm, visualAnswers: true });
    assert.equal(alone.success, false);
    assert.match(alone.error!.message, /visualAnswers copies through objectAnswers' colour and shape gates/);
    const ids = { ...TRAIN_WORD_IDS, scene: { color: 3, shape: 4, objects: 5 } };
    const step = await twoTrainSteps({ ...cm, objectAnswers: true, visualAnswers: true }, true, ids);
    assert.ok(step.second < step.first, `one step lowers the loss: ${step.first} -> ${step.second}`);
    for (const name of ['weight', 'bias']) {
      assert.equal(step.store.isTrainable(`encoder.look_head.${name}`), false, `look head ${name} frozen`);
      assert.deepEqual(
        [...toFloat32(step.store.get(`encoder.look_head.${name}`))],
        [...toFloat32(stageOne[`frame_aux.visual.${name}`])],
        `look head ${name} is stage 1's visual head, unchanged`,
      );
    }
    await assert.rejects(
      twoTrainSteps({ ...cm, objectAnswers: true, visualAnswers: true }, true, TRAIN_WORD_IDS),
      /model\.visualAnswers needs the words 'color', 'shape', 'objects'/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
