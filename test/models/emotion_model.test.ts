import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, ParamStore, Scope } from '../../src/engine/index.js';
import { Predictor } from '../../src/engine/export.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { toFloat32, type HostArray } from '../../src/io/array.js';
import { AUDIO_DIM, UTTERANCE_DIM, emotionTiny, type EmotionModelConfig } from '../../src/models/emotion/config.js';
import { makeBatch, type EmotionExampleInput } from '../../src/models/emotion/features.js';
import { emotionInputs, traceEmotionInference, traceEmotionLoss } from '../../src/models/emotion/graph.js';
import { emotionModel } from '../../src/models/emotion/model.js';
import { Rng } from '../../src/util/rng.js';

const shape = { batch: 4, words: 6, frames: 20 };

/** Random examples of 3..6 words and 8..20 frames; the label is readable from both the first word and the audio level. */
function examples(n: number, seed: number): EmotionExampleInput[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const label = Math.floor(rng.uniform() * 7);
    const words = 3 + Math.floor(rng.uniform() * 4);
    const frames = 8 + Math.floor(rng.uniform() * 13);
    const audio = Float32Array.from({ length: frames * AUDIO_DIM }, () => rng.normal() * 0.3 + label / 3);
    return {
      words: Array.from({ length: words }, (_, i) => `w${i}`),
      label,
      frames,
      audio,
      utterance: Float32Array.from({ length: UTTERANCE_DIM }, () => rng.normal() + label / 3),
      meta: [1, 2, 3, 1] as [number, number, number, number],
      tokens: Int32Array.from({ length: words }, (_, i) =>
        i === 0 ? 10 + label : 100 + Math.floor(rng.uniform() * 50),
      ),
      spans: Array.from({ length: words }, (_, i) => ({
        start: (i * frames) / words / 25,
        end: ((i + 1) * frames) / words / 25,
      })),
    };
  });
}

const everything = { text: true, audio: true };

async function infer(
  cfg: EmotionModelConfig,
  store: ParamStore,
  batch: Record<string, HostArray>,
): Promise<Record<string, HostArray>> {
  const pred = await Predictor.create((g, p) => traceEmotionInference(g, p, cfg, shape), store, { worker: false });
  try {
    return await pred.run(batch);
  } finally {
    await pred.close();
  }
}

test('every fusion mode traces: logits [B, 7], gate [B, 3], attention maps per direction', () => {
  for (const [fusion, ta, at] of [
    ['concat', false, false],
    ['uni-ta', true, false],
    ['uni-at', false, true],
    ['bi', true, true],
  ] as const) {
    for (const modalities of ['text', 'audio', 'both'] as const) {
      const g = new Graph();
      const out = emotionModel(new Scope(g, new ParamStore(1)), emotionInputs(g, shape), {
        ...emotionTiny(),
        fusion,
        modalities,
      });
      assert.deepEqual(out.logits.shape, [4, 7]);
      assert.deepEqual(out.modalityGate.shape, [4, 3]);
      const both = modalities === 'both';
      assert.equal(out.textToAudio !== undefined, both && ta, `${fusion}/${modalities} text->audio`);
      assert.equal(out.audioToText !== undefined, both && at, `${fusion}/${modalities} audio->text`);
      if (both && ta) assert.deepEqual(out.textToAudio!.shape, [4, 2, 6, 20]);
      if (both && at) assert.deepEqual(out.audioToText!.shape, [4, 2, 20, 6]);
    }
  }
});

test('attention rows sum to 1 and padded words and frames get exactly 0 weight', async () => {
  const ex = examples(4, 1);
  const out = await infer(
    emotionTiny(),
    new ParamStore(2),
    makeBatch(
      ex,
      ex.map(() => everything),
      shape,
      false,
    ),
  );
  const ta = toFloat32(out.textToAudio);
  const at = toFloat32(out.audioToText);
  const [W, F, H] = [shape.words, shape.frames, 2];
  ex.forEach((e, b) => {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < e.tokens.length; i++) {
        const row = ta.subarray(((b * H + h) * W + i) * F, ((b * H + h) * W + i + 1) * F);
        assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
        for (let j = e.frames; j < F; j++) assert.equal(row[j], 0, `item ${b} word ${i} padded frame ${j}`);
      }
      for (let j = 0; j < e.frames; j++) {
        const row = at.subarray(((b * H + h) * F + j) * W, ((b * H + h) * F + j + 1) * W);
        assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
        for (let i = e.tokens.length; i < W; i++) assert.equal(row[i], 0, `item ${b} frame ${j} padded word ${i}`);
      }
    }
  });
});

test('padding contents do not change the prediction', async () => {
  const ex = examples(4, 3);
  const store = new ParamStore(4);
  const batch = makeBatch(
    ex,
    ex.map(() => everything),
    shape,
    false,
  );
  const base = toFloat32((await infer(emotionTiny(), store, batch)).probs);
  const noisy = { ...batch, audio: { ...batch.audio, data: Float32Array.from(batch.audio.data as Float32Array) } };
  const tokens = { ...batch.tokens, data: BigInt64Array.from(batch.tokens.data as BigInt64Array) };
  const audio = noisy.audio.data as Float32Array;
  ex.forEach((e, b) => {
    for (let j = e.frames; j < shape.frames; j++)
      audio.fill(7, (b * shape.frames + j) * AUDIO_DIM, (b * shape.frames + j + 1) * AUDIO_DIM);
    for (let i = e.tokens.length; i < shape.words; i++) (tokens.data as BigInt64Array)[b * shape.words + i] = 999n;
  });
  const after = toFloat32((await infer(emotionTiny(), store, { ...noisy, tokens })).probs);
  for (let k = 0; k < base.length; k++)
    assert.ok(Math.abs(base[k] - after[k]) < 1e-5, `${k}: ${base[k]} vs ${after[k]}`);
});

test('a missing modality: the output ignores that input entirely and the present flags say so', async () => {
  const ex = examples(4, 5);
  const store = new ParamStore(6);
  const noAudio = ex.map(() => ({ text: true, audio: false }));
  const a = makeBatch(ex, noAudio, shape, false);
  assert.deepEqual([...(a.present.data as Float32Array)], [1, 0, 1, 0, 1, 0, 1, 0]);
  const other = makeBatch(
    examples(4, 99).map((e, i) => ({ ...e, tokens: ex[i].tokens, words: ex[i].words })),
    noAudio,
    shape,
    false,
  );
  const p1 = toFloat32((await infer(emotionTiny(), store, a)).probs);
  const p2 = toFloat32((await infer(emotionTiny(), store, other)).probs);
  for (let k = 0; k < p1.length; k++)
    assert.ok(Math.abs(p1[k] - p2[k]) < 1e-5, 'different audio of a missing modality must not matter');
  const noText = makeBatch(
    ex,
    ex.map(() => ({ text: false, audio: true })),
    shape,
    false,
  );
  const p3 = toFloat32((await infer(emotionTiny(), store, noText)).probs);
  assert.ok(p3.every(Number.isFinite));
  assert.ok(
    p3.some((v, k) => Math.abs(v - p1[k]) > 1e-4),
    'audio-only and text-only inputs give different outputs',
  );
});

test('training steps lower the loss (full model with every regularizer on)', async () => {
  const cfg: EmotionModelConfig = {
    ...emotionTiny(),
    entropyWeight: 0.01,
    alignWeight: 0.1,
    groundWeight: 0.1,
    dropout: 0,
  };
  const store = new ParamStore(7);
  const compiled = compileTrainStep((g, p) => traceEmotionLoss(g, p, cfg, shape, true), store);
  const trainer = await Trainer.create(compiled, { lr: 3e-3, worker: false, seed: 1 });
  const ex = examples(4, 11);
  const batch = makeBatch(
    ex,
    ex.map(() => everything),
    shape,
    true,
  );
  const losses: number[] = [];
  for (let i = 0; i < 30; i++) losses.push((await trainer.trainStep(batch)).loss);
  await trainer.close();
  assert.ok(losses.every(Number.isFinite));
  assert.ok(losses[29] < losses[0] * 0.5, `loss ${losses[0]} -> ${losses[29]}`);
});
