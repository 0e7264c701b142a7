import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, ParamStore, type Scope, type Tensor, constant } from '../../src/engine/index.js';
import { alignedPositions } from '../../src/timeline/timeline.js';
import * as nn from '../../src/nn/index.js';
import { f32, maxDiff, randn, row, runOnce, vals } from './helpers.js';

test("conv1d: 'same' keeps the length, 'causal' output t ignores inputs after t; channels-last form agrees", async () => {
  const x = randn([1, 3, 6], 1);
  const y = f32(
    [1, 3, 6],
    vals(x).map((v, i) => (i % 6 === 4 ? v + 1 : v)),
  ); // change time step 4 in every channel
  const build = (inp: Record<string, Tensor>, p: Scope) => ({
    same: nn.conv1d(p.scope('same'), inp.x, { out: 2, kernel: 3 }),
    causal: nn.conv1d(p.scope('causal'), inp.x, { out: 2, kernel: 3, padding: 'causal' }),
    time: nn.conv1dTime(p.scope('same'), inp.x.transpose([0, 2, 1]), { out: 2, kernel: 3 }),
  });
  const spec = { x: { dtype: 'float32' as const, shape: [1, 3, 6] } };
  const a = await runOnce(spec, build, { x });
  const b = await runOnce(spec, build, { x: y });
  assert.deepEqual(a.same.shape, [1, 2, 6]);
  assert.deepEqual(a.causal.shape, [1, 2, 6]);
  assert.deepEqual(a.time.shape, [1, 6, 2]);
  const t0 = vals(a.time);
  assert.ok(
    maxDiff(
      vals(a.same),
      [0, 1].flatMap((o) => [0, 1, 2, 3, 4, 5].map((t) => t0[t * 2 + o])),
    ) < 1e-6,
  );
  const ca = vals(a.causal),
    cb = vals(b.causal);
  for (const o of [0, 1]) {
    assert.equal(maxDiff(row(ca, o, 6).slice(0, 4), row(cb, o, 6).slice(0, 4)), 0);
    assert.ok(maxDiff(row(ca, o, 6).slice(4), row(cb, o, 6).slice(4)) > 1e-4);
  }
});

test('aligned RoPE: tokens at the same second get the same rotation (2 Hz video vs 50 Hz audio)', async () => {
  const video = nn.alignedRopePositions(4, 2, 50); // 0, 25, 50, 75
  assert.deepEqual(Array.from(video), [0, 25, 50, 75]);
  const audio = Array.from({ length: 100 }, (_, i) => i);
  const v = randn([1, 1, 1, 8], 3);
  const x = f32([1, 1, 4, 8], [...vals(v), ...vals(v), ...vals(v), ...vals(v)]); // the same vector at 4 video frames
  const y = f32([1, 1, 100, 8], Array.from({ length: 100 }, () => vals(v)).flat()); // and at every audio frame
  const out = await runOnce(
    { x: { dtype: 'float32', shape: [1, 1, 4, 8] }, y: { dtype: 'float32', shape: [1, 1, 100, 8] } },
    ({ x: xt, y: yt }, _p, g) => ({
      rx: nn.applyRope(xt, nn.ropeTable(g, video, 8)),
      ry: nn.applyRope(yt, nn.ropeTable(g, audio, 8)),
    }),
    { x, y },
  );
  const rx = vals(out.rx),
    ry = vals(out.ry);
  for (let f = 0; f < 4; f++)
    assert.ok(maxDiff(row(rx, f, 8), row(ry, 25 * f, 8)) < 1e-5, `video frame ${f} = audio frame ${25 * f}`);
  assert.ok(maxDiff(row(rx, 1, 8), row(ry, 24, 8)) > 1e-3, 'a different second rotates differently');
  assert.ok(maxDiff(row(rx, 0, 8), vals(v)) < 1e-6, 'position 0 is the identity');
  // norms are preserved
  const n = (r: number[]) => Math.hypot(...r);
  assert.ok(Math.abs(n(row(ry, 37, 8)) - n(vals(v))) < 1e-4);
});

test('adaLN-zero: ditBlock and jointBlock start as the identity; a non-zero modulation changes them', async () => {
  const store = new ParamStore(2);
  const spec = {
    x: { dtype: 'float32' as const, shape: [2, 4, 8] },
    c: { dtype: 'float32' as const, shape: [2, 6] },
    t: { dtype: 'float32' as const, shape: [2, 3, 8] },
  };
  const feeds = { x: randn([2, 4, 8], 1), c: randn([2, 6], 2), t: randn([2, 3, 8], 3) };
  const build = ({ x, c, t }: Record<string, Tensor>, p: Scope) => {
    const d = nn.ditBlock(p.scope('dit'), x, c, { heads: 2, qkNorm: 'rms' });
    const j = nn.jointBlock(
      p.scope('joint'),
      [x, t],
      [c, c],
      { heads: 2 },
      { rope: [nn.alignedRopePositions(4, 8, 8), undefined] },
    );
    const m = nn.adaLN(p.scope('ada'), x, c);
    return { dit: d.out, j0: j.outs[0], j1: j.outs[1], jw: j.weights, ada: m };
  };
  const out = await runOnce(spec, build, feeds, store);
  assert.equal(maxDiff(vals(out.dit), vals(feeds.x)), 0);
  assert.equal(maxDiff(vals(out.j0), vals(feeds.x)), 0);
  assert.equal(maxDiff(vals(out.j1), vals(feeds.t)), 0);
  assert.deepEqual(out.jw.shape, [2, 2, 7, 7]);
  assert.deepEqual(out.ada.shape, [2, 4, 8]);
  const w = store.get('dit.mod.weight');
  store.set(
    'dit.mod.weight',
    f32(
      w.shape,
      vals(w).map((_, i) => Math.sin(i) * 0.1),
    ),
  );
  const changed = await runOnce(spec, build, feeds, store);
  assert.ok(maxDiff(vals(changed.dit), vals(feeds.x)) > 1e-3);
});

test('Q-Former: output [B*windows, Q, D]; frame tokens follow the frame-block direction; padded windows masked', async () => {
  const B = 2,
    F = 5,
    n = 2,
    Df = 8,
    fpw = 2,
    Q = 3;
  const out = await runOnce(
    { x: { dtype: 'float32', shape: [B, F, n, Df] } },
    ({ x }, p) => {
      const w = nn.windowFrames(x, fpw); // 3 windows, the last half padding
      const r = nn.qFormer(
        p.scope('qf'),
        w.tokens,
        { heads: 2, tokensPerFrame: n, queries: Q, dim: 6, layers: 2 },
        w.mask,
      );
      return { out: r.out, fw: r.weights[0].frames, cw: r.weights[1].cross, div: nn.diversityLoss(r.out) };
    },
    { x: randn([B, F, n, Df], 4) },
  );
  assert.deepEqual(out.out.shape, [B * 3, Q, 6]);
  assert.deepEqual(out.fw.shape, [B * 3, 2, fpw * n, fpw * n]);
  const fw = vals(out.fw);
  const L = fpw * n;
  // window 0, head 0: tokens of frame 1 (rows 2, 3) see nothing of frame 0 ('future' = FAVOR's triu); frame 0 sees both
  for (const i of [2, 3]) assert.deepEqual(row(fw, i, L).slice(0, 2), [0, 0]);
  for (const i of [0, 1]) assert.ok(row(fw, i, L).every((v) => v > 0));
  // window 2 (index 2 of item 0) has frame 0 real and frame 1 padding: cross weights on padding are 0
  const cw = vals(out.cw);
  for (let q = 0; q < Q; q++) {
    const r = row(cw, (2 * 2 + 0) * Q + q, L);
    assert.deepEqual(r.slice(2), [0, 0]);
    assert.ok(Math.abs(r[0] + r[1] - 1) < 1e-5);
  }
  assert.ok(Number.isFinite(vals(out.div)[0]));
});

test('learned queries follow a symbolic or derived batch; fusion blocks keep shapes; gated fusion mixes a and b', async () => {
  const out = await runOnce(
    { a: { dtype: 'float32', shape: ['B', 3, 4] }, b: { dtype: 'float32', shape: ['B', 3, 4] } },
    ({ a, b }, p) => ({
      q: nn.learnedQueries(p.scope('q'), a.reshape([-1, 4]).reshape([-1, 2, 2]), 5, 4),
      gated: nn.gatedFusion(p.scope('g'), a, b),
      bil: nn.bilinearGatedFusion(p.scope('bil'), a, b, { rank: 6, out: 7 }),
      ml: nn.multiLevelFusion(p.scope('ml'), a, b),
      tb: nn.transformerBlock(p.scope('tb'), a, { heads: 2, activation: 'swiglu' }).out,
      mult: nn.crossModalBlock(p.scope('mult'), a, b.slice([0], [2], [1]), { heads: 2 }).weights,
    }),
    { a: randn([2, 3, 4], 1), b: randn([2, 3, 4], 2) },
  );
  assert.deepEqual(out.q.shape, [6, 5, 4]);
  assert.equal(maxDiff(row(vals(out.q), 0, 20), row(vals(out.q), 5, 20)), 0);
  assert.deepEqual(out.bil.shape, [2, 3, 7]);
  assert.deepEqual(out.ml.shape, [2, 3, 4]);
  assert.deepEqual(out.tb.shape, [2, 3, 4]);
  assert.deepEqual(out.mult.shape, [2, 2, 3, 2]);
  const a = vals(randn([2, 3, 4], 1)),
    b = vals(randn([2, 3, 4], 2)),
    g = vals(out.gated);
  g.forEach((v, i) => assert.ok(v >= Math.min(a[i], b[i]) - 1e-6 && v <= Math.max(a[i], b[i]) + 1e-6));
});

test('timestep embedding and masks: values', async () => {
  const out = await runOnce(
    { t: { dtype: 'float32', shape: [2] } },
    ({ t }, _p, g) => ({
      e: nn.timestepEmbedding(t, 4),
      fc: nn.frameCausalMask(g, 2, 2, 'past'),
      sw: nn.slidingWindowMask(g, 3, { before: 1, after: 0 }),
      al: nn.slidingWindowMask(g, 2, { qPositions: alignedPositions(2, 2, 4), kPositions: [0, 1, 2, 3], radius: 0.5 }),
      kp: nn.keyPaddingMask(nn.lengthsToValid(constant(g, [1, 3], 'int64', [2]), 3)),
    }),
    { t: f32([2], [0, 0.5]) },
  );
  assert.ok(maxDiff(vals(out.e), [1, 1, 0, 0, Math.cos(0.5), Math.cos(0.005), Math.sin(0.5), Math.sin(0.005)]) < 1e-6);
  const M = nn.MASK_VALUE;
  assert.deepEqual(vals(out.fc), [0, 0, M, M, 0, 0, M, M, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(vals(out.sw), [0, M, M, 0, 0, M, M, 0, 0]);
  assert.deepEqual(vals(out.al), [0, M, M, M, M, M, 0, M]); // 2 Hz frames at 4 Hz positions 0 and 2
  assert.deepEqual(out.kp.shape, [2, 1, 1, 3]);
  assert.deepEqual(vals(out.kp), [0, M, M, 0, 0, 0]);
  const g = new Graph();
  assert.equal(nn.causalMask(g, 6), nn.causalMask(g, 6), 'each structural mask is stored once per graph');
  assert.notEqual(nn.causalMask(g, 6), nn.causalMask(g, 6, { direction: 'future' }));
});
