import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph, ParamStore, Scope } from '../../src/engine/index.js';
import { Predictor } from '../../src/engine/export.js';
import { toFloat32 } from '../../src/io/array.js';
import { getTask } from '../../src/models/registry.js';
import { AUDIO_DIM, VIDEO_DIM, featuresFromClip } from '../../src/models/av_sync/features.js';
import {
  evalExamples,
  makeBatch,
  randomExample,
  syncSynthConfig,
  synthSyncSet,
} from '../../src/models/av_sync/data.js';
import { avSync, avSyncTiny } from '../../src/models/av_sync/model.js';
import { loadSyncModel, modelSync, windowStarts } from '../../src/models/av_sync/infer.js';
import { avSyncInference } from '../../src/models/av_sync/task.js';
import { resolveConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { readLog } from '../../src/train/log.js';
import { generateClip } from '../../src/data/synth/clip.js';
import { Rng } from '../../src/util/rng.js';

const synth = { seed: 5, seconds: 7, size: 48, classes: 8, noise: 0.02 };

test('av-sync traces to [B, 21] logits and [B] sync logits; masked frames do not change the output', async () => {
  const g = new Graph();
  const store = new ParamStore(1);
  const audio = g.input('audio', 'float32', [2, 40, AUDIO_DIM]);
  const video = g.input('video', 'float32', [2, 40, VIDEO_DIM]);
  const mask = g.input('mask', 'float32', [2, 40]);
  const out = avSync(new Scope(g, store), audio, video, mask, avSyncTiny());
  assert.deepEqual(out.logits.shape, [2, 21]);
  assert.deepEqual(out.syncLogit.shape, [2]);
  assert.deepEqual(out.lagScores.shape, [2, 2, 101]);
  const pred = await Predictor.create((g2, p) => avSyncInference(g2, p, avSyncTiny(), 1, 40), store, { worker: false });
  const rng = new Rng(3);
  const a = Float32Array.from({ length: 40 * AUDIO_DIM }, () => rng.normal());
  const v = Float32Array.from({ length: 40 * VIDEO_DIM }, () => rng.normal());
  const m = new Float32Array(40).fill(1);
  m.fill(0, 30);
  const run = (aa: Float32Array) =>
    pred.run({
      audio: { dtype: 'float32', shape: [1, 40, AUDIO_DIM], data: aa },
      video: { dtype: 'float32', shape: [1, 40, VIDEO_DIM], data: v },
      mask: { dtype: 'float32', shape: [1, 40], data: m },
    });
  const base = toFloat32((await run(a)).logits);
  // Change audio frames 35..39 only: they are masked (30..39) and more than the conv kernel's reach (2 frames) away
  // from every unmasked frame, so nothing that reaches the logits may move.
  const changed = a.slice();
  changed.fill(5, 35 * AUDIO_DIM);
  const after = toFloat32((await run(changed)).logits);
  for (let k = 0; k < 21; k++) assert.ok(Math.abs(base[k] - after[k]) < 1e-4, `class ${k}: ${base[k]} vs ${after[k]}`);
  await pred.close();
});

test('self-supervised examples: the audio window moves by the grid offset (positive = audio late)', async () => {
  const clips = await synthSyncSet(syncSynthConfig(synth), [0, 1]);
  assert.equal(clips[0].frames, 175);
  const rng = new Rng(1);
  const ex = Array.from({ length: 40 }, () => randomExample(clips, 0, 120, 0.5, rng, [0, 1]));
  assert.ok(ex.some((e) => e.kind === 'offset') && ex.some((e) => e.kind !== 'offset'));
  const offsetEx = { clip: 0, kind: 'offset' as const, label: 15, t0: 40 }; // +1.0 s = 25 frames late
  const b = makeBatch(clips, [offsetEx], 120);
  const audio = b.audio.data as Float32Array;
  // window row t holds original audio frame t0 + t - 25
  for (const t of [30, 60, 100]) {
    const src = (40 + t - 25) * AUDIO_DIM;
    assert.deepEqual(
      Array.from(audio.subarray(t * AUDIO_DIM, (t + 1) * AUDIO_DIM)),
      Array.from(clips[0].audio.subarray(src, src + AUDIO_DIM)),
    );
  }
  assert.equal((b.weight.data as Float32Array)[0], 1);
  const neg = makeBatch(clips, [{ clip: 0, kind: 'static', label: 0, t0: 10 }], 120);
  assert.ok((neg.video.data as Float32Array).every((x) => x === 0));
  assert.equal((neg.sync.data as Float32Array)[0], 0);
  const evalSet = evalExamples(clips, [0, 1], 120, 21, true);
  assert.equal(evalSet.filter((e) => e.kind === 'offset').length, 42);
  assert.deepEqual(new Set(evalSet.filter((e) => e.kind === 'offset' && e.clip === 0).map((e) => e.label)).size, 21);
  assert.deepEqual(windowStarts(300, 120), [0, 60, 120, 180]);
  assert.deepEqual(windowStarts(130, 120), [0, 10]);
  assert.deepEqual(windowStarts(100, 120), []);
});

test('av-sync trains through the trainer: loss drops, accuracy beats chance, the run loads for inference', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-sync-'));
  try {
    const task = await getTask('av-sync');
    const config = resolveConfig(task, {
      source: 'synth',
      overrides: {
        variant: 'tiny',
        data: { synth, valOffsets: 7, testOffsets: 21 },
        split: { val: 0.15, test: 0.15 },
        train: {
          batchSize: 16,
          epochs: 40,
          lr: 5e-3,
          warmupSteps: 5,
          worker: false,
          export: false,
          report: false,
          threads: 2,
          checkpointEvery: 0,
          evalEvery: 15,
        },
      },
    });
    const losses: number[] = [];
    const r = await runTraining({
      task,
      config,
      source: { kind: 'synth', clips: 40 },
      out: dir,
      quiet: true,
      onStep: (s) => losses.push(s.loss),
    });
    assert.equal(r.status, 'completed');
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(last < first * 0.6, `loss ${first} -> ${last}`);
    const test = r.metrics!.test;
    // 6 held-out clips x 21 offsets; chance is 1/21. The untrained model already sees the fixed xcorr channel.
    assert.ok(test['test.acc1'] > 0.4, `test acc1 ${test['test.acc1']} (chance ~0.05)`);
    assert.ok(
      test['test.acc1'] > r.metrics!.before['test.acc1'] + 0.2,
      `acc1 ${r.metrics!.before['test.acc1']} -> ${test['test.acc1']}`,
    );
    assert.ok(test['test.temperature'] > 0 && Number.isFinite(test['test.ece']));
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { test: Record<string, number> };
    assert.equal(metrics.test['test.temperature'], test['test.temperature']);
    assert.notEqual(test['test.temperature'], 1, 'the test evaluation is calibrated on val');

    // Killed in the final phase (metrics.json not yet written), then resumed: the loop has ended, nothing was
    // evaluated in this process, and the calibration still comes out the same (#14.3: it came out T = 1).
    unlinkSync(join(dir, 'metrics.json'));
    const again = await runTraining({ task, out: dir, resume: true, quiet: true });
    assert.deepEqual(again.metrics, r.metrics);
    assert.equal(again.metrics!.test['test.temperature'], test['test.temperature']);
    assert.equal(readLog(join(dir, 'log.jsonl')).filter((l) => l.type === 'eval' && l.tag === 'final').length, 1);

    // The saved run is what `attune sync --model DIR` loads; a still picture must come out not synchronizable.
    const model = loadSyncModel(dir);
    assert.equal(model.window, 120);
    const clip = generateClip({ ...syncSynthConfig(synth), seed: 99 }, 0);
    const f = featuresFromClip(clip);
    const live = await modelSync(f, model);
    assert.equal(live.method, 'model');
    assert.equal(live.windows, 2);
    const still = await modelSync(
      { ...f, video: new Float32Array(f.video.length), motionOnset: new Float32Array(f.frames) },
      model,
    );
    assert.equal(still.synchronizable, false);
    assert.equal(still.offset, null);
    assert.ok(still.confidence <= still.synchronizability + 1e-9 && still.synchronizability < 0.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
