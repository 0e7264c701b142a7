/**
 * Stage 1's denser supervision: per-token visual labels (each object labels the token holding its centre), the token
 * loss, and the mirrored train clips; and the stage-2 evaluation's per-template scores.
 */
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
import {
  avBatch,
  frameLabelBatch,
  mirrorClip,
  mirrorTokenLabels,
  tokenLabelBatch,
} from '../../src/models/favor/data.js';
import { nearCount, scoreAnswers, templatePriors } from '../../src/models/favor/evaluate.js';
import type { AvqaQuestion } from '../../src/data/avqa/index.js';
import { insideShape } from '../../src/data/synth/render.js';
import { SHAPES } from '../../src/data/synth/classes.js';
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
            assert.equal(
              tokens[(t * cells + c) * FRAME_VISUAL + k],
              looks[c].has(k) ? 1 : 0,
              `${index} ${t} ${c} ${k}`,
            );
        for (let k = 0; k < FRAME_VISUAL; k++) {
          let any = 0;
          for (let c = 0; c < cells; c++) any = Math.max(any, tokens[(t * cells + c) * FRAME_VISUAL + k]);
          assert.equal(any, frame.visual[t * FRAME_VISUAL + k], `scene ${index} frame ${t} label ${k}`);
        }
      }
    }
  }
  assert.ok(objects > 500, `${objects} objects checked`);
  assert.throws(() => tokenLabels(cfg, 0, 2.5), /grid must be a positive whole number of cells per side, not 2.5/);
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

test('mirrored clips: every shape is symmetric left to right, pixels and token labels move to the mirrored column', () => {
  // The labels of a mirrored frame stay the frame's own only because no shape changes under the mirror.
  for (const shape of SHAPES)
    for (let dy = -5; dy <= 5; dy += 0.25)
      for (let dx = -5; dx <= 5; dx += 0.25)
        assert.equal(insideShape(shape, dx, dy, 4), insideShape(shape, -dx, dy, 4), `${shape} ${dx} ${dy}`);
  const clip = randomClip(3, 9);
  const m = mirrorClip(clip, 32);
  for (const [t, y, x, c] of [
    [0, 0, 0, 0],
    [1, 5, 7, 2],
    [2, 31, 31, 1],
  ])
    assert.equal(m.video[((t * 32 + y) * 32 + x) * 3 + c], clip.video[((t * 32 + y) * 32 + 31 - x) * 3 + c]);
  assert.deepEqual(mirrorClip(m, 32).video, clip.video);
  assert.equal(m.audio, clip.audio);
  const labels = tokenLabels(cfg, 3, 4);
  const mirrored = mirrorTokenLabels(labels, 4);
  const cell = (l: Float32Array, t: number, gy: number, gx: number) =>
    l.subarray(((t * 4 + gy) * 4 + gx) * FRAME_VISUAL, ((t * 4 + gy) * 4 + gx + 1) * FRAME_VISUAL);
  for (let t = 0; t < labels.length / (16 * FRAME_VISUAL); t++)
    for (let gy = 0; gy < 4; gy++)
      for (let gx = 0; gx < 4; gx++) assert.deepEqual(cell(mirrored, t, gy, gx), cell(labels, t, gy, 3 - gx));
});

test('scoreAnswers gives accuracy, prior and count per template beside the family figures', () => {
  const q = (template: string, answer: string, split: 'train' | 'test' = 'test') =>
    ({ template, family: template.split('.')[0], answer, split }) as AvqaQuestion;
  const priors = templatePriors([q('audio.kind', 'drum'), q('audio.kind', 'drum'), q('audio.heard', 'no')]);
  const test = [q('audio.kind', 'drum'), q('audio.kind', 'bell'), q('audio.heard', 'yes'), q('audio.heard', 'no')];
  const m = scoreAnswers(test, ['drum', 'bell', 'no', 'no'], priors);
  assert.equal(m.acc_audio, 0.75);
  assert.equal(m['acc_audio.kind'], 1);
  assert.equal(m['prior_audio.kind'], 0.5);
  assert.equal(m['acc_audio.heard'], 0.5);
  assert.equal(m['prior_audio.heard'], 0.5);
  assert.equal(m['n_audio.kind'], 2);
  assert.equal(m['acc_visual.color'], undefined);
  assert.equal(m['near_audio.kind'], undefined);
});

test('scoreAnswers scores number answers within one of the truth, for the model and the prior', () => {
  const q = (template: string, answer: string) =>
    ({ template, family: template.split('.')[0], answer, split: 'test' }) as AvqaQuestion;
  const priors = templatePriors([q('count.heard', '4'), q('count.heard', '4'), q('count.wall', '0')]);
  const test = [q('count.heard', '5'), q('count.heard', '7'), q('count.heard', '3'), q('count.wall', '1')];
  const m = scoreAnswers(test, ['5', '6', 'bell', '3'], priors);
  assert.equal(m['acc_count.heard'], 1 / 3);
  assert.equal(m['near_count.heard'], 2 / 3); // 5 for 5, 6 for 7; a word is never near
  assert.equal(m['prior_near_count.heard'], 2 / 3); // 4 is near 5 and 3, not 7
  assert.equal(m['near_count.wall'], 0);
  assert.equal(m['prior_near_count.wall'], 1);
  assert.equal(m.near_count, 2 / 4);
  assert.equal(m.prior_near_count, 3 / 4);
  assert.equal(nearCount('12', '11'), true);
  assert.equal(nearCount('-1', '0'), false);
  assert.equal(nearCount(undefined, '0'), false);
});
