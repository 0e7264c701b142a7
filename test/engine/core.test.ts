import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/proto.js';
import { ShapeError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import type { HostArray } from '../../src/io/array.js';

const f32 = (shape: number[], vals: number[]): HostArray => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(vals),
});
const vals = (a: HostArray): number[] => Array.from(a.data as ArrayLike<number>);
const f64 = (shape: number[], vals: number[]): HostArray => ({
  dtype: 'float64',
  shape,
  data: Float64Array.from(vals),
});

test('shape errors name the op, both shapes and the calling file:line', () => {
  const g = new E.Graph();
  const a = g.input('a', 'float32', [8, 16]);
  const b = g.input('b', 'float32', [15, 32]);
  assert.throws(
    () => a.matmul(b),
    (e: unknown) => {
      assert.ok(e instanceof ShapeError);
      assert.match(
        e.message,
        /^MatMul: inner dims differ \(16 vs 15\); shapes \[8, 16\] and \[15, 32\] at .*test[\\/]engine[\\/]core\.test\.(js|ts):\d+:\d+/,
      );
      assert.deepEqual(e.details.shapes, [
        [8, 16],
        [15, 32],
      ]);
      return true;
    },
  );
  assert.throws(() => a.add(g.input('c', 'float32', [3])), /Add: cannot broadcast dim 16 with 3/);
  assert.throws(() => a.add(g.input('d', 'float64', [16])), /Add: dtypes differ \(float32 vs float64\)/);
  assert.throws(() => a.reshape([5, -1]), /Reshape: cannot infer -1/);
  assert.throws(() => a.sum(2), /ReduceSum: axis 2 out of range for rank 2/);
  assert.throws(() => a.crossEntropy(g.input('y', 'float32', [8])), /CrossEntropy: labels must be int64/);
});

test('symbolic batch dim: one graph runs at several batch sizes', async () => {
  const g = new E.Graph();
  const x = g.input('x', 'float32', ['B', 3]);
  const y = x.reshape(['B', 3, 1]).mul(2).sum([1, 2]); // [B]
  assert.deepEqual(y.shape, ['B']);
  const s = await E.Session.create(g, { y });
  assert.deepEqual(vals((await s.run({ x: f32([1, 3], [1, 2, 3]) })).y), [12]);
  assert.deepEqual(vals((await s.run({ x: f32([2, 3], [1, 1, 1, 0, 0, 1]) })).y), [6, 2]);
  const g2 = new E.Graph();
  const z = g2.input('z', 'float32', ['B', 'T', 4]);
  const heads = z.reshape([-1, 4]).reshape(['B', 'T', 2, 2]).transpose([1, 0, 2, 3]).reshape(['T', -1]);
  assert.deepEqual(heads.shape, ['T', '(B*4)']);
  const tiled = g2.input('q', 'float32', [1, 5]).expand([heads.shape[1], 5]); // derived symbolic dim, read at run time
  assert.deepEqual(tiled.shape, ['(B*4)', 5]);
  const hs = await E.Session.create(g2, { heads, tiled });
  const hout = await hs.run({
    z: f32(
      [2, 3, 4],
      Array.from({ length: 24 }, (_, i) => i),
    ),
    q: f32([1, 5], [1, 2, 3, 4, 5]),
  });
  assert.deepEqual(hout.heads.shape, [3, 8]);
  assert.deepEqual(hout.tiled.shape, [8, 5]);
});

test('grad: multi-use accumulation, zeros for unrelated params, nothing through stop-gradient or int paths', async () => {
  const g = new E.Graph();
  const x = g.input('x', 'float64', [3]);
  const u = g.input('u', 'float64', [3]);
  const idx = x.mul(10).cast('int64').cast('float64'); // int path: no gradient
  const loss = x.mul(x).add(x.stopGradient().mul(x)).add(idx).sum(); // d/dx = 2x + x
  const [gx, gu] = E.grad(loss, [x, u]);
  const s = await E.Session.create(g, { gx, gu });
  const out = await s.run({ x: f64([3], [1, 2, 3]), u: f64([3], [0, 0, 0]) });
  assert.deepEqual(vals(out.gx), [3, 6, 9]);
  assert.deepEqual(vals(out.gu), [0, 0, 0]);
});

test('grad refuses ops without a rule and non-float targets instead of dropping gradients', () => {
  const g = new E.Graph();
  const x = g.input('x', 'float32', [1, 2, 6]);
  const w = g.input('w', 'float32', [2, 2, 3]);
  const i = g.input('i', 'int64', [3]);
  // ConvTranspose (emitted by Conv's rule) has no rule: a second-order gradient through it is refused, naming it
  const [dx] = E.grad(E.conv1d(x, w).square().sum(), [x]);
  assert.equal(dx.producer?.op, 'ConvTranspose');
  assert.throws(
    () => E.grad(dx.sum(), [w]),
    /no gradient rule for ConvTranspose \(traced at .*core\.test\.(js|ts):\d+:\d+\)/,
  );
  assert.doesNotThrow(() => E.grad(dx.stopGradient().sum().add(w.sum()), [w]));
  assert.throws(() => E.grad(x.sum(), [i]), /cannot differentiate with respect to int64/);
  // emit only takes the vocabulary's op names: a type error, and a run-time error for untyped callers
  const emitRound = () =>
    // @ts-expect-error 'Round' is not in the op vocabulary (src/engine/ops/vocab.ts)
    g.emit('Round', [x], {}, [{ dtype: 'float32', shape: [3] }]);
  assert.throws(emitRound, /Round is not in the engine's op vocabulary/);
});

test('grad throws, naming the op and its call site, when a rule leaves out a gradient an input needs', () => {
  const rules = E.gradRules as Record<string, E.Rule>;
  const keep = rules.Mul;
  rules.Mul = (n, dy) => [() => E.mul(dy, n.inputs[1]!)]; // forgets the second input
  try {
    const g = new E.Graph();
    const [a, b] = [g.input('a', 'float64', [2]), g.input('b', 'float64', [2])];
    const y = a.mul(b).sum();
    assert.doesNotThrow(() => E.grad(y, [a])); // b needs no gradient here
    assert.throws(
      () => E.grad(y, [b]),
      /grad: the Mul rule gives no gradient for input 1 \('b', float64\[2\]\), which needs one \(traced at .*core\.test\.(js|ts):\d+:\d+\)/,
    );
  } finally {
    rules.Mul = keep;
  }
});

test('ties: binary Max/Min and ReduceMax/ReduceMin split the gradient evenly among tied inputs', async () => {
  const g = new E.Graph();
  const a = g.input('a', 'float64', [4]);
  const b = g.input('b', 'float64', [4]);
  const m = g.input('m', 'float64', [2, 3]);
  const [ga, gb] = E.grad(E.maximum(a, b).add(E.minimum(a, b).mul(10)).sum(), [a, b]);
  const [gmax] = E.grad(m.max(1).sum(), [m]);
  const [gmin] = E.grad(E.min(m, 1).sum(), [m]);
  const s = await E.Session.create(g, { ga, gb, gmax, gmin });
  const out = await s.run({ a: f64([4], [1, 2, 3, 3]), b: f64([4], [2, 2, 1, 3]), m: f64([2, 3], [5, 5, 5, 1, 7, 1]) });
  assert.deepEqual(vals(out.ga), [10, 5.5, 1, 5.5]); // max: b, tie, a, tie; min: a, tie, b, tie
  assert.deepEqual(vals(out.gb), [1, 5.5, 10, 5.5]);
  assert.deepEqual(
    vals(out.gmax).map((v) => Math.round(v * 1e12) / 1e12),
    [0.333333333333, 0.333333333333, 0.333333333333, 0, 1, 0],
  );
  assert.deepEqual(
    vals(out.gmin).map((v) => Math.round(v * 1e12) / 1e12),
    [0.333333333333, 0.333333333333, 0.333333333333, 0.5, 0, 0.5],
  );
  await s.release();
});

test('valueAndGrad returns the value and gradients of each argument', async () => {
  const g = new E.Graph();
  const a = g.input('a', 'float64', [2]);
  const b = g.input('b', 'float64', [2]);
  const [v, [ga, gb]] = E.valueAndGrad((p, q) => p.mul(q).sum())(a, b);
  const out = await (await E.Session.create(g, { v, ga, gb })).run({ a: f64([2], [1, 2]), b: f64([2], [3, 4]) });
  assert.equal(out.v.data[0], 11);
  assert.deepEqual(vals(out.ga), [3, 4]);
  assert.deepEqual(vals(out.gb), [1, 2]);
});

test('params: named tree, seeded order-independent init, sharing, freezing and counts', () => {
  const mk = (order: string[]) => {
    const store = new E.ParamStore(3);
    const p = new E.Scope(new E.Graph(), store);
    for (const n of order) p.scope('enc').scope(n).param('weight', [4, 5], E.init.xavierUniform());
    return store;
  };
  const s1 = mk(['block0', 'block1']);
  const s2 = mk(['block1', 'block0']);
  assert.deepEqual(s1.names(), ['enc.block0.weight', 'enc.block1.weight']);
  assert.deepEqual(s1.get('enc.block1.weight').data, s2.get('enc.block1.weight').data);
  assert.notDeepEqual(s1.get('enc.block0.weight').data, s1.get('enc.block1.weight').data);
  const bound = Math.sqrt(6 / 9);
  assert.ok(Array.from(s1.get('enc.block0.weight').data as Float32Array).every((v) => Math.abs(v) <= bound));
  const store = new E.ParamStore(0);
  const g = new E.Graph();
  const p = new E.Scope(g, store);
  const w = p.param('w', [2, 2], E.init.ones());
  assert.equal(p.param('w', [2, 2], E.init.zeros()), w, 'same name -> same tensor');
  p.scope('head').param('b', [3], E.init.zeros(), { trainable: false });
  store.freeze('enc');
  p.scope('enc').param('k', [10], E.init.normal(1));
  assert.deepEqual(
    g.trainableParams().map((t) => t.name),
    ['w'],
  );
  assert.equal(store.count(), 17);
  assert.equal(store.count({ trainable: true }), 4);
  assert.throws(() => p.param('w', [3, 2], E.init.ones()), /parameter 'w'/);
  const normals = Array.from(store.get('enc.k').data as Float32Array);
  assert.ok(normals.some((v) => v !== normals[0]));
});

test('kaiming and xavier scales follow fan-in/fan-out', () => {
  const store = new E.ParamStore(1);
  const a = store.ensure('a', [400, 300], E.init.kaimingNormal());
  const d = Array.from(a.data as Float32Array);
  const std = Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length);
  assert.ok(Math.abs(std - Math.sqrt(2 / 400)) < 0.002, `std ${std}`);
  assert.deepEqual(E.fans([8, 4, 3]), [12, 24]);
});

test('dropout masks come from graph.randomInputs, change per step and repeat with the same rng state', async () => {
  const g = new E.Graph();
  const x = g.input('x', 'float32', [1000]);
  const y = x.dropout(0.25);
  assert.equal(g.randomInputs.length, 1);
  assert.equal(g.randomInputs[0].p, 0.25);
  const s = await E.Session.create(g, { y });
  const ones = f32([1000], new Array(1000).fill(1));
  const rng = new Rng(5);
  const state = rng.getState();
  const a = Array.from((await s.run({ x: ones }, { rng })).y.data as Float32Array);
  const b = Array.from((await s.run({ x: ones }, { rng })).y.data as Float32Array);
  assert.notDeepEqual(a, b);
  rng.setState(state);
  assert.deepEqual(Array.from((await s.run({ x: ones }, { rng })).y.data as Float32Array), a);
  // the one sampler: the same masks the Trainer's runner and the gradient checks draw from this seed
  assert.deepEqual(
    a,
    Array.from(E.drawRandomFeeds(g.randomInputs, new Rng(5))[g.randomInputs[0].name].data as Float32Array),
  );
  const kept = a.filter((v) => v > 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6));
  assert.ok(Math.abs(kept.length / 1000 - 0.75) < 0.05);
  await assert.rejects(s.run({ x: ones }), /random inputs/);
});

test('export: dead nodes dropped, no Identity/StopGradient left, baked params become initializers', async () => {
  const store = new E.ParamStore(0);
  const g = new E.Graph();
  const x = g.input('x', 'float32', ['B', 2]);
  const p = new E.Scope(g, store);
  const w = p.param('w', [2, 2], E.init.ones());
  const y = x.matmul(w.stopGradient()).relu();
  E.grad(y.sum(), [w]); // unused gradient nodes
  const model = E.toModelProto(g, { y }, { bake: store });
  assert.deepEqual(
    model.graph.node.map((n) => n.opType),
    ['MatMul', 'Relu'],
  );
  assert.deepEqual(
    model.graph.input.map((i) => i.name),
    ['x'],
  );
  assert.ok(model.graph.initializer?.some((t) => t.name === 'w'));
  const bytes = encodeModel(model);
  assert.equal(decodeModel(bytes).graph.output[0].name, 'y');
  const s = await E.Session.fromBytes(bytes);
  assert.deepEqual(vals((await s.run({ x: f32([1, 2], [1, -3]) })).y), [0, 0]);
  assert.deepEqual(vals((await s.run({ x: f32([1, 2], [1, 3]) })).y), [4, 4]);
});

test('an output may be an input, a constant or the same tensor twice', async () => {
  const g = new E.Graph();
  const x = g.input('x', 'float32', [2]);
  const y = x.add(1);
  const s = await E.Session.create(g, { a: y, b: y, c: x, d: E.scalar(g, 7, 'float32') });
  const out = await s.run({ x: f32([2], [1, 2]) });
  assert.deepEqual(vals(out.a), [2, 3]);
  assert.deepEqual(vals(out.b), [2, 3]);
  assert.deepEqual(vals(out.c), [1, 2]);
  assert.equal(out.d.data[0], 7);
});

test('argmax and stack', async () => {
  const g = new E.Graph();
  const x = g.input('x', 'float32', [2, 3]);
  const s = await E.Session.create(g, { i: x.argmax(-1), st: E.stack([x, x.neg()], 1) });
  const out = await s.run({ x: f32([2, 3], [1, 5, 2, 7, 0, 3]) });
  assert.equal(out.i.dtype, 'int64');
  assert.deepEqual(Array.from(out.i.data as BigInt64Array), [1n, 0n]);
  assert.deepEqual(out.st.shape, [2, 2, 3]);
  assert.deepEqual(vals(out.st), [1, 5, 2, -1, -5, -2, 7, 0, 3, -7, -0, -3]);
});

test('finite check, comparisons and cast for optimizer guards', async () => {
  const g = new E.Graph();
  const x = g.input('x', 'float32', [4]);
  const ok = x.isFinite().cast('float32');
  const allFinite = x.isFinite().cast('float32').sum().eq(4);
  const s = await E.Session.create(g, { ok, allFinite });
  const out = await s.run({ x: f32([4], [1, NaN, Infinity, -2]) });
  assert.deepEqual(vals(out.ok), [1, 0, 0, 1]);
  assert.equal(out.allFinite.data[0], 0);
});

test('gradients of a graph with a symbolic batch dim match the static graph at two batch sizes', async () => {
  const build = (g: E.Graph, b: number | string) => {
    const x = g.input('x', 'float64', [b, 3]);
    const w = g.input('w', 'float64', [3, 2]);
    const h = x.matmul(w).tanh().reshape([b, 1, 2]).expand([b, 4, 2]).mean([0, 1]); // [2], mean over the symbolic dim
    const loss = h
      .mul(h)
      .sum()
      .add(x.reshape([-1]).max());
    const [gw, gx] = E.grad(loss, [w, x]);
    return { loss, gw, gx };
  };
  const gs = new E.Graph();
  const sym = await E.Session.create(gs, build(gs, 'B'));
  for (const b of [2, 5]) {
    const gst = new E.Graph();
    const stat = await E.Session.create(gst, build(gst, b));
    const feeds = {
      x: f64(
        [b, 3],
        Array.from({ length: 3 * b }, (_, i) => Math.sin(i + 1)),
      ),
      w: f64([3, 2], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]),
    };
    const [a, s] = [await sym.run(feeds), await stat.run(feeds)];
    for (const k of ['loss', 'gw', 'gx']) {
      assert.deepEqual(a[k].shape, s[k].shape);
      vals(a[k]).forEach((v, i) => assert.ok(Math.abs(v - vals(s[k])[i]) < 1e-12, `${k}[${i}] at B=${b}`));
    }
  }
});

test('dropout gradient is the same mask that scaled the forward pass', async () => {
  const g = new E.Graph();
  const x = g.input('x', 'float32', [64]);
  const y = x.dropout(0.5);
  const [gx] = E.grad(y.sum(), [x]);
  const s = await E.Session.create(g, { y, gx });
  const out = await s.run({ x: f32([64], new Array(64).fill(1)) }, { rng: new Rng(3) });
  assert.deepEqual(vals(out.gx), vals(out.y)); // x = 1, so y is the mask itself
  assert.ok(vals(out.gx).some((v) => v === 0) && vals(out.gx).some((v) => v === 2));
});

test('native Conv gradient rule (ConvTranspose + im2col GEMM) matches the float64-checked lowered conv1d', async () => {
  const geometries: [number[], number[], E.Conv1dOptions][] = [
    [[2, 3, 10], [4, 3, 3], { padding: 1 }],
    [[2, 2, 11], [3, 2, 2], { stride: 3, dilation: 2, padding: [2, 0] }],
    [[1, 2, 8], [2, 2, 3], { stride: 2 }],
  ];
  for (const [xs, ws, opts] of geometries) {
    const results: Record<string, HostArray>[] = [];
    for (const lowered of [false, true]) {
      const g = new E.Graph();
      const x = g.input('x', 'float32', xs);
      const w = g.input('w', 'float32', ws);
      const b = g.input('b', 'float32', [ws[0]]);
      const y = E.conv1d(x, w, b, { ...opts, lowered });
      assert.equal(
        g.nodes.some((n) => n.op === 'Conv'),
        !lowered,
      );
      const loss = y.mul(y.stopGradient().sin()).sum();
      const [gx, gw, gb] = E.grad(loss, [x, w, b]);
      const s = await E.Session.create(g, { y, gx, gw, gb });
      const r = new Rng(1);
      const rand = (shape: number[]) =>
        f32(
          shape,
          Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => r.normal()),
        );
      results.push(await s.run({ x: rand(xs), w: rand(ws), b: rand([ws[0]]) }));
    }
    for (const k of ['y', 'gx', 'gw', 'gb']) {
      assert.deepEqual(results[0][k].shape, results[1][k].shape, k);
      vals(results[0][k]).forEach((v, i) =>
        assert.ok(
          Math.abs(v - vals(results[1][k])[i]) < 1e-4 * (1 + Math.abs(v)),
          `${k}[${i}] ${JSON.stringify(opts)}`,
        ),
      );
    }
  }
});

test('trace-time simplification: transpose/reshape chains collapse, identities vanish', () => {
  const g = new E.Graph();
  const x = g.input('x', 'float32', [2, 3, 4]);
  assert.equal(x.transpose([1, 0, 2]).transpose([1, 0, 2]), x);
  const t = x.transpose([2, 0, 1]).transpose([0, 2, 1]);
  assert.deepEqual(t.producer?.inputs[0], x);
  assert.deepEqual(t.shape, [4, 3, 2]);
  assert.equal(x.reshape([6, 4]).reshape([2, 3, 4]), x);
  assert.equal(x.reshape([24]).reshape([4, 6]).producer?.inputs[0], x);
  assert.equal(x.expand([2, 3, 4]), x);
  const before = g.nodes.length;
  assert.equal(x.sum([]), x);
  assert.equal(g.nodes.length, before);
});
