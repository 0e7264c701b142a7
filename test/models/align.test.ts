import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParamStore } from '../../src/engine/params.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { Predictor } from '../../src/engine/export.js';
import { generateClip } from '../../src/data/synth/clip.js';
import { writeClipFiles } from '../../src/data/synth/write.js';
import { resolveConfig } from '../../src/train/config.js';
import { ConfigError } from '../../src/util/errors.js';
import {
  defaultAvFeatures,
  audioFeatures,
  fileFeatures,
  videoFeatures,
  gridFrames,
} from '../../src/models/av_align/features.js';
import { featureStats, gatherBatch, synthClipSet, synthFor } from '../../src/models/av_align/data.js';
import { avAlignTiny } from '../../src/models/av_align/model.js';
import { avAlignInference, avAlignLoss, avAlignTask, type AvTaskData } from '../../src/models/av_align/task.js';
import { SUITE_METRICS, improved, alignmentSuite } from '../../src/models/av_align/metrics.js';
import { predictInBatches } from '../../src/train/predict.js';

const features = defaultAvFeatures;

async function tinyData(clips: number): Promise<AvTaskData> {
  const set = await synthClipSet({
    indices: Array.from({ length: clips }, (_, i) => i),
    synth: {},
    features,
    workers: 1,
  });
  const rows = Array.from({ length: clips }, (_, i) => i);
  return { size: clips, set, stats: featureStats(set, rows), batch: (idx) => gatherBatch(set, idx) };
}

test('in-memory AV-Synth features match the features decoded from the written MP4', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-align-'));
  try {
    mkdirSync(join(dir, 'clips'));
    const clip = generateClip(synthFor(features, { seed: 3 }), 0);
    const item = await writeClipFiles(clip, dir);
    const fromFile = await fileFeatures(item.video!, features);
    const video = videoFeatures(clip.video, clip.frames, clip.width, clip.height, clip.fps, features).data;
    const audio = audioFeatures(clip.audio, features).data;
    assert.equal(fromFile.validFrames, gridFrames(features));
    const cos = (a: Float32Array, b: Float32Array) => {
      let d = 0,
        na = 0,
        nb = 0;
      for (let i = 0; i < a.length; i++) [d, na, nb] = [d + a[i] * b[i], na + a[i] ** 2, nb + b[i] ** 2];
      return d / Math.sqrt(na * nb);
    };
    assert.ok(cos(video, fromFile.video!) > 0.98, `video features: cosine ${cos(video, fromFile.video!)}`);
    assert.ok(cos(audio, fromFile.audio!) > 0.98, `audio features: cosine ${cos(audio, fromFile.audio!)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('av-align (tiny) trains on 32 AV-Synth clips: loss drops, R@1 beats chance, suite metrics improve', async (t) => {
  const data = await tinyData(32);
  const cfg = avAlignTiny();
  const B = 16;
  const store = new ParamStore(1);
  const predictor = await Predictor.create((g, p) => avAlignInference(g, p, cfg, data, B), store, { worker: false });
  const rows = Array.from({ length: 32 }, (_, i) => i);
  const before = await alignmentSuite(
    (await predictInBatches(predictor, rows, B, (r) => gatherBatch(data.set, r))).rows,
  );
  const trainer = await Trainer.create(
    compileTrainStep((g, p) => avAlignLoss(g, p, cfg, data, B), store, {
      optimizer: adamw({ weightDecay: 0.01 }),
      clipNorm: 1,
    }),
    { lr: 3e-3, worker: false },
  );
  const losses: number[] = [];
  try {
    for (let step = 0; step < 40; step++) {
      const order = step % 2 === 0 ? rows.slice(0, B) : rows.slice(B);
      const r = await trainer.trainStep(gatherBatch(data.set, order));
      assert.ok(Number.isFinite(r.loss));
      losses.push(r.loss);
    }
    await predictor.setParams(await trainer.params());
  } finally {
    await trainer.close();
  }
  const after = await alignmentSuite(
    (await predictInBatches(predictor, rows, B, (r) => gatherBatch(data.set, r))).rows,
  );
  await predictor.close();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  t.diagnostic(
    `loss ${mean(losses.slice(0, 6)).toFixed(3)} -> ${mean(losses.slice(-6)).toFixed(3)}; R@1 a2v ${after['a2v_R@1']} v2a ${after['v2a_R@1']}`,
  );
  assert.ok(
    mean(losses.slice(-6)) < 0.8 * mean(losses.slice(0, 6)),
    `loss ${mean(losses.slice(0, 6))} -> ${mean(losses.slice(-6))}`,
  );
  // chance R@1 among 32 is 1/32
  assert.ok(after['a2v_R@1'] >= 0.4 && after['v2a_R@1'] >= 0.4, `R@1 ${after['a2v_R@1']} / ${after['v2a_R@1']}`);
  for (const m of SUITE_METRICS) {
    assert.ok(Number.isFinite(before[m.key]) && Number.isFinite(after[m.key]), `${m.key} missing`);
  }
  for (const key of ['embedding_similarity', 'mi_infonce', 'cosine_sim', 'modality_gap']) {
    const m = SUITE_METRICS.find((x) => x.key === key)!;
    assert.ok(improved(m, before[key], after[key]), `${key}: ${before[key]} -> ${after[key]} (${m.better} is better)`);
  }
});

test('av-align config is validated (typos and bad values are ConfigErrors)', () => {
  assert.throws(() => resolveConfig(avAlignTask, { source: 'synth', overrides: { model: { dimm: 3 } } }), ConfigError);
  assert.throws(
    () => resolveConfig(avAlignTask, { source: 'synth', overrides: { model: { dim: 30, heads: 4 } } }),
    ConfigError,
  );
  assert.throws(
    () => resolveConfig(avAlignTask, { source: 'synth', overrides: { data: { features: { sampleRate: 44100 } } } }),
    ConfigError,
  );
  const ok = resolveConfig(avAlignTask, { source: 'synth', overrides: { variant: 'tiny' } });
  assert.equal((ok.model as { dim: number }).dim, 32);
});

test('improved() follows each metric direction', () => {
  const gap = SUITE_METRICS.find((m) => m.key === 'modality_gap')!;
  const cos = SUITE_METRICS.find((m) => m.key === 'cosine_sim')!;
  assert.equal(improved(gap, 0.9, 0.1), true);
  assert.equal(improved(gap, 0.1, 0.9), false);
  assert.equal(improved(cos, 0.1, 0.3), true);
  assert.equal(improved(cos, 0.3, 0.1), false);
});
