/**
 * The heavy parts of the metrics (matrix products and reductions over them) as small graphs traced with the engine
 * (src/engine: the same tracer, op vocabulary and ONNX writer as the models) and run by ONNX Runtime through the
 * engine's `Session`. Graphs have symbolic dimensions, so one session per (graph, precision) serves every size;
 * sessions are created once and cached for the life of the process.
 */
import { Graph } from '../engine/graph.js';
import { Session } from '../engine/runtime.js';
import type { Tensor } from '../engine/tensor.js';
import type { HostArray } from '../io/array.js';
import { threadBudget } from '../util/threads.js';

export type Precision = 'float32' | 'float64';

/** Traces one metrics graph at a precision: declare inputs on `g` (symbolic dims), return the named outputs. */
export type MetricsGraph = (g: Graph, precision: Precision) => Record<string, Tensor>;

/** A float array with a shape, as it goes into and comes out of a graph. */
export interface Dense {
  data: Float32Array | Float64Array;
  dims: number[];
}

const sessions = new Map<string, Promise<Session>>();

function threads(): number {
  const env = Number(process.env.ATTUNE_METRICS_THREADS);
  return Number.isInteger(env) && env > 0 ? env : threadBudget();
}

function session(key: string, precision: Precision, build: MetricsGraph): Promise<Session> {
  const id = `${key}:${precision}`;
  let s = sessions.get(id);
  if (!s) {
    const g = new Graph();
    const outputs = build(g, precision);
    // the engine's options: no busy-waiting between the many small GEMM calls, and the process-wide --device
    s = Session.create(g, outputs, { threads: threads(), name: `metrics.${key}` });
    sessions.set(id, s);
    s.catch(() => sessions.delete(id));
  }
  return s;
}

/** Converts to the requested precision without copying when the type already matches. */
export function asPrecision(
  data: ArrayLike<number> & { length: number },
  precision: Precision,
): Float32Array | Float64Array {
  if (precision === 'float64') return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * Runs a cached graph (traced by `build` on first use for this key and precision). Feeds are converted to the graph
 * precision; outputs come back as typed arrays of that precision with their shapes.
 */
export async function runGraph(
  key: string,
  precision: Precision,
  build: MetricsGraph,
  feeds: Record<string, Dense>,
): Promise<Record<string, Dense>> {
  const s = await session(key, precision, build);
  const inputs: Record<string, HostArray> = {};
  for (const [name, f] of Object.entries(feeds))
    inputs[name] = { dtype: precision, shape: f.dims, data: asPrecision(f.data, precision) };
  const result = await s.run(inputs);
  const out: Record<string, Dense> = {};
  for (const [name, t] of Object.entries(result))
    out[name] = { data: t.data as Float32Array | Float64Array, dims: t.shape };
  return out;
}
