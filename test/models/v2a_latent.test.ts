import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph, ParamStore, Scope } from '../../src/engine/index.js';
import { Predictor } from '../../src/engine/export.js';
import { hostArray, toFloat32 } from '../../src/io/array.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.js';
import { avAlignTiny, dualEncode } from '../../src/models/av_align/model.js';
import { defaultAvData } from '../../src/models/av_align/task.js';
import { AUDIO_FEATURE_DIM, gridFrames, VIDEO_FEATURE_DIM } from '../../src/models/av_align/features.js';
import { decodeCodes, encodeMels, trainAutoencoder } from '../../src/models/v2a/autoencoder.js';
import { N_MELS } from '../../src/models/v2a/audio.js';
import { neighborhoods, PATCH } from '../../src/models/v2a/conditions.js';
import { PIXELS, sequence } from '../../src/models/v2a/config.js';
import { synthExample } from '../../src/models/v2a/data.js';
import { loadIbScorer } from '../../src/models/v2a/ib.js';
import { loadV2aModel } from '../../src/models/v2a/infer.js';
import { trainToyV2a } from './v2a_toy.js';
import { ConfigError, InputError } from '../../src/util/errors.js';

test("the 'patches' encoder's neighborhoods: channel (dy, dx, c) of pixel (y, x) is pixel (y + dy - 2, x + dx - 2), 0 outside", async () => {
  const side = 6;
  const frame = new Float32Array(side * side * 3);
  frame[(2 * side + 3) * 3 + 1] = 1; // green at (y 2, x 3)
  const pred = await Predictor.create(
    (gr) => ({ y: neighborhoods(gr.input('x', 'float32', [1, 1, side * side * 3]), 1, 1, side) }),
    new ParamStore(0),
    { worker: false },
  );
  const y = toFloat32((await pred.run({ x: hostArray('float32', [1, 1, side * side * 3], frame) })).y); // [1, 1, 36, 75]
  await pred.close();
  const C = PATCH * PATCH * 3;
  assert.equal(y.length, side * side * C);
  for (let py = 0; py < side; py++)
    for (let px = 0; px < side; px++)
      for (let dy = 0; dy < PATCH; dy++)
        for (let dx = 0; dx < PATCH; dx++)
          for (let c = 0; c < 3; c++) {
            const hit = py + dy - 2 === 2 && px + dx - 2 === 3 && c === 1 ? 1 : 0;
            assert.equal(y[(py * side + px) * C + (dy * PATCH + dx) * 3 + c], hit, `${py},${px} tap ${dy},${dx},${c}`);
          }
});

test('the 1-D autoencoder: codes [T, 20] standardized on the training mels, and decoding beats the mean frame', async () => {
  const seq = sequence(1);
  const mels = Array.from({ length: 12 }, (_, i) => synthExample(i, seq, 0, false).latent);
  const ae = await trainAutoencoder(mels.slice(0, 10), mels.slice(10), seq.latent, {
    cfg: { channels: 20, hidden: 32, kernel: 3 },
    steps: 60,
    batch: 4,
    lr: 5e-3,
  });
  const codes = await encodeMels(ae, mels.slice(0, 10), seq.latent);
  assert.equal(codes[0].length, seq.latent * 20);
  const all = codes.flatMap((z) => Array.from(z));
  const m = all.reduce((a, b) => a + b, 0) / all.length;
  const v = all.reduce((a, b) => a + (b - m) ** 2, 0) / all.length;
  assert.ok(Math.abs(m) < 1e-3 && Math.abs(v - 1) < 1e-2, `codes mean ${m}, variance ${v}`);
  // the held-out error against predicting every value by the held mels' own mean (their variance)
  const held = mels.slice(10).flatMap((x) => Array.from(x));
  const hm = held.reduce((a, b) => a + b, 0) / held.length;
  const variance = held.reduce((a, b) => a + (b - hm) ** 2, 0) / held.length;
  assert.ok(ae.heldMse < 0.5 * variance, `held MSE ${ae.heldMse} vs variance ${variance}`);
  const back = await decodeCodes(ae, codes.slice(0, 1), seq.latent);
  assert.equal(back[0].length, seq.latent * N_MELS);
  await assert.rejects(encodeMels(ae, [new Float32Array(5)], seq.latent), InputError);
});

test('attune train v2a with audioLatent "ae" trains the flow on 20-channel codes; such runs refuse generation by name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-v2a-ae-'));
  try {
    const extra = ['model.audioLatent="ae"', 'model.autoencoderSteps=5'];
    assert.equal(await trainToyV2a(join(dir, 'run'), extra), 'completed');
    const proj = loadSafetensors(join(dir, 'run', 'best.safetensors')).tensors.get('final.proj.weight')!;
    assert.ok(proj.shape.includes(20) && !proj.shape.includes(N_MELS), `final.proj.weight ${proj.shape}`);
    assert.throws(
      () => loadV2aModel(join(dir, 'run')),
      (e: unknown) => e instanceof InputError && /audioLatent/.test(String(e)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the IB-score analogue: cosines in [-1, 1] from an av-align run; a run with another window is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-v2a-ib-'));
  try {
    const model = avAlignTiny();
    const write = (seconds: number): string => {
      const data = { ...defaultAvData, features: { ...defaultAvData.features, seconds } };
      const T = gridFrames(data.features);
      const store = new ParamStore(3);
      const g = new Graph();
      dualEncode(
        new Scope(g, store),
        g.input('video', 'float32', [2, T, VIDEO_FEATURE_DIM]),
        g.input('audio', 'float32', [2, T, AUDIO_FEATURE_DIM]),
        model,
      );
      const run = join(dir, `align-${seconds}`);
      rmSync(run, { recursive: true, force: true });
      mkdirSync(run, { recursive: true });
      writeFileSync(join(run, 'config.json'), JSON.stringify({ task: 'av-align', model, data }));
      saveSafetensors(join(run, 'best.safetensors'), store.toRecord());
      return run;
    };
    const seq = sequence(1);
    const examples = [0, 1, 2].map((i) => synthExample(i, seq, 0, true));
    const ib = await loadIbScorer(write(1), 1);
    const frames = examples.map((e) => e.frames!);
    assert.equal(frames[0].length % PIXELS, 0);
    const scores = await ib.score(
      frames,
      examples.map((e) => e.audio),
    );
    await ib.close();
    assert.equal(scores.length, 3);
    assert.ok(
      scores.every((s) => s >= -1.0001 && s <= 1.0001),
      scores.join(', '),
    );
    await assert.rejects(loadIbScorer(write(2), 1), ConfigError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
