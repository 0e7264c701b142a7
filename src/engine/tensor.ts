import type { Dim, DType, Graph, Node } from './graph.js';
import * as ew from './ops/elementwise.js';
import * as mv from './ops/movement.js';
import * as rd from './ops/reduce.js';
import * as nn from './ops/nn.js';
import type { TensorLike } from './ops/core.js';

type Axes = number | readonly number[];

/**
 * A symbolic value in a Graph: a name, a dtype and a shape (numbers or symbolic names like 'B'). Methods trace ONNX
 * nodes; nothing is computed until the graph runs.
 */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Dim[],
    /** The node that produced this tensor; null for inputs, parameters and constants. */
    readonly producer: Node | null,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
  toString(): string {
    return `Tensor(${this.name}: ${this.dtype}[${this.shape.join(', ')}])`;
  }

  add(o: TensorLike): Tensor {
    return ew.add(this, o);
  }
  sub(o: TensorLike): Tensor {
    return ew.sub(this, o);
  }
  mul(o: TensorLike): Tensor {
    return ew.mul(this, o);
  }
  div(o: TensorLike): Tensor {
    return ew.div(this, o);
  }
  pow(o: TensorLike): Tensor {
    return ew.pow(this, o);
  }
  maximum(o: TensorLike): Tensor {
    return ew.maximum(this, o);
  }
  minimum(o: TensorLike): Tensor {
    return ew.minimum(this, o);
  }
  eq(o: TensorLike): Tensor {
    return ew.equal(this, o);
  }
  lt(o: TensorLike): Tensor {
    return ew.less(this, o);
  }
  le(o: TensorLike): Tensor {
    return ew.lessEqual(this, o);
  }
  gt(o: TensorLike): Tensor {
    return ew.greater(this, o);
  }
  ge(o: TensorLike): Tensor {
    return ew.greaterEqual(this, o);
  }
  neg(): Tensor {
    return ew.neg(this);
  }
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  rsqrt(): Tensor {
    return ew.rsqrt(this);
  }
  exp(): Tensor {
    return ew.exp(this);
  }
  log(): Tensor {
    return ew.log(this);
  }
  abs(): Tensor {
    return ew.abs(this);
  }
  tanh(): Tensor {
    return ew.tanh(this);
  }
  sigmoid(): Tensor {
    return ew.sigmoid(this);
  }
  erf(): Tensor {
    return ew.erf(this);
  }
  sin(): Tensor {
    return ew.sin(this);
  }
  cos(): Tensor {
    return ew.cos(this);
  }
  relu(): Tensor {
    return ew.relu(this);
  }
  gelu(): Tensor {
    return ew.gelu(this);
  }
  silu(): Tensor {
    return ew.silu(this);
  }
  square(): Tensor {
    return ew.square(this);
  }
  reciprocal(): Tensor {
    return ew.reciprocal(this);
  }
  isFinite(): Tensor {
    return ew.isFinite(this);
  }
  cast(dtype: DType): Tensor {
    return ew.cast(this, dtype);
  }
  stopGradient(): Tensor {
    return ew.stopGradient(this);
  }
  clip(lo: number, hi: number): Tensor {
    return ew.clip(this, lo, hi);
  }

  sum(axes?: Axes, keepdims = false): Tensor {
    return rd.sum(this, axes, { keepdims });
  }
  mean(axes?: Axes, keepdims = false): Tensor {
    return rd.mean(this, axes, { keepdims });
  }
  max(axes?: Axes, keepdims = false): Tensor {
    return rd.max(this, axes, { keepdims });
  }
  argmax(axis = -1, keepdims = false): Tensor {
    return rd.argmax(this, axis, keepdims);
  }
  logSumExp(axis = -1, keepdims = false): Tensor {
    return rd.logSumExp(this, axis, keepdims);
  }
  softmax(axis = -1): Tensor {
    return rd.softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return rd.logSoftmax(this, axis);
  }

  reshape(shape: readonly Dim[]): Tensor {
    return mv.reshape(this, shape);
  }
  transpose(perm?: readonly number[]): Tensor {
    return mv.transpose(this, perm);
  }
  /** Swaps the last two axes. */
  get mT(): Tensor {
    return mv.mT(this);
  }
  slice(
    starts: readonly number[],
    ends: readonly number[],
    axes?: readonly number[],
    steps?: readonly number[],
  ): Tensor {
    return mv.slice(this, starts, ends, axes, steps);
  }
  split(sizes: readonly number[], axis: number): Tensor[] {
    return mv.split(this, sizes, axis);
  }
  expand(shape: readonly Dim[]): Tensor {
    return mv.expand(this, shape);
  }
  squeeze(axes: readonly number[]): Tensor {
    return mv.squeeze(this, axes);
  }
  unsqueeze(axes: readonly number[]): Tensor {
    return mv.unsqueeze(this, axes);
  }
  pad(pads: readonly number[], value = 0): Tensor {
    return mv.pad(this, pads, value);
  }
  gather(indices: Tensor, axis = 0): Tensor {
    return mv.gather(this, indices, axis);
  }

  matmul(o: Tensor): Tensor {
    return nn.matmul(this, o);
  }
  linear(w: Tensor, b?: Tensor): Tensor {
    return nn.linear(this, w, b);
  }
  layerNorm(scale: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
    return nn.layerNorm(this, scale, bias, eps);
  }
  rmsNorm(scale: Tensor, eps = 1e-6): Tensor {
    return nn.rmsNorm(this, scale, eps);
  }
  dropout(p: number, maskShape?: number[]): Tensor {
    return nn.dropout(this, p, maskShape);
  }
  crossEntropy(labels: Tensor, reduction: nn.Reduction = 'mean'): Tensor {
    return nn.crossEntropy(this, labels, reduction);
  }
}
