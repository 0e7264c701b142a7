import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParamStore } from '../../src/engine/index.js';
import * as nn from '../../src/nn/index.js';
import { Rng } from '../../src/util/rng.js';
import { bool, f32, i64, randn, runOnce, vals } from './helpers.js';

type M = number[][];
const mat = (a: number[], r: number, c: number): M => Array.from({ length: r }, (_, i) => a.slice(i * c, (i + 1) * c));
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));
const cos = (a: number[], b: number[]) => dot(a, b) / Math.max(norm(a), 1e-12) / Math.max(norm(b), 1e-12);
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const lse = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0));
};
const close = (got: number, want: number, tol = 1e-5) =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${got} vs ${want}`);
const scalarOf = (o: Record<string, import('../../src/io/array.js').HostArray>, k: string) => vals(o[k])[0];

const B = 4,
  D = 5;
const A = randn([B, D], 11),
  Bv = randn([B, D], 12);
const a = mat(vals(A), B, D),
  b = mat(vals(Bv), B, D);
const C = a.map((ai) => b.map((bj) => cos(ai, bj))); // [B, B] cosines

function jsInfoNce(scale: number, beta = 0): number {
  const dir = (S: M) =>
    mean(
      S.map((r, i) => {
        const logits = r.map((c, j) => {
          if (j === i) return scale * c;
          const negs = r.filter((_, k) => k !== i);
          return scale * c + beta * c - Math.log(mean(negs.map((v) => Math.exp(beta * v))));
        });
        return lse(logits) - logits[i];
      }),
    );
  const T = C.map((_, i) => C.map((r) => r[i]));
  return (dir(C) + dir(T)) / 2;
}

test('infoNce: symmetric CLIP loss with logit scale exp(log(1/0.07)), clamped at 100; hard-negative NCE both modes', async () => {
  const store = new ParamStore(1);
  const spec = { a: { dtype: 'float32' as const, shape: [B, D] }, b: { dtype: 'float32' as const, shape: [B, D] } };
  const out = await runOnce(
    spec,
    (x, p) => {
      const r = nn.infoNce(p.scope('clip'), x.a, x.b);
      return {
        loss: r.loss,
        scale: r.scale,
        fixed: nn.infoNce(p, x.a, x.b, { learnable: false, init: 0 }).loss,
        hard: nn.nceHardNegatives(p.scope('hn'), x.a, x.b, { beta: 2 }).loss,
        hard0: nn.nceHardNegatives(p.scope('hn0'), x.a, x.b, { beta: 0 }).loss,
        vse: nn.nceHardNegatives(p, x.a, x.b, { mode: 'hardest', margin: 0.2 }).loss,
      };
    },
    { a: A, b: Bv },
    store,
  );
  close(scalarOf(out, 'scale'), 1 / 0.07);
  close(vals(store.get('clip.logit_scale'))[0], Math.log(1 / 0.07));
  close(scalarOf(out, 'loss'), jsInfoNce(1 / 0.07), 1e-4);
  close(scalarOf(out, 'fixed'), jsInfoNce(1));
  close(scalarOf(out, 'hard0'), jsInfoNce(1 / 0.07), 1e-4);
  close(scalarOf(out, 'hard'), jsInfoNce(1 / 0.07, 2), 1e-4);
  assert.ok(Math.abs(scalarOf(out, 'hard') - scalarOf(out, 'hard0')) > 1e-3, 'beta changes the loss');
  const hinge = (S: M) => mean(S.map((r, i) => Math.max(0, 0.2 - r[i] + Math.max(...r.filter((_, j) => j !== i)))));
  close(scalarOf(out, 'vse'), (hinge(C) + hinge(C.map((_, i) => C.map((r) => r[i])))) / 2);
  // the clamp: a log scale past log(100) gives exactly 100
  store.set('clip.logit_scale', f32([], [9]));
  const clamped = await runOnce(
    spec,
    (x, p) => ({ scale: nn.infoNce(p.scope('clip'), x.a, x.b).scale }),
    { a: A, b: Bv },
    store,
  );
  close(scalarOf(clamped, 'scale'), 100, 1e-5);
});

test('FAVOR diversity loss, attention entropy and attention-entropy diversity against JS', async () => {
  const N = 2,
    Q = 3;
  const q = randn([N, Q, D], 5);
  const w = f32(
    [2, 3, 4],
    [
      1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, /* collapsed: */ 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25,
      0.25, 0.25,
    ],
  );
  const out = await runOnce(
    { q: { dtype: 'float32', shape: [N, Q, D] }, w: { dtype: 'float32', shape: [2, 3, 4] } },
    (x) => ({
      div: nn.diversityLoss(x.q),
      ent: nn.attentionEntropy(x.w),
      adiv: nn.attentionDiversityLoss(x.w),
    }),
    { q, w },
  );
  const qs = mat(vals(q), N * Q, D);
  let s = 0;
  for (let n = 0; n < N; n++)
    for (let i = 0; i < Q; i++)
      for (let j = 0; j < Q; j++) {
        if (i !== j) s += dot(qs[n * Q + i], qs[n * Q + j]) / (norm(qs[n * Q + i]) * norm(qs[n * Q + j]) + 1e-9);
      }
  close(scalarOf(out, 'div'), s / (N * (Q * Q - Q)));
  close(scalarOf(out, 'ent'), Math.log(4) / 2, 1e-5); // three one-hot rows (0) and three uniform rows (log 4)
  // one-hot rows on distinct keys: 0 - H([1/3,1/3,1/3,0]) = -log 3; identical uniform rows: log4 - log4 = 0
  close(scalarOf(out, 'adiv'), -Math.log(3) / 2, 1e-5);
});

test('temporal smoothness (first and second order), variance, covariance and uniformity against JS', async () => {
  const T = 6;
  const x = randn([2, T, 3], 8);
  const e = randn([B, D], 9);
  const out = await runOnce(
    { x: { dtype: 'float32', shape: [2, T, 3] }, e: { dtype: 'float32', shape: [B, D] } },
    (i) => ({
      s1: nn.temporalSmoothnessLoss(i.x),
      s12: nn.temporalSmoothnessLoss(i.x, { first: 0.5, second: 2 }),
      v: nn.varianceLoss(i.e),
      c: nn.covarianceLoss(i.e),
      u: nn.uniformityLoss(nn.l2Normalize(i.e)),
      ac: nn.antiCollapseLoss(i.e, { variance: 1, covariance: 0.5, uniformity: 0.1 }),
      al: nn.alignUniformAlignLoss(nn.l2Normalize(i.e), nn.l2Normalize(i.e.mul(2))),
    }),
    { x, e },
  );
  const xv = vals(x);
  const at = (bb: number, t: number, d: number) => xv[(bb * T + t) * 3 + d];
  const d1: number[] = [],
    d2: number[] = [];
  for (let bb = 0; bb < 2; bb++)
    for (let d = 0; d < 3; d++) {
      for (let t = 0; t + 1 < T; t++) d1.push((at(bb, t + 1, d) - at(bb, t, d)) ** 2);
      for (let t = 1; t + 1 < T; t++) d2.push((at(bb, t + 1, d) - 2 * at(bb, t, d) + at(bb, t - 1, d)) ** 2);
    }
  close(scalarOf(out, 's1'), mean(d1));
  close(scalarOf(out, 's12'), 0.5 * mean(d1) + 2 * mean(d2));
  const E = mat(vals(e), B, D);
  const mu = Array.from({ length: D }, (_, d) => mean(E.map((r) => r[d])));
  const cov = mu.map((_, i) => mu.map((__, j) => E.reduce((s, r) => s + (r[i] - mu[i]) * (r[j] - mu[j]), 0) / (B - 1)));
  const vLoss = mean(mu.map((_, d) => Math.max(0, 1 - Math.sqrt(cov[d][d] + 1e-4))));
  close(scalarOf(out, 'v'), vLoss);
  let off = 0;
  cov.forEach((r, i) =>
    r.forEach((v, j) => {
      if (i !== j) off += v * v;
    }),
  );
  close(scalarOf(out, 'c'), off / D);
  const En = E.map((r) => r.map((v) => v / norm(r)));
  const pairs: number[] = [];
  for (let i = 0; i < B; i++)
    for (let j = i + 1; j < B; j++) pairs.push(Math.exp(-2 * En[i].reduce((s, v, k) => s + (v - En[j][k]) ** 2, 0)));
  const uLoss = Math.log(mean(pairs));
  close(scalarOf(out, 'u'), uLoss, 1e-4);
  close(scalarOf(out, 'ac'), vLoss + (0.5 * off) / D + 0.1 * uLoss, 1e-4);
  close(scalarOf(out, 'al'), 0, 1e-6); // x and 2x normalize to the same point
});

test('multi-scale reconstruction, alignment (masked), BCE, label-smoothed masked cross-entropy, flow matching against JS', async () => {
  const T = 5,
    Dd = 2;
  const p = randn([1, T, Dd], 1),
    y = randn([1, T, Dd], 2);
  const logits = randn([2, 3], 3);
  const labels = i64([2], [2, 0]);
  const x0 = randn([2, 3], 4),
    x1 = randn([2, 3], 5),
    v = randn([2, 3], 6);
  const out = await runOnce(
    {
      p: { dtype: 'float32', shape: [1, T, Dd] },
      y: { dtype: 'float32', shape: [1, T, Dd] },
      l: { dtype: 'float32', shape: [2, 3] },
      c: { dtype: 'int64', shape: [2] },
      m: { dtype: 'bool', shape: [2] },
      x0: { dtype: 'float32', shape: [2, 3] },
      x1: { dtype: 'float32', shape: [2, 3] },
      v: { dtype: 'float32', shape: [2, 3] },
      t: { dtype: 'float32', shape: [2] },
      fv: { dtype: 'bool', shape: [1, T] },
    },
    (i) => ({
      ms: nn.multiScaleReconstructionLoss(i.p, i.y, { scales: [1, 2], l1: 1, l2: 0.5, cosine: 2 }),
      al: nn.alignmentLoss(i.p, i.y, { valid: i.fv }),
      bce: nn.binaryCrossEntropyWithLogits(i.l, i.x1.sigmoid()),
      ce: nn.crossEntropyLoss(i.l, i.c, { labelSmoothing: 0.1, valid: i.m }),
      fm: nn.flowMatchingLoss(i.v, i.x0, i.x1),
      xt: nn.flowInterpolate(i.x0, i.x1, i.t),
    }),
    {
      p,
      y,
      l: logits,
      c: labels,
      m: bool([2], [0, 1]),
      x0,
      x1,
      v,
      t: f32([2], [0.25, 1]),
      fv: bool([1, T], [1, 1, 0, 1, 0]),
    },
  );
  const P = mat(vals(p), T, Dd),
    Y = mat(vals(y), T, Dd);
  const pool = (X: M, s: number) =>
    Array.from({ length: Math.floor(T / s) }, (_, k) =>
      [0, 1].map((d) => mean(X.slice(k * s, k * s + s).map((r) => r[d]))),
    );
  const scaleTerm = (s: number) => {
    const a = pool(P, s),
      c = pool(Y, s);
    const diffs = a.flatMap((r, k) => r.map((vv, d) => vv - c[k][d]));
    return (
      mean(diffs.map(Math.abs)) + 0.5 * mean(diffs.map((d) => d * d)) + 2 * mean(a.map((r, k) => 1 - cos(r, c[k])))
    );
  };
  close(scalarOf(out, 'ms'), (scaleTerm(1) + scaleTerm(2)) / 2);
  close(scalarOf(out, 'al'), mean([0, 1, 3].map((t) => 1 - cos(P[t], Y[t]))));
  const L = mat(vals(logits), 2, 3),
    X1 = vals(x1);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  close(
    scalarOf(out, 'bce'),
    mean(L.flat().map((z, k) => -(sig(X1[k]) * Math.log(sig(z)) + (1 - sig(X1[k])) * Math.log(1 - sig(z))))),
  );
  const logp = L[1].map((z) => z - lse(L[1]));
  close(scalarOf(out, 'ce'), 0.9 * -logp[0] + 0.1 * -mean(logp)); // item 0 masked out
  const X0 = vals(x0),
    V = vals(v);
  close(scalarOf(out, 'fm'), mean(V.map((vv, k) => (vv - (X1[k] - X0[k])) ** 2)));
  const xt = vals(out.xt);
  [0, 1, 2].forEach((k) => close(xt[k], 0.75 * X0[k] + 0.25 * X1[k]));
  [3, 4, 5].forEach((k) => close(xt[k], X1[k]));
  const ts = nn.sampleLogitNormal(new Rng(1), 1000);
  assert.ok(ts.every((t) => t > 0 && t < 1) && Math.abs(mean(Array.from(ts)) - 0.5) < 0.03);
});
