import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import type { Scope, Tensor } from '../../src/engine/index.js';
import type { HostArray } from '../../src/io/array.js';
import { Rng } from '../../src/util/rng.js';

/** Plain gradient descent driven from JS over a grad graph (the in-graph optimizers live in optim.ts). */
async function fit(
  store: E.ParamStore,
  g: E.Graph,
  loss: Tensor,
  feeds: Record<string, HostArray>,
  steps: number,
  lr: number,
): Promise<number[]> {
  const params = g.trainableParams();
  const grads = E.grad(loss, params);
  const outputs: Record<string, Tensor> = { loss };
  params.forEach((p, i) => (outputs[`grad:${p.name}`] = grads[i]));
  const session = await E.Session.create(g, outputs, { threads: 1 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const out = await session.run({ ...feeds, ...store.feeds(g) });
    losses.push(out.loss.data[0] as number);
    for (const p of params) {
      const w = store.get(p.name).data as Float32Array;
      const dw = out[`grad:${p.name}`].data as Float32Array;
      for (let i = 0; i < w.length; i++) w[i] -= lr * dw[i];
    }
  }
  await session.release();
  return losses;
}

function mlp(p: Scope, x: Tensor): Tensor {
  // x: [N, 2]
  const l1 = p.scope('fc1');
  const h = x
    .linear(l1.param('weight', [2, 32], E.init.kaimingUniform()), l1.param('bias', [32], E.init.zeros()))
    .gelu(); // [N, 32]
  const l2 = p.scope('fc2');
  return h.linear(l2.param('weight', [32, 4], E.init.xavierUniform()), l2.param('bias', [4], E.init.zeros())); // [N, 4]
}

test('a small MLP fits quadrant labels to near-zero loss with plain gradient descent', async () => {
  const rng = new Rng(1);
  const n = 32;
  const xs = Array.from({ length: 2 * n }, () => rng.range(-1, 1));
  const ys = Array.from({ length: n }, (_, i) => (xs[2 * i] > 0 ? 1 : 0) + (xs[2 * i + 1] > 0 ? 2 : 0));
  const store = new E.ParamStore(0);
  const g = new E.Graph();
  const x = g.input('x', 'float32', [n, 2]);
  const y = g.input('y', 'int64', [n]);
  const loss = mlp(new E.Scope(g, store), x).crossEntropy(y);
  const feeds: Record<string, HostArray> = {
    x: { dtype: 'float32', shape: [n, 2], data: Float32Array.from(xs) },
    y: { dtype: 'int64', shape: [n], data: BigInt64Array.from(ys.map(BigInt)) },
  };
  const losses = await fit(store, g, loss, feeds, 600, 1.0);
  assert.ok(losses[0] > 1, `initial loss ${losses[0]}`);
  assert.ok(losses[losses.length - 1] < 0.05, `final loss ${losses[losses.length - 1]}`);
});

/** One pre-LN self-attention block + head over token embeddings: tokens [B, T] -> logits [B, T, V]. */
function attentionModel(p: Scope, tokens: Tensor, V: number, T: number, D: number): Tensor {
  const emb = p.param('embed', [V, D], E.init.normal(0.5));
  const pos = p.param('pos', [T, D], E.init.normal(0.5));
  const h = emb.gather(tokens).add(pos); // [B, T, D]
  const a = p.scope('attn');
  const ln = h.layerNorm(a.param('ln.scale', [D], E.init.ones()), a.param('ln.bias', [D], E.init.zeros()));
  const proj = (name: string) => ln.matmul(a.param(`${name}.weight`, [D, D], E.init.xavierUniform()));
  const att = proj('q')
    .matmul(proj('k').mT)
    .mul(1 / Math.sqrt(D))
    .softmax(); // [B, T, T]
  const o = h.add(att.matmul(proj('v')).matmul(a.param('o.weight', [D, D], E.init.xavierUniform()))); // [B, T, D]
  const head = p.scope('head');
  return o
    .rmsNorm(head.param('norm', [D], E.init.ones()))
    .linear(head.param('weight', [D, V], E.init.xavierUniform()), head.param('bias', [V], E.init.zeros()));
}

test('a small attention model learns "copy the first token" to near-zero loss', async () => {
  const [B, T, V, D] = [16, 5, 6, 16];
  const rng = new Rng(2);
  const toks = Array.from({ length: B * T }, () => rng.int(V));
  const target = toks.map((_, i) => toks[Math.floor(i / T) * T]); // every position predicts its sequence's first token
  const store = new E.ParamStore(1);
  const g = new E.Graph();
  const tokens = g.input('tokens', 'int64', [B, T]);
  const labels = g.input('labels', 'int64', [B, T]);
  const loss = attentionModel(new E.Scope(g, store), tokens, V, T, D).crossEntropy(labels);
  const feeds: Record<string, HostArray> = {
    tokens: { dtype: 'int64', shape: [B, T], data: BigInt64Array.from(toks.map(BigInt)) },
    labels: { dtype: 'int64', shape: [B, T], data: BigInt64Array.from(target.map(BigInt)) },
  };
  const losses = await fit(store, g, loss, feeds, 400, 0.3);
  assert.ok(losses[0] > 1, `initial loss ${losses[0]}`);
  assert.ok(losses[losses.length - 1] < 0.05, `final loss ${losses[losses.length - 1]}`);
});
