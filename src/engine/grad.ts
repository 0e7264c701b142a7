import { type Node, type Shape, attr, isFloat, shapeError } from './graph.js';
import { ShapeError } from '../util/errors.js';
import { Tensor } from './tensor.js';
import { countOver, expandLike, fullLike, reshapeLike, scalar } from './ops/core.js';
import {
  addN,
  cast,
  cos,
  div,
  equal,
  erf,
  exp,
  greater,
  log,
  mul,
  neg,
  pow,
  sign,
  sin,
  sub,
  where,
} from './ops/elementwise.js';
import {
  concat,
  gatherElements,
  gatherND,
  invertPerm,
  mT,
  pad,
  reshape,
  scatterElementsAdd,
  scatterNDAdd,
  slice,
  split,
  squeeze,
  transpose,
  unsqueeze,
} from './ops/movement.js';
import { mean, sum } from './ops/reduce.js';
import { gemm, im2col, matmul } from './ops/nn.js';
import { type DifferentiableOp, opKind } from './ops/vocab.js';
import { staticNumel } from './shape.js';

/** Lazily computes the gradient for one input; only called when that input needs a gradient. */
type GradFn = (() => Tensor) | null;
/**
 * A rule gets the node, the gradient of its first output and of all outputs (null where none flows), and returns one
 * entry per input: a thunk, or null for an input that can never take a gradient (indices, shapes, bool conditions).
 * `grad` throws, naming the op and where it was traced, if a rule gives null (or nothing) for an input that needs one.
 */
export type Rule = (n: Node, dy: Tensor, douts: (Tensor | null)[]) => GradFn[];

const I = (n: Node, i: number): Tensor => n.inputs[i] as Tensor;
const O = (n: Node, i = 0): Tensor => n.outputs[i];
const intsAttr = (n: Node, name: string): number[] => (n.attrs[name] as { v: number[] }).v;
const intAttr = (n: Node, name: string): number => (n.attrs[name] as { v: number }).v;
/** Values of a small int64 constant input (axes, pads, starts...). */
const constInts = (n: Node, i: number): number[] => {
  const c = O(n).graph.constants.get(I(n, i).name);
  if (!c) return shapeError(n.op, 'gradient needs constant axes/pads', [I(n, 0).shape]);
  return Array.from(c.data as BigInt64Array, Number);
};
/** Reduced axes of a Reduce* node (all when the axes input is empty/absent). */
const reduceAxes = (n: Node): number[] => (n.inputs[1] ? constInts(n, 1) : [...I(n, 0).shape.keys()]);
/** dy of a reduction broadcast back over the input's shape. */
const unreduce = (n: Node, t: Tensor): Tensor =>
  expandLike(intAttr(n, 'keepdims') ? t : unsqueeze(t, reduceAxes(n)), I(n, 0));

/** Binary Max/Min: the gradient goes to the input equal to the output; where both are (a tie) each gets half. */
const extremumRule: Rule = (n, dy) => {
  const [a, b, o] = [I(n, 0), I(n, 1), O(n)];
  return [
    () => where(equal(a, o), where(equal(b, o), mul(dy, 0.5), dy), 0),
    () => where(equal(b, o), where(equal(a, o), mul(dy, 0.5), dy), 0),
  ];
};

/** ReduceMax/ReduceMin: the gradient goes to the positions equal to the result, split evenly among ties. */
const reduceExtremumRule: Rule = (n, dy) => [
  () => {
    const mask = cast(equal(I(n, 0), unreduce(n, O(n))), dy.dtype);
    return mul(mask, unreduce(n, div(dy, sum(mask, reduceAxes(n), { keepdims: intAttr(n, 'keepdims') === 1 }))));
  },
];

/**
 * The gradient table: exactly one rule per differentiable op of the vocabulary (ops/vocab.ts; the type checker
 * enforces it). Each returns, per input, a thunk giving the gradient at the op's OUTPUT shape (broadcasting is undone
 * once, in `sumToShape`), or null for an input that never takes a gradient.
 */
export const gradRules: { readonly [K in DifferentiableOp]: Rule } = {
  Add: (_n, dy) => [() => dy, () => dy],
  Sub: (_n, dy) => [() => dy, () => neg(dy)],
  Mul: (n, dy) => [() => mul(dy, I(n, 1)), () => mul(dy, I(n, 0))],
  Div: (n, dy) => [() => div(dy, I(n, 1)), () => neg(div(mul(dy, O(n)), I(n, 1)))],
  Pow: (n, dy) => [() => mul(dy, mul(I(n, 1), pow(I(n, 0), sub(I(n, 1), 1)))), () => mul(dy, mul(O(n), log(I(n, 0))))],
  Max: extremumRule,
  Min: extremumRule,
  Neg: (_n, dy) => [() => neg(dy)],
  Sum: (n, dy) => n.inputs.map(() => () => dy),
  Sqrt: (n, dy) => [() => div(mul(dy, 0.5), O(n))],
  Exp: (n, dy) => [() => mul(dy, O(n))],
  Log: (n, dy) => [() => div(dy, I(n, 0))],
  Abs: (n, dy) => [() => mul(dy, sign(I(n, 0)))],
  Tanh: (n, dy) => [() => mul(dy, sub(1, mul(O(n), O(n))))],
  Sigmoid: (n, dy) => [() => mul(dy, mul(O(n), sub(1, O(n))))],
  Erf: (n, dy) => [() => mul(dy, mul(exp(neg(mul(I(n, 0), I(n, 0)))), 2 / Math.sqrt(Math.PI)))],
  Gelu: (n, dy) => [() => mul(dy, geluSlope(I(n, 0)))],
  Sin: (n, dy) => [() => mul(dy, cos(I(n, 0)))],
  Cos: (n, dy) => [() => neg(mul(dy, sin(I(n, 0))))],
  Relu: (n, dy) => [() => where(greater(O(n), 0), dy, 0)],
  Reciprocal: (n, dy) => [() => neg(mul(dy, mul(O(n), O(n))))],
  Where: (n, dy) => [null, () => where(I(n, 0), dy, 0), () => where(I(n, 0), 0, dy)],
  Cast: (n, dy) => [isFloat(I(n, 0).dtype) ? () => cast(dy, I(n, 0).dtype) : null],
  MatMul: (n, dy) => [() => matmul(dy, mT(I(n, 1))), () => matmulWeightGrad(I(n, 0), I(n, 1), dy)],
  Gemm: (n, dy) => gemmGrad(n, dy),
  Softmax: (n, dy) => [() => mul(O(n), sub(dy, sum(mul(dy, O(n)), intAttr(n, 'axis'), { keepdims: true })))],
  LogSoftmax: (n, dy) => [() => sub(dy, mul(exp(O(n)), sum(dy, intAttr(n, 'axis'), { keepdims: true })))],
  ReduceSum: (n, dy) => [() => unreduce(n, dy)],
  ReduceMean: (n, dy) => [() => unreduce(n, div(dy, countOver(I(n, 0), reduceAxes(n))))], // scale the small tensor, then broadcast
  ReduceSumSquare: (n, dy) => [() => mul(unreduce(n, dy), mul(I(n, 0), 2))],
  ReduceMax: reduceExtremumRule,
  ReduceMin: reduceExtremumRule,
  LayerNormalization: (n, dy) => layerNormGrad(n, dy),
  Conv: (n, dy) => convGrad(n, dy),
  Reshape: (n, dy) => [() => reshapeLike(dy, I(n, 0))],
  Transpose: (n, dy) => [() => transpose(dy, invertPerm(intsAttr(n, 'perm')))],
  Squeeze: (n, dy) => [() => unsqueeze(dy, constInts(n, 1))],
  Unsqueeze: (n, dy) => [() => squeeze(dy, constInts(n, 1))],
  Expand: (_n, dy) => [() => dy],
  Concat: (n, dy) => {
    const a = intAttr(n, 'axis');
    const sizes = n.inputs.map((t) => (t as Tensor).shape[a]);
    if (!sizes.every((s) => typeof s === 'number'))
      shapeError('Concat', 'gradient needs static sizes on the concat axis', [dy.shape]);
    let parts: Tensor[] | null = null;
    return n.inputs.map((_, i) => () => (parts ??= split(dy, sizes as number[], a))[i]);
  },
  Split: (n, _dy, douts) => [
    () =>
      concat(
        douts.map((d, i) => d ?? fullLike(O(n, i), 0)),
        intAttr(n, 'axis'),
      ),
  ],
  Slice: (n, dy) => [() => sliceGrad(I(n, 0).shape, dy, constInts(n, 1), constInts(n, 3), constInts(n, 4))],
  Pad: (n, dy) => [
    () =>
      pad(
        dy,
        constInts(n, 1).map((p) => -p),
      ),
  ],
  Gather: (n, dy) => {
    if (intAttr(n, 'axis') !== 0)
      shapeError('Gather', 'gradient is implemented for axis 0 (embedding lookup)', [I(n, 0).shape]);
    return [() => scatterNDAdd(fullLike(I(n, 0), 0), unsqueeze(I(n, 1), [-1]), dy), null];
  },
  ScatterElements: (n, dy) => [() => dy, null, () => gatherElements(dy, I(n, 1), intAttr(n, 'axis'))], // reduction 'add' only
  ScatterND: (n, dy) => [() => dy, null, () => gatherND(dy, I(n, 1))],
  GatherND: (n, dy) => [() => scatterNDAdd(fullLike(I(n, 0), 0), I(n, 1), dy), null],
  GatherElements: (n, dy) => [() => scatterElementsAdd(fullLike(I(n, 0), 0), I(n, 1), dy, intAttr(n, 'axis')), null],
};

/** Gemm: y = alpha op(A) op(B) + beta C; each matrix gradient is one Gemm (transposes folded into its flags). */
function gemmGrad(n: Node, dy: Tensor): GradFn[] {
  const [a, b] = [I(n, 0), I(n, 1)];
  const num = (name: string, dflt: number): number => (n.attrs[name] as { v: number } | undefined)?.v ?? dflt;
  const [alpha, beta, tA, tB] = [num('alpha', 1), num('beta', 1), num('transA', 0) === 1, num('transB', 0) === 1];
  const dA = () =>
    tA ? gemm(b, dy, undefined, { alpha, transA: tB, transB: true }) : gemm(dy, b, undefined, { alpha, transB: !tB });
  const dB = () =>
    tB ? gemm(dy, a, undefined, { alpha, transA: true, transB: tA }) : gemm(a, dy, undefined, { alpha, transA: !tA });
  return [dA, dB, n.inputs[2] ? () => (beta === 1 ? dy : mul(dy, beta)) : null];
}

/** d gelu / dx = Phi(x) + x phi(x) = 0.5 + 0.5 erf(t) + t exp(-t^2) / sqrt(pi), with t = x / sqrt(2). */
function geluSlope(x: Tensor): Tensor {
  const t = mul(x, Math.SQRT1_2);
  const bump = mul(mul(x, 1 / Math.sqrt(2 * Math.PI)), exp(mul(mul(t, t), -1))); // x phi(x)
  return addN([mul(erf(t), 0.5), bump, scalar(x.graph, 0.5, x.dtype)]);
}

/** dB of A @ B. A 2-D weight shared across a batch gets one [K, M*batch] x [M*batch, N] product instead of a batched one and a sum. */
function matmulWeightGrad(a: Tensor, b: Tensor, dy: Tensor): Tensor {
  const k = a.shape[a.rank - 1];
  const nOut = dy.shape[dy.rank - 1];
  if (b.rank === 2 && a.rank > 2 && typeof k === 'number' && typeof nOut === 'number') {
    return matmul(mT(reshape(a, [-1, k])), reshape(dy, [-1, nOut]));
  }
  return matmul(mT(a), dy);
}

/** Conv (1-D, group 1): dx by ConvTranspose with the same geometry, dw by one im2col GEMM, db by a sum. */
function convGrad(n: Node, dy: Tensor): GradFn[] {
  const [x, w] = [I(n, 0), I(n, 1)];
  const [K, s, d] = [intsAttr(n, 'kernel_shape')[0], intsAttr(n, 'strides')[0], intsAttr(n, 'dilations')[0]];
  const [pl, pr] = intsAttr(n, 'pads');
  const [B, C, T] = x.shape as number[];
  const [O, Tout] = [w.shape[0] as number, dy.shape[2] as number];
  const dx = () => {
    const extra = T - ((Tout - 1) * s + d * (K - 1) + 1 - pl - pr); // input positions the forward never reached
    const attrs = {
      kernel_shape: attr.ints([K]),
      strides: attr.ints([s]),
      dilations: attr.ints([d]),
      pads: attr.ints([pl, pr]),
      output_padding: attr.ints([extra]),
    };
    return dy.graph.emit('ConvTranspose', [dy, w], attrs, [{ dtype: dy.dtype, shape: x.shape }])[0];
  };
  const dw = () => {
    const cols = reshape(transpose(im2col(x, K, s, d, pl, pr, Tout), [0, 3, 1, 2]), [B * Tout, C * K]); // [B*Tout, C*K]
    const dyT = reshape(transpose(dy, [1, 0, 2]), [O, B * Tout]); // [O, B*Tout]
    return reshape(matmul(dyT, cols), [O, C, K]);
  };
  return [dx, dw, n.inputs[2] ? () => sum(dy, [0, 2]) : null];
}

/** LayerNormalization backward from the forward pass's Mean and InvStdDev outputs. */
function layerNormGrad(n: Node, dy: Tensor): GradFn[] {
  const x = I(n, 0);
  const scale = I(n, 1);
  const a = intAttr(n, 'axis');
  const outer = [...Array(a).keys()];
  const inner = [...Array(x.rank - a).keys()].map((i) => i + a);
  const [mu, rstd] = [cast(O(n, 1), x.dtype), cast(O(n, 2), x.dtype)];
  let xhat: Tensor | null = null;
  const xh = () => (xhat ??= mul(sub(x, mu), rstd)); // normalized x, [x.shape]
  const dX = () => {
    const gx = mul(dy, scale);
    const m1 = mean(gx, inner, { keepdims: true });
    const m2 = mean(mul(gx, xh()), inner, { keepdims: true });
    return mul(rstd, sub(sub(gx, m1), mul(xh(), m2)));
  };
  return [dX, () => sum(mul(dy, xh()), outer), n.inputs[2] ? () => sum(dy, outer) : null];
}

/** Gradient of a positive-step slice: put dy back at its positions, zeros elsewhere. */
function sliceGrad(shape: Shape, dy: Tensor, starts: number[], axes: number[], steps: number[]): Tensor {
  let g = dy;
  axes.forEach((ax, i) => {
    const a = ax < 0 ? ax + shape.length : ax;
    const d = shape[a] as number;
    const st = steps[i];
    const n = g.shape[a] as number;
    if (n === 0) {
      g = pad(g, g.shape.flatMap((_, j) => (j === a ? [d] : [0])).concat(new Array<number>(g.rank).fill(0)));
      return;
    }
    if (st > 1) {
      // interleave step-1 zeros after each element: [.., n, ..] -> [.., n, st, ..] -> [.., n*st, ..]
      const u = unsqueeze(g, [a + 1]);
      const pads = new Array<number>(2 * u.rank).fill(0);
      pads[u.rank + a + 1] = st - 1;
      g = reshape(
        pad(u, pads),
        g.shape.map((v, j) => (j === a ? n * st : v)),
      );
      g = slice(g, [0], [(n - 1) * st + 1], [a]);
    }
    const len = g.shape[a] as number;
    const pads = new Array<number>(2 * g.rank).fill(0);
    pads[a] = starts[i];
    pads[g.rank + a] = d - starts[i] - len;
    g = pad(g, pads);
  });
  return g;
}

/** Sums a gradient over the axes its source was broadcast along, back to the source's shape. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) return shapeError('grad', 'gradient has lower rank than its source', [g.shape, shape]);
  const ones = shape.map((d, i) => (d === 1 && g.shape[lead + i] !== 1 ? lead + i : -1)).filter((a) => a >= 0);
  const leading = [...Array(lead).keys()];
  if (ones.length === 0) return sum(g, leading);
  const r = sum(g, [...leading, ...ones], { keepdims: true });
  return lead > 0 ? squeeze(r, leading) : r;
}

/** Adds partial gradients: Add for two, one Sum node for more. */
function accumulate(parts: Tensor[]): Tensor {
  if (parts.length === 1) return parts[0];
  if (parts.length === 2) return parts[0].add(parts[1]);
  return addN(parts);
}

/**
 * Reverse-mode differentiation as a graph transform: appends gradient nodes to loss.graph and returns d(loss)/d(w)
 * for each w (zeros where the loss does not depend on w). `seed` is the gradient of the loss (default: ones).
 */
export function grad(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  const g = loss.graph;
  if (!isFloat(loss.dtype)) shapeError('grad', `loss must be float, got ${loss.dtype}`, [loss.shape]);
  if (!seed && staticNumel(loss.shape) !== 1)
    shapeError('grad', 'loss must be a scalar (or pass a seed gradient)', [loss.shape]);
  // forward: which tensors depend on wrt through differentiable paths
  const live = new Set(wrt.map((t) => t.name));
  const end = loss.producer ? loss.producer.id + 1 : 0;
  for (const w of wrt)
    if (!isFloat(w.dtype) || w.graph !== g)
      shapeError(
        'grad',
        `cannot differentiate with respect to ${w.dtype} tensor '${w.name}'${w.graph !== g ? ' of another graph' : ''}`,
        [w.shape],
      );
  for (let i = 0; i < end; i++) {
    const n = g.nodes[i];
    if (opKind(n.op) === 'const') continue; // no gradient flows through it: its outputs are constants here
    if (n.inputs.some((t) => t && live.has(t.name))) for (const o of n.outputs) if (isFloat(o.dtype)) live.add(o.name);
  }
  const partial = new Map<string, Tensor[]>();
  const push = (t: Tensor, d: Tensor) => (partial.get(t.name) ?? partial.set(t.name, []).get(t.name)!).push(d);
  const total = (t: Tensor): Tensor | null => {
    const parts = partial.get(t.name);
    if (!parts) return null;
    const d = accumulate(parts);
    partial.set(t.name, [d]);
    return d;
  };
  push(loss, seed ?? fullLike(loss, 1));
  for (let i = end - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => live.has(o.name) && partial.has(o.name))) continue;
    const rule = opKind(n.op) === 'rule' ? gradRules[n.op as DifferentiableOp] : undefined;
    if (!rule)
      throw new ShapeError(
        `grad: no gradient rule for ${n.op} (traced at ${n.location}); wrap its input in stopGradient() if none is needed`,
        { op: n.op, location: n.location },
      );
    const douts = n.outputs.map(total);
    const dy = douts[0] ?? fullLike(n.outputs[0], 0);
    const fns = rule(n, dy, douts);
    n.inputs.forEach((t, k) => {
      if (!t || !live.has(t.name)) return;
      const fn = fns[k];
      if (!fn) {
        throw new ShapeError(
          `grad: the ${n.op} rule gives no gradient for input ${k} ('${t.name}', ${t.dtype}[${t.shape.join(', ')}]), which needs one (traced at ${n.location}); a rule must return a gradient for every input that can take one`,
          {
            op: n.op,
            input: k,
            location: n.location,
          },
        );
      }
      push(t, sumToShape(fn(), t.shape));
    });
  }
  return wrt.map((w) => total(w) ?? fullLike(w, 0));
}

/** Value and gradients of a scalar function of tensors, traced in place: returns [value, d value / d each arg]. */
export function valueAndGrad(fn: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => [Tensor, Tensor[]] {
  return (...xs) => {
    const v = fn(...xs);
    return [v, grad(v, xs)];
  };
}
