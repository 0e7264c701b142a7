/**
 * Which event came first or next (model.eventAnswers, docs/favor.md session 21): the hit frames and the counter's
 * impacts answer "which object made the first sound", "which other object hit the wall right after the {object} first
 * hit the wall" and "what was heard right after ...". The distributions are checked in float64 against their
 * formulas, one row per kind of question (and the questions the paths must leave alone); withEvents' merge with the
 * object paths, and the config rule, are checked too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Graph, Session } from '../../src/engine/index.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { FRAME_LOOKS, FRAME_SOUNDS, WORD_SPECIALS } from '../../src/data/avqa/index.js';
import { type EventWordIds, eventAnswers } from '../../src/models/favor/event_answers.js';
import {
  AT_SD,
  FIRST_TEMPERATURE,
  SHARPNESS,
  objectAnswers,
  withEvents,
} from '../../src/models/favor/object_answers.js';
import type { FavorConfig } from '../../src/models/favor/config.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { TRAIN_WORD_IDS, countedTiny, evidenceInputs, twoTrainSteps, writeStageOneRun } from './favor_fixtures.js';

const F = 8;
const SEP = WORD_SPECIALS.indexOf('[SEP]');
const WORDS: EventWordIds = { first: 10, after: 11, which: 12, heard: 13 };
const OTHER = 20; // any other word
const L = 8; // text length

interface Row {
  name: string;
  /** The question's words (before [SEP]); the answer's after it. */
  words: number[];
  looks: number[];
  sounds: number[];
  timed?: boolean;
  /** [look, frame] hits and [sound, frame] impacts. */
  hits: [number, number][];
  impacts: [number, number][];
  /** What each path answers (argmax), or null where it must be off. */
  look: number | null;
  sound: number | null;
  causal: 0 | 1;
}

const ROWS: Row[] = [
  {
    name: 'which object made the first sound',
    words: [OTHER, WORDS.first, OTHER],
    looks: [],
    sounds: [],
    hits: [
      [10, 5],
      [3, 2],
      [30, 3], // a frame from the first impact: the Gaussian weighs it
    ],
    impacts: [
      [1, 2],
      [0, 5],
    ],
    look: 3,
    sound: null,
    causal: 0,
  },
  {
    name: 'which other object hit the wall right after the named one first did',
    words: [WORDS.which, OTHER, WORDS.after, WORDS.first],
    looks: [3],
    sounds: [],
    hits: [
      [3, 1],
      [3, 5],
      [7, 3],
      [9, 4],
      [12, 0],
    ],
    impacts: [[2, 1]],
    look: 7,
    sound: null,
    causal: 1,
  },
  {
    name: 'what was heard right after the named one first hit the wall',
    words: [OTHER, WORDS.heard, WORDS.after, WORDS.first],
    looks: [3],
    sounds: [],
    hits: [
      [3, 1],
      [7, 4],
    ],
    impacts: [
      [2, 1],
      [1, 3],
      [0, 4],
      [2, 6],
    ],
    look: null,
    sound: 1,
    causal: 1,
  },
  {
    name: 'what does the named object sound like (no event word): left alone',
    words: [OTHER, OTHER],
    looks: [3],
    sounds: [],
    hits: [[3, 2]],
    impacts: [[2, 2]],
    look: null,
    sound: null,
    causal: 0,
  },
  {
    name: "'first' with two named sounds (was the first bell heard before the first drum): left alone",
    words: [WORDS.first, OTHER, WORDS.first],
    looks: [],
    sounds: [0, 1],
    hits: [[3, 2]],
    impacts: [
      [0, 2],
      [1, 4],
    ],
    look: null,
    sound: null,
    causal: 0,
  },
  {
    name: "'first' and a time (the sound at 2 seconds): left alone",
    words: [WORDS.first, OTHER],
    looks: [],
    sounds: [],
    timed: true,
    hits: [[3, 2]],
    impacts: [[0, 2]],
    look: null,
    sound: null,
    causal: 0,
  },
];
const B = ROWS.length;

function feeds() {
  const hits = new Float32Array(B * F * FRAME_LOOKS);
  const impacts = new Float32Array(B * F * FRAME_SOUNDS);
  const looks = new Float32Array(B * FRAME_LOOKS);
  const sounds = new Float32Array(B * FRAME_SOUNDS);
  const text = new BigInt64Array(B * L);
  ROWS.forEach((r, i) => {
    for (const [l, t] of r.hits) hits[(i * F + t) * FRAME_LOOKS + l] = 1;
    for (const [k, t] of r.impacts) impacts[(i * F + t) * FRAME_SOUNDS + k] = 1;
    for (const l of r.looks) looks[i * FRAME_LOOKS + l] = 1;
    for (const k of r.sounds) sounds[i * FRAME_SOUNDS + k] = 1;
    [...r.words, SEP, WORDS.first].forEach((w, j) => (text[i * L + j] = BigInt(w))); // an event word in the answer: ignored
  });
  return {
    hits: hostArray('float32', [B, F, FRAME_LOOKS], hits),
    impacts: hostArray('float32', [B, F, FRAME_SOUNDS], impacts),
    mask: hostArray('float32', [B, F], new Float32Array(B * F).fill(1)),
    looks: hostArray('float32', [B, FRAME_LOOKS], looks),
    sounds: hostArray('float32', [B, FRAME_SOUNDS], sounds),
    sound_at: hostArray('float32', [B, FRAME_SOUNDS], new Float32Array(B * FRAME_SOUNDS)),
    seconds: hostArray(
      'float32',
      [B, 1],
      Float32Array.from(ROWS, (r) => (r.timed ? 2 : 0)),
    ),
    timed: hostArray(
      'float32',
      [B, 1],
      Float32Array.from(ROWS, (r) => (r.timed ? 1 : 0)),
    ),
    text: hostArray('int64', [B, L], text),
  };
}

function inputs(g: Graph) {
  return { evidence: evidenceInputs(g, B, F), text: g.input('text', 'int64', [B, L]) };
}

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
};

/** event_answers.ts' formulas in float64 for a row. */
function byHand(r: Row) {
  const hit = (l: number, t: number) => (r.hits.some(([x, u]) => x === l && u === t) ? 1 : 0);
  const impact = (k: number, t: number) => (r.impacts.some(([x, u]) => x === k && u === t) ? 1 : 0);
  const firstOf = (has: (t: number) => boolean) => {
    for (let t = 0; t < F; t++) if (has(t)) return t;
    return F;
  };
  const has = (w: number) => r.words.includes(w);
  const looks = Array.from({ length: FRAME_LOOKS }, (_, l) => l);
  const sounds = Array.from({ length: FRAME_SOUNDS }, (_, k) => k);
  const hitsAny = looks.map((l) => firstOf((t) => !!hit(l, t)) < F);
  const [after, noSound] = [has(WORDS.after), r.sounds.length === 0];
  const causal = r.looks.length === 1 && noSound && after ? 1 : 0;
  const onFirst = has(WORDS.first) && !after && r.looks.length === 0 && noSound && !r.timed ? 1 : 0;
  const t0 = Math.min(...sounds.map((k) => firstOf((t) => !!impact(k, t))));
  const byFirst = softmax(
    looks.map((l) => {
      let near = 0;
      for (let t = 0; t < F; t++) near += hit(l, t) * Math.exp(-((t - t0) ** 2) / (2 * AT_SD ** 2));
      return SHARPNESS * near + (hitsAny[l] ? 0 : -1e4);
    }),
  );
  const a = r.looks.length ? firstOf((t) => !!hit(r.looks[0], t)) : 0;
  const nextHit = looks.map((l) => (r.looks.includes(l) ? F : firstOf((t) => t > a && !!hit(l, t))));
  const byNext = softmax(nextHit.map((t) => -t / FIRST_TEMPERATURE + (t < F ? 0 : -1e4)));
  const nextSound = sounds.map((k) => firstOf((t) => t > a && !!impact(k, t)));
  const byHeard = softmax(nextSound.map((t) => -t / FIRST_TEMPERATURE + (t < F ? 0 : -1e4)));
  const onNext = causal && has(WORDS.which) ? 1 : 0;
  const onHeard = causal && has(WORDS.heard) ? 1 : 0;
  return {
    look: looks.map((l) => onFirst * byFirst[l] + onNext * byNext[l]),
    onLook: onFirst + onNext,
    sound: byHeard,
    onSound: onHeard,
    causal,
  };
}

const close = (got: number, want: number, where: string) =>
  assert.ok(Math.abs(got - want) < 1e-4 * (1 + Math.abs(want)), `${where}: ${got} vs ${want}`);
const argmax = (x: ArrayLike<number>) => Array.from(x).reduce((best, v, i, all) => (v > all[best] ? i : best), 0);

test('eventAnswers: the first sound, the next hit and the next sound, by hand in float64', async () => {
  const g = new Graph();
  const { evidence, text } = inputs(g);
  const out = eventAnswers(evidence, text, WORDS);
  const session = await Session.create(g, { ...out }, { threads: 1 });
  const r = await session.run(feeds());
  await session.release();
  const [look, onLook, sound, onSound, causal] = [r.look, r.onLook, r.sound, r.onSound, r.causal].map(toFloat32);
  ROWS.forEach((row, i) => {
    const want = byHand(row);
    close(onLook[i], want.onLook, `${row.name}: onLook`);
    close(onSound[i], want.onSound, `${row.name}: onSound`);
    close(causal[i], want.causal, `${row.name}: causal`);
    assert.equal(want.causal, row.causal, `${row.name}: the row's causal flag`);
    want.look.forEach((p, l) => close(look[i * FRAME_LOOKS + l], p, `${row.name}: look ${l}`));
    if (want.onSound) want.sound.forEach((p, k) => close(sound[i * FRAME_SOUNDS + k], p, `${row.name}: sound ${k}`));
    const lookOf = look.subarray(i * FRAME_LOOKS, (i + 1) * FRAME_LOOKS);
    const soundOf = sound.subarray(i * FRAME_SOUNDS, (i + 1) * FRAME_SOUNDS);
    assert.equal(onLook[i] > 0.5 ? argmax(lookOf) : null, row.look, `${row.name}: the look answered`);
    assert.equal(onSound[i] > 0.5 ? argmax(soundOf) : null, row.sound, `${row.name}: the sound answered`);
  });
});

test('withEvents: the event paths added where they apply; the named-object sound path off for causal questions', async () => {
  const g = new Graph();
  const { evidence, text } = inputs(g);
  const plain = objectAnswers(evidence);
  const ev = eventAnswers(evidence, text, WORDS);
  const merged = withEvents(plain, ev);
  const session = await Session.create(
    g,
    { onLook: merged.onLook, onSound: merged.onSound, plainOn: plain.onSound, plainLook: plain.onLook },
    { threads: 1 },
  );
  const r = await session.run(feeds());
  await session.release();
  const [onSound, plainOn, onLook, plainLook] = [r.onSound, r.plainOn, r.onLook, r.plainLook].map(toFloat32);
  ROWS.forEach((row, i) => {
    const want = byHand(row);
    // One object and no sound turns the "what does it sound like" path on; a causal question turns it off again.
    const objectSound = row.looks.length === 1 && row.sounds.length === 0 ? 1 : 0;
    close(plainOn[i], objectSound, `${row.name}: objectAnswers' own sound path`);
    close(onSound[i], objectSound * (1 - want.causal) + want.onSound, `${row.name}: onSound merged`);
    close(onLook[i], plainLook[i] + want.onLook, `${row.name}: onLook merged`);
  });
});

test('eventAnswers: needs objectAnswers and its words; trains the whole model', async () => {
  const base = countedTiny({ freezeEncoders: false });
  const dir = mkdtempSync(join(tmpdir(), 'attune-event-answers-'));
  try {
    writeStageOneRun(dir, { ...base, countTokens: 'off', countPeaks: 0, countWords: false, hitAux: 1, onsetAux: 1 }, 3);
    const cm: FavorConfig = { ...base, encoders: dir, countAsked: 'copy', countObjects: true };
    const alone = FavorModelSchema.safeParse({ ...cm, eventAnswers: true });
    assert.equal(alone.success, false);
    assert.match(alone.error!.message, /eventAnswers copies through objectAnswers' look and sound gates/);
    const ids = { ...TRAIN_WORD_IDS, events: { first: 3, after: 4, which: 5, heard: 6 } };
    const step = await twoTrainSteps({ ...cm, objectAnswers: true, eventAnswers: true }, true, ids);
    assert.ok(step.second < step.first, `one step lowers the loss: ${step.first} -> ${step.second}`);
    await assert.rejects(
      twoTrainSteps({ ...cm, objectAnswers: true, eventAnswers: true }, true, TRAIN_WORD_IDS),
      /model\.eventAnswers needs the words 'first', 'after', 'which' and 'heard'/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
