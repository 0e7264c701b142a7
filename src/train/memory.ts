/**
 * Size bounds: before a run allocates its weights and ONNX Runtime sessions, the trainer traces the task's
 * graphs with shapes only (no parameter values) and estimates the memory the run will need:
 *
 *   parameters    P bytes, held `PARAM_COPIES` times (the host store, the train session's inputs and updated
 *                 outputs, gradients, the two evaluation sessions)
 *   optimizer     its state slots (AdamW: m and v; SGD with momentum: one), fed in and written back (x2)
 *   activations   every intermediate tensor of the train graph at train.batchSize, twice (kept for the backward
 *                 pass, plus the gradients flowing back), and the data inputs
 *   evaluation    the larger of the two evaluation graphs' intermediates (inference at evalBatchSize, the loss at
 *                 batchSize; they run one after the other)
 *   runtime       RUNTIME_BYTES for Node.js and ONNX Runtime themselves
 *
 * The sum is checked against a limit (default: 80% of the machine's memory, or of the cgroup limit when one
 * is set); a run over it fails with a ConfigError naming the config fields that drive the estimate, before
 * anything is allocated. The limit is an option (`memoryLimit`, CLI `--memory-limit 32G` or `none`).
 * It is an estimate, meant to refuse configs that cannot fit (model.dim 4096, batchSize 20000), not to
 * predict a run's peak to the megabyte. Against measured peak RSS of av-sync runs (synth:8, one step, CPU):
 * default 0.39 GiB measured / 0.43 estimated, model.dim 512 0.92 / 0.92, model.dim 1024 2.0 / 1.9,
 * batchSize 256 1.3 / 1.6, batchSize 1024 4.2 / 5.7.
 */
import { totalmem } from 'node:os';
import { Graph, type DType } from '../engine/graph.js';
import { ParamStore, Scope, type Initializer } from '../engine/params.js';
import type { HostArray } from '../io/array.js';
import { ConfigError } from '../util/errors.js';
import type { RunConfig } from './config.js';
import type { AnyTask, TaskData } from './task.js';

/** Parameter copies a training run holds (see above). */
export const PARAM_COPIES = 6;
/** Node.js and ONNX Runtime before any model (measured: ~0.25 GiB). */
export const RUNTIME_BYTES = 256 * 2 ** 20;

export interface MemoryEstimate {
  /** Scalar parameters (trainable + frozen) and their bytes. */
  parameters: number;
  parameterBytes: number;
  optimizerBytes: number;
  /** Train-graph intermediates at train.batchSize (x2 for the backward pass) and the data inputs. */
  activationBytes: number;
  /** The larger evaluation graph's intermediates. */
  evalBytes: number;
  /** Everything: parameterBytes x PARAM_COPIES + optimizerBytes x 2 + activationBytes + evalBytes + RUNTIME_BYTES. */
  totalBytes: number;
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, bool: 1 };

/** A ParamStore that records shapes without creating values: tracing with it allocates no weights. */
class ShapeOnlyStore extends ParamStore {
  override ensure(name: string, shape: readonly number[], _init: Initializer, dtype: DType = this.dtype): HostArray {
    // Scope.param reads only the dtype; the graph keeps the shape.
    return { dtype: dtype === 'float64' ? 'float64' : 'float32', shape: [...shape], data: new Float32Array(0) };
  }
}

const numel = (shape: readonly (number | string)[]) =>
  shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);

interface GraphSize {
  paramBytes: number;
  trainableBytes: number;
  parameters: number;
  constBytes: number;
  inputBytes: number;
  /** Sum of every node output. */
  intermediateBytes: number;
}

function traceSize(build: (g: Graph, p: Scope) => void): GraphSize {
  const g = new Graph();
  build(g, new Scope(g, new ShapeOnlyStore()));
  const size: GraphSize = {
    paramBytes: 0,
    trainableBytes: 0,
    parameters: 0,
    constBytes: 0,
    inputBytes: 0,
    intermediateBytes: 0,
  };
  for (const [name, t] of g.params) {
    const bytes = numel(t.shape) * BYTES[t.dtype];
    size.paramBytes += bytes;
    size.parameters += numel(t.shape);
    if (!g.frozen.has(name)) size.trainableBytes += bytes;
  }
  for (const c of g.constants.values()) size.constBytes += numel(c.shape) * BYTES[c.dtype];
  for (const t of g.dataInputs()) size.inputBytes += numel(t.shape) * BYTES[t.dtype];
  for (const n of g.nodes) for (const o of n.outputs) size.intermediateBytes += numel(o.shape) * BYTES[o.dtype];
  return size;
}

/** Estimates a run's memory from its config and loaded data (traces the graphs; allocates no weights). */
export function estimateMemory(task: AnyTask, cfg: RunConfig, data: TaskData): MemoryEstimate {
  const t = cfg.train;
  const ctx = (batchSize: number, purpose: 'train' | 'eval') => ({ model: cfg.model, data, batchSize, purpose });
  const train = traceSize((g, p) => task.buildLoss(g, p, ctx(t.batchSize, 'train')));
  const evalLoss = traceSize((g, p) => task.buildLoss(g, p, ctx(t.batchSize, 'eval')));
  const inference = traceSize((g, p) => task.buildInference(g, p, ctx(t.evalBatchSize ?? t.batchSize, 'eval')));
  const slots = t.optimizer === 'adamw' ? 2 : t.momentum > 0 ? 1 : 0;
  const parameterBytes = train.paramBytes;
  const optimizerBytes = slots * train.trainableBytes;
  const activationBytes = 2 * train.intermediateBytes + train.inputBytes + train.constBytes;
  const evalBytes = Math.max(...[evalLoss, inference].map((e) => e.intermediateBytes + e.inputBytes + e.constBytes));
  return {
    parameters: train.parameters,
    parameterBytes,
    optimizerBytes,
    activationBytes,
    evalBytes,
    totalBytes: parameterBytes * PARAM_COPIES + optimizerBytes * 2 + activationBytes + evalBytes + RUNTIME_BYTES,
  };
}

/** The default limit: 80% of physical memory, or of the cgroup limit when the process runs under one. */
export function defaultMemoryLimit(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const total = constrained && constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
  return Math.floor(0.8 * total);
}

/** `16G`, `800MB`, `1.5GiB`, `123456` (bytes), or `none` / `off` (no limit: null). */
export function parseByteSize(text: string, field = 'memoryLimit'): number | null {
  const s = text.trim().toLowerCase();
  if (s === 'none' || s === 'off' || s === 'infinity') return null;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)$/.exec(s);
  if (!m)
    throw new ConfigError(`${field}: '${text}' is not a size (e.g. 16G, 800M, 1.5GB, or none)`, { field, got: text });
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2] as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Number(m[1]) * scale;
  if (!(bytes > 0)) throw new ConfigError(`${field}: '${text}' must be a positive size`, { field, got: text });
  return Math.floor(bytes);
}

export const formatBytes = (b: number): string =>
  b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`;

/**
 * Throws a ConfigError when the estimate is over `limit` (bytes; null = no limit), naming the fields to change:
 * train.batchSize / train.evalBatchSize when activations dominate, the model section's sizes when parameters do.
 */
export function checkMemory(est: MemoryEstimate, limit: number | null, cfg: RunConfig, taskName: string): void {
  if (limit === null || est.totalBytes <= limit) return;
  const t = cfg.train;
  const weights = est.parameterBytes * PARAM_COPIES + est.optimizerBytes * 2;
  const perBatch = est.activationBytes + est.evalBytes;
  const modelFields = Object.entries((cfg.model ?? {}) as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `model.${k}=${v}`);
  const batchFields = [
    `train.batchSize=${t.batchSize}`,
    ...(t.evalBatchSize !== null ? [`train.evalBatchSize=${t.evalBatchSize}`] : []),
  ];
  const fields = perBatch >= weights ? batchFields : modelFields;
  throw new ConfigError(
    `${taskName}: the run would need about ${formatBytes(est.totalBytes)}, over the memory limit of ${formatBytes(limit)}: ` +
      `${(est.parameters / 1e6).toFixed(1)} M parameters with gradients, optimizer state and session copies ${formatBytes(weights)}, ` +
      `activations ${formatBytes(est.activationBytes)} at train.batchSize ${t.batchSize} and evaluation ${formatBytes(est.evalBytes)}. ` +
      `Make the ${perBatch >= weights ? 'batch' : 'model'} smaller (${fields.join(', ')}), ` +
      'or raise the limit (--memory-limit 64G or none; RunOptions.memoryLimit)',
    {
      field: perBatch >= weights ? 'train.batchSize' : 'model',
      fields: fields.map((f) => f.split('=')[0]),
      estimateBytes: est.totalBytes,
      limitBytes: limit,
    },
  );
}
