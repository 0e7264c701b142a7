/**
 * Voices (voices.ts; docs/favor.md, session 23): the per-token voice labels against the scenes, the voice head's
 * loss in float64 against its formula, the count per voice against bench/favor_voice_probe's reading (whose look
 * count the probe's own tests hold equal to the model's graph), stage 1 started from a stage-1 run training only the
 * head it lacks, and stage 2 reading that head frozen, or taking it alone into a run trained without it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { boundSound, likeliest, lookCount, presentVoices, wordPosterior } from '../../bench/favor_voice_probe.js';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { type HostArray, hostArray, toFloat32 } from '../../src/io/array.js';
import {
  FRAME_LOOKS,
  FRAME_SOUNDS,
  FRAME_VISUAL,
  VOICE_AFTER,
  VOICE_BEFORE,
  type AvqaQuestion,
  avqaConfig,
  avqaScene,
  frameLabels,
} from '../../src/data/avqa/index.js';
import { MAX_CLASSES } from '../../src/data/synth/classes.js';
import { AUDIO_PER_FRAME, type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import { type AvqaExamples, frameLabelBatch } from '../../src/models/favor/data.js';
import { avInputs, favor } from '../../src/models/favor/model.js';
import { bindSounds } from '../../src/models/favor/object_answers.js';
import { encoderStageInference, encoderStageLoss, scoreFrames } from '../../src/models/favor/pretrain.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import {
  WORD_OF_VOICE,
  voiceImpacts,
  voiceLosses,
  voiceObjectCounts,
  voiceLogits,
} from '../../src/models/favor/voices.js';
import { Rng } from '../../src/util/rng.js';
import {
  TRAIN_WORD_IDS,
  countedTiny,
  randomClip,
  stageOneStep,
  twoTrainSteps,
  writeStageOneRun,
  writeStageTwoRun,
} from './favor_fixtures.js';

const avqa = avqaConfig({ minDuration: 5, maxDuration: 5 });
const TOKENS = 5 * 50;

async function run(g: Graph, outputs: Record<string, ReturnType<Graph['input']>>, feeds: Record<string, HostArray>) {
  const session = await Session.create(g, outputs, { threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

test("audioTokenVoices: each impact's voice on the tokens from VOICE_BEFORE before its onset to VOICE_AFTER after, inside the clip", () => {
  const rows: [string, { offset?: number; foil?: number }][] = [
    ['own audio', {}],
    ['shifted 0.3 s late', { offset: 0.3 }],
    ['a foil scene', { foil: 3 }],
  ];
  let marked = 0;
  for (let index = 0; index < 8; index++)
    for (const [name, audio] of rows) {
      const l = frameLabels(avqa, index, audio);
      const want = new Float32Array(TOKENS * MAX_CLASSES);
      for (const o of avqaScene(avqa, audio.foil ?? index, 5).objects) {
        if (o.voice === null) continue;
        for (const t of o.bounces) {
          const a = Math.floor(50 * (t + (audio.offset ?? 0)));
          for (let k = a - VOICE_BEFORE; k <= a + VOICE_AFTER; k++)
            if (k >= 0 && k < TOKENS) want[k * MAX_CLASSES + o.voice]++;
        }
      }
      assert.deepEqual(l.audioTokenVoices, want, `scene ${index}, ${name}`);
      marked += want.reduce((n, x) => n + x, 0);
    }
  assert.ok(marked > 100, `${marked} marks`);
  const batch = frameLabelBatch([frameLabels(avqa, 0)], 12);
  assert.deepEqual(batch.frame_audio_token_voices.shape, [1, 12, AUDIO_PER_FRAME, MAX_CLASSES]);
  assert.ok(
    toFloat32(batch.frame_audio_token_voices)
      .subarray(10 * AUDIO_PER_FRAME * MAX_CLASSES)
      .every((x) => x === 0),
    'padded frames unmarked',
  );
});

test('voiceLosses: cross-entropy against the marks shared out per token, over marked tokens of real frames; top-1 among the marks', async () => {
  const [b, f, per] = [2, 2, AUDIO_PER_FRAME];
  const t = f * per;
  const rng = new Rng('voice-loss');
  const logits = Float32Array.from({ length: b * t * MAX_CLASSES }, () => 3 * rng.normal());
  const marks = new Float32Array(b * t * MAX_CLASSES);
  for (let i = 0; i < b * t; i++) {
    if (rng.uniform() < 0.6) continue;
    marks[i * MAX_CLASSES + rng.int(MAX_CLASSES)] += 1;
    if (rng.uniform() < 0.3) marks[i * MAX_CLASSES + rng.int(MAX_CLASSES)] += 1; // two impacts near
  }
  const mask = Float32Array.from([1, 1, 1, 0]);
  const g = new Graph();
  const out = voiceLosses(
    g.input('logits', 'float32', [b, t, MAX_CLASSES]),
    g.input('marks', 'float32', [b, f, per, MAX_CLASSES]),
    g.input('mask', 'float32', [b, f]),
  );
  const r = await run(g, out, {
    logits: hostArray('float32', [b, t, MAX_CLASSES], logits),
    marks: hostArray('float32', [b, f, per, MAX_CLASSES], marks),
    mask: hostArray('float32', [b, f], mask),
  });
  let [ce, right, n] = [0, 0, 0];
  for (let i = 0; i < b * t; i++) {
    const row = Array.from(marks.subarray(i * MAX_CLASSES, (i + 1) * MAX_CLASSES));
    const mass = row.reduce((a, x) => a + x, 0);
    if (!mass || !mask[Math.floor(i / per)]) continue;
    const l = Array.from(logits.subarray(i * MAX_CLASSES, (i + 1) * MAX_CLASSES));
    const top = Math.max(...l);
    const logZ = top + Math.log(l.reduce((a, x) => a + Math.exp(x - top), 0));
    ce -= row.reduce((a, m, v) => a + (m / mass) * (l[v] - logZ), 0);
    right += +(row[l.indexOf(top)] > 0);
    n++;
  }
  assert.ok(n > 20, `${n} marked tokens`);
  assert.ok(Math.abs(toFloat32(r.ce)[0] - ce / n) < 1e-4 * (ce / n), `${toFloat32(r.ce)[0]} vs ${ce / n}`);
  assert.ok(Math.abs(toFloat32(r.acc)[0] - right / n) < 1e-6, 'accuracy');
});

test("voiceImpacts: each peak gets its word's likeliest voice among the voices the clip holds, as the voice probe reads it", async () => {
  const [b, f, per] = [3, 3, AUDIO_PER_FRAME];
  const t = f * per;
  const rng = new Rng('voice-impacts');
  // Logits near each word's first voices, so the clips hold some voices and the held ones beat a peak's own argmax.
  const logits = Float32Array.from(
    { length: b * t * MAX_CLASSES },
    (_, i) => rng.normal() + (i % MAX_CLASSES < 20 ? 1 : 0),
  );
  const peaks = Float32Array.from({ length: b * t * FRAME_SOUNDS }, () => +(rng.uniform() < 0.04));
  const g = new Graph();
  const out = {
    impacts: voiceImpacts(
      g.input('logits', 'float32', [b, t, MAX_CLASSES]),
      g.input('peaks', 'float32', [b, f, per, FRAME_SOUNDS]),
    ),
  };
  const r = await run(g, out, {
    logits: hostArray('float32', [b, t, MAX_CLASSES], logits),
    peaks: hostArray('float32', [b, f, per, FRAME_SOUNDS], peaks),
  });
  assert.deepEqual(r.impacts.shape, [b, f, MAX_CLASSES]);
  const got = toFloat32(r.impacts);
  let [impacts, movedByHolding] = [0, 0];
  for (let i = 0; i < b; i++) {
    const found: { frame: number; posterior: Float64Array }[] = [];
    for (let k = 0; k < t; k++)
      for (let w = 0; w < FRAME_SOUNDS; w++) {
        if (!peaks[(i * t + k) * FRAME_SOUNDS + w]) continue;
        const row = Float64Array.from(logits.subarray((i * t + k) * MAX_CLASSES, (i * t + k + 1) * MAX_CLASSES));
        found.push({ frame: Math.floor(k / per), posterior: wordPosterior(row, [...WORD_OF_VOICE], w) });
      }
    const held = presentVoices(found.map((x) => x.posterior));
    const want = new Float32Array(f * MAX_CLASSES);
    for (const { frame, posterior } of found) {
      const v = likeliest(posterior, held);
      want[frame * MAX_CLASSES + v]++;
      movedByHolding += +(v !== posterior.indexOf(Math.max(...posterior)));
    }
    impacts += found.length;
    assert.deepEqual(got.subarray(i * f * MAX_CLASSES, (i + 1) * f * MAX_CLASSES), want, `clip ${i}`);
  }
  assert.ok(impacts > 10 && movedByHolding > 0, `${impacts} impacts, ${movedByHolding} moved to a held voice`);
});

test('voiceObjectCounts: per voice where another look is bound to the same word, per word otherwise (the probe rule)', async () => {
  const [b, f] = [4, 12];
  const rng = new Rng('voice-counts');
  const hits = new Float32Array(b * f * FRAME_LOOKS);
  const voices = new Float32Array(b * f * MAX_CLASSES);
  const piano = WORD_OF_VOICE.map((w, v) => [w, v]).filter(([w]) => w === 0);
  const bell = WORD_OF_VOICE.map((w, v) => [w, v]).filter(([w]) => w === 2);
  for (let i = 0; i < b; i++) {
    // Two looks under one word with two voices, a third under another word, a silent fourth; each hits at its own
    // frames, its voice sounding there (and once more, unseen, in clip 1).
    const objects = [
      { look: 3, voice: piano[0][1] },
      { look: 17, voice: piano[1][1] },
      { look: 40, voice: bell[0][1] },
      { look: 50, voice: -1 },
    ];
    const frames = Array.from({ length: f }, (_, k) => k).sort(() => rng.uniform() - 0.5);
    objects.forEach(({ look, voice }, j) => {
      for (const frame of frames.slice(3 * j, 3 * j + 1 + (j % 2) + (i % 2))) {
        hits[(i * f + frame) * FRAME_LOOKS + look] = 1;
        if (voice >= 0) voices[(i * f + frame) * MAX_CLASSES + voice] += 1 + (i === 1 && j === 0 ? 1 : 0);
      }
    });
  }
  const words = new Float32Array(b * f * FRAME_SOUNDS);
  for (let r = 0; r < b * f; r++)
    for (let v = 0; v < MAX_CLASSES; v++) words[r * FRAME_SOUNDS + WORD_OF_VOICE[v]] += voices[r * MAX_CLASSES + v];
  const g = new Graph();
  const mask = g.input('mask', 'float32', [b, f]);
  const bound = bindSounds(
    g.input('hits', 'float32', [b, f, FRAME_LOOKS]),
    g.input('words', 'float32', [b, f, FRAME_SOUNDS]),
    mask,
  );
  const r = await run(
    g,
    { counts: voiceObjectCounts(bound, g.input('voices', 'float32', [b, f, MAX_CLASSES]), mask) },
    {
      hits: hostArray('float32', [b, f, FRAME_LOOKS], hits),
      words: hostArray('float32', [b, f, FRAME_SOUNDS], words),
      voices: hostArray('float32', [b, f, MAX_CLASSES], voices),
      mask: hostArray('float32', [b, f], new Float32Array(b * f).fill(1)),
    },
  );
  const got = toFloat32(r.counts);
  let shared = 0;
  for (let i = 0; i < b; i++) {
    const h = hits.subarray(i * f * FRAME_LOOKS, (i + 1) * f * FRAME_LOOKS);
    const byWord = {
      hits: h,
      impacts: Float64Array.from(words.subarray(i * f * FRAME_SOUNDS, (i + 1) * f * FRAME_SOUNDS)),
      frames: f,
      channels: FRAME_SOUNDS,
    };
    const byVoice = {
      hits: h,
      impacts: Float64Array.from(voices.subarray(i * f * MAX_CLASSES, (i + 1) * f * MAX_CLASSES)),
      frames: f,
      channels: MAX_CLASSES,
    };
    for (let look = 0; look < FRAME_LOOKS; look++) {
      const word = boundSound(byWord, look);
      const isShared =
        word >= 0 && [...Array(FRAME_LOOKS).keys()].some((l) => l !== look && boundSound(byWord, l) === word);
      shared += +isShared;
      const want = isShared ? lookCount(byVoice, look) : lookCount(byWord, look);
      assert.ok(
        Math.abs(got[i * FRAME_LOOKS + look] - want) < 1e-4,
        `clip ${i}, look ${look}: ${got[i * FRAME_LOOKS + look]} vs ${want}`,
      );
    }
  }
  assert.equal(shared, 2 * b, 'the two piano looks of every clip');
});

test('voiceAux and voiceCounts: a stage-1 head and a stage-2 count, refused elsewhere by name', () => {
  const stage1 = { ...favorTiny(), window: 5, stage: 'encoders' as const };
  assert.equal(FavorModelSchema.parse({ ...stage1, voiceAux: undefined }).voiceAux, 0, 'older runs read 0');
  const rows: [string, Partial<FavorConfig>, RegExp | null][] = [
    ['voiceAux in stage 1', { ...stage1, voiceAux: 1 }, null],
    ['voiceAux in stage 2', { ...favorTiny(), voiceAux: 1 }, /voiceAux is a stage-1 head/],
    [
      'voiceCounts with countObjects',
      countedTiny({ countAsked: 'copy', countObjects: true, voiceCounts: true, encoders: '/x' }),
      null,
    ],
    ['voiceCounts alone', countedTiny({ voiceCounts: true }), /voiceCounts counts countObjects' looks per voice/],
    [
      'voiceCounts with splitSounds',
      countedTiny({ countAsked: 'copy', countObjects: true, voiceCounts: true, splitSounds: true, encoders: '/x' }),
      /voiceCounts counts/,
    ],
    [
      'voiceCounts summing rates',
      countedTiny({ countAsked: 'copy', countObjects: true, voiceCounts: true, countPeaks: 0, encoders: '/x' }),
      /countPeaks > 0/,
    ],
  ];
  for (const [name, model, refused] of rows) {
    const r = FavorModelSchema.safeParse(model);
    if (!refused) assert.ok(r.success, `${name}: ${r.success || r.error.message}`);
    else assert.ok(!r.success && refused.test(r.error.message), `${name}: ${r.success || r.error.message}`);
  }
});

test('stage 1 from a stage-1 run: its weights loaded and frozen, only the voice head trained; a run that differs is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-voice-s1-'));
  try {
    const base = { ...favorTiny(), window: 5, onsetAux: 1, hitAux: 1 };
    const theirs = writeStageOneRun(dir, base, 3);
    const model: FavorConfig = { ...base, stage: 'encoders', voiceAux: 1, encoders: dir, freezeEncoders: true };
    const store = new ParamStore(4);
    const { step, before, after } = await stageOneStep(model, store);
    for (const [name, value] of Object.entries(theirs))
      assert.deepEqual(toFloat32(store.get(name)), toFloat32(value), `${name} loaded`);
    assert.ok(step.metrics.voice_ce > 0 && step.metrics.voice_acc >= 0, JSON.stringify(step.metrics));
    const moved = Object.keys(after).filter((k) => toFloat32(after[k]).some((x, i) => x !== toFloat32(before[k])[i]));
    assert.ok(moved.length > 0 && moved.every((k) => k.startsWith('encoder.voice_head.')), moved.join(', '));

    const g = new Graph();
    const out = encoderStageInference(g, new Scope(g, store), model, 1, 10);
    assert.deepEqual(out.frame_voices.shape, [1, 10 * AUDIO_PER_FRAME, MAX_CLASSES]);
    const g2 = new Graph();
    assert.throws(
      () => encoderStageLoss(g2, new Scope(g2, new ParamStore(4)), { ...model, audioDim: 32 }, 1, 10),
      /its model.audioDim is 16, this run's 32/,
    );
    writeStageTwoRun(dir);
    const g3 = new Graph();
    assert.throws(() => encoderStageLoss(g3, new Scope(g3, new ParamStore(4)), model, 1, 10), /not a stage-1 run/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stage 2 with voiceCounts reads the stage-1 voice head frozen; a run trained without it takes that head alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-voice-s2-'));
  try {
    const model = (voiceCounts: boolean, encoders = dir) =>
      countedTiny({ countAsked: 'copy', countObjects: true, voiceCounts, encoders, freezeEncoders: true });
    const build = (store: ParamStore, m: FavorConfig) => {
      const g = new Graph();
      return favor(new Scope(g, store), avInputs(g, 1, 10), g.input('text', 'int64', [1, 4]), 20, m, TRAIN_WORD_IDS);
    };
    writeStageOneRun(dir, { ...favorTiny(), window: 5, onsetAux: 1, hitAux: 1 }, 3);
    assert.throws(
      () => build(new ParamStore(9), model(true)),
      /reads the voice head of model.encoders .* which has none/,
    );
    const theirs = writeStageOneRun(dir, { ...favorTiny(), window: 5, onsetAux: 1, hitAux: 1, voiceAux: 1 }, 3);
    const head = 'encoder.voice_head.weight';
    const fresh = new ParamStore(9);
    build(fresh, model(true));
    assert.deepEqual(toFloat32(fresh.get(head)), toFloat32(theirs[head]));
    assert.ok(!fresh.isTrainable(head), 'frozen');
    // A run trained without voiceCounts: its weights stay, the voice head comes from model.encoders.
    const trained = new ParamStore(9);
    build(trained, model(false));
    assert.ok(!trained.names().includes(head));
    const mine = 'encoder.audio.in.weight';
    const changed = toFloat32(trained.get(mine)).map((x) => x + 1);
    trained.set(mine, hostArray('float32', trained.get(mine).shape, changed));
    build(trained, model(true));
    assert.deepEqual(toFloat32(trained.get(head)), toFloat32(theirs[head]), 'the head taken');
    assert.deepEqual(toFloat32(trained.get(mine)), changed, "the run's own weights kept");
    const step = await twoTrainSteps(model(true), true, TRAIN_WORD_IDS);
    assert.ok(step.second < step.first, `it trains: ${step.first} -> ${step.second}`);
    assert.ok(!step.store.isTrainable(head));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scoreFrames with the voice head: the share of voice-marked tokens whose likeliest voice is marked', async () => {
  const questions = [0, 1, 2].map((index) => ({ index }) as AvqaQuestion);
  const labelsOf = (q: { index: number }) => frameLabels(avqa, q.index);
  const ex = { frames: 10, clip: () => randomClip(10, 1), labels: labelsOf } as unknown as AvqaExamples;
  const fake = (shift: number) => async (feeds: Record<string, HostArray>) => {
    const n = feeds.video.shape[0];
    const rows = questions.slice(0, n);
    while (rows.length < n) rows.push(rows[rows.length - 1]);
    const labels = frameLabelBatch(rows.map(labelsOf), 10);
    const marks = toFloat32(labels.frame_audio_token_voices);
    const voices = new Float32Array(marks.length);
    for (let r = 0; r < marks.length / MAX_CLASSES; r++)
      for (let v = 0; v < MAX_CLASSES; v++)
        voices[r * MAX_CLASSES + ((v + shift) % MAX_CLASSES)] = marks[r * MAX_CLASSES + v] ? 5 : 0;
    return {
      frame_visual: hostArray('float32', [n, 10, FRAME_VISUAL], new Float32Array(n * 10 * FRAME_VISUAL)),
      frame_audio: hostArray('float32', [n, 10, FRAME_SOUNDS], new Float32Array(n * 10 * FRAME_SOUNDS)),
      frame_voices: hostArray('float32', [n, 10 * AUDIO_PER_FRAME, MAX_CLASSES], voices),
    };
  };
  const right = await scoreFrames(fake(0), ex, questions, 4);
  assert.equal(right.voice_acc, 1);
  const mean = (right.color_acc + right.shape_acc + right.sound_acc + right.voice_acc) / 4;
  assert.ok(Math.abs(right.acc - mean) < 1e-12, 'acc, the monitored metric, holds it');
  assert.equal((await scoreFrames(fake(1), ex, questions, 4)).voice_acc, 0);
});

test('voiceLogits reads a token and the two after it: a change past the third token after leaves it', async () => {
  const store = new ParamStore(2);
  const g = new Graph();
  const audio = g.input('audio', 'float32', [1, 1, AUDIO_PER_FRAME, 4]);
  const out = { logits: voiceLogits(new Scope(g, store).scope('voice_head'), audio) };
  const base = Float32Array.from({ length: AUDIO_PER_FRAME * 4 }, (_, i) => Math.sin(i));
  const moved = base.slice();
  moved[10 * 4] += 1; // token 10
  const read = async (x: Float32Array) =>
    toFloat32(
      (await run(g, out, { audio: hostArray('float32', [1, 1, AUDIO_PER_FRAME, 4], x), ...store.feeds(g) })).logits,
    );
  const [a, c] = [await read(base), await read(moved)];
  const changed = (t: number) =>
    a.subarray(t * MAX_CLASSES, (t + 1) * MAX_CLASSES).some((x, v) => x !== c[t * MAX_CLASSES + v]);
  assert.deepEqual(
    Array.from({ length: AUDIO_PER_FRAME }, (_, t) => changed(t)),
    Array.from({ length: AUDIO_PER_FRAME }, (_, t) => t >= 8 && t <= 10),
  );
});
