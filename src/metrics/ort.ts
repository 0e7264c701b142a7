import { createOrtSession } from '../engine/runtime.js';
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { encodeModel, type NodeProto, type TensorProto, type ValueInfoProto } from '../engine/onnx/proto.js';

/**
 * Tiny ONNX graphs for the heavy parts of the metrics (matrix products and reductions over them), run
 * by ONNX Runtime on the CPU. Graphs have symbolic dimensions, so one session per (graph, precision)
 * serves every size; sessions are created once and cached for the life of the process.
 */
export type Precision = 'float32' | 'float64';

const ELEM_TYPE: Record<Precision, number> = { float32: 1, float64: 11 };

export interface GraphSpec {
  /** Input names with their ranks; every input and output has the graph's precision. */
  inputs: [string, number][];
  outputs: [string, number][];
  nodes: NodeProto[];
  initializers?: TensorProto[];
}

/** A float array with a shape, as it goes into and comes out of a graph. */
export interface Dense {
  data: Float32Array | Float64Array;
  dims: number[];
}

function valueInfo(name: string, rank: number, precision: Precision): ValueInfoProto {
  const dim = Array.from({ length: rank }, (_, i) => ({ dimParam: `${name}_d${i}` }));
  return { name, type: { tensorType: { elemType: ELEM_TYPE[precision], shape: { dim } } } };
}

/** An int64 initializer (axes lists for reductions). */
export function int64Const(name: string, values: number[]): TensorProto {
  return { name, dims: [values.length], dataType: 7, int64Data: values };
}

/** A scalar initializer of the graph's precision. */
export function scalarConst(name: string, value: number, precision: Precision): TensorProto {
  return precision === 'float64'
    ? { name, dims: [], dataType: 11, doubleData: [value] }
    : { name, dims: [], dataType: 1, floatData: [value] };
}

/** A float attribute value (so that 2.0 is not written as an int). */
export function float(value: number): { float: number } {
  return { float: value };
}

/** Shorthand for a node; attributes are ints (type 2), float(x) (type 1) or int lists (type 7). */
export function node(opType: string, input: string[], output: string[], attrs: Record<string, number | number[] | { float: number }> = {}): NodeProto {
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v) ? { name, type: 7, ints: v } : typeof v === 'number' ? { name, type: 2, i: v } : { name, type: 1, f: v.float },
  );
  return { opType, input, output, attribute };
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function threads(): number {
  const env = Number(process.env.ATTUNE_METRICS_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

function session(key: string, precision: Precision, build: (p: Precision) => GraphSpec): Promise<ort.InferenceSession> {
  const id = `${key}:${precision}`;
  let s = sessions.get(id);
  if (!s) {
    const spec = build(precision);
    const bytes = encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      producerName: 'attune-metrics',
      graph: {
        name: key,
        node: spec.nodes,
        initializer: spec.initializers ?? [],
        input: spec.inputs.map(([n, r]) => valueInfo(n, r, precision)),
        output: spec.outputs.map(([n, r]) => valueInfo(n, r, precision)),
      },
    });
    // the engine's options: no busy-waiting between the many small GEMM calls, and the process-wide --device
    s = createOrtSession(bytes, { threads: threads() });
    sessions.set(id, s);
  }
  return s;
}

/** Converts to the requested precision without copying when the type already matches. */
export function asPrecision(data: ArrayLike<number> & { length: number }, precision: Precision): Float32Array | Float64Array {
  if (precision === 'float64') return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * Runs a cached graph. Feeds are converted to the graph precision; outputs come back as typed arrays of
 * that precision with their shapes.
 */
export async function runGraph(
  key: string,
  precision: Precision,
  build: (p: Precision) => GraphSpec,
  feeds: Record<string, Dense>,
): Promise<Record<string, Dense>> {
  const s = await session(key, precision, build);
  const inputs: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(precision, asPrecision(f.data, precision), f.dims);
  const result = await s.run(inputs);
  const out: Record<string, Dense> = {};
  for (const [name, t] of Object.entries(result)) {
    out[name] = { data: t.data as Float32Array | Float64Array, dims: t.dims.map(Number) };
  }
  return out;
}
