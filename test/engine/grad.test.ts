import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import type { Tensor } from '../../src/engine/index.js';
import { type CheckInput, type CheckOptions, gradcheck, traceCheck } from './gradcheck.js';

const away = (n: number, lo = 0.3): number[] =>
  Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1) * (lo + ((i * 0.37) % 1.1)));
const positive = (n: number): number[] => Array.from({ length: n }, (_, i) => 0.5 + ((i * 0.61) % 1.7));
const c = (x: Tensor, vals: number[], shape: number[], dtype: E.DType = 'float64'): Tensor =>
  E.constant(x.graph, vals, dtype, shape);

type Case = [string, (...xs: Tensor[]) => Tensor, CheckInput[], CheckOptions?];

const A = { shape: [3, 4] };
const cases: Case[] = [
  // elementwise, with broadcasting and multi-use
  ['Add broadcast [3,1]+[1,4]', (a, b) => a.add(b), [{ shape: [3, 1] }, { shape: [1, 4] }]],
  ['Add rank broadcast [2,3,4]+[4]', (a, b) => a.add(b), [{ shape: [2, 3, 4] }, { shape: [4] }]],
  ['Sub broadcast', (a, b) => a.sub(b), [{ shape: [2, 3] }, { shape: [3] }]],
  ['Mul broadcast', (a, b) => a.mul(b), [{ shape: [2, 1, 3] }, { shape: [4, 1] }]],
  ['Mul multi-use x*x+x', (a) => a.mul(a).add(a), [A]],
  ['Div broadcast', (a, b) => a.div(b), [{ shape: [2, 3] }, { shape: [1, 3], data: positive(3) }]],
  ['Pow both operands', (a, b) => a.pow(b), [{ shape: [2, 3], data: positive(6) }, { shape: [3] }]],
  ['Pow scalar exponent', (a) => a.pow(3), [A]],
  ['Pow at zero base (no 0/0)', (a) => a.pow(2), [{ shape: [3], data: [0, 1.5, -2] }]],
  ['Neg', (a) => a.neg(), [A]],
  ['Sqrt', (a) => a.sqrt(), [{ shape: [3, 4], data: positive(12) }]],
  ['Exp', (a) => a.exp(), [A]],
  ['Log', (a) => a.log(), [{ shape: [3, 4], data: positive(12) }]],
  ['Abs', (a) => a.abs(), [{ shape: [3, 4], data: away(12) }]],
  ['Tanh', (a) => a.tanh(), [A]],
  ['Sigmoid', (a) => a.sigmoid(), [A]],
  ['Erf (float32 kernel)', (a) => a.erf(), [A], { eps: 1e-3, rtol: 2e-3, atol: 2e-4 }],
  ['Sin', (a) => a.sin(), [A]],
  ['Cos', (a) => a.cos(), [A]],
  ['Relu', (a) => a.relu(), [{ shape: [3, 4], data: away(12) }]],
  ['Gelu (erf in float32)', (a) => a.gelu(), [A], { eps: 1e-3, rtol: 2e-3, atol: 2e-4 }],
  ['SiLU', (a) => a.silu(), [A]],
  ['Reciprocal', (a) => a.reciprocal(), [{ shape: [3, 4], data: positive(12) }]],
  ['Max/Min (clip)', (a) => a.clip(-0.2, 0.25), [{ shape: [3, 4], data: away(12, 0.05) }]],
  // exact ties: each input gets half, which is what central differences measure at a tie
  [
    'Max/Min ties (half the gradient each)',
    (a, b) => E.maximum(a, b).add(E.minimum(a, b).mul(3)),
    [
      { shape: [5], data: [1, 2, -0.5, 0.7, 3] },
      { shape: [5], data: [2, 2, -0.5, 0.1, 3] },
    ],
  ],
  ['Sum (addN, broadcast)', (a, b) => E.addN([a, b, a.mul(b)]), [{ shape: [2, 3] }, { shape: [3] }]],
  [
    'Sign, Floor (no gradient flows: piecewise constant)',
    (a) => E.sign(a).mul(a.square()).add(E.floor(a).mul(a)),
    [{ shape: [3, 4], data: away(12) }],
  ],
  [
    'comparisons and logic select branches',
    (a, b) => {
      const pick = E.or(E.and(a.lt(b), a.le(0.2)), E.not(a.ge(b.mul(0.5))));
      return E.where(pick, a.mul(b), a.sub(b)).add(E.where(E.floor(a).eq(0), a, a.mul(2)));
    },
    [
      { shape: [3, 4], data: away(12) },
      { shape: [4], data: [0.9, -0.4, 0.15, 1.3] },
    ],
  ],
  [
    'IsNaN/IsInf (isFinite) select',
    (a) => E.where(a.log().isFinite(), a.mul(3), a.neg()),
    [{ shape: [3, 4], data: away(12) }],
  ],
  [
    'Where mask broadcast',
    (a, b) => E.where(a.gt(0), a.mul(2), b),
    [{ shape: [3, 4], data: away(12) }, { shape: [4] }],
  ],
  [
    'Cast float->float (float32 rounding)',
    (a) => a.cast('float32').cast('float64').mul(a),
    [A],
    { rtol: 2e-3, atol: 1e-4, eps: 1e-3 },
  ],
  // matmul family
  ['MatMul 2-D', (a, b) => a.matmul(b), [{ shape: [3, 4] }, { shape: [4, 2] }]],
  ['MatMul batched', (a, b) => a.matmul(b), [{ shape: [2, 3, 4] }, { shape: [2, 4, 2] }]],
  ['MatMul broadcast batch + shared weight', (a, b) => a.matmul(b), [{ shape: [2, 3, 4] }, { shape: [4, 2] }]],
  ['MatMul broadcast batch dims', (a, b) => a.matmul(b), [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }]],
  ['MatMul vector operands', (a, b) => a.matmul(b), [{ shape: [4] }, { shape: [4, 3] }]],
  ['Linear (Gemm-style)', (x, w, b) => x.linear(w, b), [{ shape: [2, 3, 4] }, { shape: [4, 5] }, { shape: [5] }]],
  ['Gemm', (a, b) => E.gemm(a, b), [{ shape: [3, 4] }, { shape: [4, 2] }]],
  [
    'Gemm transA, alpha, C [N] (beta)',
    (a, b, c) => E.gemm(a, b, c, { transA: true, alpha: -1.5, beta: 0.5 }),
    [{ shape: [4, 3] }, { shape: [4, 2] }, { shape: [2] }],
  ],
  [
    'Gemm transB, C [M, 1]',
    (a, b, c) => E.gemm(a, b, c, { transB: true }),
    [{ shape: [3, 4] }, { shape: [2, 4] }, { shape: [3, 1] }],
  ],
  [
    'Gemm transA transB, alpha, C [M, N]',
    (a, b, c) => E.gemm(a, b, c, { transA: true, transB: true, alpha: 2, beta: -1 }),
    [{ shape: [4, 3] }, { shape: [2, 4] }, { shape: [3, 2] }],
  ],
  // reductions and normalization
  ['Softmax', (a) => a.softmax(-1), [{ shape: [2, 5] }]],
  ['Softmax axis 0', (a) => a.softmax(0), [{ shape: [3, 2] }]],
  ['LogSoftmax', (a) => a.logSoftmax(), [{ shape: [2, 5] }]],
  ['LogSumExp', (a) => a.logSumExp(0), [{ shape: [3, 4] }]],
  ['ReduceSum axes keepdims', (a) => a.sum([0, 2], true), [{ shape: [2, 3, 4] }]],
  ['ReduceSum all', (a) => a.sum(), [A]],
  ['ReduceMean', (a) => a.mean(1), [{ shape: [2, 3, 4] }]],
  ['ReduceMax', (a) => a.max(1), [A]],
  ['ReduceMax keepdims all', (a) => a.max(undefined, true), [A]],
  ['ReduceMax two-way ties (half each)', (a) => a.max(1), [{ shape: [2, 4], data: [3, 1, 3, 0.5, -1, -2, -3, -1] }]],
  ['ReduceMin', (a) => E.min(a, [0, 2]), [{ shape: [2, 3, 2] }]],
  [
    'ReduceMin two-way ties, keepdims',
    (a) => E.min(a, 1, { keepdims: true }),
    [{ shape: [2, 3], data: [0.5, 2, 0.5, 4, -1, 3] }],
  ],
  ['ReduceSumSquare all', (a) => E.sumSquares(a), [A]],
  ['ReduceSumSquare axes keepdims', (a) => E.sumSquares(a, [0, 2], { keepdims: true }), [{ shape: [2, 3, 2] }]],
  [
    'ReduceMean over a symbolic dim (run-time count: Shape, Gather, ReduceProd)',
    (a) => a.mean(0),
    [{ shape: [3, 4], declare: ['B', 4] }],
  ],
  [
    'ArgMax picks (GatherElements)',
    (a) => E.gatherElements(a, a.argmax(1, true), 1).mul(a.sum(1, true)),
    [{ shape: [3, 4] }],
  ],
  ['LayerNorm', (x, s, b) => x.layerNorm(s, b), [{ shape: [2, 3, 5] }, { shape: [5] }, { shape: [5] }]],
  [
    'LayerNorm no bias, axis -2',
    (x, s) => E.layerNorm(x, s, undefined, 1e-5, -2),
    [{ shape: [2, 3, 4] }, { shape: [3, 4] }],
  ],
  ['RMSNorm', (x, s) => x.rmsNorm(s), [{ shape: [2, 3, 5] }, { shape: [5] }]],
  ['CrossEntropy', (x) => x.crossEntropy(c(x, [0, 3, 1], [3], 'int64')), [{ shape: [3, 4] }]],
  [
    'CrossEntropy none [B,T,C]',
    (x) => x.crossEntropy(c(x, [0, 2, 1, 2], [2, 2], 'int64'), 'none'),
    [{ shape: [2, 2, 3] }],
  ],
  // movement
  ['Reshape', (a) => a.reshape([2, 6]).mul(a.reshape([2, 6])), [A]],
  ['Reshape -1', (a) => a.reshape([-1, 2]), [A]],
  ['Transpose', (a) => a.transpose([2, 0, 1]), [{ shape: [2, 3, 4] }]],
  [
    'Transpose of transpose, both used',
    (a) => {
      const t = a.transpose([1, 2, 0]);
      return t.transpose([2, 1, 0]).mul(t.sum());
    },
    [{ shape: [2, 3, 4] }],
  ],
  [
    'Reshape of reshape, both used',
    (a) => {
      const r = a.reshape([4, 3]);
      return r.reshape([2, 6]).mul(r.sum());
    },
    [A],
  ],
  ['Concat', (a, b) => E.concat([a, b, a], 1), [{ shape: [2, 2] }, { shape: [2, 3] }]],
  ['Slice', (a) => a.slice([1, -3], [3, 100], [0, 1]), [{ shape: [4, 5] }]],
  ['Slice strided', (a) => a.slice([1], [6], [1], [2]), [{ shape: [2, 7] }]],
  ['Split (one part unused)', (a) => a.split([1, 2, 1], 1)[1], [A]],
  [
    'Split both parts',
    (a) => {
      const [p, q] = a.split([2, 2], 1);
      return p.mul(q);
    },
    [A],
  ],
  ['Expand', (a) => a.expand([2, 3, 4]), [{ shape: [3, 1] }]],
  ['Squeeze/Unsqueeze', (a) => a.unsqueeze([0, 2]).mul(2).squeeze([0]), [A]],
  ['Pad', (a) => a.pad([1, 0, 0, 2], 0.5), [A]],
  ['Gather (embedding, repeated ids)', (w) => w.gather(c(w, [1, 0, 1, 3, 1, 2], [2, 3], 'int64')), [{ shape: [4, 3] }]],
  ['GatherElements', (w) => E.gatherElements(w, c(w, [1, 0, 1, 1, 2, 0], [3, 2], 'int64'), 1), [{ shape: [3, 3] }]],
  [
    'ScatterElementsAdd (data and updates)',
    (d, u) => E.scatterElementsAdd(d, c(d, [0, 2, 2, 1], [2, 2], 'int64'), u, 1),
    [{ shape: [2, 3] }, { shape: [2, 2] }],
  ],
  [
    'ScatterNDAdd (data and updates)',
    (d, u) => E.scatterNDAdd(d, c(d, [1, 1, 0], [3, 1], 'int64'), u),
    [{ shape: [2, 3] }, { shape: [3, 3] }],
  ],
  ['GatherND', (x) => E.gatherND(x, c(x, [1, 0, 0, 2], [2, 2], 'int64')), [{ shape: [2, 3, 2] }]],
  // nn composites
  ['Dropout (fixed mask, broadcast over rows)', (a) => a.dropout(0.4, [1, 4]).mul(a), [A]],
  // ORT has no float64 Conv: the native rule (dx by ConvTranspose, dw by an im2col GEMM) is checked in float32
  [
    'Conv native (float32 kernel)',
    (x, w, b) =>
      E.conv1d(x.cast('float32'), w.cast('float32'), b.cast('float32'), {
        stride: 2,
        dilation: 2,
        padding: [2, 1],
      }).cast('float64'),
    [{ shape: [2, 3, 9] }, { shape: [2, 3, 2] }, { shape: [2] }],
    { eps: 1e-3, rtol: 2e-3, atol: 5e-4 },
  ],
  [
    'Conv1d padded',
    (x, w, b) => E.conv1d(x, w, b, { padding: 1 }),
    [{ shape: [2, 3, 6] }, { shape: [4, 3, 3] }, { shape: [4] }],
  ],
  [
    'Conv1d stride 3, dilation 2, uneven pads',
    (x, w) => E.conv1d(x, w, undefined, { stride: 3, dilation: 2, padding: [2, 0] }),
    [{ shape: [2, 2, 11] }, { shape: [3, 2, 2] }],
  ],
  [
    'Conv1d stride 2 (trailing input unused)',
    (x, w, b) => E.conv1d(x, w, b, { stride: 2 }),
    [{ shape: [1, 2, 8] }, { shape: [2, 2, 3] }, { shape: [2] }],
  ],
  [
    'Conv1d stride 2, dilation 2, groups',
    (x, w) => E.conv1d(x, w, undefined, { stride: 2, dilation: 2, groups: 2, padding: [2, 1] }),
    [{ shape: [1, 4, 9] }, { shape: [2, 2, 2] }],
  ],
  [
    'attention block, multi-use',
    (q, k, v) => q.matmul(k.mT).mul(0.5).softmax().matmul(v).add(q),
    [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }, { shape: [2, 5, 4] }],
  ],
];

for (const [name, build, inputs, opts] of cases) {
  test(`grad: ${name}`, async () => {
    await gradcheck(build, inputs, opts);
  });
}

test('coverage: every op of the vocabulary has a rule or is marked non-differentiable, and appears in a row above', () => {
  // (the type of gradRules already ties its keys to the 'rule' ops; this repeats it at run time)
  assert.deepEqual(
    Object.keys(E.gradRules).sort(),
    E.opNames('rule').sort(),
    'gradRules has exactly the ops marked rule',
  );
  assert.deepEqual(
    E.opNames().filter((op) => E.opKind(op) === undefined),
    [],
  );
  const forward = new Set<E.OpName>();
  const anywhere = new Set<E.OpName>();
  for (const [, build, inputs] of cases) {
    const t = traceCheck(build, inputs);
    t.forwardOps.forEach((op) => forward.add(op));
    t.allOps.forEach((op) => anywhere.add(op));
  }
  // a differentiable op must be in a checked function itself (so finite differences test its rule); the others
  // (no gradient flows, or only emitted by another op's rule) must at least occur in a checked graph
  const missing = E.opNames().filter((op) => (E.OPS[op] === 'rule' ? !forward.has(op) : !anywhere.has(op)));
  assert.deepEqual(missing, [], `ops without a gradient check row: ${missing.join(', ')}`);
});
