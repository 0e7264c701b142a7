import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, ParamStore, Scope, type Tensor } from '../../src/engine/index.js';
import { ShapeError } from '../../src/util/errors.js';
import * as nn from '../../src/nn/index.js';
import { bool, f32, maxDiff, randn, row, runOnce, vals } from './helpers.js';

const B = 2,
  T = 5,
  D = 8,
  H = 2;

test('linear / layerNorm / rmsNorm / mlp: shapes and values against JS', async () => {
  const store = new ParamStore(1);
  const x = randn([B, T, D], 2);
  const out = await runOnce(
    { x: { dtype: 'float32', shape: ['B', T, D] } },
    ({ x: xt }, p) => ({
      lin: nn.linear(p.scope('lin'), xt, 3),
      ln: nn.layerNorm(p.scope('ln'), xt),
      rms: nn.rmsNorm(p.scope('rms'), xt, { affine: false }),
      gelu: nn.mlp(p.scope('mlp'), xt, { hidden: 16 }),
      swiglu: nn.mlp(p.scope('swi'), xt, { hidden: 6, activation: 'swiglu', out: 4 }),
    }),
    { x },
    store,
  );
  assert.deepEqual(out.lin.shape, [B, T, 3]);
  assert.deepEqual(out.gelu.shape, [B, T, D]);
  assert.deepEqual(out.swiglu.shape, [B, T, 4]);
  const w = vals(store.get('lin.weight'));
  const xv = vals(x);
  const expected = [0, 1, 2].map((o) => xv.slice(0, D).reduce((s, v, k) => s + v * w[k * 3 + o], 0)); // bias is 0
  assert.ok(maxDiff(row(vals(out.lin), 0, 3), expected) < 1e-5);
  const r0 = xv.slice(0, D);
  const mu = r0.reduce((a, b) => a + b) / D;
  const sd = Math.sqrt(r0.reduce((a, b) => a + (b - mu) ** 2, 0) / D + 1e-5);
  assert.ok(
    maxDiff(
      row(vals(out.ln), 0, D),
      r0.map((v) => (v - mu) / sd),
    ) < 1e-4,
  );
  const rms = Math.sqrt(r0.reduce((a, b) => a + b * b, 0) / D + 1e-6);
  assert.ok(
    maxDiff(
      row(vals(out.rms), 0, D),
      r0.map((v) => v / rms),
    ) < 1e-5,
  );
  assert.ok(store.has('swi.fc3.weight') && !store.has('rms.scale'));
});

test('attention weights sum to 1 over keys and are exactly 0 at padded keys and under the causal mask', async () => {
  const valid = bool([B, T], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]); // item 1: last two keys are padding
  const out = await runOnce(
    { x: { dtype: 'float32', shape: [B, T, D] }, valid: { dtype: 'bool', shape: [B, T] } },
    ({ x, valid: v }, p, g) => {
      const mask = nn.combineMasks(nn.causalMask(g, T), nn.keyPaddingMask(v));
      const a = nn.selfAttention(p.scope('attn'), x, { heads: H }, { mask });
      return { out: a.out, w: a.weights };
    },
    { x: randn([B, T, D], 4), valid },
  );
  assert.deepEqual(out.out.shape, [B, T, D]);
  assert.deepEqual(out.w.shape, [B, H, T, T]);
  const w = vals(out.w);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++) {
        const r = row(w, (b * H + h) * T + i, T);
        assert.ok(Math.abs(r.reduce((a, c) => a + c) - 1) < 1e-5, 'row sums to 1');
        for (let j = 0; j < T; j++) {
          const masked = j > i || (b === 1 && j >= 3); // causal or padding (key 0 is always valid, so no row is all-masked)
          if (masked) assert.equal(r[j], 0, `w[${b},${h},${i},${j}] masked`);
          else assert.ok(r[j] > 0, `w[${b},${h},${i},${j}] allowed`);
        }
      }
});

/** Runs self-attention with a mask on x and on x with token `changed` perturbed; returns per-token output change. */
async function perturbation(mask: (g: Graph) => Tensor, changed: number): Promise<number[]> {
  const x = randn([1, T, D], 9);
  const y = f32(
    [1, T, D],
    vals(x).map((v, i) => (Math.floor(i / D) === changed ? v + 1 : v)),
  );
  const build = (inp: Record<string, Tensor>, p: Scope, g: Graph) => ({
    o: nn.selfAttention(p, inp.x, { heads: H }, { mask: mask(g) }).out,
  });
  const spec = { x: { dtype: 'float32' as const, shape: [1, T, D] } };
  const a = vals((await runOnce(spec, build, { x })).o);
  const b = vals((await runOnce(spec, build, { x: y })).o);
  return Array.from({ length: T }, (_, t) => maxDiff(row(a, t, D), row(b, t, D)));
}

test("causal 'past': changing a later token leaves earlier outputs unchanged; 'future' (FAVOR) the reverse", async () => {
  const past = await perturbation((g) => nn.causalMask(g, T), 3);
  assert.deepEqual(past.slice(0, 3), [0, 0, 0]);
  assert.ok(past[3] > 1e-3 && past[4] > 1e-3);
  const future = await perturbation((g) => nn.causalMask(g, T, { direction: 'future' }), 1);
  assert.deepEqual(future.slice(2), [0, 0, 0]);
  assert.ok(future[0] > 1e-3 && future[1] > 1e-3);
});

test('sliding window: a token outside the window does not change the output', async () => {
  const d = await perturbation((g) => nn.slidingWindowMask(g, T, { radius: 1 }), 0);
  assert.ok(d[0] > 1e-3 && d[1] > 1e-3);
  assert.deepEqual(d.slice(2), [0, 0, 0]);
});

test('multi-scale window mask: each head group attends within its own radius', async () => {
  const out = await runOnce(
    { x: { dtype: 'float32', shape: [1, 6, D] } },
    ({ x }, p, g) => ({
      w: nn.selfAttention(p, x, { heads: 4 }, { mask: nn.multiScaleWindowMask(g, 6, 4, [1, Infinity]) }).weights,
    }),
    { x: randn([1, 6, D], 3) },
  );
  const w = vals(out.w);
  for (let h = 0; h < 4; h++)
    for (let i = 0; i < 6; i++) {
      const r = row(w, h * 6 + i, 6);
      for (let j = 0; j < 6; j++) {
        if (h < 2 && Math.abs(i - j) > 1) assert.equal(r[j], 0, `head ${h} (radius 1) at ${i},${j}`);
        else assert.ok(r[j] > 0, `head ${h} at ${i},${j}`);
      }
    }
});

test('cross-attention shapes, qk-norm, learnable temperature and sinusoidal positions', async () => {
  const store = new ParamStore(5);
  const out = await runOnce(
    { a: { dtype: 'float32', shape: ['B', 7, D] }, v: { dtype: 'float32', shape: ['B', 3, 6] } },
    ({ a, v }, p, g) => {
      const r = nn.crossAttention(p.scope('x'), nn.addSinusoidal(a), v, {
        heads: 4,
        qkNorm: 'rms',
        learnableScale: true,
        outDim: 5,
      });
      return { out: r.out, w: r.weights, pe: nn.sinusoidalPositions(g, 3, 4) };
    },
    { a: randn([B, 7, D], 1), v: randn([B, 3, 6], 2) },
    store,
  );
  assert.deepEqual(out.out.shape, [B, 7, 5]);
  assert.deepEqual(out.w.shape, [B, 4, 7, 3]);
  assert.deepEqual(store.get('x.log_scale').shape, [4, 1, 1]);
  assert.ok(Math.abs(vals(store.get('x.log_scale'))[0] - Math.log(1 / Math.sqrt(2))) < 1e-6);
  assert.ok(store.has('x.q_norm.scale') && store.has('x.kv.weight'));
  const pe = vals(out.pe);
  const expect = [
    0,
    1,
    0,
    1,
    Math.sin(1),
    Math.cos(1),
    Math.sin(0.01),
    Math.cos(0.01),
    Math.sin(2),
    Math.cos(2),
    Math.sin(0.02),
    Math.cos(0.02),
  ];
  assert.ok(maxDiff(pe, expect) < 1e-6);
});

test('bad shapes and configs throw ShapeErrors naming the block and the tensors', () => {
  const g = new Graph();
  const p = new Scope(g, new ParamStore(1));
  const x = g.input('x', 'float32', [2, 5, 6]);
  assert.throws(
    () => nn.selfAttention(p, x, { heads: 4 }),
    (e: unknown) =>
      e instanceof ShapeError &&
      /multiHeadAttention: dim 6 must divide into heads=4/.test(e.message) &&
      /x \[2, 5, 6\]/.test(e.message),
  );
  assert.throws(() => nn.crossAttention(p, x, g.input('c', 'float32', [3, 4, 6]), { heads: 2 }), /batch sizes differ/);
  assert.throws(
    () => nn.infoNce(p, g.input('a', 'float32', ['B', 8]), g.input('b', 'float32', ['B', 8])),
    /infoNce: axis 0 .* must be static/,
  );
  assert.throws(
    () => nn.infoNce(p, x.slice([0], [1], [1]).squeeze([1]), g.input('e', 'float32', [2, 5])),
    /same B and D/,
  );
  assert.throws(
    () => nn.qFormerLayer(p, x, g.input('f', 'float32', [2, 7, 6]), { heads: 2, tokensPerFrame: 2 }),
    /whole number of frames/,
  );
  assert.throws(() => nn.slidingWindowMask(g, 3, { qPositions: [0, 1] }), /2 query \/ 3 key positions/);
  assert.throws(() => nn.multiScaleReconstructionLoss(x, x, { scales: [8] }), /scale 8 is longer than T = 5/);
});
