import { HostArray, hostArray } from '../io/array.js';
import { ConfigError, InputError, NumericError } from '../util/errors.js';
import { Rng, RngState } from '../util/rng.js';
import { Graph, type DType } from './graph.js';
import type { Tensor } from './tensor.js';
import { grad } from './grad.js';
import { encodeModel } from './onnx/proto.js';
import { toModelProto } from './onnx/build.js';
import { ParamStore, Scope } from './params.js';
import { EMA_SLOT, Optimizer, adamw, applyOptimizer, stateName } from './optim.js';
import { Checkpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { Schedule, constantSchedule } from './schedule.js';
import { RandomFeedSpec, Runner, SessionConfig } from './runner.js';
import { createRunner } from './worker.js';

/**
 * The compiled train step: trace the model and loss, differentiate, append the optimizer update, and
 * write it all as ONE ONNX graph. Each step is then one ORT call taking
 *   data inputs + parameters + optimizer state + optim.lr + optim.step (+ dropout masks)
 * and returning loss, metrics, grad_norm, and `next.<name>` for every parameter and state slot, which
 * the runner feeds back as the next step's inputs.
 */
export interface IoSpec {
  name: string;
  dtype: DType;
  shape: (number | string)[];
}

export interface TrainProgram {
  onnx: Uint8Array;
  /** Data inputs the caller feeds each step (batch). */
  data: IoSpec[];
  trainable: string[];
  frozen: string[];
  /** Optimizer state names (`optim.<slot>.<param>`). */
  state: string[];
  random: RandomFeedSpec[];
  /** Scalar outputs besides `loss` and `grad_norm`. */
  metrics: string[];
  optimizer: { kind: string; config: Record<string, number> };
  clipNorm: number | null;
}

export type TrainBuildFn = (g: Graph, p: Scope) => { loss: Tensor; metrics?: Record<string, Tensor> };

export interface CompileOptions {
  optimizer?: Optimizer;
  /** Clip gradients to this global L2 norm. */
  clipNorm?: number;
}

const NEXT = 'next.';

/** Traces `build` against `store` and compiles the whole train step. Initial values come from the store. */
export function compileTrainStep(
  build: TrainBuildFn,
  store: ParamStore,
  opts: CompileOptions = {},
): { program: TrainProgram; initial: Record<string, HostArray> } {
  const optimizer = opts.optimizer ?? adamw();
  const g = new Graph();
  const { loss, metrics = {} } = build(g, new Scope(g, store));
  if (loss.shape.length !== 0)
    throw new ConfigError(`the loss must be a scalar, got shape [${loss.shape.join(', ')}]`, { field: 'loss' });
  const data = g.dataInputs();
  const params = g.trainableParams();
  if (params.length === 0) throw new ConfigError('nothing to train: every parameter is frozen', { field: 'params' });
  const grads = grad(loss, params);
  const update = applyOptimizer(g, optimizer, params, grads, { clipNorm: opts.clipNorm });
  const outputs: Record<string, Tensor> = { loss, grad_norm: update.gradNorm };
  for (const [name, t] of Object.entries(metrics)) {
    if (name === 'loss' || name === 'grad_norm' || name.startsWith(NEXT))
      throw new ConfigError(`metric name '${name}' is reserved`, { field: name });
    outputs[name] = t;
  }
  for (const [name, t] of update.params) outputs[NEXT + name] = t;
  for (const [name, t] of update.state) outputs[NEXT + name] = t;
  const onnx = encodeModel(toModelProto(g, outputs));

  const values = store.feeds(g);
  const initial: Record<string, HostArray> = {};
  for (const name of g.params.keys()) initial[name] = values[name];
  for (const [name, t] of update.state) initial[name] = hostArray(t.dtype as 'float32', t.shape as number[]);
  const program: TrainProgram = {
    onnx,
    data: data.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] })),
    trainable: params.map((t) => t.name),
    frozen: [...g.frozen],
    state: [...update.state.keys()],
    random: g.randomInputs.map((r) => ({
      name: r.name,
      shape: [...r.shape],
      p: r.p,
      dtype: r.dtype === 'float64' ? 'float64' : 'float32',
    })), // drawn by the runner (random.ts)
    metrics: Object.keys(metrics),
    optimizer: { kind: optimizer.kind, config: { ...optimizer.config } },
    clipNorm: opts.clipNorm ?? null,
  };
  return { program, initial };
}

export interface TrainerOptions {
  /** Learning rate: a number or a schedule of the step (default 1e-3). */
  lr?: number | Schedule;
  /** On NaN/Inf loss or gradients: 'stop' throws NumericError naming the step, 'skip' drops the update (default 'stop'). */
  onNonFinite?: 'stop' | 'skip';
  /** Run ORT in a worker thread (default true) so the event loop stays live. */
  worker?: boolean;
  /** Seed of the dropout-mask Rng. */
  seed?: number;
  session?: SessionConfig;
  /** Saved in checkpoints (any JSON). */
  config?: unknown;
}

export interface StepResult {
  /** Optimizer steps taken so far (after this one). */
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  metrics: Record<string, number>;
  skipped: boolean;
}

/** Drives a compiled TrainProgram: feeds lr/step, applies the NaN policy, saves and restores checkpoints. */
export class Trainer {
  private stepCount = 0;
  skippedSteps = 0;
  private readonly schedule: Schedule;

  private constructor(
    readonly program: TrainProgram,
    private readonly runner: Runner,
    private readonly opts: TrainerOptions,
  ) {
    this.schedule = typeof opts.lr === 'function' ? opts.lr : constantSchedule(opts.lr ?? 1e-3);
  }

  static async create(
    compiled: { program: TrainProgram; initial: Record<string, HostArray> },
    opts: TrainerOptions = {},
  ): Promise<Trainer> {
    const { program, initial } = compiled;
    const runner = await createRunner(
      {
        onnx: program.onnx,
        state: initial,
        carry: Object.fromEntries([...program.trainable, ...program.state].map((n) => [NEXT + n, n])),
        random: program.random,
        rngState: program.random.length ? seededState(opts.seed ?? 0) : undefined,
        guard: ['loss', 'grad_norm'],
        session: opts.session,
      },
      { worker: opts.worker },
    );
    return new Trainer(program, runner, opts);
  }

  /** Optimizer steps taken so far. */
  get step(): number {
    return this.stepCount;
  }

  /** One optimizer step on a batch (the program's data inputs by name). */
  async trainStep(batch: Record<string, HostArray>): Promise<StepResult> {
    for (const spec of this.program.data) {
      if (!batch[spec.name])
        throw new InputError(`batch is missing input '${spec.name}' (${spec.dtype}[${spec.shape.join(', ')}])`, {
          field: spec.name,
        });
    }
    const lr = this.schedule(this.stepCount);
    const attempt = this.stepCount + 1;
    const feeds: Record<string, HostArray> = {
      ...batch,
      'optim.lr': hostArray('float32', [], new Float32Array([lr])),
      'optim.step': hostArray('float32', [], new Float32Array([attempt])),
    };
    const { outputs, committed } = await this.runner.run(feeds);
    const scalar = (name: string) => Number((outputs[name].data as Float32Array)[0]);
    const loss = scalar('loss');
    const gradNorm = scalar('grad_norm');
    if (!committed) {
      if ((this.opts.onNonFinite ?? 'stop') === 'stop') {
        throw new NumericError(
          `non-finite ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} at step ${attempt} (loss ${loss}, grad norm ${gradNorm}); parameters keep their step ${this.stepCount} values`,
          {
            step: attempt,
            loss,
            gradNorm,
          },
        );
      }
      this.skippedSteps++;
    } else {
      this.stepCount = attempt;
    }
    const metrics: Record<string, number> = {};
    for (const name of this.program.metrics) metrics[name] = scalar(name);
    return { step: this.stepCount, loss, gradNorm, lr, metrics, skipped: !committed };
  }

  /** Current parameter values (trainable and frozen), by name. */
  params(): Promise<Record<string, HostArray>> {
    return this.runner.getState([...this.program.trainable, ...this.program.frozen]);
  }

  /**
   * The weights to evaluate: with an EMA optimizer (`withEma`) the debiased average `ema / (1 - decay^step)` of each
   * trainable parameter (frozen ones as they are); null without EMA. Before the first step it is the raw weights.
   */
  async averagedParams(): Promise<Record<string, HostArray> | null> {
    const decay = this.program.optimizer.config.emaDecay;
    if (decay === undefined) return null;
    const params = await this.params();
    if (this.stepCount === 0) return params;
    const names = this.program.trainable.map((n) => stateName(EMA_SLOT, n));
    const ema = await this.runner.getState(names);
    const debias = 1 / (1 - decay ** this.stepCount);
    this.program.trainable.forEach((n, i) => {
      const avg = ema[names[i]];
      const out = hostArray(avg.dtype, avg.shape);
      const [src, dst] = [avg.data as Float32Array | Float64Array, out.data as Float32Array | Float64Array];
      for (let j = 0; j < src.length; j++) dst[j] = src[j] * debias;
      params[n] = out;
    });
    return params;
  }

  async checkpoint(extraRng: Record<string, RngState | null> = {}): Promise<Checkpoint> {
    const params = await this.params();
    const optimState = await this.runner.getState(this.program.state);
    return {
      step: this.stepCount,
      params,
      optimState,
      rng: { ...extraRng, dropout: await this.runner.getRngState() },
      optimizer: this.program.optimizer,
      config: this.opts.config ?? null,
    };
  }

  /** Writes a checkpoint atomically (safetensors; see checkpoint.ts). */
  async save(path: string, extraRng: Record<string, RngState | null> = {}): Promise<void> {
    saveCheckpoint(path, await this.checkpoint(extraRng));
  }

  /** Restores parameters, optimizer state, step and dropout Rng; returns the checkpoint (for its other Rng states and config). */
  async restore(source: string | Checkpoint): Promise<Checkpoint> {
    const ckpt = typeof source === 'string' ? loadCheckpoint(source) : source;
    const where = typeof source === 'string' ? source : 'checkpoint';
    const expect = [...this.program.trainable, ...this.program.frozen];
    const missing = expect.filter((n) => !ckpt.params[n]).concat(this.program.state.filter((n) => !ckpt.optimState[n]));
    if (missing.length)
      throw new InputError(`${where} lacks ${missing.length} tensors this model needs, e.g. '${missing[0]}'`, {
        file: where,
        missing: missing.slice(0, 10),
      });
    if (ckpt.optimizer && JSON.stringify(ckpt.optimizer) !== JSON.stringify(this.program.optimizer)) {
      throw new ConfigError(
        `${where} was written with optimizer ${JSON.stringify(ckpt.optimizer)}, this trainer uses ${JSON.stringify(this.program.optimizer)}`,
        { file: where, field: 'optimizer' },
      );
    }
    await this.runner.setState(Object.fromEntries(expect.map((n) => [n, ckpt.params[n]])));
    await this.runner.setState(Object.fromEntries(this.program.state.map((n) => [n, ckpt.optimState[n]])));
    const dropout = ckpt.rng.dropout;
    if (dropout && this.program.random.length) await this.runner.setRngState(dropout);
    this.stepCount = ckpt.step;
    return ckpt;
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}

function seededState(seed: number): RngState {
  return new Rng(seed).getState();
}
