import { type Dim, type Shape, shapeError, attr, sameShape } from '../graph.js';
import { broadcastShapes, invertPerm, normAxes, normAxis, staticNumel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { int64s, scalar, shapeTensor } from './core.js';

/** Reshape; `shape` may hold one -1 and symbolic dims (a symbolic dim kept in place costs nothing). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  // reshape(reshape(x)) is one reshape of x
  if (x.producer?.op === 'Reshape' && x.producer.inputs[0]) return reshapeOf(x.producer.inputs[0], x, shape);
  return reshapeOf(x, x, shape);
}

/** Reshapes `src` to `shape`, where `x` (same element count as src) is the tensor the caller reshapes. */
function reshapeOf(src: Tensor, x: Tensor, shape: Shape): Tensor {
  const g = x.graph;
  if (shape.filter((d) => d === -1).length > 1) shapeError('Reshape', 'at most one -1 allowed', [x.shape, shape]);
  const out: Dim[] = [...shape];
  const inferred = shape.indexOf(-1);
  const nx = staticNumel(x.shape);
  const known = staticNumel(shape.filter((d) => d !== -1));
  const staticX = x.shape.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
  const staticT = shape.reduce<number>((a, d) => (typeof d === 'number' && d !== -1 ? a * d : a), 1);
  // symbolic dims of x not matched by a symbolic dim of the target
  const left = x.shape.filter((d): d is string => typeof d === 'string');
  let resolved = true;
  for (const d of shape) {
    if (typeof d !== 'string') continue;
    const at = left.indexOf(d);
    if (at >= 0) left.splice(at, 1);
    else resolved = false;
  }
  if (inferred >= 0) {
    if (resolved && left.length === 0) {
      if (staticX % staticT !== 0)
        shapeError('Reshape', `cannot infer -1: ${staticX} not divisible by ${staticT}`, [x.shape, shape]);
      out[inferred] = staticX / staticT;
    } else if (resolved && staticX % staticT === 0) {
      out[inferred] = `(${[...left, ...(staticX / staticT === 1 ? [] : [String(staticX / staticT)])].join('*')})`;
    } else out[inferred] = `(${x.shape.join('*')}/${shape.filter((d) => d !== -1).join('*')})`;
  } else if (nx !== null && known !== null && nx !== known)
    shapeError('Reshape', `element counts differ (${nx} vs ${known})`, [x.shape, shape]);
  else if (resolved && left.length === 0 && staticX !== staticT)
    shapeError('Reshape', `element counts differ`, [x.shape, shape]);
  if (sameShape(out, x.shape)) return x;
  if (sameShape(out, src.shape)) return src;
  // Symbolic dims equal to the source's dim at the same index become 0 ("copy"); others are read at run time.
  const spec: Dim[] = shape.map((d, i) => (typeof d === 'string' && src.shape[i] === d ? 0 : d));
  const rest = spec.filter((d) => typeof d === 'string');
  let target: Tensor;
  if (rest.length === 0) target = int64s(g, spec as number[]);
  else if (rest.length === 1 && inferred < 0)
    target = int64s(
      g,
      spec.map((d) => (typeof d === 'string' ? -1 : d)),
    );
  else target = shapeTensor(g, spec); // 0 = copy the input's dim, -1 = inferred, names read at run time
  return g.emit('Reshape', [src, target], {}, [{ dtype: x.dtype, shape: out }])[0];
}

/** Permutes axes (reverses them when perm is omitted). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const rank = x.shape.length;
  const p = perm ? perm.map((a) => normAxis('Transpose', a, rank, x.shape)) : [...Array(rank).keys()].reverse();
  if (p.length !== rank || new Set(p).size !== rank)
    shapeError('Transpose', `perm [${perm}] is not a permutation of ${rank} axes`, [x.shape]);
  if (p.every((a, i) => a === i)) return x;
  // transpose(transpose(src, q), p) is one transpose of src by q[p[i]]
  const inner = x.producer?.op === 'Transpose' ? x.producer : null;
  if (inner?.inputs[0]) {
    const q = (inner.attrs.perm as { v: number[] }).v;
    return transpose(
      inner.inputs[0],
      p.map((a) => q[a]),
    );
  }
  return x.graph.emit('Transpose', [x], { perm: attr.ints(p) }, [
    { dtype: x.dtype, shape: p.map((a) => x.shape[a]) },
  ])[0];
}

/** Swaps the last two axes. */
export function mT(x: Tensor): Tensor {
  const r = x.shape.length;
  if (r < 2) shapeError('Transpose', 'needs rank >= 2', [x.shape]);
  return transpose(x, [...Array(r - 2).keys(), r - 1, r - 2]);
}
export { invertPerm };

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) shapeError('Concat', 'needs at least one tensor', []);
  if (xs.length === 1) return xs[0];
  const rank = xs[0].shape.length;
  const a = normAxis('Concat', axis, rank, xs[0].shape);
  let total: Dim = 0;
  for (const t of xs) {
    if (t.dtype !== xs[0].dtype)
      shapeError(
        'Concat',
        `dtypes differ (${xs[0].dtype} vs ${t.dtype})`,
        xs.map((u) => u.shape),
      );
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i]))
      shapeError(
        'Concat',
        `shapes differ off axis ${a}`,
        xs.map((u) => u.shape),
      );
    total =
      typeof total === 'number' && typeof t.shape[a] === 'number'
        ? total + (t.shape[a] as number)
        : `(${total}+${t.shape[a]})`;
  }
  const shape = xs[0].shape.map((d, i) => (i === a ? total : d));
  return xs[0].graph.emit('Concat', [...xs], { axis: attr.int(a) }, [{ dtype: xs[0].dtype, shape }])[0];
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) shapeError('Stack', 'needs at least one tensor', []);
  const a = normAxis('Stack', axis, xs[0].shape.length + 1, xs[0].shape);
  return concat(
    xs.map((t) => unsqueeze(t, [a])),
    a,
  );
}

/** Static slice along axes with ONNX clamping semantics; steps must be positive. */
export function slice(
  x: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): Tensor {
  const rank = x.shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis('Slice', a, rank, x.shape));
  const st = steps ?? ax.map(() => 1);
  if (starts.length !== ax.length || ends.length !== ax.length || st.length !== ax.length)
    shapeError('Slice', 'starts/ends/axes/steps lengths differ', [x.shape]);
  const shape: Dim[] = [...x.shape];
  const normStarts: number[] = [];
  ax.forEach((a, i) => {
    const d = x.shape[a];
    if (typeof d !== 'number') shapeError('Slice', `axis ${a} is symbolic (${d}); slice needs a static dim`, [x.shape]);
    if (!(st[i] > 0)) shapeError('Slice', `step ${st[i]} must be positive`, [x.shape]);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const s = clamp(starts[i]);
    const e = clamp(ends[i]);
    normStarts.push(s);
    shape[a] = Math.max(0, Math.ceil((e - s) / st[i]));
  });
  const g = x.graph;
  return g.emit(
    'Slice',
    [
      x,
      int64s(g, normStarts),
      int64s(
        g,
        ends.map((e, i) => Math.min(e, x.shape[ax[i]] as number)),
      ),
      int64s(g, ax),
      int64s(g, st),
    ],
    {},
    [{ dtype: x.dtype, shape }],
  )[0];
}

/** Splits along an axis into pieces of the given sizes. */
export function split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  const a = normAxis('Split', axis, x.shape.length, x.shape);
  const d = x.shape[a];
  if (typeof d === 'number' && sizes.reduce((s, v) => s + v, 0) !== d)
    shapeError('Split', `sizes [${sizes}] do not sum to dim ${d}`, [x.shape]);
  if (sizes.length === 1) return [x];
  return x.graph.emit(
    'Split',
    [x, int64s(x.graph, sizes)],
    { axis: attr.int(a) },
    sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((v, i) => (i === a ? s : v)) })),
  );
}

/** Broadcasts to a shape (numpy rules; the result may have more axes). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const out = broadcastShapes('Expand', x.shape, shape);
  if (sameShape(out, x.shape)) return x;
  return x.graph.emit('Expand', [x, shapeTensor(x.graph, shape)], {}, [{ dtype: x.dtype, shape: out }])[0];
}

export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  const ax = normAxes('Squeeze', axes, x.shape.length, x.shape);
  for (const a of ax) if (x.shape[a] !== 1) shapeError('Squeeze', `axis ${a} has size ${x.shape[a]}, not 1`, [x.shape]);
  if (ax.length === 0) return x;
  return x.graph.emit('Squeeze', [x, int64s(x.graph, ax)], {}, [
    { dtype: x.dtype, shape: x.shape.filter((_, i) => !ax.includes(i)) },
  ])[0];
}

export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.shape.length + axes.length;
  const ax = normAxes('Unsqueeze', axes, rank, x.shape);
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]);
  return x.graph.emit('Unsqueeze', [x, int64s(x.graph, ax)], {}, [{ dtype: x.dtype, shape }])[0];
}

/** Constant padding; pads = [begin_0..begin_n-1, end_0..end_n-1] (ONNX order); negative pads crop. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  const r = x.shape.length;
  if (pads.length !== 2 * r) shapeError('Pad', `needs ${2 * r} pads, got ${pads.length}`, [x.shape]);
  if (pads.every((p) => p === 0)) return x;
  const shape = x.shape.map((d, i) => {
    const extra = pads[i] + pads[i + r];
    if (extra === 0) return d;
    if (typeof d !== 'number') return `(${d}+${extra})`;
    if (d + extra < 0) shapeError('Pad', `pads crop axis ${i} below zero`, [x.shape]);
    return d + extra;
  });
  return x.graph.emit(
    'Pad',
    [x, int64s(x.graph, pads), scalar(x.graph, value, x.dtype)],
    { mode: attr.string('constant') },
    [{ dtype: x.dtype, shape }],
  )[0];
}

function checkIndices(op: string, idx: Tensor): void {
  if (idx.dtype !== 'int64') shapeError(op, `indices must be int64, got ${idx.dtype}`, [idx.shape]);
}

/** Gathers slices along an axis (embedding lookup with axis 0): out = x.shape[:axis] + idx.shape + x.shape[axis+1:]. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  checkIndices('Gather', indices);
  const a = normAxis('Gather', axis, x.shape.length, x.shape);
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return x.graph.emit('Gather', [x, indices], { axis: attr.int(a) }, [{ dtype: x.dtype, shape }])[0];
}

/** Picks one element per position along an axis: out[i][j] = x[i][idx[i][j]] (for axis 1). */
export function gatherElements(x: Tensor, indices: Tensor, axis: number): Tensor {
  checkIndices('GatherElements', indices);
  const a = normAxis('GatherElements', axis, x.shape.length, x.shape);
  if (indices.shape.length !== x.shape.length)
    shapeError('GatherElements', 'indices rank must equal data rank', [x.shape, indices.shape]);
  return x.graph.emit('GatherElements', [x, indices], { axis: attr.int(a) }, [
    { dtype: x.dtype, shape: indices.shape },
  ])[0];
}

/** Gathers slices at index tuples: indices [..., k] pick from the first k axes of x (batch_dims 0). */
export function gatherND(x: Tensor, indices: Tensor): Tensor {
  checkIndices('GatherND', indices);
  const k = indices.shape[indices.shape.length - 1];
  if (typeof k !== 'number' || k > x.shape.length)
    shapeError('GatherND', 'last indices dim must be static and <= data rank', [x.shape, indices.shape]);
  return x.graph.emit('GatherND', [x, indices], {}, [
    { dtype: x.dtype, shape: [...indices.shape.slice(0, -1), ...x.shape.slice(k as number)] },
  ])[0];
}

/** data with `updates` added at `indices` along `axis` (repeated indices accumulate). */
export function scatterElementsAdd(data: Tensor, indices: Tensor, updates: Tensor, axis: number): Tensor {
  checkIndices('ScatterElements', indices);
  const a = normAxis('ScatterElements', axis, data.shape.length, data.shape);
  return data.graph.emit(
    'ScatterElements',
    [data, indices, updates],
    { axis: attr.int(a), reduction: attr.string('add') },
    [{ dtype: data.dtype, shape: data.shape }],
  )[0];
}

/** data with `updates` added at the index tuples in `indices` [..., k] (repeated indices accumulate). */
export function scatterNDAdd(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  checkIndices('ScatterND', indices);
  return data.graph.emit('ScatterND', [data, indices, updates], { reduction: attr.string('add') }, [
    { dtype: data.dtype, shape: data.shape },
  ])[0];
}

/** Runtime shape of x as a 1-D int64 tensor. */
export function shapeOf(x: Tensor): Tensor {
  return x.graph.emit('Shape', [x], {}, [{ dtype: 'int64', shape: [x.shape.length] }])[0];
}

/** Flattens to [n, ...] etc. via reshape, exported for brevity. */
export const flatten = (x: Tensor): Tensor => reshape(x, [-1]);
