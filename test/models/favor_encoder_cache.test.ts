/** Frozen stage-1 encoders run once per clip (encoder_cache.ts): the same loss, step and logits as every step. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Predictor } from '../../src/engine/export.js';
import { ParamStore } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { type HostArray, hostArray, toFloat32 } from '../../src/io/array.js';
import { avqaConfig, frameLabels } from '../../src/data/avqa/index.js';
import { type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import { type AvqaExamples, avBatch, frameLabelBatch } from '../../src/models/favor/data.js';
import { type EncoderCache, cachesEncoders, computeEncoderCache } from '../../src/models/favor/encoder_cache.js';
import { favorInferenceGraph, favorLossGraph } from '../../src/models/favor/task.js';
import { randomClip, writeStageOneRun } from './favor_fixtures.js';

const [VOCAB, LT, CLASSES, FRAMES] = [20, 6, 5, 8]; // 8 frames: padded to two windows of 5 in the graph
let dir = '';
let model: FavorConfig;
let ex: AvqaExamples;
let cache: EncoderCache;

// Two audio variants of scene 0 and a shorter scene 1 (6 real frames): the cache keys clips by scene and audio.
const questions = [{ index: 0 }, { index: 0, audio: { offset: 1 } }, { index: 1 }] as AvqaExamples['questions'];
const avqa = avqaConfig({ minDuration: 5, maxDuration: 5 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'favor-cache-'));
  const encoders = { ...favorTiny(), visualStem: 'conv' as const, stemDim: 4, patch: 16, window: 5 };
  writeStageOneRun(dir, encoders, 11);
  model = { ...encoders, encoders: dir, freezeEncoders: true, frameAux: 1 };
  ex = {
    frames: FRAMES,
    questions,
    // As AVQA renders them: a scene's frames are the same whatever audio it is asked with.
    clip: (q) => {
      const n = q.index === 1 ? 6 : FRAMES;
      return { ...randomClip(n, 1 + q.index), audio: randomClip(n, 20 + q.index + 10 * (q.audio?.offset ?? 0)).audio };
    },
  } as AvqaExamples;
  cache = await computeEncoderCache(ex, model, { batch: 2 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Text, targets, masks, answer classes and frame labels for the three questions (fixed, seeded by position). */
function textFeeds(): Record<string, HostArray> {
  const b = questions.length;
  const ids = (k: number) => BigInt64Array.from({ length: b * LT }, (_, i) => BigInt((i * k) % VOCAB));
  const mask = Float32Array.from({ length: b * LT }, (_, i) => (i % LT >= 3 ? 1 : 0));
  return {
    text: hostArray('int64', [b, LT], ids(7)),
    target: hostArray('int64', [b, LT], ids(5)),
    target_mask: hostArray('float32', [b, LT], mask),
    question_mask: hostArray(
      'float32',
      [b, LT],
      mask.map((m) => 1 - m),
    ),
    answer_class: hostArray('int64', [b], BigInt64Array.from([0n, 3n, 4n])),
    ...frameLabelBatch(
      questions.map((q) => frameLabels(avqa, q.index, q.audio ?? {})),
      FRAMES,
    ),
  };
}

/** One train step from the same initial store, on frames + audio or on the cached encoder outputs. */
async function oneStep(cached: boolean) {
  const store = new ParamStore(5);
  const c = cached ? cache : undefined;
  const compiled = compileTrainStep(
    (g, p) => favorLossGraph(g, p, model, questions.length, FRAMES, LT, VOCAB, CLASSES, c),
    store,
    { optimizer: adamw({ weightDecay: 0.01 }), clipNorm: 1 },
  );
  const trainer = await Trainer.create(compiled, { lr: 1e-2, worker: false, session: { threads: 1 } });
  const av = cached ? cache.feeds(questions) : avBatch(questions.map(ex.clip), FRAMES);
  const all = { ...av, ...textFeeds() };
  const step = await trainer.trainStep(Object.fromEntries(compiled.program.data.map((d) => [d.name, all[d.name]])));
  const params = await trainer.params();
  await trainer.close();
  return { step, params, program: compiled.program };
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a)), `${what}: ${a} vs ${b}`);

test('cachesEncoders: only stage 2 over frozen stage-1 encoders with AV tokens', () => {
  assert.equal(cachesEncoders(model), true);
  for (const over of [
    { cacheEncoders: false },
    { freezeEncoders: false },
    { encoders: null },
    { stage: 'encoders' as const },
    { questionOnly: true },
  ])
    assert.equal(cachesEncoders({ ...model, ...over }), false, JSON.stringify(over));
});

test('a step on cached encoder outputs gives the loss, metrics and updated weights of the per-step encoders', async () => {
  const raw = await oneStep(false);
  const cached = await oneStep(true);
  assert.ok(cached.program.data.some((d) => d.name === 'visual_tokens'));
  assert.ok(!cached.program.data.some((d) => d.name === 'video'));
  close(cached.step.loss, raw.step.loss, 'loss');
  close(cached.step.gradNorm, raw.step.gradNorm, 'grad norm');
  for (const [k, v] of Object.entries(raw.step.metrics)) close(cached.step.metrics[k], v, k);
  // The frozen encoders are still declared (saved with the run), unchanged; every trained weight moved alike.
  assert.deepEqual(cached.program.frozen.sort(), raw.program.frozen.sort());
  assert.ok(raw.program.frozen.some((n) => n.startsWith('encoder.visual.stem.')));
  assert.deepEqual(Object.keys(cached.params).sort(), Object.keys(raw.params).sort());
  for (const [k, v] of Object.entries(raw.params)) {
    const [x, y] = [toFloat32(v), toFloat32(cached.params[k])];
    x.forEach((a, i) => close(y[i], a, `${k}[${i}]`));
  }
});

test('evaluation logits on cached outputs equal those on frames + audio', async () => {
  const logits = async (cached: boolean) => {
    const store = new ParamStore(5);
    const c = cached ? cache : undefined;
    const p = await Predictor.create(
      (g, s) => favorInferenceGraph(g, s, model, questions.length, FRAMES, LT, VOCAB, c),
      store,
      { worker: false, session: { threads: 1 } },
    );
    const av = cached ? cache.feeds(questions) : avBatch(questions.map(ex.clip), FRAMES);
    const out = await p.run({ ...av, text: textFeeds().text });
    await p.close();
    return toFloat32(out.logits);
  };
  const [raw, cached] = [await logits(false), await logits(true)];
  assert.equal(raw.length, cached.length);
  raw.forEach((a, i) => close(cached[i], a, `logit ${i}`));
});

test('a cache made with other encoder weights is refused, naming the switch that turns it off', () => {
  const name = Object.keys(cache.weights).find((n) => n.startsWith('encoder.visual.'))!;
  const w = toFloat32(cache.weights[name]);
  const other = {
    ...cache,
    weights: {
      ...cache.weights,
      [name]: hostArray(
        'float32',
        [...cache.weights[name].shape],
        w.map((x) => x + 1),
      ),
    },
  };
  assert.throws(
    () =>
      compileTrainStep(
        (g, p) => favorLossGraph(g, p, model, questions.length, FRAMES, LT, VOCAB, CLASSES, other),
        new ParamStore(5),
      ),
    /model\.cacheEncoders=false/,
  );
});
