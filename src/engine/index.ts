/** Attune's engine: symbolic tensors traced to ONNX, symbolic gradients, parameters and the ONNX Runtime layer. */
export {
  Graph,
  attr,
  callerLocation,
  isFloat,
  type Attr,
  type ConstData,
  type Dim,
  type DType,
  type Node,
  type RandomInput,
  type Shape,
} from './graph.js';
export { Tensor } from './tensor.js';
export { constant, scalar, full, type TensorLike } from './ops/core.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/movement.js';
export * from './ops/nn.js';
export { grad, valueAndGrad, gradRules, sumToShape, type Rule } from './grad.js';
export {
  OPS,
  opKind,
  opNames,
  isOpName,
  type OpName,
  type DifferentiableOp,
  type NonDifferentiableOp,
} from './ops/vocab.js';
export { ParamStore, Scope, init, fans, type Initializer, type ParamOptions } from './params.js';
export { toModelProto, tensorProto, valueInfo, OPSET, IR_VERSION, type BuildOptions } from './onnx/build.js';
export {
  Session,
  sessionOptions,
  toOrtTensor,
  fromOrtTensor,
  type RuntimeOptions,
  type ExecutionProvider,
} from './runtime.js';
export * from './optim.js';
export * from './schedule.js';
export * from './train.js';
export * from './checkpoint.js';
export * from './export.js';
export * from './runner.js';
export * from './worker.js';
