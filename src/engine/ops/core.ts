import { type ConstData, type Dim, type DType, type Graph, type Shape, shapeError } from '../graph.js';
import { Tensor } from '../tensor.js';

/** A tensor, or a JS number lifted to a scalar constant of the other operand's dtype. */
export type TensorLike = Tensor | number;

function typedData(dtype: DType, values: readonly number[]): ConstData['data'] {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(Math.trunc(v))));
    case 'bool':
      return Uint8Array.from(values.map((v) => (v ? 1 : 0)));
  }
}

/** A constant tensor from JS numbers (row-major). */
export function constant(
  g: Graph,
  values: number | readonly number[],
  dtype: DType = 'float32',
  shape?: number[],
): Tensor {
  const vals = typeof values === 'number' ? [values] : values;
  const shp = shape ?? (typeof values === 'number' ? [] : [vals.length]);
  if (shp.reduce((a, b) => a * b, 1) !== vals.length)
    shapeError('constant', `${vals.length} values do not fill the shape`, [shp]);
  return g.constant({ dtype, shape: shp, data: typedData(dtype, vals) });
}

export const scalar = (g: Graph, v: number, dtype: DType): Tensor => constant(g, v, dtype, []);
export const int64s = (g: Graph, v: readonly number[]): Tensor => constant(g, v, 'int64', [v.length]);

/** Lifts numbers to scalar constants matching `like`'s dtype. */
export function lift(x: TensorLike, like: Tensor): Tensor {
  return typeof x === 'number' ? scalar(like.graph, x, like.dtype) : x;
}

/** A 1-D int64 tensor holding `dims`; symbolic dims are read at run time with Shape from the input that declared them. */
export function shapeTensor(g: Graph, dims: Shape): Tensor {
  if (dims.every((d) => typeof d === 'number')) return int64s(g, dims as number[]);
  const parts: Tensor[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length) parts.push(int64s(g, run));
    run = [];
  };
  for (const d of dims) {
    if (typeof d === 'number') run.push(d);
    else {
      flush();
      parts.push(symbolDim(g, d));
    }
  }
  flush();
  return parts.length === 1
    ? parts[0]
    : g.emit('Concat', parts, { axis: { kind: 'int', v: 0 } }, [{ dtype: 'int64', shape: [dims.length] }])[0];
}

/** A [1] int64 tensor with the run-time size of a symbolic dim, read from the first input or node output that has it. */
export function symbolDim(g: Graph, name: string): Tensor {
  const candidates = function* () {
    yield* g.inputs.values();
    for (const n of g.nodes) yield* n.outputs;
  };
  for (const t of candidates()) {
    const axis = t.shape.indexOf(name);
    if (axis >= 0) {
      return g.emit('Shape', [t], { start: { kind: 'int', v: axis }, end: { kind: 'int', v: axis + 1 } }, [
        { dtype: 'int64', shape: [1] },
      ])[0];
    }
  }
  return shapeError('shape', `symbolic dim '${name}' is not a dim of any tensor in the graph`, [[name]]);
}

/** Zeros (or any fill) of a shape, via Expand of a scalar so nothing large is stored in the model. */
export function full(g: Graph, shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  return g.emit('Expand', [scalar(g, value, dtype), shapeTensor(g, shape)], {}, [{ dtype, shape }])[0];
}

/** x's shape as an int64 tensor: a constant when static, else a Shape node (works for derived symbolic dims). */
export function shapeLike(x: Tensor): Tensor {
  if (x.shape.every((d) => typeof d === 'number')) return int64s(x.graph, x.shape as number[]);
  return x.graph.emit('Shape', [x], {}, [{ dtype: 'int64', shape: [x.shape.length] }])[0];
}

/** t broadcast to ref's shape. */
export function expandLike(t: Tensor, ref: Tensor): Tensor {
  if (t.shape.length === ref.shape.length && t.shape.every((d, i) => d === ref.shape[i])) return t;
  return t.graph.emit('Expand', [t, shapeLike(ref)], {}, [{ dtype: t.dtype, shape: ref.shape }])[0];
}

/** t reshaped to ref's shape. */
export function reshapeLike(t: Tensor, ref: Tensor): Tensor {
  if (t.shape.length === ref.shape.length && t.shape.every((d, i) => d === ref.shape[i])) return t;
  return t.graph.emit('Reshape', [t, shapeLike(ref)], {}, [{ dtype: t.dtype, shape: ref.shape }])[0];
}

/** A tensor of `value` with ref's shape (and ref's dtype unless given). */
export function fullLike(ref: Tensor, value: number, dtype: DType = ref.dtype): Tensor {
  return expandLike(scalar(ref.graph, value, dtype), ref);
}

/** Number of elements across `axes` of x as a scalar of x's dtype (a constant when static). */
export function countOver(x: Tensor, axes: readonly number[]): Tensor {
  const dims: Dim[] = axes.map((a) => x.shape[a]);
  if (dims.every((d) => typeof d === 'number'))
    return scalar(
      x.graph,
      (dims as number[]).reduce((a, b) => a * b, 1),
      x.dtype,
    );
  const sizes = x.graph.emit('Gather', [shapeLike(x), int64s(x.graph, axes)], { axis: { kind: 'int', v: 0 } }, [
    { dtype: 'int64', shape: [axes.length] },
  ])[0];
  const prod = x.graph.emit('ReduceProd', [sizes], { keepdims: { kind: 'int', v: 0 } }, [
    { dtype: 'int64', shape: [] },
  ])[0];
  return x.graph.emit('Cast', [prod], { to: { kind: 'int', v: x.dtype === 'float64' ? 11 : 1 } }, [
    { dtype: x.dtype, shape: [] },
  ])[0];
}
