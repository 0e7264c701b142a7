/**
 * Which object, which sound (model.objectAnswers, docs/favor.md session 19): the hit head's frames and the counter's
 * impacts, bound in the graph, answer "which hit the wall first", "which object sounds like X" and "what does the Y
 * sound like" through gated copy paths. The distributions and the logits are checked in float64 against their
 * formulas, one row per kind of question, and the paths train through the whole model over a stage-1 run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { FRAME_LOOKS, FRAME_SOUNDS, LOOK_COLORS, WORD_SPECIALS } from '../../src/data/avqa/index.js';
import { SHAPES } from '../../src/data/synth/classes.js';
import type { FavorConfig } from '../../src/models/favor/config.js';
import { COUNT_BINS } from '../../src/models/favor/count_tokens.js';
import {
  AT_SD,
  CLAIM_FLOOR,
  CLAIM_SD,
  FIRST_TEMPERATURE,
  SHARPNESS,
  namedSeconds,
  objectAnswerLogits,
  objectAnswers,
  objectCounts,
  SOUNDING,
  soundPositions,
} from '../../src/models/favor/object_answers.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import {
  TRAIN_WORD_IDS,
  countedTiny,
  evidenceInputs as evidenceGraphInputs,
  twoTrainSteps,
  writeStageOneRun,
} from './favor_fixtures.js';

const F = 6;
// One row per kind of question: the looks and sounds it names, its real frames, and the looks made to hit at given
// frames (other looks hit at random).
interface Row {
  name: string;
  looks: number[];
  sounds: number[];
  /** Each sound word's position in the question (0: not named). */
  soundAt?: number[];
  seconds?: number;
  frames: number;
  hits: [number, number][];
}
const ROWS: Row[] = [
  {
    name: 'two objects: which hit first',
    looks: [3, 20],
    sounds: [],
    frames: F,
    hits: [
      [3, 4],
      [20, 1],
      [20, 5],
    ],
  },
  { name: 'two objects, one never hits', looks: [7, 8], sounds: [], frames: F, hits: [[7, 2]] },
  { name: 'a sound, no object: which object', looks: [], sounds: [2], frames: F - 2, hits: [] },
  {
    name: 'one object, no sound: its sound',
    looks: [11],
    sounds: [],
    frames: F,
    hits: [
      [11, 0],
      [11, 3],
    ],
  },
  { name: 'an object and a sound: neither path', looks: [11], sounds: [1], frames: F, hits: [] },
  { name: 'nothing named', looks: [], sounds: [], frames: F, hits: [] },
  { name: 'a time, nothing else: the object hitting then', looks: [], sounds: [], seconds: 1.5, frames: F, hits: [] },
  { name: 'a time and a sound: which object, not when', looks: [], sounds: [0], seconds: 2, frames: F, hits: [] },
  {
    name: 'two sounds: was the first-named first heard',
    looks: [],
    sounds: [1, 3],
    soundAt: [0, 5, 0, 2],
    frames: F,
    hits: [],
  },
  { name: 'two sounds in the other order', looks: [], sounds: [0, 2], soundAt: [2, 0, 6, 0], frames: F, hits: [] },
  { name: 'two sounds and an object: no path', looks: [5], sounds: [0, 2], soundAt: [2, 0, 6, 0], frames: F, hits: [] },
];
const B = ROWS.length;

/** The evidence of every row, seeded: hit frames [B, F, 54], impacts per frame [B, F, 4], masks, named looks, sounds. */
function evidence() {
  const rng = new Rng(6);
  const mask = new Float64Array(B * F);
  const hits = new Float64Array(B * F * FRAME_LOOKS);
  const impacts = new Float64Array(B * F * FRAME_SOUNDS);
  const looks = new Float64Array(B * FRAME_LOOKS);
  const sounds = new Float64Array(B * FRAME_SOUNDS);
  const soundAt = Float64Array.from(ROWS.flatMap((r) => r.soundAt ?? [0, 0, 0, 0]));
  const seconds = Float64Array.from(ROWS, (r) => r.seconds ?? 0);
  const timed = Float64Array.from(ROWS, (r) => (r.seconds === undefined ? 0 : 1));
  ROWS.forEach((r, i) => {
    for (let t = 0; t < F; t++) {
      mask[i * F + t] = t < r.frames ? 1 : 0;
      for (let l = 0; l < FRAME_LOOKS; l++)
        if (!r.looks.includes(l)) hits[(i * F + t) * FRAME_LOOKS + l] = t < r.frames && rng.uniform() < 0.1 ? 1 : 0;
      for (let k = 0; k < FRAME_SOUNDS; k++) impacts[(i * F + t) * FRAME_SOUNDS + k] = Math.floor(rng.uniform() * 2.6);
    }
    for (const [l, t] of r.hits) hits[(i * F + t) * FRAME_LOOKS + l] = 1;
    for (const l of r.looks) looks[i * FRAME_LOOKS + l] = 1;
    for (const k of r.sounds) sounds[i * FRAME_SOUNDS + k] = 1;
  });
  return { mask, hits, impacts, looks, sounds, soundAt, seconds, timed };
}

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
};

/** The formulas of object_answers.ts in float64 for row i. */
function byHand(ev: ReturnType<typeof evidence>, i: number) {
  const h = (t: number, l: number) => ev.hits[(i * F + t) * FRAME_LOOKS + l];
  const a = (t: number, k: number) => Math.min(1, ev.impacts[(i * F + t) * FRAME_SOUNDS + k]) * ev.mask[i * F + t];
  const looks = Array.from({ length: FRAME_LOOKS }, (_, l) => ev.looks[i * FRAME_LOOKS + l]);
  const sounds = Array.from({ length: FRAME_SOUNDS }, (_, k) => ev.sounds[i * FRAME_SOUNDS + k]);
  const first = looks.map((_, l) => {
    for (let t = 0; t < F; t++) if (h(t, l)) return t;
    return F;
  });
  const jaccard = looks.map((_, l) =>
    sounds.map((_, k) => {
      let [shared, hl, ak] = [0, 0, 0];
      for (let t = 0; t < F; t++) [shared, hl, ak] = [shared + h(t, l) * a(t, k), hl + h(t, l), ak + a(t, k)];
      return shared / Math.max(1, hl + ak - shared);
    }),
  );
  const named = looks.reduce((s, v) => s + v, 0);
  const soundNamed = sounds.some((v) => v > 0);
  const order = named >= 2 ? 1 : 0;
  const which = soundNamed && named === 0 ? 1 : 0;
  const byFirst = softmax(first.map((t, l) => -t / FIRST_TEMPERATURE + (looks[l] ? 0 : -1e4)));
  const byWith = softmax(
    jaccard.map((row, l) => SHARPNESS * row.reduce((s, j, k) => s + j * sounds[k], 0) + (first[l] < F ? 0 : -1e4)),
  );
  const at = ev.timed[i] && named === 0 && !soundNamed ? 1 : 0;
  const centre = 2 * ev.seconds[i] - 0.5;
  const byTime = softmax(
    looks.map((_, l) => {
      let near = 0;
      for (let t = 0; t < F; t++) near += h(t, l) * Math.exp(-((t - centre) ** 2) / (2 * AT_SD ** 2));
      return SHARPNESS * near + (first[l] < F ? 0 : -1e4);
    }),
  );
  const look = byFirst.map((p, l) => order * p + which * byWith[l] + at * byTime[l]);
  const sound = softmax(sounds.map((_, k) => SHARPNESS * looks.reduce((s, x, l) => s + x * jaccard[l][k], 0)));
  // The first impact frame of each sound; the second-named's minus the first-named's.
  const heard = sounds.map((_, k) => {
    for (let t = 0; t < F; t++) if (a(t, k)) return t;
    return F;
  });
  const at4 = sounds.map((_, k) => ev.soundAt[i * FRAME_SOUNDS + k]);
  const pair = sounds.flatMap((x, k) => (x ? [k] : [])).sort((x, y) => at4[x] - at4[y]);
  const two = pair.length === 2 && named === 0;
  const yes = two ? 1 / (1 + Math.exp(-(heard[pair[1]] - heard[pair[0]]) / FIRST_TEMPERATURE)) : 0.5;
  // countObjects' count: a look bound to a sound (best Jaccard above SOUNDING) by its sound's impacts, else its hits.
  const counts = jaccard.map((row, l) => {
    if (Math.max(...row) <= SOUNDING)
      return first[l] < F ? Array.from({ length: F }, (_, t) => h(t, l)).reduce((x, y) => x + y, 0) : 0;
    const total = sounds.map((_, k) => {
      let n = 0;
      for (let t = 0; t < F; t++) n += ev.impacts[(i * F + t) * FRAME_SOUNDS + k] * ev.mask[i * F + t];
      return n;
    });
    return softmax(row.map((j) => SHARPNESS * j)).reduce((x, p, k) => x + p * total[k], 0);
  });
  // splitSounds: each frame's impacts of a sound go to the looks bound to it, by their hits near that frame.
  const sounding = jaccard.map((row) => Math.max(...row) > SOUNDING);
  const bound = jaccard.map((row, l) => softmax(row.map((j) => SHARPNESS * j)).map((p) => (sounding[l] ? p : 0)));
  const near = (t: number, l: number) => {
    let n = CLAIM_FLOOR;
    for (let u = 0; u < F; u++) n += h(u, l) * Math.exp(-((t - u) ** 2) / (2 * CLAIM_SD ** 2));
    return n;
  };
  const split = counts.map((whole, l) => {
    if (!sounding[l]) return whole;
    let n = 0;
    for (let t = 0; t < F; t++)
      sounds.forEach((_, k) => {
        const claims = looks.map((_, m) => near(t, m) * bound[m][k]);
        const total = claims.reduce((x, y) => x + y, 0);
        n += (ev.impacts[(i * F + t) * FRAME_SOUNDS + k] * ev.mask[i * F + t] * claims[l]) / Math.max(total, 1e-12);
      });
    return n;
  });
  return {
    counts,
    split,
    look,
    onLook: order + which + at,
    sound,
    onSound: named === 1 && !soundNamed ? 1 : 0,
    yes,
    onYes: two ? 1 : 0,
  };
}

/** The evidence as graph inputs, bound as the model binds it. */
const evidenceInputs = (g: Graph) => evidenceGraphInputs(g, B, F);

function evidenceFeeds(ev: ReturnType<typeof evidence>) {
  const f32 = (x: Float64Array) => Float32Array.from(x);
  return {
    hits: hostArray('float32', [B, F, FRAME_LOOKS], f32(ev.hits)),
    impacts: hostArray('float32', [B, F, FRAME_SOUNDS], f32(ev.impacts)),
    mask: hostArray('float32', [B, F], f32(ev.mask)),
    sounds: hostArray('float32', [B, FRAME_SOUNDS], f32(ev.sounds)),
    looks: hostArray('float32', [B, FRAME_LOOKS], f32(ev.looks)),
    sound_at: hostArray('float32', [B, FRAME_SOUNDS], f32(ev.soundAt)),
    seconds: hostArray('float32', [B, 1], f32(ev.seconds)),
    timed: hostArray('float32', [B, 1], f32(ev.timed)),
  };
}

const close = (got: number, want: number, where: string) =>
  assert.ok(Math.abs(got - want) < 1e-4 * (1 + Math.abs(want)), `${where}: ${got} vs ${want}`);

test("objectAnswers: first hitter among the named, the named sound's object, the named object's sound", async () => {
  const ev = evidence();
  const g = new Graph();
  const out = objectAnswers(evidenceInputs(g));
  const session = await Session.create(g, { ...out }, { threads: 1 });
  const r = await session.run(evidenceFeeds(ev));
  await session.release();
  const [look, onLook, sound, onSound, yes, onYes] = [r.look, r.onLook, r.sound, r.onSound, r.yes, r.onYes].map(
    toFloat32,
  );
  ROWS.forEach(({ name }, i) => {
    const want = byHand(ev, i);
    close(onLook[i], want.onLook, `${name}: onLook`);
    close(onSound[i], want.onSound, `${name}: onSound`);
    close(onYes[i], want.onYes, `${name}: onYes`);
    if (want.onYes) close(yes[i], want.yes, `${name}: yes`);
    want.look.forEach((p, l) => close(look[i * FRAME_LOOKS + l], p, `${name}: look ${l}`));
    if (want.onSound) want.sound.forEach((p, k) => close(sound[i * FRAME_SOUNDS + k], p, `${name}: sound ${k}`));
  });
  // The rows say what they are meant to: the earlier hitter wins, one that never hits loses.
  assert.ok(look[20] > 0.9, `first row: look 20 (first hit at frame 1) over look 3 (frame 4): ${look[20]}`);
  assert.ok(look[FRAME_LOOKS + 7] > 0.99, 'second row: the look that hits beats the one that never does');
});

test('objectCounts: a look bound to a sound counts its impacts; a silent one its hit frames', async () => {
  const ev = evidence();
  const g = new Graph();
  const e = evidenceInputs(g);
  const counts = objectCounts(e);
  const session = await Session.create(g, { counts }, { threads: 1 });
  const r = await session.run(evidenceFeeds(ev));
  await session.release();
  const got = toFloat32(r.counts);
  let [bound, silent] = [0, 0];
  ROWS.forEach(({ name }, i) => {
    const want = byHand(ev, i);
    want.counts.forEach((n, l) => close(got[i * FRAME_LOOKS + l], n, `${name}: look ${l}`));
    bound += want.counts.filter((n) => !Number.isInteger(n)).length;
    silent += want.counts.filter((n) => n > 0 && Number.isInteger(n)).length;
  });
  assert.ok(bound > 0 && silent > 0, `both kinds of look occur: ${bound} bound, ${silent} silent`);
});

test("objectCounts with splitSounds: a shared sound's impacts go to the looks hitting near them", async () => {
  const ev = evidence();
  const g = new Graph();
  const session = await Session.create(g, { counts: objectCounts(evidenceInputs(g), true) }, { threads: 1 });
  const r = await session.run(evidenceFeeds(ev));
  await session.release();
  const got = toFloat32(r.counts);
  let changed = 0;
  ROWS.forEach(({ name }, i) => {
    const want = byHand(ev, i);
    want.split.forEach((n, l) => close(got[i * FRAME_LOOKS + l], n, `${name}: look ${l}`));
    changed += want.split.filter((n, l) => Math.abs(n - want.counts[l]) > 0.5).length;
  });
  assert.ok(changed > 0, 'some shared sound is split (else the rows test nothing new)');
});

test('namedSeconds: the time word of the question (not the answer), in seconds', async () => {
  const SEP = WORD_SPECIALS.indexOf('[SEP]');
  const times = { ids: [30, 31, 32], seconds: [0.5, 2.5, 10] };
  // One row per question: its text, the seconds it names and whether it names any.
  const rows: [string, number[], number, number][] = [
    ['at 2.5 seconds', [7, 8, 31, 9, SEP, 2], 2.5, 1],
    ['at 10 seconds', [32, 8, 9, 9, SEP, 2], 10, 1],
    ['no time', [7, 8, 9, 9, SEP, 2], 0, 0],
    ['a time in the answer only', [7, 8, 9, SEP, 30, 2], 0, 0],
  ];
  const g = new Graph();
  const text = g.input('text', 'int64', [rows.length, 6]);
  const { seconds, timed } = namedSeconds(text, times, 40);
  const session = await Session.create(g, { seconds, timed }, { threads: 1 });
  const r = await session.run({
    text: hostArray('int64', [rows.length, 6], BigInt64Array.from(rows.flatMap((x) => x[1].map(BigInt)))),
  });
  await session.release();
  rows.forEach(([name, , want, wantTimed], i) => {
    close(toFloat32(r.seconds)[i], want, `${name}: seconds`);
    assert.equal(toFloat32(r.timed)[i], wantTimed, `${name}: timed`);
  });
});

test('soundPositions: where each sound word stands in the question (from 1; 0 when absent or in the answer)', async () => {
  const SEP = WORD_SPECIALS.indexOf('[SEP]');
  const soundIds = [10, 11, 12, 13];
  const rows: [string, number[], number[]][] = [
    ['piano at 2, bell at 5', [7, 10, 8, 9, 12, SEP, 2], [2, 0, 5, 0]],
    ['drum then clarinet', [13, 11, 8, 9, 9, SEP, 2], [0, 2, 0, 1]],
    ['a sound in the answer only', [7, 8, 9, SEP, 10, 2, 2], [0, 0, 0, 0]],
  ];
  const g = new Graph();
  const at = soundPositions(g.input('text', 'int64', [rows.length, 7]), soundIds);
  const session = await Session.create(g, { at }, { threads: 1 });
  const r = await session.run({
    text: hostArray('int64', [rows.length, 7], BigInt64Array.from(rows.flatMap((x) => x[1].map(BigInt)))),
  });
  await session.release();
  rows.forEach(([name, , want], i) => assert.deepEqual([...toFloat32(r.at).slice(i * 4, i * 4 + 4)], want, name));
});

test('objectAnswerLogits: per kind of word, gate(state) * log(p + 1e-4) on the colour, shape, sound and yes/no words only', async () => {
  const ev = evidence();
  const dim = 5;
  const LT = 3;
  const ids = {
    sounds: [2, 3, 4, 5],
    numbers: Array.from({ length: COUNT_BINS }, (_, n) => 6 + n),
    looks: {
      colors: Array.from({ length: LOOK_COLORS.length }, (_, k) => 19 + k),
      shapes: Array.from({ length: SHAPES.length }, (_, k) => 19 + LOOK_COLORS.length + k),
    },
    yesNo: { yes: 35, no: 36 },
  };
  const vocab = 40;
  const rng = new Rng(2);
  const states = Float32Array.from({ length: B * LT * dim }, () => rng.normal());
  const g = new Graph();
  const store = new ParamStore(4);
  const logits = objectAnswerLogits(
    new Scope(g, store),
    g.input('states', 'float32', [B, LT, dim]),
    g.input('text', 'int64', [B, LT]),
    evidenceInputs(g),
    ids,
    vocab,
  );
  const session = await Session.create(g, { logits }, { threads: 1 });
  const r = await session.run({
    ...evidenceFeeds(ev),
    ...store.feeds(g),
    states: hostArray('float32', [B, LT, dim], states),
    text: hostArray('int64', [B, LT], new BigInt64Array(B * LT)), // no colour word: the shapes' marginal
  });
  await session.release();
  const got = toFloat32(r.logits);
  const [w, bias] = [toFloat32(store.get('weight')), toFloat32(store.get('bias'))];
  ROWS.forEach(({ name }, i) => {
    const want = byHand(ev, i);
    const colors = LOOK_COLORS.map((_, c) => SHAPES.reduce((s, _, k) => s + want.look[c * SHAPES.length + k], 0));
    const shapes = SHAPES.map((_, k) => LOOK_COLORS.reduce((s, _, c) => s + want.look[c * SHAPES.length + k], 0));
    for (let t = 0; t < LT; t++) {
      const gates = [0, 1, 2, 3].map((kind) => {
        let z = bias[kind];
        for (let d = 0; d < dim; d++) z += w[d * 4 + kind] * states[(i * LT + t) * dim + d];
        return 1 / (1 + Math.exp(-z));
      });
      for (let v = 0; v < vocab; v++) {
        const [c, s, k] = [ids.looks.colors.indexOf(v), ids.looks.shapes.indexOf(v), ids.sounds.indexOf(v)];
        const wantLogit =
          c >= 0
            ? gates[0] * want.onLook * Math.log(want.onLook * colors[c] + 1e-4)
            : s >= 0
              ? gates[1] * want.onLook * Math.log(want.onLook * shapes[s] + 1e-4)
              : k >= 0
                ? gates[2] * want.onSound * Math.log(want.onSound * want.sound[k] + 1e-4)
                : v === ids.yesNo.yes || v === ids.yesNo.no
                  ? gates[3] *
                    want.onYes *
                    Math.log(want.onYes * (v === ids.yesNo.yes ? want.yes : 1 - want.yes) + 1e-4)
                  : 0;
        close(got[(i * LT + t) * vocab + v], wantLogit, `${name}, position ${t}, word ${v}`);
      }
    }
  });
});

test('objectAnswers: needs countObjects and the audio counter; trains through the whole model', async () => {
  const base = countedTiny({ countAsked: 'copy', freezeEncoders: true });
  const bad = FavorModelSchema.safeParse({ ...base, objectAnswers: true });
  assert.equal(bad.success, false);
  assert.match(
    bad.error!.message,
    /objectAnswers reads the hit head's frames and the counter's impacts: it needs countObjects/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'attune-object-answers-'));
  try {
    const stageOne = {
      ...base,
      countTokens: 'off' as const,
      countPeaks: 0,
      countWords: false,
      countAsked: 'off' as const,
    };
    writeStageOneRun(dir, { ...stageOne, hitAux: 1, onsetAux: 1 }, 3);
    const cm: FavorConfig = { ...base, encoders: dir, countObjects: true, objectAnswers: true };
    assert.equal(FavorModelSchema.safeParse(cm).success, true);
    const step = await twoTrainSteps(cm, true, TRAIN_WORD_IDS);
    assert.ok(step.names.includes('lm.object_answers.weight'), 'the gates are parameters');
    assert.ok(step.second < step.first, `one step lowers the loss: ${step.first} -> ${step.second}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
