/**
 * A stateful ONNX program: one engine Session plus named values that live between calls (parameters,
 * optimizer state). After each call the outputs listed in `carry` replace the inputs they name, so a
 * train step's updated parameters feed the next step without a trip through user code. Everything in a
 * RunnerSpec is plain data, so the same runner can live in this thread (LocalRunner) or in a worker
 * (WorkerRunner, worker.ts) behind the same async interface.
 */
import type ort from 'onnxruntime-node';
import { HostArray, numel } from '../io/array.js';
import { AttuneError, InputError, ShapeError } from '../util/errors.js';
import { Rng, RngState } from '../util/rng.js';
import { threadBudget } from '../util/threads.js';
import { type RandomFeedSpec, drawRandomFeeds } from './random.js';
import { RuntimeOptions, Session, fromOrtTensor, toOrtTensor } from './runtime.js';

export { drawRandomFeeds, type RandomFeedSpec };

/** Session options of a runner: the engine's RuntimeOptions (threads, provider, profiling, ...). */
export type SessionConfig = RuntimeOptions;

export interface RunnerSpec {
  onnx: Uint8Array;
  /** Values fed on every call unless overridden (parameters, optimizer state, frozen parameters). */
  state: Record<string, HostArray>;
  /** output name -> state input it replaces after a committed call. */
  carry: Record<string, string>;
  /** Inputs drawn fresh each call from the runner's Rng (dropout masks). */
  random?: RandomFeedSpec[];
  rngState?: RngState;
  /** Scalar outputs that must be finite for a call to commit its carried outputs (e.g. loss, grad norm). */
  guard?: string[];
  session?: SessionConfig;
}

export interface RunResult {
  /** Every output that is not carried, as host arrays. */
  outputs: Record<string, HostArray>;
  /** False when a guarded output was NaN/Inf: the carried state was left as it was. */
  committed: boolean;
}

/** What both the in-thread and the worker runner offer. */
export interface Runner {
  run(feeds: Record<string, HostArray>): Promise<RunResult>;
  /** Current state values (all, or the named ones), copied. */
  getState(names?: string[]): Promise<Record<string, HostArray>>;
  /** Replaces state values (same names and shapes as before). */
  setState(values: Record<string, HostArray>): Promise<void>;
  getRngState(): Promise<RngState | null>;
  setRngState(state: RngState): Promise<void>;
  close(): Promise<void>;
}

export function defaultThreads(): number {
  return threadBudget();
}

function toOrt(a: HostArray, name: string): ort.Tensor {
  if (a.data.length !== numel(a.shape)) {
    throw new ShapeError(`input '${name}': ${a.data.length} values do not fill shape [${a.shape.join(', ')}]`, {
      field: name,
      shape: a.shape,
    });
  }
  return toOrtTensor(a);
}

function copyHost(a: HostArray): HostArray {
  return { dtype: a.dtype, shape: [...a.shape], data: a.data.slice() as HostArray['data'] };
}

/** The in-thread runner. Its run() blocks the event loop while ORT computes; use WorkerRunner to avoid that. */
export class LocalRunner implements Runner {
  private readonly state = new Map<string, ort.Tensor>();
  private readonly rng: Rng | null;
  private closed = false;

  private constructor(
    private readonly session: Session,
    private readonly spec: RunnerSpec,
  ) {
    // Copied, so later changes to the caller's arrays (e.g. a ParamStore) cannot leak into a running program.
    for (const [name, value] of Object.entries(spec.state)) this.state.set(name, toOrt(copyHost(value), name));
    for (const [out, input] of Object.entries(spec.carry)) {
      if (!session.outputNames.includes(out))
        throw new InputError(`carried output '${out}' is not an output of the program`, { field: out });
      if (!this.state.has(input))
        throw new InputError(`carried output '${out}' names state '${input}', which has no initial value`, {
          field: input,
        });
    }
    this.rng = spec.random?.length || spec.rngState ? new Rng(0) : null;
    if (this.rng && spec.rngState) this.rng.setState(spec.rngState);
  }

  static async create(spec: RunnerSpec): Promise<LocalRunner> {
    return new LocalRunner(await Session.fromBytes(spec.onnx, spec.session ?? {}), spec);
  }

  async run(feeds: Record<string, HostArray>): Promise<RunResult> {
    if (this.closed) throw new AttuneError('STATE', 'runner used after close()');
    const all: Record<string, ort.Tensor> = {};
    for (const [name, t] of this.state) all[name] = t;
    for (const [name, value] of Object.entries(feeds)) all[name] = toOrt(value, name);
    if (this.spec.random?.length) {
      for (const [name, value] of Object.entries(drawRandomFeeds(this.spec.random, this.rng!)))
        all[name] = toOrt(value, name);
    }
    for (const name of this.session.inputNames) {
      if (!all[name]) throw new InputError(`no value for program input '${name}'`, { field: name });
    }
    const needed: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) needed[name] = all[name];
    // (Pre-allocated fetches were measured slower: onnxruntime-node copies outputs into new buffers anyway.)
    const out = await this.session.runOrt(needed);
    const committed = (this.spec.guard ?? []).every((name) => {
      const t = out[name];
      return t !== undefined && Array.from(t.data as Float32Array).every(Number.isFinite);
    });
    const outputs: Record<string, HostArray> = {};
    for (const [name, t] of Object.entries(out)) {
      const target = this.spec.carry[name];
      if (target === undefined) outputs[name] = fromOrtTensor(t as ort.Tensor);
      else if (committed) this.state.set(target, t as ort.Tensor); // an uncommitted step leaves the state untouched
    }
    return { outputs, committed };
  }

  async getState(names?: string[]): Promise<Record<string, HostArray>> {
    const result: Record<string, HostArray> = {};
    for (const name of names ?? [...this.state.keys()]) {
      const t = this.state.get(name);
      if (!t) throw new InputError(`runner has no state named '${name}'`, { field: name });
      result[name] = copyHost(fromOrtTensor(t));
    }
    return result;
  }

  async setState(values: Record<string, HostArray>): Promise<void> {
    for (const [name, value] of Object.entries(values)) {
      const old = this.state.get(name);
      if (!old) throw new InputError(`runner has no state named '${name}'`, { field: name });
      const dims = old.dims.map(Number);
      if (dims.length !== value.shape.length || dims.some((d, i) => d !== value.shape[i])) {
        throw new ShapeError(`state '${name}' has shape [${dims.join(', ')}], got [${value.shape.join(', ')}]`, {
          field: name,
          expected: dims,
          got: value.shape,
        });
      }
      this.state.set(name, toOrt(copyHost(value), name));
    }
  }

  async getRngState(): Promise<RngState | null> {
    return this.rng ? this.rng.getState() : null;
  }

  async setRngState(state: RngState): Promise<void> {
    if (!this.rng) throw new AttuneError('STATE', 'this program has no random inputs, so no Rng state to set');
    this.rng.setState(state);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}
