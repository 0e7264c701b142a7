import { ConfigError } from '../util/errors.js';
import type { Graph } from './graph.js';
import type { Tensor } from './tensor.js';
import { scalar } from './ops/core.js';
import { add, addN, cast, div, minimum, mul, pow, sqrt, sub } from './ops/elementwise.js';
import { sumSquares } from './ops/reduce.js';

/**
 * Optimizers as graph code: the update is appended to the gradient graph, so one ORT call computes
 * loss, gradients and new parameters. Hyper-parameters that change during training (learning rate,
 * step for Adam's bias correction) are scalar graph inputs; the rest are constants.
 *
 * State slots live as graph inputs `optim.<slot>.<param>` and come back as outputs of the same
 * shape; the runner carries them from one step to the next.
 */
export interface StepScalars {
  /** Learning rate, float32 scalar input. */
  lr: Tensor;
  /** 1-based count of the update being computed, float32 scalar input. */
  step: Tensor;
}

export interface Optimizer {
  readonly kind: string;
  /** Hyper-parameters, saved in checkpoints. */
  readonly config: Record<string, number>;
  /** State slot names per parameter (e.g. ['m', 'v']); their initial value is zero. */
  readonly slots: readonly string[];
  /** Emits the update for one parameter: new value and new slot values. */
  update(
    p: Tensor,
    g: Tensor,
    state: Record<string, Tensor>,
    s: StepScalars,
  ): { param: Tensor; state: Record<string, Tensor> };
}

export interface SgdConfig {
  /** Momentum (default 0.9; 0 disables the buffer). */
  momentum?: number;
  /** Coupled L2 weight decay added to the gradient, as torch.optim.SGD does (default 0). */
  weightDecay?: number;
}

/** SGD with (heavy-ball) momentum: buf = mu*buf + g; p -= lr*buf (torch.optim.SGD semantics, no dampening). */
export function sgd(cfg: SgdConfig = {}): Optimizer {
  const momentum = cfg.momentum ?? 0.9;
  const weightDecay = cfg.weightDecay ?? 0;
  checkRange('momentum', momentum, 0, 1, true);
  checkRange('weightDecay', weightDecay, 0, Infinity, false);
  return {
    kind: 'sgd',
    config: { momentum, weightDecay },
    slots: momentum > 0 ? ['momentum'] : [],
    update(p, g, state, s): { param: Tensor; state: Record<string, Tensor> } {
      const lr = like(s.lr, p);
      const grad = weightDecay > 0 ? add(g, mul(p, weightDecay)) : g;
      if (momentum === 0) return { param: sub(p, mul(grad, lr)), state: {} };
      const buf = add(mul(state.momentum, momentum), grad);
      return { param: sub(p, mul(buf, lr)), state: { momentum: buf } };
    },
  };
}

export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay: p -= lr * wd * p before the Adam step (default 0.01, as torch.optim.AdamW). */
  weightDecay?: number;
}

/** AdamW (Loshchilov & Hutter), with the same arithmetic as torch.optim.AdamW. */
export function adamw(cfg: AdamWConfig = {}): Optimizer {
  const beta1 = cfg.beta1 ?? 0.9;
  const beta2 = cfg.beta2 ?? 0.999;
  const eps = cfg.eps ?? 1e-8;
  const weightDecay = cfg.weightDecay ?? 0.01;
  checkRange('beta1', beta1, 0, 1, true);
  checkRange('beta2', beta2, 0, 1, true);
  checkRange('eps', eps, 0, Infinity, false);
  checkRange('weightDecay', weightDecay, 0, Infinity, false);
  // Per-step scalars are shared by every parameter of a graph: build them once per (graph, dtype).
  const scalarsCache = new WeakMap<Tensor, Map<string, { decay: Tensor; stepSize: Tensor; epsHat: Tensor }>>();
  const stepScalars = (s: StepScalars, p: Tensor) => {
    let byType = scalarsCache.get(s.lr);
    if (!byType) scalarsCache.set(s.lr, (byType = new Map()));
    const hit = byType.get(p.dtype);
    if (hit) return hit;
    const g = p.graph;
    const lr = like(s.lr, p);
    const t = like(s.step, p);
    const bc1 = sub(1, pow(scalar(g, beta1, p.dtype), t)); // 1 - beta1^t
    const sqrtBc2 = sqrt(sub(1, pow(scalar(g, beta2, p.dtype), t))); // sqrt(1 - beta2^t)
    // m/bc1 / (sqrt(v)/sqrtBc2 + eps) == (lr*sqrtBc2/bc1) * m / (sqrt(v) + eps*sqrtBc2): the bias
    // corrections become two scalars, saving a full-size op per parameter.
    const made = {
      decay: sub(1, mul(lr, weightDecay)),
      stepSize: div(mul(lr, sqrtBc2), bc1),
      epsHat: mul(sqrtBc2, eps),
    };
    byType.set(p.dtype, made);
    return made;
  };
  return {
    kind: 'adamw',
    config: { beta1, beta2, eps, weightDecay },
    slots: ['m', 'v'],
    update(p, g, state, s) {
      const { decay, stepSize, epsHat } = stepScalars(s, p);
      const m = add(mul(state.m, beta1), mul(g, 1 - beta1));
      const v = add(mul(state.v, beta2), mul(mul(g, g), 1 - beta2));
      const decayed = weightDecay > 0 ? mul(p, decay) : p;
      return { param: sub(decayed, mul(div(m, add(sqrt(v), epsHat)), stepSize)), state: { m, v } };
    },
  };
}

/** The slot `withEma` adds: `optim.ema.<param>`. */
export const EMA_SLOT = 'ema';

/**
 * An exponential moving average of the weights beside any optimizer: one more slot, updated in the same graph call
 * from the new parameter value (`ema = decay * ema + (1 - decay) * p`), so it is carried, checkpointed and resumed
 * like Adam's moments. The slot starts at zero, so it is read debiased by 1 - decay^step (`emaWeights`).
 */
export function withEma(inner: Optimizer, decay: number): Optimizer {
  checkRange('emaDecay', decay, 0, 1, true);
  if (inner.slots.includes(EMA_SLOT))
    throw new ConfigError(`optimizer '${inner.kind}' already has an '${EMA_SLOT}' slot`, { field: 'emaDecay' });
  return {
    kind: inner.kind,
    config: { ...inner.config, emaDecay: decay },
    slots: [...inner.slots, EMA_SLOT],
    update(p, g, state, s) {
      const out = inner.update(p, g, state, s);
      const ema = add(mul(state[EMA_SLOT], decay), mul(out.param, 1 - decay));
      return { param: out.param, state: { ...out.state, [EMA_SLOT]: ema } };
    },
  };
}

/** sqrt(sum of squares of all gradients), a float32 scalar. */
export function globalNorm(grads: readonly Tensor[]): Tensor {
  if (grads.length === 0) throw new ConfigError('globalNorm needs at least one gradient', { field: 'grads' });
  // ReduceSumSquare reads each gradient once without writing a squared copy.
  const squares = grads.map((g) => cast(sumSquares(g), 'float32'));
  return sqrt(addN(squares));
}

/** Scales all gradients by min(1, maxNorm / (norm + 1e-6)) (torch.nn.utils.clip_grad_norm_). */
export function clipByGlobalNorm(grads: readonly Tensor[], norm: Tensor, maxNorm: number): Tensor[] {
  if (!(maxNorm > 0 && Number.isFinite(maxNorm)))
    throw new ConfigError(`clipNorm must be a finite number > 0, got ${maxNorm}`, { field: 'clipNorm' });
  const factor = minimum(div(maxNorm, add(norm, 1e-6)), 1);
  return grads.map((g) => mul(g, like(factor, g)));
}

export const stateName = (slot: string, param: string): string => `optim.${slot}.${param}`;

export interface AppliedUpdate {
  /** New value of each trainable parameter, by parameter name. */
  params: Map<string, Tensor>;
  /** New value of each optimizer slot, by state name (`optim.<slot>.<param>`). */
  state: Map<string, Tensor>;
  gradNorm: Tensor;
}

/**
 * Declares the step inputs and the optimizer state inputs on `graph` and emits the update of every
 * parameter in `params` (gradients in the same order). Frozen parameters are simply not passed here.
 */
export function applyOptimizer(
  graph: Graph,
  opt: Optimizer,
  params: readonly Tensor[],
  grads: readonly Tensor[],
  opts: { clipNorm?: number; lrInput?: string; stepInput?: string } = {},
): AppliedUpdate & { lr: Tensor; step: Tensor } {
  const lr = graph.input(opts.lrInput ?? 'optim.lr', 'float32', []);
  const step = graph.input(opts.stepInput ?? 'optim.step', 'float32', []);
  const gradNorm = globalNorm(grads);
  const used = opts.clipNorm !== undefined ? clipByGlobalNorm(grads, gradNorm, opts.clipNorm) : grads;
  const newParams = new Map<string, Tensor>();
  const newState = new Map<string, Tensor>();
  params.forEach((p, i) => {
    const slots: Record<string, Tensor> = {};
    for (const slot of opt.slots) slots[slot] = graph.input(stateName(slot, p.name), p.dtype, p.shape);
    const out = opt.update(p, used[i], slots, { lr, step });
    newParams.set(p.name, out.param);
    for (const slot of opt.slots) newState.set(stateName(slot, p.name), out.state[slot]);
  });
  return { params: newParams, state: newState, gradNorm, lr, step };
}

/** A float32 step scalar converted to the parameter's dtype (float64 graphs in gradient checks). */
function like(x: Tensor, p: Tensor): Tensor {
  return cast(x, p.dtype);
}

function checkRange(field: string, v: number, lo: number, hi: number, openHi: boolean): void {
  if (!(v >= lo && (openHi ? v < hi : v <= hi)))
    throw new ConfigError(`${field} must be in [${lo}, ${hi}${openHi ? ')' : ']'}, got ${v}`, { field, got: v });
}
