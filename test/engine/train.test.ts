import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostArray, HostArray } from '../../src/io/array.js';
import { Rng } from '../../src/util/rng.js';
import { constant } from '../../src/engine/ops/core.js';
import { init, ParamStore, Scope } from '../../src/engine/params.js';
import type { Graph } from '../../src/engine/graph.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { adamw } from '../../src/engine/optim.js';
import { compileTrainStep, Trainer } from '../../src/engine/train.js';

const dense = (p: Scope, name: string, x: Tensor, i: number, o: number) =>
  x.linear(p.scope(name).param('weight', [i, o], init.xavierUniform()), p.scope(name).param('bias', [o], init.zeros()));

async function fit(
  build: (g: Graph, p: Scope) => { loss: Tensor },
  batch: Record<string, HostArray>,
  steps: number,
  lr: number,
  worker = false,
) {
  const trainer = await Trainer.create(
    compileTrainStep(build, new ParamStore(1), { optimizer: adamw({ weightDecay: 0 }) }),
    { lr, worker, session: { threads: 1 } },
  );
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await trainer.trainStep(batch)).loss);
  await trainer.close();
  return losses;
}

test('a small MLP fits a toy classification task to near-zero loss with AdamW', async () => {
  // 64 points in 8-D, 4 classes given by a random linear teacher: separable, so the loss can reach ~0.
  const rng = new Rng(3);
  const [n, d, k] = [64, 8, 4];
  const x = Float32Array.from({ length: n * d }, () => rng.normal());
  const teacher = Array.from({ length: d * k }, () => rng.normal());
  const y = BigInt64Array.from({ length: n }, (_, i) => {
    let best = 0,
      bestV = -Infinity;
    for (let c = 0; c < k; c++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += x[i * d + j] * teacher[j * k + c];
      if (v > bestV) [best, bestV] = [c, v];
    }
    return BigInt(best);
  });
  const losses = await fit(
    (g, p) => {
      const h = dense(p, 'fc1', g.input('x', 'float32', [n, d]), d, 32).gelu();
      return { loss: dense(p, 'fc2', h, 32, k).crossEntropy(g.input('y', 'int64', [n])) };
    },
    { x: hostArray('float32', [n, d], x), y: hostArray('int64', [n], y) },
    300,
    1e-2,
  );
  assert.ok(losses[0] > 0.8, `starts high: ${losses[0]}`);
  assert.ok(losses.at(-1)! < 0.02, `ends near zero: ${losses.at(-1)}`);
});

test('a small attention model learns to copy the next token (needs attention across positions)', async () => {
  // Sequences of T tokens from V symbols; the target at position t is the token at t+1 (cyclic). Only
  // attention can move that information across positions; position embeddings tell it where to look.
  const [b, t, v, dm] = [32, 6, 5, 24];
  const rng = new Rng(5);
  const tokens = Array.from({ length: b * t }, () => rng.int(v));
  const onehot = new Float32Array(b * t * v);
  tokens.forEach((tok, i) => (onehot[i * v + tok] = 1));
  const target = BigInt64Array.from({ length: b * t }, (_, i) =>
    BigInt(tokens[Math.floor(i / t) * t + (((i % t) + 1) % t)]),
  );
  const losses = await fit(
    (g, p) => {
      const x = g.input('x', 'float32', [b, t, v]);
      const pos = p.param('pos', [t, dm], init.normal(0.5));
      const h = dense(p, 'embed', x, v, dm).add(pos); // [B, T, D]
      const n = h.layerNorm(p.param('ln.weight', [dm], init.ones()), p.param('ln.bias', [dm], init.zeros()));
      const q = dense(p, 'q', n, dm, dm),
        k = dense(p, 'k', n, dm, dm),
        val = dense(p, 'v', n, dm, dm);
      const att = q
        .matmul(k.mT)
        .mul(1 / Math.sqrt(dm))
        .softmax(-1); // [B, T, T]
      const y = h.add(dense(p, 'o', att.matmul(val), dm, dm)); // [B, T, D]
      const logits = dense(p, 'head', y, dm, v).reshape([b * t, v]);
      const labels = g.input('y', 'int64', [b * t]);
      return { loss: logits.crossEntropy(labels) };
    },
    { x: hostArray('float32', [b, t, v], onehot), y: hostArray('int64', [b * t], target) },
    400,
    1e-2,
  );
  assert.ok(losses[0] > 1.2, `starts near ln(5): ${losses[0]}`);
  assert.ok(losses.at(-1)! < 0.02, `ends near zero: ${losses.at(-1)}`);
});

test('metrics declared by the model come back with every step', async () => {
  const trainer = await Trainer.create(
    compileTrainStep((g, p) => {
      const x = g.input('x', 'float32', [4]);
      const w = p.param('w', [4], init.ones());
      const err = w.sub(x);
      return { loss: err.square().mean(), metrics: { max_abs_err: err.abs().max(), const_seven: constant(g, 7) } };
    }, new ParamStore(0)),
    { lr: 0.1, worker: false, session: { threads: 1 } },
  );
  const r = await trainer.trainStep({ x: hostArray('float32', [4], Float32Array.from([1, 2, 3, 5])) });
  assert.equal(r.metrics.max_abs_err, 4);
  assert.equal(r.metrics.const_seven, 7);
  await trainer.close();
});
