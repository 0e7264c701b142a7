import { type HostArray, hostArray, numel } from '../io/array.js';
import { ShapeError } from '../util/errors.js';
import { Rng, hashString } from '../util/rng.js';
import { type DType, type Graph, callerLocation } from './graph.js';
import type { Tensor } from './tensor.js';

/** Fills `n` values for a parameter of `shape` from a seeded stream. */
export type Initializer = (shape: readonly number[], rng: Rng) => ArrayLike<number>;

/** Fan-in / fan-out: [in, out] for 2-D weights (the matmul layout), [out, in, ...kernel] for conv weights. */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const field = numel(shape.slice(2));
  return [shape[1] * field, shape[0] * field];
}

const fill = (shape: readonly number[], f: () => number): Float64Array =>
  Float64Array.from({ length: numel(shape) }, f);

export const init = {
  zeros: (): Initializer => (s) => new Float64Array(numel(s)),
  ones: (): Initializer => (s) => new Float64Array(numel(s)).fill(1),
  constant:
    (v: number): Initializer =>
    (s) =>
      new Float64Array(numel(s)).fill(v),
  normal:
    (std = 0.02, mean = 0): Initializer =>
    (s, r) =>
      fill(s, () => mean + std * r.normal()),
  uniform:
    (lo = -0.05, hi = 0.05): Initializer =>
    (s, r) =>
      fill(s, () => r.range(lo, hi)),
  /** Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fanIn + fanOut)). */
  xavierUniform:
    (gain = 1): Initializer =>
    (s, r) => {
      const [fi, fo] = fans(s);
      const b = gain * Math.sqrt(6 / (fi + fo));
      return fill(s, () => r.range(-b, b));
    },
  xavierNormal:
    (gain = 1): Initializer =>
    (s, r) => {
      const [fi, fo] = fans(s);
      const std = gain * Math.sqrt(2 / (fi + fo));
      return fill(s, () => std * r.normal());
    },
  /** He uniform: U(-b, b), b = gain * sqrt(3 / fanIn); gain sqrt(2) suits ReLU. */
  kaimingUniform:
    (gain = Math.SQRT2): Initializer =>
    (s, r) => {
      const b = gain * Math.sqrt(3 / fans(s)[0]);
      return fill(s, () => r.range(-b, b));
    },
  kaimingNormal:
    (gain = Math.SQRT2): Initializer =>
    (s, r) => {
      const std = gain / Math.sqrt(fans(s)[0]);
      return fill(s, () => std * r.normal());
    },
};

export interface ParamOptions {
  trainable?: boolean;
  dtype?: DType;
}

/**
 * Host-side parameter values by full name. Each parameter's initial values come from a stream seeded by the store
 * seed and the parameter's name, so they do not depend on the order of declaration.
 */
export class ParamStore {
  private readonly values = new Map<string, HostArray>();
  private readonly frozen = new Set<string>();
  private readonly freezeRules: ((name: string) => boolean)[] = [];

  constructor(
    readonly seed = 0,
    readonly dtype: 'float32' | 'float64' = 'float32',
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }
  names(): string[] {
    return [...this.values.keys()];
  }
  get(name: string): HostArray {
    const v = this.values.get(name);
    if (!v) throw new ShapeError(`unknown parameter '${name}'`, { field: name });
    return v;
  }
  /** Replaces a parameter's values (shape and dtype must match when it exists). */
  set(name: string, value: HostArray): void {
    const old = this.values.get(name);
    if (old && (old.shape.join() !== value.shape.join() || old.dtype !== value.dtype)) {
      throw new ShapeError(
        `parameter '${name}': got ${value.dtype}[${value.shape}], expected ${old.dtype}[${old.shape}]`,
        {
          field: name,
          expected: old.shape,
          got: value.shape,
        },
      );
    }
    this.values.set(name, value);
  }

  /** Creates the parameter from its initializer if missing; checks the shape otherwise. */
  ensure(name: string, shape: readonly number[], initializer: Initializer, dtype: DType = this.dtype): HostArray {
    const old = this.values.get(name);
    if (old) {
      if (old.shape.join() !== shape.join()) {
        throw new ShapeError(
          `parameter '${name}' has shape [${old.shape}] but the model asks for [${shape}] at ${callerLocation()}`,
          {
            field: name,
            expected: [...shape],
            got: old.shape,
          },
        );
      }
      return old;
    }
    const vals = initializer(shape, new Rng(hashString(`${this.seed}:${name}`)));
    const data = dtype === 'float64' ? Float64Array.from(vals) : Float32Array.from(vals);
    const arr = hostArray(dtype === 'float64' ? 'float64' : 'float32', [...shape], data);
    this.values.set(name, arr);
    return arr;
  }

  /** Freezes parameters whose name starts with `prefix` (or matches the predicate), now and when declared later. */
  freeze(which: string | ((name: string) => boolean)): void {
    const rule =
      typeof which === 'string'
        ? (n: string) => n === which || n.startsWith(which.endsWith('.') ? which : `${which}.`)
        : which;
    this.freezeRules.push(rule);
  }
  unfreeze(which: string | ((name: string) => boolean)): void {
    const rule = typeof which === 'string' ? (n: string) => n === which || n.startsWith(`${which}.`) : which;
    for (const n of this.names()) if (rule(n)) this.frozen.add(`!${n}`);
  }
  isTrainable(name: string): boolean {
    if (this.frozen.has(`!${name}`)) return true;
    return !this.frozen.has(name) && !this.freezeRules.some((r) => r(name));
  }
  /** Marks one parameter frozen (used by Scope.param with trainable: false). */
  markFrozen(name: string): void {
    this.frozen.add(name);
  }

  /** Number of scalar parameters (optionally only trainable or only frozen ones). */
  count(opts: { trainable?: boolean } = {}): number {
    let n = 0;
    for (const [name, v] of this.values)
      if (opts.trainable === undefined || this.isTrainable(name) === opts.trainable) n += numel(v.shape);
    return n;
  }

  /** Host values for every parameter a graph declares, keyed by input name. */
  feeds(graph: Graph): Record<string, HostArray> {
    const out: Record<string, HostArray> = {};
    for (const name of graph.params.keys()) out[name] = this.get(name);
    return out;
  }

  /** All values by name (e.g. for safetensors). */
  toRecord(): Record<string, HostArray> {
    return Object.fromEntries(this.values);
  }
  /** Loads values by name; with strict, every stored name must exist in `record` and vice versa. */
  load(record: Record<string, HostArray>, strict = false): void {
    if (strict) {
      const missing = this.names().filter((n) => !(n in record));
      const extra = Object.keys(record).filter((n) => !this.values.has(n));
      if (missing.length || extra.length)
        throw new ShapeError(`parameters differ: missing [${missing}], unexpected [${extra}]`, { missing, extra });
    }
    for (const [n, v] of Object.entries(record)) this.set(n, v);
  }
}

/** A named position in the parameter tree: `p.scope('block0').param('weight', ...)` is 'block0.weight'. */
export class Scope {
  constructor(
    readonly graph: Graph,
    readonly store: ParamStore,
    readonly prefix = '',
  ) {}

  /** Full dotted name for a local name. */
  path(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }
  scope(name: string): Scope {
    return new Scope(this.graph, this.store, this.path(name));
  }
  /** Declares (or reuses) a parameter; returns the graph input that carries its value. */
  param(name: string, shape: readonly number[], initializer: Initializer, opts: ParamOptions = {}): Tensor {
    const full = this.path(name);
    const value = this.store.ensure(full, shape, initializer, opts.dtype);
    if (opts.trainable === false) this.store.markFrozen(full);
    return this.graph.param(full, value.dtype as DType, shape, this.store.isTrainable(full));
  }
}
