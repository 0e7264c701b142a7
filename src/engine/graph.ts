import { ShapeError } from '../util/errors.js';
import { Tensor } from './tensor.js';
import { isOpName, type OpName } from './ops/vocab.js';

/** Element types a symbolic tensor can have. float64 exists for gradient checks; int64 for indices; bool for masks. */
export type DType = 'float32' | 'float64' | 'int64' | 'bool';
/** A dimension: a static size, or a symbolic name such as 'B' bound when the graph runs. */
export type Dim = number | string;
export type Shape = readonly Dim[];

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

/** Attribute values carry their ONNX kind, because a JS number cannot tell INT from FLOAT. */
export type Attr =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'ints'; v: number[] }
  | { kind: 'floats'; v: number[] }
  | { kind: 'string'; v: string };
export const attr = {
  int: (v: number): Attr => ({ kind: 'int', v }),
  float: (v: number): Attr => ({ kind: 'float', v }),
  ints: (v: number[]): Attr => ({ kind: 'ints', v }),
  floats: (v: number[]): Attr => ({ kind: 'floats', v }),
  string: (v: string): Attr => ({ kind: 'string', v }),
};

/** One ONNX node. `inputs` may hold null for an omitted optional input. */
export interface Node {
  id: number;
  op: OpName;
  inputs: (Tensor | null)[];
  outputs: Tensor[];
  attrs: Record<string, Attr>;
  /** Where the op was called from (for error messages and doc strings). */
  location: string;
}

/** Constant data held by the graph and written as an ONNX initializer. */
export interface ConstData {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Uint8Array;
}

/** A graph input whose value the runner draws fresh every step from a seeded Rng (see docs/engine.md). */
export interface RandomInput {
  name: string;
  dtype: DType;
  shape: number[];
  kind: 'dropoutMask';
  /** Drop probability; the mask holds 0 or 1/(1-p). */
  p: number;
}

export interface OutSpec {
  dtype: DType;
  shape: Shape;
}

/**
 * A traced computation: nodes in creation order (which is a topological order), named inputs, parameters
 * (inputs fed from a ParamStore), constants and random inputs.
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs = new Map<string, Tensor>();
  /** Parameters by full name; each is also a graph input. */
  readonly params = new Map<string, Tensor>();
  readonly frozen = new Set<string>();
  readonly constants = new Map<string, ConstData>();
  readonly randomInputs: RandomInput[] = [];
  /** Consumers of each tensor, by tensor name. */
  private readonly users = new Map<string, Node[]>();
  private readonly constCache = new Map<string, Tensor>();
  private counter = 0;

  /** Declares a data input. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    if (this.inputs.has(name))
      throw new ShapeError(`graph input '${name}' declared twice`, { input: name, location: callerLocation() });
    const t = new Tensor(this, name, dtype, [...shape], null);
    this.inputs.set(name, t);
    return t;
  }

  /** Declares a parameter input (normally through Scope.param). */
  param(name: string, dtype: DType, shape: Shape, trainable = true): Tensor {
    const old = this.params.get(name);
    if (old) {
      if (!sameShape(old.shape, shape) || old.dtype !== dtype) {
        throw new ShapeError(
          `parameter '${name}' redeclared as ${dtype}[${shape.join(', ')}], was ${old.dtype}[${old.shape.join(', ')}]`,
          {
            op: 'param',
            shapes: [old.shape, shape],
            location: callerLocation(),
          },
        );
      }
      return old;
    }
    const t = this.input(name, dtype, shape);
    this.params.set(name, t);
    if (!trainable) this.frozen.add(name);
    return t;
  }

  /** Parameters that take gradients (not frozen), in declaration order. */
  trainableParams(): Tensor[] {
    return [...this.params.values()].filter((t) => !this.frozen.has(t.name));
  }

  /**
   * The inputs the caller must feed: neither parameters (fed from a ParamStore) nor random inputs (drawn by the
   * runner). The one answer to "what does this graph need from me" (Trainer, Predictor and Session use it).
   */
  dataInputs(): Tensor[] {
    const random = new Set(this.randomInputs.map((r) => r.name));
    return [...this.inputs.values()].filter((t) => !this.params.has(t.name) && !random.has(t.name));
  }

  /** Registers a random input the runner fills each step. */
  randomInput(spec: Omit<RandomInput, 'name'>): Tensor {
    const name = `random.${this.randomInputs.length}`;
    this.randomInputs.push({ name, ...spec });
    return this.input(name, spec.dtype, spec.shape);
  }

  /** A constant tensor; identical small constants are shared. */
  constant(data: ConstData): Tensor {
    const key =
      data.data.length <= 64
        ? `${data.dtype}|${data.shape.join(',')}|${Array.from(data.data as ArrayLike<number | bigint>).join(',')}`
        : '';
    const hit = key ? this.constCache.get(key) : undefined;
    if (hit) return hit;
    const name = `const.${this.constants.size}`;
    this.constants.set(name, { ...data, shape: [...data.shape] });
    const t = new Tensor(this, name, data.dtype, data.shape, null);
    if (key) this.constCache.set(key, t);
    return t;
  }

  /**
   * Appends a node and returns its output tensors. Shapes and dtypes were inferred by the caller. `op` must be in the
   * engine's vocabulary (ops/vocab.ts), which ties it to a gradient rule or marks it non-differentiable.
   */
  emit(op: OpName, inputs: (Tensor | null)[], attrs: Record<string, Attr>, outs: OutSpec[]): Tensor[] {
    if (!isOpName(op))
      throw new ShapeError(
        `${String(op)} is not in the engine's op vocabulary (src/engine/ops/vocab.ts); see "Adding an op" in docs/engine.md`,
        { op, location: callerLocation() },
      );
    for (const t of inputs) {
      if (t && t.graph !== this)
        throw new ShapeError(`${op}: input '${t.name}' belongs to another graph`, { op, location: callerLocation() });
    }
    const node: Node = { id: this.nodes.length, op, inputs, outputs: [], attrs, location: callerLocation() };
    node.outputs = outs.map((o) => new Tensor(this, `${op}_${this.counter++}`, o.dtype, [...o.shape], node));
    this.nodes.push(node);
    for (const t of inputs) {
      if (!t) continue;
      const list = this.users.get(t.name);
      if (list) list.push(node);
      else this.users.set(t.name, [node]);
    }
    return node.outputs;
  }

  /** Nodes that read a tensor. */
  consumers(t: Tensor): readonly Node[] {
    return this.users.get(t.name) ?? [];
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const fmtShape = (s: Shape): string => `[${s.join(', ')}]`;

const ENGINE_FRAME = /[\\/](src|dist[\\/]src)[\\/]engine[\\/]/;

/** The first stack frame outside the engine: the user's file:line:col that called the op. */
export function callerLocation(): string {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(1)) {
    if (ENGINE_FRAME.test(line) || line.includes('node:internal')) continue;
    const m = /\(?((?:file:\/\/)?[^\s()]+:\d+:\d+)\)?\s*$/.exec(line.trim());
    if (m) return m[1].replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  }
  return 'unknown location';
}

/** Throws a ShapeError naming the op, the shapes involved and the caller's location. */
export function shapeError(op: string, why: string, shapes: Shape[]): never {
  const location = callerLocation();
  const shown = shapes.map(fmtShape).join(' and ');
  throw new ShapeError(`${op}: ${why}; shapes ${shown} at ${location}`, {
    op,
    shapes: shapes.map((s) => [...s]),
    location,
  });
}
