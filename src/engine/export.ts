import { HostArray } from '../io/array.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ConfigError } from '../util/errors.js';
import { Graph } from './graph.js';
import type { Tensor } from './tensor.js';
import { encodeModel } from './onnx/proto.js';
import { toModelProto } from './onnx/build.js';
import { ParamStore, Scope } from './params.js';
import { Runner, SessionConfig } from './runner.js';
import { createRunner } from './worker.js';

/**
 * Inference graphs: the model traced without loss or optimizer. Either exported as ONE self-contained
 * .onnx file (parameters baked in as initializers; runs in onnxruntime-node and onnxruntime-web) or run
 * here with parameters as inputs, so a trainer's latest weights can be swapped in without retracing.
 */
export type InferenceBuildFn = (g: Graph, p: Scope) => Record<string, Tensor>;

export interface ExportOptions {
  /** Model name and doc string written into the file. */
  name?: string;
  docString?: string;
  /** Parameter values to bake; default: the store's current values. */
  params?: Record<string, HostArray>;
}

/** Traces `build` and returns self-contained ONNX bytes (parameters as initializers). */
export function exportOnnxBytes(build: InferenceBuildFn, store: ParamStore, opts: ExportOptions = {}): Uint8Array {
  const g = new Graph();
  const outputs = build(g, new Scope(g, store));
  if (Object.keys(outputs).length === 0)
    throw new ConfigError('the inference graph has no outputs', { field: 'outputs' });
  refuseRandomInputs(g);
  const bake = { ...store.feeds(g), ...(opts.params ? pick(opts.params, [...g.params.keys()]) : {}) };
  return encodeModel(toModelProto(g, outputs, { bake, name: opts.name ?? 'attune', docString: opts.docString }));
}

/** Writes the self-contained .onnx file atomically and returns its size in bytes. */
export function exportOnnx(path: string, build: InferenceBuildFn, store: ParamStore, opts: ExportOptions = {}): number {
  const bytes = exportOnnxBytes(build, store, opts);
  writeFileAtomic(path, bytes);
  return bytes.byteLength;
}

/** Runs an inference graph with parameters held by the runner (in a worker thread by default). */
export class Predictor {
  private constructor(
    private readonly runner: Runner,
    readonly params: string[],
    /** The data inputs run() needs (Graph.dataInputs()). */
    readonly inputs: string[],
  ) {}

  static async create(
    build: InferenceBuildFn,
    store: ParamStore,
    opts: { worker?: boolean; session?: SessionConfig } = {},
  ): Promise<Predictor> {
    const g = new Graph();
    const outputs = build(g, new Scope(g, store));
    refuseRandomInputs(g);
    const onnx = encodeModel(toModelProto(g, outputs));
    const state = store.feeds(g);
    const inputs = g.dataInputs().map((t) => t.name);
    const runner = await createRunner({ onnx, state, carry: {}, session: opts.session }, { worker: opts.worker });
    return new Predictor(runner, Object.keys(state), inputs);
  }

  async run(feeds: Record<string, HostArray>): Promise<Record<string, HostArray>> {
    return (await this.runner.run(feeds)).outputs;
  }

  /** Swaps in new parameter values (e.g. from Trainer.params()); names outside this model are ignored. */
  setParams(values: Record<string, HostArray>): Promise<void> {
    return this.runner.setState(
      pick(
        values,
        this.params.filter((n) => n in values),
      ),
    );
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}

/** Inference graphs (export, Predictor) are deterministic: dropout must be off (p = 0) when they are traced. */
function refuseRandomInputs(g: Graph): void {
  if (g.randomInputs.length) {
    throw new ConfigError(
      `the inference graph draws random inputs (${g.randomInputs.map((r) => r.name).join(', ')}); build it without dropout for inference and export`,
      { field: 'dropout' },
    );
  }
}

function pick(values: Record<string, HostArray>, names: string[]): Record<string, HostArray> {
  return Object.fromEntries(names.filter((n) => values[n]).map((n) => [n, values[n]]));
}
