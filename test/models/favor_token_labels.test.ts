/** Per-token visual labels for stage 1 (each object labels the token holding its centre) and the token loss. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParamStore } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { toFloat32 } from '../../src/io/array.js';
import {
  FRAME_VISUAL,
  MIN_VISIBLE,
  avqaConfig,
  avqaScene,
  frameLabels,
  lookIndex,
  sceneDuration,
  sceneSynthConfig,
  tokenLabels,
  visibleFractions,
} from '../../src/data/avqa/index.js';
import { sceneKey } from '../../src/data/synth/clip.js';
import { positionAt, simulateScene } from '../../src/data/synth/scene.js';
import { Rng } from '../../src/util/rng.js';
import { type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import { avBatch, frameLabelBatch, tokenLabelBatch } from '../../src/models/favor/data.js';
import { encoderStageLoss } from '../../src/models/favor/pretrain.js';
import { randomClip } from './favor_fixtures.js';

const cfg = avqaConfig({ minDuration: 5, maxDuration: 8 });

test('each on-screen object labels exactly the token holding its centre; the tokens together give the frame labels', () => {
  let objects = 0;
  for (let index = 0; index < 20; index++) {
    const duration = sceneDuration(cfg, index);
    const frame = frameLabels(cfg, index);
    const scene = avqaScene(cfg, index);
    const visible = visibleFractions(cfg, index, duration, frame.frames);
    const synth = sceneSynthConfig(cfg, index, duration);
    const sim = simulateScene(synth, new Rng(sceneKey(synth, index)));
    for (const grid of [4, 2]) {
      const cells = grid * grid;
      const tokens = tokenLabels(cfg, index, grid);
      assert.equal(tokens.length, frame.frames * cells * FRAME_VISUAL);
      for (let t = 0; t < frame.frames; t++) {
        // Expected looks per cell, from the simulated positions (an independent path to the same centres).
        const looks = Array.from({ length: cells }, () => new Set<number>());
        sim.objects.forEach((o, i) => {
          if (visible[t][i] < MIN_VISIBLE) return;
          const [x, y] = positionAt(o, t / 2).map((v) => Math.floor((v * grid) / synth.size));
          looks[y * grid + x].add(lookIndex(scene.objects[i].color, scene.objects[i].shape));
          objects++;
        });
        for (let c = 0; c < cells; c++)
          for (let k = 0; k < 54; k++)
            assert.equal(tokens[(t * cells + c) * FRAME_VISUAL + k], looks[c].has(k) ? 1 : 0, `${index} ${t} ${c} ${k}`);
        for (let k = 0; k < FRAME_VISUAL; k++) {
          let any = 0;
          for (let c = 0; c < cells; c++) any = Math.max(any, tokens[(t * cells + c) * FRAME_VISUAL + k]);
          assert.equal(any, frame.visual[t * FRAME_VISUAL + k], `scene ${index} frame ${t} label ${k}`);
        }
      }
    }
  }
  assert.ok(objects > 500, `${objects} objects checked`);
});

test('tokenLabelBatch pads short clips with zeros and refuses labels that are not whole frames', () => {
  const a = tokenLabels(cfg, 0, 4);
  const frames = a.length / (16 * FRAME_VISUAL);
  const b = tokenLabelBatch([a, a.subarray(0, 16 * FRAME_VISUAL)], frames + 2, 16);
  assert.deepEqual(b.shape, [2, frames + 2, 16, FRAME_VISUAL]);
  const data = toFloat32(b);
  const per = (frames + 2) * 16 * FRAME_VISUAL;
  assert.deepEqual(data.subarray(0, a.length), a);
  assert.ok(data.subarray(a.length, per).every((v) => v === 0));
  assert.ok(data.subarray(per + 16 * FRAME_VISUAL, 2 * per).every((v) => v === 0));
  assert.throws(() => tokenLabelBatch([a.subarray(1)], frames, 16), /not whole frames of 16 x 69/);
});

async function stageOneStep(model: FavorConfig) {
  const compiled = compileTrainStep((g, p) => encoderStageLoss(g, p, model, 2, 10), new ParamStore(3), {
    optimizer: adamw({ weightDecay: 0.01 }),
  });
  const trainer = await Trainer.create(compiled, { lr: 1e-2, worker: false, session: { threads: 1 } });
  const five = avqaConfig({ minDuration: 5, maxDuration: 5 });
  const step = await trainer.trainStep({
    ...avBatch([randomClip(10, 5), randomClip(10, 6)], 10),
    ...frameLabelBatch([frameLabels(five, 0), frameLabels(five, 1)], 10),
    ...(model.tokenAux > 0
      ? { frame_tokens: tokenLabelBatch([tokenLabels(five, 0, 4), tokenLabels(five, 1, 4)], 10, 16) }
      : {}),
  });
  await trainer.close();
  return step;
}

test('stage 1 with tokenAux adds tokenAux x the per-token BCE to the frame BCEs', async () => {
  const model = (tokenAux: number): FavorConfig => ({
    ...favorTiny(),
    patch: 8,
    visualStem: 'conv',
    stage: 'encoders',
    tokenAux,
  });
  const off = await stageOneStep(model(0));
  assert.equal(off.metrics.frame_token_bce, undefined);
  for (const factor of [1, 3]) {
    const on = await stageOneStep(model(factor));
    const frame = on.metrics.frame_visual_bce + on.metrics.frame_audio_bce;
    assert.ok(on.metrics.frame_token_bce > 1, `token BCE ${on.metrics.frame_token_bce}`);
    assert.ok(Math.abs(on.loss - (frame + factor * on.metrics.frame_token_bce)) < 1e-3 * on.loss);
    // The same initial weights and batch: the frame BCEs do not depend on the factor.
    assert.ok(Math.abs(on.metrics.frame_visual_bce - off.metrics.frame_visual_bce) < 1e-4);
  }
});
