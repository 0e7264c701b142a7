/** Stage 1 of FAVOR (the encoders pretrained per frame), the conv stem, and starting stage 2 from a stage-1 run. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Predictor } from '../../src/engine/export.js';
import { Graph, ParamStore, Scope } from '../../src/engine/index.js';
import { type HostArray, hostArray, toFloat32 } from '../../src/io/array.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { FRAME_SOUNDS, FRAME_VISUAL, avqaConfig, frameLabels } from '../../src/data/avqa/index.js';
import { type FavorConfig, favorTiny } from '../../src/models/favor/config.js';
import { type AvqaExamples, avBatch, frameLabelBatch } from '../../src/models/favor/data.js';
import { scoreFrames } from '../../src/models/favor/pretrain.js';
import { avInputs, encodeStreams } from '../../src/models/favor/model.js';
import { conv3x3, spaceToDepth2, stackNeighbours } from '../../src/models/favor/stem.js';
import { FavorModelSchema } from '../../src/models/favor/task.js';
import { Rng } from '../../src/util/rng.js';
import { randomClip, stageOneStep } from './favor_fixtures.js';

test('conv3x3 equals a direct 3x3 convolution with zero padding', async () => {
  const [n, h, w, c, out] = [2, 5, 4, 3, 2];
  const store = new ParamStore(1);
  const pred = await Predictor.create(
    (g, p) => ({ y: conv3x3(p.scope('c'), g.input('x', 'float32', [n, h, w, c]), out) }),
    store,
    { worker: false },
  );
  const rng = new Rng(2);
  const x = Float32Array.from({ length: n * h * w * c }, () => rng.normal());
  const y = toFloat32((await pred.run({ x: hostArray('float32', [n, h, w, c], x) })).y);
  const weight = toFloat32(store.get('c.weight')); // [9C, out], row (dy*3 + dx)*C + channel
  const bias = toFloat32(store.get('c.bias'));
  for (let i = 0; i < n; i++)
    for (let yy = 0; yy < h; yy++)
      for (let xx = 0; xx < w; xx++)
        for (let o = 0; o < out; o++) {
          let acc = bias[o];
          for (let dy = 0; dy < 3; dy++)
            for (let dx = 0; dx < 3; dx++) {
              const [sy, sx] = [yy + dy - 1, xx + dx - 1];
              if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
              for (let k = 0; k < c; k++)
                acc += x[((i * h + sy) * w + sx) * c + k] * weight[((dy * 3 + dx) * c + k) * out + o];
            }
          const got = y[((i * h + yy) * w + xx) * out + o];
          assert.ok(Math.abs(got - acc) < 1e-4, `(${i},${yy},${xx},${o}): ${got} vs ${acc}`);
        }
  await pred.close();
});

const conv = (over: Partial<FavorConfig> = {}): FavorConfig => ({
  ...favorTiny(),
  visualStem: 'conv',
  stemDim: 4,
  patch: 16,
  window: 5,
  ...over,
});

test('the conv stem gives (32 / patch)^2 visual tokens per frame from 32 and 64 px frames, pooling early or late', () => {
  for (const [frameSize, stemPool] of [
    [32, 'early'],
    [64, 'early'],
    [32, 'late'],
  ] as const)
    for (const patch of [8, 16]) {
      const g = new Graph();
      const store = new ParamStore(0);
      const x = avInputs(g, 2, 7, frameSize);
      assert.deepEqual(x.video.shape, [2, 7, frameSize * frameSize * 3]);
      const s = encodeStreams(new Scope(g, store).scope('encoder'), x, conv({ patch, frameSize, stemPool }));
      assert.deepEqual(s.visual.shape, [2, 10, (32 / patch) ** 2, 16]); // padded to two windows of 5
      assert.deepEqual(s.audio.shape, [2, 10, 25, 16]);
      // 64 px frames enter as 32 x 32 cells of 2x2 pixels: the first convolution reads 9 cells x 12 values.
      assert.deepEqual(store.get('encoder.visual.stem.c1.weight').shape, [9 * (frameSize === 64 ? 12 : 3), 4]);
    }
});

test('a 64 px frame enters the stem as 32 x 32 cells holding its 2x2 pixel blocks (dy, dx, rgb)', async () => {
  const rng = new Rng(4);
  const frame = Float32Array.from({ length: 64 * 64 * 3 }, () => rng.uniform());
  const pred = await Predictor.create(
    (g) => ({ cells: spaceToDepth2(g.input('video', 'float32', [1, 1, 64 * 64 * 3]), 1, 64) }),
    new ParamStore(0),
    { worker: false },
  );
  const cells = toFloat32((await pred.run({ video: hostArray('float32', [1, 1, 64 * 64 * 3], frame) })).cells);
  await pred.close();
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++)
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++)
          for (let c = 0; c < 3; c++)
            assert.equal(
              cells[(y * 32 + x) * 12 + (dy * 2 + dx) * 3 + c],
              frame[((2 * y + dy) * 64 + 2 * x + dx) * 3 + c],
            );
});

test('stackNeighbours joins each frame with the k frames on either side, zeros beyond the clip', async () => {
  const [b, f, h, w, c, k] = [2, 4, 2, 3, 2, 2];
  const x = Float32Array.from({ length: b * f * h * w * c }, (_, i) => i + 1);
  const pred = await Predictor.create(
    (g) => ({ y: stackNeighbours(g.input('x', 'float32', [b * f, h, w, c]), b, f, k) }),
    new ParamStore(0),
    { worker: false },
  );
  const out = await pred.run({ x: hostArray('float32', [b * f, h, w, c], x) });
  await pred.close();
  assert.deepEqual(out.y.shape, [b * f, h, w, c * (2 * k + 1)]);
  const y = toFloat32(out.y);
  const cell = h * w * c;
  for (let i = 0; i < b; i++)
    for (let t = 0; t < f; t++)
      for (let pos = 0; pos < h * w; pos++)
        for (let d = -k; d <= k; d++)
          for (let ch = 0; ch < c; ch++) {
            const got = y[((i * f + t) * h * w + pos) * c * (2 * k + 1) + (d + k) * c + ch];
            const src = t + d;
            const want = src < 0 || src >= f ? 0 : x[(i * f + src) * cell + pos * c + ch];
            assert.equal(got, want, `clip ${i} frame ${t} offset ${d}`);
          }
});

test("frameContext widens only the conv stem's first layer; it needs the conv stem, and hitAux stage 1", () => {
  for (const [frameContext, frameSize] of [
    [1, 32],
    [2, 64],
  ] as const) {
    const g = new Graph();
    const store = new ParamStore(0);
    const s = encodeStreams(
      new Scope(g, store).scope('encoder'),
      avInputs(g, 2, 7, frameSize),
      conv({ frameContext, frameSize }),
    );
    assert.deepEqual(s.visual.shape, [2, 10, 4, 16]);
    const perFrame = frameSize === 64 ? 12 : 3;
    assert.deepEqual(store.get('encoder.visual.stem.c1.weight').shape, [9 * perFrame * (2 * frameContext + 1), 4]);
    assert.deepEqual(store.get('encoder.visual.stem.c2.weight').shape, [9 * 4, 8]);
  }
  const refused = (over: Record<string, unknown>, pattern: RegExp) => {
    const parsed = FavorModelSchema.safeParse({ ...conv(), ...over });
    assert.ok(!parsed.success && pattern.test(parsed.error.issues[0].message), JSON.stringify(over));
  };
  refused({ visualStem: 'patch', frameContext: 1 }, /frameContext needs visualStem conv/);
  refused({ hitAux: 1 }, /hitAux is a stage-1 head/);
  refused({ frameContext: 5 }, /less than or equal to 4/);
  assert.ok(FavorModelSchema.safeParse(conv({ stage: 'encoders', frameContext: 2, hitAux: 1 })).success);
});

test('frameSize 64 needs the conv stem, and a clip of the wrong size is refused by name', () => {
  const parsed = FavorModelSchema.safeParse({ ...conv({ frameSize: 64 }), visualStem: 'patch' });
  assert.ok(!parsed.success && /frameSize 64 needs visualStem conv/.test(parsed.error.issues[0].message));
  assert.ok(FavorModelSchema.safeParse(conv({ frameSize: 64 })).success);
  assert.throws(() => avBatch([randomClip(4, 1)], 4, 64), /4 frames holds 12288 values, not 4 x 64 px/);
});

const avqa = avqaConfig({ minDuration: 5, maxDuration: 5 });

const moved = (a: Record<string, HostArray>, b: Record<string, HostArray>, prefix: string): boolean =>
  Object.keys(a)
    .filter((k) => k.startsWith(prefix))
    .some((k) => toFloat32(a[k]).some((v, i) => v !== toFloat32(b[k])[i]));

test('stage 1 trains the encoders and the frame heads on the frame BCEs alone (32 and 64 px frames)', async () => {
  for (const frameSize of [32, 64] as const) {
    const { step, before, after } = await stageOneStep(conv({ frameSize }));
    assert.ok(Math.abs(step.loss - (step.metrics.frame_visual_bce + step.metrics.frame_audio_bce)) < 1e-4);
    for (const prefix of ['encoder.visual.stem.c1', 'encoder.visual.in', 'encoder.audio.', 'frame_aux.visual'])
      assert.ok(moved(before, after, prefix), `${frameSize} px: ${prefix}`);
    assert.ok(!Object.keys(after).some((k) => k.startsWith('encoder.qformer') || k.startsWith('lm.')));
  }
});

test("stage 1 with hitAux adds the hit head's BCE and trains it, over a stem that sees the neighbouring frames", async () => {
  const { step, before, after } = await stageOneStep(conv({ stage: 'encoders', frameContext: 1, hitAux: 0.5 }));
  const { frame_visual_bce: v, frame_audio_bce: a, frame_hit_bce: h } = step.metrics;
  assert.ok(h > 0 && Math.abs(step.loss - (v + a + 0.5 * h)) < 1e-4, JSON.stringify(step.metrics));
  assert.ok(step.metrics.frame_hit_none > 0 && step.metrics.frame_hit_none < 1, 'both kinds of frame in the batch');
  for (const prefix of ['frame_aux.hits', 'encoder.visual.stem.c1']) assert.ok(moved(before, after, prefix), prefix);
});

test('stage 2 starts from a stage-1 run, keeps frozen encoders fixed, and refuses a mismatched one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'favor-pretrain-'));
  try {
    const stage1 = conv({ stage: 'encoders' });
    const { after } = await stageOneStep(stage1);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: 'favor', model: stage1 }));
    saveSafetensors(join(dir, 'best.safetensors'), after);
    const store = new ParamStore(9); // another seed: every loaded value differs from this store's own init
    // The whole run is loaded (encoders and heads) and frozen; only a head it lacks (here the voice head) learns.
    await assert.rejects(stageOneStep(conv({ encoders: dir, freezeEncoders: true }), store), /nothing to train/);
    const frozen = conv({ encoders: dir, freezeEncoders: true, voiceAux: 1 });
    const { before: start, after: end } = await stageOneStep(frozen, new ParamStore(9));
    const value = (a: Record<string, HostArray>, k: string) => Array.from(toFloat32(a[k]));
    const theirs = (a: Record<string, HostArray>) => Object.keys(a).filter((k) => k in after);
    assert.ok(theirs(start).length > 10);
    for (const k of theirs(start)) assert.deepEqual(value(start, k), value(after, k), `${k} loaded`);
    for (const prefix of ['encoder.visual.', 'encoder.audio.', 'frame_aux.'])
      assert.ok(!moved(start, end, prefix), `${prefix} frozen`);
    assert.ok(moved(start, end, 'encoder.voice_head.'), 'the new head learns');
    const { before: free, after: trained } = await stageOneStep(conv({ encoders: dir }), new ParamStore(9));
    for (const k of theirs(free)) assert.deepEqual(value(free, k), value(after, k), `${k} loaded`);
    assert.ok(moved(free, trained, 'encoder.') && moved(free, trained, 'frame_aux.'), 'unfrozen: all of it trains');
    for (const [over, refusal] of [
      [{ stemDim: 8 }, /model\.stemDim is 4, this run's 8/],
      [{ frameContext: 2 }, /model\.frameContext is 0, this run's 2/],
    ] as const) {
      const g = new Graph();
      const start = () =>
        encodeStreams(
          new Scope(g, new ParamStore(0)).scope('encoder'),
          avInputs(g, 1, 5),
          conv({ encoders: dir, ...over }),
        );
      assert.throws(start, refusal);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scoreFrames: perfect logits score 1 on every part; "nothing anywhere" scores sound_acc = sound_silent', async () => {
  const questions = [0, 1, 2].map((index) => ({ index, audio: index === 2 ? { offset: 1 } : undefined }));
  const ex = {
    frames: 10,
    clip: () => randomClip(10, 1),
    labels: (q: { index: number; audio?: { offset: number } }) => frameLabels(avqa, q.index, q.audio ?? {}),
  } as unknown as AvqaExamples;
  const feedsOf = (perfect: boolean) => async (feeds: Record<string, HostArray>) => {
    const b = feeds.video.shape[0];
    const rows = questions.slice(0, b);
    while (rows.length < b) rows.push(rows[rows.length - 1]);
    const labels = frameLabelBatch(
      rows.map((q) => frameLabels(avqa, q.index, q.audio ?? {})),
      10,
    );
    const logit = (x: number) => (perfect ? 2 * x - 1 : -1);
    return {
      frame_visual: hostArray('float32', [b, 10, FRAME_VISUAL], toFloat32(labels.frame_visual).map(logit)),
      frame_audio: hostArray('float32', [b, 10, FRAME_SOUNDS], toFloat32(labels.frame_audio).map(logit)),
    };
  };
  const perfect = await scoreFrames(feedsOf(true), ex, questions as never, 4);
  for (const k of ['look_acc', 'color_acc', 'shape_acc', 'sound_acc', 'acc']) assert.equal(perfect[k], 1, k);
  assert.equal(perfect.frames, 30);
  const none = await scoreFrames(feedsOf(false), ex, questions as never, 2);
  assert.equal(none.sound_acc, none.sound_silent);
  assert.ok(none.sound_silent < 1 && none.color_acc === 0, JSON.stringify(none));
});

test('scoreFrames scores the hit head when the graph has one: perfect gives 1, "no hit" gives hit_none and recall 0', async () => {
  const questions = [0, 1, 2].map((index) => ({ index }));
  const labelsOf = (q: { index: number }) => frameLabels(avqa, q.index);
  const ex = { frames: 10, clip: () => randomClip(10, 1), labels: labelsOf } as unknown as AvqaExamples;
  const run = (logit: (x: number) => number) => async (feeds: Record<string, HostArray>) => {
    const b = feeds.video.shape[0];
    const rows = questions.slice(0, b);
    while (rows.length < b) rows.push(rows[rows.length - 1]);
    const labels = frameLabelBatch(rows.map(labelsOf), 10);
    const out = (name: string, n: number) => hostArray('float32', [b, 10, n], toFloat32(labels[name]).map(logit));
    return {
      frame_visual: out('frame_visual', FRAME_VISUAL),
      frame_audio: out('frame_audio', FRAME_SOUNDS),
      frame_hits: out('frame_hits', FRAME_VISUAL),
    };
  };
  const perfect = await scoreFrames(
    run((x) => 2 * x - 1),
    ex,
    questions as never,
    4, // one batch: the fake run answers with the batch's first questions' labels
  );
  for (const k of ['hit_acc', 'hit_precision', 'hit_recall', 'hit_f1', 'acc']) assert.equal(perfect[k], 1, k);
  assert.ok(perfect.hit_none > 0 && perfect.hit_none < 1, `${perfect.hit_none}`);
  const none = await scoreFrames(
    run(() => -1),
    ex,
    questions as never,
    2,
  );
  assert.equal(none.hit_acc, none.hit_none);
  assert.equal(none.hit_recall, 0);
  assert.equal(none.hit_f1, 0);
  assert.equal(none.acc, (none.color_acc + none.shape_acc + none.sound_acc + none.hit_acc) / 4);
});
