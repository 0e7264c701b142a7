/**
 * The engine's op vocabulary: every ONNX (ai.onnx) op type a traced graph can contain, and how `grad` treats it.
 * `Graph.emit` only takes names from this table (`OpName`), and `gradRules` in grad.ts must hold exactly one rule for
 * each op marked 'rule' (`DifferentiableOp`): the type checker rejects an emitted op missing here, a 'rule' op without
 * a rule, and a rule for an op not marked 'rule'. test/engine/grad.test.ts checks that every op here appears in a
 * float64 finite-difference gradient check.
 *
 * - 'rule': differentiable; its rule in grad.ts gives the gradient of each input that can take one.
 * - 'const': no gradient flows through it; `grad` treats its outputs as constants. Ops whose outputs are bool or int
 *   (comparisons, logic, ArgMax, Shape), ops that are piecewise constant (Sign, Floor: the gradient is zero almost
 *   everywhere), and StopGradient.
 * - 'none': differentiable in principle but with no rule; `grad` throws (naming the op and where it was traced) when a
 *   gradient would have to flow through it.
 */
export const OPS = {
  // elementwise arithmetic
  Add: 'rule',
  Sub: 'rule',
  Mul: 'rule',
  Div: 'rule',
  Pow: 'rule',
  Neg: 'rule',
  /** binary max/min: where inputs tie, each gets half the gradient (see docs/engine.md, "Ties"). */
  Max: 'rule',
  Min: 'rule',
  /** n-ary sum (`addN`; also how grad accumulates 3+ partial gradients). */
  Sum: 'rule',
  Sqrt: 'rule',
  Exp: 'rule',
  Log: 'rule',
  Abs: 'rule',
  Tanh: 'rule',
  Sigmoid: 'rule',
  Erf: 'rule',
  Gelu: 'rule',
  Sin: 'rule',
  Cos: 'rule',
  Relu: 'rule',
  Reciprocal: 'rule',
  Where: 'rule',
  Cast: 'rule',
  Sign: 'const',
  Floor: 'const',
  // comparisons and logic (bool outputs)
  Equal: 'const',
  Less: 'const',
  LessOrEqual: 'const',
  Greater: 'const',
  GreaterOrEqual: 'const',
  And: 'const',
  Or: 'const',
  Not: 'const',
  IsNaN: 'const',
  IsInf: 'const',
  StopGradient: 'const',
  // reductions
  ReduceSum: 'rule',
  ReduceMean: 'rule',
  ReduceSumSquare: 'rule',
  /** reductions to the extreme: tied positions share the gradient evenly. */
  ReduceMax: 'rule',
  ReduceMin: 'rule',
  /** int64 only (element counts of symbolic shapes, `countOver`). */
  ReduceProd: 'const',
  ArgMax: 'const',
  Softmax: 'rule',
  LogSoftmax: 'rule',
  // linear algebra and nn
  MatMul: 'rule',
  Gemm: 'rule',
  LayerNormalization: 'rule',
  Conv: 'rule',
  /** emitted only by Conv's gradient rule (dx); there are no second-order gradients through it. */
  ConvTranspose: 'none',
  // movement and indexing
  Reshape: 'rule',
  Transpose: 'rule',
  Squeeze: 'rule',
  Unsqueeze: 'rule',
  Expand: 'rule',
  Concat: 'rule',
  Split: 'rule',
  Slice: 'rule',
  Pad: 'rule',
  Gather: 'rule',
  GatherElements: 'rule',
  GatherND: 'rule',
  ScatterElements: 'rule',
  ScatterND: 'rule',
  Shape: 'const',
} as const satisfies Record<string, 'rule' | 'const' | 'none'>;

/** Every op type the engine emits. */
export type OpName = keyof typeof OPS;
/** Ops with a gradient rule in grad.ts (`gradRules` is typed over exactly these). */
export type DifferentiableOp = { [K in OpName]: (typeof OPS)[K] extends 'rule' ? K : never }[OpName];
/** Ops without a rule: 'const' (no gradient flows) or 'none' (grad throws if one would). */
export type NonDifferentiableOp = Exclude<OpName, DifferentiableOp>;

export const isOpName = (op: string): op is OpName => Object.prototype.hasOwnProperty.call(OPS, op);

/** How grad treats an op ('rule', 'const' or 'none'); undefined for a name outside the vocabulary. */
export const opKind = (op: string): 'rule' | 'const' | 'none' | undefined => (isOpName(op) ? OPS[op] : undefined);

/** The vocabulary's op names, by kind (for tests and docs). */
export const opNames = (kind?: 'rule' | 'const' | 'none'): OpName[] =>
  (Object.keys(OPS) as OpName[]).filter((op) => !kind || OPS[op] === kind);
