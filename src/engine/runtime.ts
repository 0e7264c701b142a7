// every ORT session is created here: keep onnxruntime's telemetry off unless the user opted in (src/util/ort_env.ts)
import '../util/ort_env.js';
import * as ort from 'onnxruntime-node';
import { type HostArray, type HostDType } from '../io/array.js';
import { AttuneError, ConfigError, ShapeError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { threadBudget } from '../util/threads.js';
import type { Graph } from './graph.js';
import { encodeModel } from './onnx/proto.js';
import { type BuildOptions, toModelProto } from './onnx/build.js';
import { drawRandomFeeds } from './random.js';
import type { Tensor } from './tensor.js';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface RuntimeOptions {
  /** 'cpu' (default). 'cuda' needs the CUDA build of onnxruntime-node (opt-in, see docs/engine.md). */
  executionProvider?: ExecutionProvider;
  /** Intra-op threads; default threadBudget() (ATTUNE_THREADS, else every core). */
  threads?: number;
  /** ORT graph optimization level; default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Busy-wait between ops (faster on an idle machine, wasteful on a shared one). Default false. */
  spin?: boolean;
  /** Write ORT's optimized graph here (debugging). */
  optimizedModelPath?: string;
  /** Write an ORT profile (JSON) with this file prefix (performance work). */
  profilePrefix?: string;
  logSeverity?: 0 | 1 | 2 | 3 | 4;
}

/**
 * The execution provider used when none is given: `ATTUNE_DEVICE` (set by the CLI's global `--device`), else cpu.
 * One switch for every session the process creates (training, inference, metrics), including worker threads.
 */
export function defaultExecutionProvider(): ExecutionProvider {
  const device = process.env.ATTUNE_DEVICE;
  if (device === undefined || device === '' || device === 'cpu') return 'cpu';
  if (device === 'cuda') return 'cuda';
  throw new ConfigError(`ATTUNE_DEVICE / --device must be 'cpu' or 'cuda', got '${device}'`, {
    field: 'device',
    got: device,
  });
}

export function sessionOptions(opts: RuntimeOptions = {}): ort.InferenceSession.SessionOptions {
  const spin = opts.spin ? '1' : '0';
  return {
    executionProviders: [opts.executionProvider ?? defaultExecutionProvider()],
    graphOptimizationLevel: opts.optimization ?? 'all',
    intraOpNumThreads: opts.threads ?? threadBudget(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: opts.logSeverity ?? 3,
    ...(opts.optimizedModelPath ? { optimizedModelFilePath: opts.optimizedModelPath } : {}),
    ...(opts.profilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix } : {}),
    // Denormals (tiny gradients late in training) are flushed to zero: they can slow CPU math by 10-100x.
    extra: {
      session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin }, set_denormal_as_zero: '1' },
    },
  };
}

const ORT_TYPE: Partial<Record<HostDType, ort.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  bool: 'bool',
  int32: 'int32',
  uint8: 'uint8',
};

export function toOrtTensor(a: HostArray): ort.Tensor {
  const type = ORT_TYPE[a.dtype];
  if (!type) throw new ShapeError(`cannot feed ${a.dtype} arrays to the engine`, { got: a.dtype });
  return new ort.Tensor(type, a.data as any, a.shape);
}

export function fromOrtTensor(t: ort.Tensor): HostArray {
  const dtype = t.type === 'bool' ? 'bool' : (t.type as HostDType);
  return { dtype, shape: [...t.dims], data: t.data as HostArray['data'] };
}

/**
 * One ONNX Runtime session over a traced graph (or ONNX bytes): THE way the engine runs a graph. Everything else is
 * built on it: a Runner (runner.ts, worker.ts) is a Session plus state carried between calls, in this thread or a
 * worker; Trainer (train.ts) and Predictor (export.ts) compile a graph into a Runner; the metrics keep one cached
 * Session per graph (src/metrics/ort.ts). Feeds and results are HostArrays.
 */
export class Session {
  private closed = false;
  private constructor(
    readonly ort: ort.InferenceSession,
    /** The graph it came from (null for raw bytes). */
    readonly graph: Graph | null,
    readonly bytes: Uint8Array,
  ) {}

  /** Compiles the part of `graph` that computes `outputs`. */
  static async create(
    graph: Graph,
    outputs: Record<string, Tensor>,
    opts: RuntimeOptions & BuildOptions = {},
  ): Promise<Session> {
    const bytes = encodeModel(toModelProto(graph, outputs, opts));
    return new Session(await createOrtSession(bytes, opts), graph, bytes);
  }

  static async fromBytes(bytes: Uint8Array, opts: RuntimeOptions = {}): Promise<Session> {
    return new Session(await createOrtSession(bytes, opts), null, bytes);
  }

  get inputNames(): readonly string[] {
    return this.ort.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.ort.outputNames;
  }

  /**
   * Runs with the given feeds (extra names are ignored). Random inputs (dropout masks) the graph declares and the
   * feeds lack are drawn from `rng` with the engine's one sampler (`drawRandomFeeds`, random.ts), in declaration
   * order. Returns every output by name.
   */
  async run(
    feeds: Record<string, HostArray | ort.Tensor>,
    opts: { rng?: Rng } = {},
  ): Promise<Record<string, HostArray>> {
    if (this.closed) throw new AttuneError('STATE', 'session used after release()');
    const all: Record<string, HostArray | ort.Tensor> = { ...feeds };
    const random = this.graph
      ? this.graph.randomInputs.filter((r) => !(r.name in feeds) && this.inputNames.includes(r.name))
      : [];
    if (random.length) {
      if (!opts.rng) throw new AttuneError('STATE', 'graph has random inputs (dropout): pass { rng } or feed them');
      Object.assign(all, drawRandomFeeds(random, opts.rng));
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const v = all[name];
      if (!v) throw new ShapeError(`missing input '${name}'`, { field: name, expected: this.inputNames });
      ortFeeds[name] = v instanceof ort.Tensor ? (v as ort.Tensor) : toOrtTensor(v as HostArray);
    }
    const res = await this.runOrt(ortFeeds);
    const out: Record<string, HostArray> = {};
    for (const name of this.outputNames) out[name] = fromOrtTensor(res[name]);
    return out;
  }

  /** The raw call: ORT tensors in (exactly the session's inputs), ORT tensors out. Runners use it to keep state as ORT tensors. */
  async runOrt(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    if (this.closed) throw new AttuneError('STATE', 'session used after release()');
    return (await this.ort.run(feeds)) as Record<string, ort.Tensor>;
  }

  async release(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ort.release();
  }
}

/** Creates an ORT session with the engine's options; a provider that cannot load is a clear error pointing at docs/gpu.md. */
export async function createOrtSession(bytes: Uint8Array, opts: RuntimeOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, sessionOptions(opts));
  } catch (err) {
    const ep = opts.executionProvider ?? defaultExecutionProvider();
    const hint =
      ep === 'cuda'
        ? ' (the CUDA provider needs onnxruntime-node installed with its CUDA libraries; see docs/gpu.md)'
        : '';
    throw new AttuneError(
      'STATE',
      `onnxruntime could not create a ${ep} session for the traced graph: ${(err as Error).message}${hint}`,
      { executionProvider: ep },
    );
  }
}
