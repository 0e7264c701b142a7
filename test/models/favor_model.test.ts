/** FAVOR model: shapes over window counts, masks (padding, causal direction), diversity loss, a training step. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, ParamStore, Scope, Session, type Tensor } from '../../src/engine/index.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';
import { type HostArray, hostArray, toFloat32 } from '../../src/io/array.js';
import { diversityLoss } from '../../src/nn/index.js';
import { type FavorConfig, favorTiny, FRAME_VALUES } from '../../src/models/favor/config.js';
import { avBatch } from '../../src/models/favor/data.js';
import { avInputs, avTokenWindows, favor, favorLoss, patchify } from '../../src/models/favor/model.js';
import { avqaStreams } from '../../src/data/avqa/index.js';
import { maskedDiversityLoss } from '../../src/models/favor/qformer.js';
import { randomClip } from './favor_fixtures.js';

const VOCAB = 30;
const LT = 6;
const cfg = (over: Partial<FavorConfig> = {}): FavorConfig => ({ ...favorTiny(), window: 5, ...over });

function textFeed(b: number, lt: number): HostArray {
  return hostArray(
    'int64',
    [b, lt],
    BigInt64Array.from({ length: b * lt }, (_, i) => BigInt((i * 7) % VOCAB)),
  );
}

/** Traces the model for `frames` padded frames and runs it on clips of the given lengths. */
async function run(
  c: FavorConfig,
  lengths: number[],
  frames: number,
  extra: (g: Graph, out: ReturnType<typeof favor>) => Record<string, Tensor> = () => ({}),
) {
  const g = new Graph();
  const store = new ParamStore(3);
  const x = avInputs(g, lengths.length, frames);
  const text = g.input('text', 'int64', [lengths.length, LT]);
  const out = favor(new Scope(g, store), x, text, VOCAB, c);
  const outputs: Record<string, Tensor> = { logits: out.logits, ...extra(g, out) };
  if (out.avAttention) outputs.av_attention = out.avAttention;
  const session = await Session.create(g, outputs, { threads: 1 });
  const feeds = {
    ...avBatch(
      lengths.map((n, i) => randomClip(n, i + 1)),
      frames,
    ),
    text: textFeed(lengths.length, LT),
    ...store.feeds(g),
  };
  const r = await session.run(feeds);
  await session.release();
  return { r, out, store };
}

test('shapes: AV tokens and logits for 1, 2 and 3 windows, frame and window sync, question-only', async () => {
  const rows: [string, Partial<FavorConfig>, number, number][] = [
    ['frame, 1 window', {}, 5, 1 * 4],
    ['frame, 3 windows', {}, 15, 3 * 4],
    ['window sync, 2 windows', { sync: 'window' }, 10, 2 * 2 * 4],
    ['no sync, 2 windows', { sync: 'none' }, 10, 2 * 2 * 4],
    ['question only', { questionOnly: true }, 10, 0],
    ['7 frames padded to 2 windows in the graph', {}, 7, 2 * 4],
  ];
  for (const [name, over, frames, m] of rows) {
    const c = cfg(over);
    const { r, out } = await run(c, [frames, 3], frames, (_g, o) =>
      o.av ? { av: o.av.tokens } : ({} as Record<string, Tensor>),
    );
    assert.deepEqual(r.logits.shape, [2, LT, VOCAB], name);
    if (m) assert.deepEqual(r.av.shape, [2, m, c.lmDim], name);
    else assert.equal(out.av, undefined, name);
    assert.equal(avTokenWindows(Math.ceil(frames / c.window), c).length, m, name);
  }
});

test("states: the LM's hidden state at each text position is what its vocabulary head reads", async () => {
  const c = cfg({});
  const { r, store } = await run(c, [10, 6], 10, (_g, o) => ({ states: o.states }));
  assert.deepEqual(r.states.shape, [2, LT, c.lmDim]);
  const states = toFloat32(r.states); // [2, LT, Dlm]
  const logits = toFloat32(r.logits); // [2, LT, V]
  const w = toFloat32(store.get('lm.head.weight')); // [Dlm, V]
  const bias = toFloat32(store.get('lm.head.bias')); // [V]
  for (let row = 0; row < 2 * LT; row++)
    for (let v = 0; v < VOCAB; v++) {
      let y = bias[v];
      for (let d = 0; d < c.lmDim; d++) y += states[row * c.lmDim + d] * w[d * VOCAB + v];
      assert.ok(
        Math.abs(y - logits[row * VOCAB + v]) < 1e-4,
        `row ${row} word ${v}: ${y} vs ${logits[row * VOCAB + v]}`,
      );
    }
});

test('padded frames get no Q-Former attention and padded windows none from the language model', async () => {
  const c = cfg();
  // clip 0 fills 3 windows; clip 1 has 7 frames: window 1 is half padding, window 2 all padding
  const { r } = await run(c, [15, 7], 15, (_g, o) => ({
    cross: o.av!.qformer[0].cross,
    frames: o.av!.qformer[0].frames,
  }));
  const s = 25; // slots per frame (max(Nv, 25))
  const cross = toFloat32(r.cross); // [B*W, H, Q, L]
  const [bw, h, q, l] = r.cross.shape;
  assert.deepEqual([bw, l], [6, 5 * s]);
  const frameOf = (win: number, j: number) => (win % 3) * 5 + Math.floor(j / s);
  let checked = 0;
  for (let n = 3; n < 6; n++)
    for (let i = 0; i < h * q; i++)
      for (let j = 0; j < l; j++) {
        const padded = frameOf(n, j) >= 7;
        if (padded && n !== 5) {
          assert.equal(cross[(n * h * q + i) * l + j], 0);
          checked++;
        }
      }
  assert.ok(checked > 0);
  const fw = toFloat32(r.frames); // [B*W, H, L, L]: window 4 = clip 1 frames 5-9, of which 7-9 are padding
  for (let k = 0; k < h; k++)
    for (let i = 0; i < 2 * s; i++) for (let j = 2 * s; j < l; j++) assert.equal(fw[((4 * h + k) * l + i) * l + j], 0);
  const att = toFloat32(r.av_attention); // [B, Lt, M], M = 3 windows * 4 queries
  const m = r.av_attention.shape[2];
  for (let t = 0; t < LT; t++) {
    for (let k = 8; k < 12; k++) assert.equal(att[(1 * LT + t) * m + k], 0, 'clip 1 window 2 is padding');
    assert.ok(att.slice((1 * LT + t) * m, (1 * LT + t) * m + 8).some((v) => v > 0));
  }
});

test("causal direction on the frame attention weights: 'past' sees earlier frames, 'future' later, 'none' all", async () => {
  const s = 25;
  for (const causal of ['past', 'future', 'none'] as const) {
    const c = cfg({ causal });
    const { r } = await run(c, [5], 5, (_g, o) => ({ frames: o.av!.qformer[0].frames }));
    const w = toFloat32(r.frames); // [1, H, L, L]
    const [, h, l] = r.frames.shape;
    let forbiddenMass = 0,
      allowedZero = 0;
    for (let k = 0; k < h; k++)
      for (let i = 0; i < l; i++)
        for (let j = 0; j < l; j++) {
          const [fi, fj] = [Math.floor(i / s), Math.floor(j / s)];
          const allowed = causal === 'none' || (causal === 'past' ? fj <= fi : fj >= fi);
          const v = w[(k * l + i) * l + j];
          if (!allowed) forbiddenMass += v;
          else if (v === 0) allowedZero++;
        }
    assert.equal(forbiddenMass, 0, causal);
    assert.equal(allowedZero, 0, causal);
  }
});

test('diversity loss: equals nn.diversityLoss with every window real, ignores padded windows, 0 for orthogonal queries', async () => {
  const g = new Graph();
  const q = g.input('q', 'float32', [3, 2, 2]);
  const valid = g.input('valid', 'float32', [3]);
  const session = await Session.create(
    g,
    { masked: maskedDiversityLoss(q, valid), plain: diversityLoss(q) },
    { threads: 1 },
  );
  // window 0: orthogonal (cos 0); window 1: parallel (cos 1); window 2: opposite (cos -1)
  const qv = hostArray('float32', [3, 2, 2], Float32Array.from([1, 0, 0, 2, 1, 1, 3, 3, 1, 0, -2, 0]));
  const all = await session.run({ q: qv, valid: hostArray('float32', [3], Float32Array.from([1, 1, 1])) });
  assert.ok(Math.abs(toFloat32(all.masked)[0] - toFloat32(all.plain)[0]) < 1e-6);
  assert.ok(Math.abs(toFloat32(all.masked)[0] - 0) < 1e-6); // (0 + 2 - 2) / (3 * 2)
  const some = await session.run({ q: qv, valid: hostArray('float32', [3], Float32Array.from([1, 1, 0])) });
  assert.ok(Math.abs(toFloat32(some.masked)[0] - 0.5) < 1e-6); // (0 + 2) / (2 * 2)
  await session.release();
});

test('one training step lowers the loss (answer cross-entropy + 0.01 diversity)', async () => {
  const c = cfg();
  const store = new ParamStore(5);
  const b = 2;
  const compiled = compileTrainStep(
    (g, p) => {
      const x = avInputs(g, b, 10);
      const text = g.input('text', 'int64', [b, LT]);
      const target = g.input('target', 'int64', [b, LT]);
      const mask = g.input('target_mask', 'float32', [b, LT]);
      return favorLoss(p, x, text, target, mask, VOCAB, c);
    },
    store,
    { optimizer: adamw({ weightDecay: 0 }) },
  );
  const trainer = await Trainer.create(compiled, { lr: 3e-3, worker: false, session: { threads: 1 } });
  const targets = BigInt64Array.from({ length: b * LT }, (_, i) => BigInt((i * 3) % VOCAB));
  const batch = {
    ...avBatch([randomClip(10, 1), randomClip(6, 2)], 10),
    text: textFeed(b, LT),
    target: hostArray('int64', [b, LT], targets),
    target_mask: hostArray('float32', [b, LT], new Float32Array(b * LT).fill(1)),
  };
  const first = await trainer.trainStep(batch);
  assert.ok(first.metrics.diversity !== undefined && Number.isFinite(first.metrics.diversity));
  const second = await trainer.trainStep(batch);
  assert.ok(second.loss < first.loss, `loss ${first.loss} -> ${second.loss}`);
  await trainer.close();
});

test('patches cut in the graph hold the same values as the AVQA streams rendered with that patch size', async () => {
  const whole = avqaStreams({ seed: 1, minDuration: 5, maxDuration: 5 }, 0, {}, { size: 32 });
  const patched = avqaStreams({ seed: 1, minDuration: 5, maxDuration: 5 }, 0, {}, { size: 32, patch: 8 });
  const g = new Graph();
  const x = g.input('video', 'float32', [1, 10, FRAME_VALUES]);
  const session = await Session.create(g, { p: patchify(x, 8) }, { threads: 1 });
  const r = await session.run({
    video: hostArray('float32', [1, 10, FRAME_VALUES], (whole.video.data as Float32Array).slice(0, 10 * FRAME_VALUES)),
  });
  assert.deepEqual(r.p.shape, [1, 10, 16, 192]);
  assert.deepEqual(
    Array.from(toFloat32(r.p)),
    Array.from((patched.video.data as Float32Array).slice(0, 10 * FRAME_VALUES)),
  );
  await session.release();
});
