import { type Dim, isFloat, shapeError } from '../graph.js';
import { normAxes, normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { int64s } from './core.js';
import { add, exp, log, mul, stopGradient, sub } from './elementwise.js';
import { squeeze } from './movement.js';

export interface ReduceOptions {
  keepdims?: boolean;
}

/** Reduced shape; axes undefined = all axes. */
export function reducedShape(x: Tensor, axes: readonly number[], keepdims: boolean): Dim[] {
  return keepdims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
}

function reduce(
  op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin',
  x: Tensor,
  axes: number | readonly number[] | undefined,
  opts: ReduceOptions,
): Tensor {
  const rank = x.shape.length;
  const ax =
    axes === undefined
      ? [...Array(rank).keys()]
      : normAxes(op, typeof axes === 'number' ? [axes] : axes, rank, x.shape);
  const keepdims = opts.keepdims ?? false;
  if (ax.length === 0) return x;
  return x.graph.emit(op, [x, int64s(x.graph, ax)], { keepdims: { kind: 'int', v: keepdims ? 1 : 0 } }, [
    { dtype: x.dtype, shape: reducedShape(x, ax, keepdims) },
  ])[0];
}

/** Sum over axes (all axes when omitted). */
export const sum = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor =>
  reduce('ReduceSum', x, axes, opts);
export const mean = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor =>
  reduce('ReduceMean', x, axes, opts);
/** Max over axes; the gradient goes to the arg-max positions (split evenly among ties, like binary `maximum`). */
export const max = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor =>
  reduce('ReduceMax', x, axes, opts);
/** Min over axes; the gradient goes to the arg-min positions (split evenly among ties, like binary `minimum`). */
export const min = (x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor =>
  reduce('ReduceMin', x, axes, opts);

/**
 * Sum of squares over axes (all when omitted): one ReduceSumSquare node, which reads x once without writing a squared
 * copy (the optimizer's gradient norm uses it). Over all axes the node has no axes input.
 */
export function sumSquares(x: Tensor, axes?: number | readonly number[], opts: ReduceOptions = {}): Tensor {
  const keepdims = opts.keepdims ?? false;
  const kd = { keepdims: { kind: 'int' as const, v: keepdims ? 1 : 0 } };
  if (axes === undefined)
    return x.graph.emit('ReduceSumSquare', [x], kd, [
      { dtype: x.dtype, shape: reducedShape(x, [...x.shape.keys()], keepdims) },
    ])[0];
  const ax = normAxes('ReduceSumSquare', typeof axes === 'number' ? [axes] : axes, x.shape.length, x.shape);
  if (ax.length === 0) return mul(x, x);
  return x.graph.emit('ReduceSumSquare', [x, int64s(x.graph, ax)], kd, [
    { dtype: x.dtype, shape: reducedShape(x, ax, keepdims) },
  ])[0];
}

function softmaxLike(op: 'Softmax' | 'LogSoftmax', x: Tensor, axis: number): Tensor {
  if (!isFloat(x.dtype)) shapeError(op, `needs a float tensor, got ${x.dtype}`, [x.shape]);
  const a = normAxis(op, axis, x.shape.length, x.shape);
  return x.graph.emit(op, [x], { axis: { kind: 'int', v: a } }, [{ dtype: x.dtype, shape: x.shape }])[0];
}
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxLike('Softmax', x, axis);
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxLike('LogSoftmax', x, axis);

/** Index of the largest value along an axis (int64, no gradient). */
export function argmax(x: Tensor, axis = -1, keepdims = false): Tensor {
  const a = normAxis('ArgMax', axis, x.shape.length, x.shape);
  return x.graph.emit('ArgMax', [x], { axis: { kind: 'int', v: a }, keepdims: { kind: 'int', v: keepdims ? 1 : 0 } }, [
    { dtype: 'int64', shape: reducedShape(x, [a], keepdims) },
  ])[0];
}

/** log(sum(exp(x))) over an axis, shifted by the (gradient-free) max for stability. */
export function logSumExp(x: Tensor, axis = -1, keepdims = false): Tensor {
  const a = normAxis('LogSumExp', axis, x.shape.length, x.shape);
  const m = stopGradient(max(x, a, { keepdims: true }));
  const out = add(log(sum(exp(sub(x, m)), a, { keepdims: true })), m);
  return keepdims ? out : squeeze(out, [a]);
}
