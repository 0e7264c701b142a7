import { type DType, type Shape, isFloat, shapeError, fmtShape } from '../graph.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { lift, scalar, type TensorLike } from './core.js';
import { OnnxDataType } from '../onnx/proto.js';
import type { OpName } from './vocab.js';

function pair(op: OpName, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') return shapeError(op, 'needs at least one tensor operand', []);
  const ta = typeof a === 'number' ? lift(a, b as Tensor) : a;
  const tb = lift(b, ta);
  if (ta.dtype !== tb.dtype) shapeError(op, `dtypes differ (${ta.dtype} vs ${tb.dtype})`, [ta.shape, tb.shape]);
  return [ta, tb];
}

/** A broadcasting binary op producing the operands' dtype (or `outDtype`). */
function binary(op: OpName, a: TensorLike, b: TensorLike, outDtype?: DType): Tensor {
  const [ta, tb] = pair(op, a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return ta.graph.emit(op, [ta, tb], {}, [{ dtype: outDtype ?? ta.dtype, shape }])[0];
}

function unary(op: OpName, x: Tensor, needFloat = true, outDtype?: DType): Tensor {
  if (needFloat && !isFloat(x.dtype)) shapeError(op, `needs a float tensor, got ${x.dtype}`, [x.shape]);
  return x.graph.emit(op, [x], {}, [{ dtype: outDtype ?? x.dtype, shape: x.shape }])[0];
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('Add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('Sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('Mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('Div', a, b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('Pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('Max', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('Min', a, b);
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('Equal', a, b, 'bool');
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('Less', a, b, 'bool');
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary('LessOrEqual', a, b, 'bool');
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('Greater', a, b, 'bool');
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary('GreaterOrEqual', a, b, 'bool');
export const and = (a: Tensor, b: Tensor): Tensor => binary('And', a, b, 'bool');
export const or = (a: Tensor, b: Tensor): Tensor => binary('Or', a, b, 'bool');
export const not = (a: Tensor): Tensor => unary('Not', a, false);

export const neg = (x: Tensor): Tensor => unary('Neg', x, false);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
export const exp = (x: Tensor): Tensor => unary('Exp', x);
export const log = (x: Tensor): Tensor => unary('Log', x);
export const abs = (x: Tensor): Tensor => unary('Abs', x, false);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
/** Error function. ORT's CPU provider has no float64 Erf kernel, so float64 erf is evaluated in float32. */
export const erf = (x: Tensor): Tensor =>
  x.dtype === 'float64' ? cast(unary('Erf', cast(x, 'float32')), 'float64') : unary('Erf', x);
export const sin = (x: Tensor): Tensor => unary('Sin', x);
export const cos = (x: Tensor): Tensor => unary('Cos', x);
export const relu = (x: Tensor): Tensor => unary('Relu', x);
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x);
export const sign = (x: Tensor): Tensor => unary('Sign', x, false);
export const floor = (x: Tensor): Tensor => unary('Floor', x);
export const isNaN = (x: Tensor): Tensor => unary('IsNaN', x, true, 'bool');
/** True where x is +-Inf. */
export const isInf = (x: Tensor): Tensor => unary('IsInf', x, true, 'bool');
/** True where x is finite (neither NaN nor +-Inf). */
export const isFinite = (x: Tensor): Tensor => not(or(isNaN(x), isInf(x)));
export const square = (x: Tensor): Tensor => mul(x, x);
export const rsqrt = (x: Tensor): Tensor => reciprocal(sqrt(x));

/**
 * Exact (erf) GELU as one ONNX Gelu node (opset 20): one pass forward, and a fused gradient rule instead of the
 * five-op decomposition's longer backward. float64 goes through float32, as ORT's CPU Gelu/Erf are float-only.
 */
export function gelu(x: Tensor): Tensor {
  if (!isFloat(x.dtype)) shapeError('Gelu', `needs a float tensor, got ${x.dtype}`, [x.shape]);
  if (x.dtype === 'float64') return cast(gelu(cast(x, 'float32')), 'float64');
  return x.graph.emit('Gelu', [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
}
/** SiLU / swish: x * sigmoid(x). */
export const silu = (x: Tensor): Tensor =>
  // ORT rewrites x*sigmoid(x) into a float-only QuickGelu kernel, so float64 uses the equivalent x / (1 + e^-x).
  x.dtype === 'float64' ? div(x, add(exp(neg(x)), 1)) : mul(x, sigmoid(x));

/** Elementwise sum of any number of same-dtype tensors (one ONNX Sum node; numpy broadcasting). */
export function addN(xs: readonly Tensor[]): Tensor {
  if (xs.length === 0) shapeError('Sum', 'needs at least one tensor', []);
  if (xs.length === 1) return xs[0];
  for (const t of xs)
    if (t.dtype !== xs[0].dtype)
      shapeError(
        'Sum',
        `dtypes differ (${xs[0].dtype} vs ${t.dtype})`,
        xs.map((u) => u.shape),
      );
  const shape = xs.slice(1).reduce<Shape>((s, t) => broadcastShapes('Sum', s, t.shape), xs[0].shape);
  return xs[0].graph.emit('Sum', [...xs], {}, [{ dtype: xs[0].dtype, shape }])[0];
}

/** Elementwise select: cond ? a : b, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (cond.dtype !== 'bool') shapeError('Where', `condition must be bool, got ${cond.dtype}`, [cond.shape]);
  const [ta, tb] = pair('Where', a, b);
  const shape = broadcastShapes('Where', cond.shape, broadcastShapes('Where', ta.shape, tb.shape));
  return cond.graph.emit('Where', [cond, ta, tb], {}, [{ dtype: ta.dtype, shape }])[0];
}

/** Converts dtype; no gradient flows into int/bool results. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return x.graph.emit('Cast', [x], { to: { kind: 'int', v: OnnxDataType[dtype] } }, [{ dtype, shape: x.shape }])[0];
}

/** Identity whose output takes no gradient. Removed when the graph is written to ONNX. */
export function stopGradient(x: Tensor): Tensor {
  return x.graph.emit('StopGradient', [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
}

/** Clamps to [lo, hi] with Max/Min (gradient passes where inside). */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  if (lo > hi) shapeError('Clip', `lo ${lo} > hi ${hi}`, [x.shape]);
  return minimum(maximum(x, scalar(x.graph, lo, x.dtype)), scalar(x.graph, hi, x.dtype));
}

export const describe = (t: Tensor): string => `${t.dtype}${fmtShape(t.shape)}`;
