import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, ParamStore, Scope, Session } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { hostArray } from '../../src/io/array.js';
import { ropeTable } from '../../src/nn/index.js';
import { N_MELS } from '../../src/models/v2a/audio.js';
import { LATENT_RATE, PIXELS, type V2aConfig, VISUAL_FPS, sequence, v2aTiny } from '../../src/models/v2a/config.js';
import { synthExample } from '../../src/models/v2a/data.js';
import { trainBatch, v2aInference, v2aLoss } from '../../src/models/v2a/model.js';
import { ropePositions } from '../../src/models/v2a/network.js';
import { sampleLatents, type Condition } from '../../src/models/v2a/sampler.js';
import { tokenize, v2aCaption } from '../../src/models/v2a/text.js';
import { generateClip } from '../../src/data/synth/index.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const rows = (_table: unknown, data: Float32Array, half: number, i: number): number[] =>
  Array.from(data.subarray(i * half, (i + 1) * half));

test('stream geometry: 8 s -> 250 latent frames, 64 visual frames, 200 sync frames (MMAudio 16 k)', () => {
  const s = sequence(8);
  assert.deepEqual([s.latent, s.visual, s.sync, s.mels], [250, 64, 200, N_MELS]);
});

test('aligned RoPE: visual frame i and the audio latent at the same second share a position and a rotation', async () => {
  const seq = sequence(8);
  const aligned = ropePositions(seq, true);
  const plain = ropePositions(seq, false);
  for (let i = 0; i < seq.visual; i++) {
    assert.ok(Math.abs(aligned.visual[i] - (i / VISUAL_FPS) * LATENT_RATE) < 1e-4, `frame ${i}`);
    assert.equal(plain.visual[i], i);
  }
  // Visual frames 0, 32 (0 s, 4 s) and audio latents 0, 125 (0 s, 4 s): identical rotation rows when aligned.
  const g = new Graph();
  const dh = 16;
  const tv = ropeTable(g, aligned.visual, dh),
    ta = ropeTable(g, aligned.audio, dh),
    tp = ropeTable(g, plain.visual, dh);
  const s = await Session.create(g, { vc: tv.cos, vs: tv.sin, ac: ta.cos, as: ta.sin, pc: tp.cos });
  const out = await s.run({});
  await s.release();
  const [vc, vs, ac, as, pc] = ['vc', 'vs', 'ac', 'as', 'pc'].map((k) => out[k].data as Float32Array);
  for (const [v, a] of [
    [0, 0],
    [32, 125],
  ]) {
    assert.deepEqual(
      rows(tv, vc, dh / 2, v).map((x) => x.toFixed(4)),
      rows(ta, ac, dh / 2, a).map((x) => x.toFixed(4)),
    );
    assert.deepEqual(
      rows(tv, vs, dh / 2, v).map((x) => x.toFixed(4)),
      rows(ta, as, dh / 2, a).map((x) => x.toFixed(4)),
    );
  }
  // Plain RoPE puts frame 32 (4 s) at audio frame 32 (1.024 s) instead: a different rotation from audio frame 125.
  assert.notDeepEqual(
    rows(tp, pc, dh / 2, 32).map((x) => x.toFixed(4)),
    rows(ta, ac, dh / 2, 125).map((x) => x.toFixed(4)),
  );
});

const trainVariants: [string, V2aConfig][] = [
  ['tiny', v2aTiny()],
  ['tiny + pixel encoder + visual class loss', { ...v2aTiny(), visualEncoder: 'pixels', visualClassLoss: 1 }],
  ['tiny + 5 x 5 patch encoder + visual class loss', { ...v2aTiny(), visualEncoder: 'patches', visualClassLoss: 1 }],
];

for (const [name, cfg] of trainVariants)
  test(`one AdamW step on a fixed batch lowers the loss (${name}, 2 s clips)`, async () => {
    const seq = sequence(2);
    const items = [0, 1].map((i) => synthExample(i, seq, 0, true));
    items.push(synthExample(2, seq, 0, false)); // an audio-text pair
    const batch = trainBatch(items, seq, new Rng(3), { condition: 0.1, videoText: 0.5 });
    assert.deepEqual(batch.visual.shape, [3, seq.visual, PIXELS]);
    assert.equal((batch.drop_video.data as Float32Array)[2], 1, 'audio-text pairs always drop the video');
    const store = new ParamStore(1);
    const compiled = compileTrainStep((g, p) => v2aLoss(g, p, cfg, seq, 3), store, {
      optimizer: adamw({ weightDecay: 0 }),
      clipNorm: 1,
    });
    const names = store.names();
    assert.equal(
      names.some((n) => n.startsWith('visual.pixels.')),
      cfg.visualEncoder !== 'linear',
    );
    assert.equal(
      names.some((n) => n.startsWith('visual.class_head.')),
      cfg.visualClassLoss > 0,
    );
    assert.deepEqual(batch.classes.shape, [3, 8]);
    const trainer = await Trainer.create(compiled, { lr: 1e-3, worker: false, session: { threads: 1 } });
    try {
      const first = await trainer.trainStep(batch);
      const second = await trainer.trainStep(batch);
      assert.ok(Number.isFinite(first.loss) && first.loss > 0.5, `initial loss ${first.loss}`);
      assert.ok(second.loss < first.loss, `loss ${first.loss} -> ${second.loss}`);
    } finally {
      await trainer.close();
    }
  });

test('the inference graph maps x_t [B, Ta, 64] to a velocity of the same shape', async () => {
  const seq = sequence(1);
  const store = new ParamStore(2);
  const g = new Graph();
  const { velocity } = v2aInference(g, new Scope(g, store), v2aTiny(), seq, 2);
  assert.deepEqual(velocity.shape, [2, seq.latent, N_MELS]);
});

test('Euler + CFG: one call per step holds cond and uncond halves; x1 = x0 + cfg c + (1 - cfg) u for constant flows, c alone before guidanceFrom', async () => {
  const seq = sequence(0.5);
  const size = seq.latent * N_MELS;
  const calls: number[] = [];
  const velocity = async (feeds: Record<string, ReturnType<typeof hostArray>>): Promise<Float32Array> => {
    const B = feeds.xt.shape[0];
    calls.push(B);
    const drop = feeds.drop_text.data as Float32Array;
    const v = new Float32Array(B * size);
    for (let b = 0; b < B; b++) v.fill(drop[b] ? -1 : 2, b * size, (b + 1) * size); // cond rows 2, uncond rows -1
    return v;
  };
  const items: Condition[] = [{ frames: null, text: tokenize('a red circle').ids }];
  const noiseOnly = await sampleLatents(velocity, items, seq, 4, { steps: 1, cfg: 0, guidanceFrom: 0, seed: 7 });
  const guided = await sampleLatents(velocity, items, seq, 4, { steps: 5, cfg: 4.5, guidanceFrom: 0, seed: 7 });
  // guidance from t = 0.5: steps at t = 0, 0.2, 0.4 take the cond velocity alone, t = 0.6, 0.8 the guided one
  const late = await sampleLatents(velocity, items, seq, 4, { steps: 5, cfg: 4.5, guidanceFrom: 0.5, seed: 7 });
  const byDefault = await sampleLatents(velocity, items, seq, 4, { steps: 5, cfg: 4.5, seed: 7 }); // from t = 0.4
  assert.deepEqual(calls, Array(16).fill(4));
  for (let i = 0; i < size; i += 97) {
    // cfg 0: only the uncond velocity -1 over t in [0, 1]; cfg 4.5: 4.5 * 2 + (1 - 4.5) * (-1) = 12.5.
    const x0 = noiseOnly[0][i] + 1;
    assert.ok(Math.abs(guided[0][i] - (x0 + 12.5)) < 1e-4);
    assert.ok(Math.abs(late[0][i] - (x0 + 0.2 * (3 * 2 + 2 * 12.5))) < 1e-4, `${late[0][i] - x0}`);
    assert.ok(Math.abs(byDefault[0][i] - (x0 + 0.2 * (2 * 2 + 3 * 12.5))) < 1e-4, `${byDefault[0][i] - x0}`);
  }
  await assert.rejects(sampleLatents(velocity, [items[0], items[0], items[0]], seq, 4), InputError);
});

test('captions: AV-Synth captions gain the timbre and tokenize without unknown words', () => {
  for (let i = 0; i < 20; i++) {
    const clip = generateClip({ duration: 4, classes: 8 }, i, { video: false });
    const caption = v2aCaption(clip);
    assert.match(caption, /; (plucked twang|hollow hoot|metallic clang|drum thud)/);
    assert.deepEqual(tokenize(caption).unknown, [], caption);
  }
  const t = tokenize('A Red circle; zebra');
  assert.deepEqual(t.unknown, ['zebra']);
  assert.equal(t.ids.length, 16);
  assert.deepEqual(t.valid.slice(0, 6), [1, 1, 1, 1, 1, 0]);
});
