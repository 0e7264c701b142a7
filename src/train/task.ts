/**
 * The contract between the trainer and a model/task (av-align, av-sync, av-retrieval, ...).
 *
 * A task owns its model config, its data pipeline and its evaluation; the trainer owns everything
 * around them: config layering and validation, splits, batch order, the compiled train step,
 * checkpoints and resume, early stopping, logs and the report. Data access is by example index and a
 * per-batch Rng the trainer derives from (seed, epoch, batch), so batch order and augmentation are a
 * pure function of the step: a resumed run sees exactly the batches an uninterrupted run would.
 */

import type { z } from 'zod';
import type { Graph } from '../engine/graph.js';
import type { Tensor } from '../engine/tensor.js';
import type { Scope } from '../engine/params.js';
import type { Predictor } from '../engine/export.js';
import type { HostArray } from '../io/array.js';
import type { ManifestItem } from '../data/manifest.js';
import type { Section } from '../report/spec.js';
import type { Rng } from '../util/rng.js';

export type SplitName = 'train' | 'val' | 'test';
/** Where the examples come from: `--data synth:N` (in-memory AV-Synth) or `--data path/to/manifest.jsonl`. */
export type DataSource =
  { kind: 'synth'; clips: number; set?: GeneratedSet } | { kind: 'manifest'; path: string; items: ManifestItem[] };

export type DataSourceKind = DataSource['kind'];

/**
 * The data sets generated in memory, named in `--data NAME:N`: AV-Synth clips (`synth`, the default when `set` is
 * absent), AVQA scenes with questions (`avqa`), EmoSpeech utterances (`emospeech`).
 */
export const GENERATED_SETS = ['synth', 'avqa', 'emospeech'] as const;
export type GeneratedSet = (typeof GENERATED_SETS)[number];

/** A batch: the train graph's data inputs (or the inference graph's inputs) by name. */
export type Batch = Record<string, HostArray>;

/** Passed to `loadData`. */
export interface LoadContext<D, M = unknown> {
  /** The validated `data` section of the config. */
  data: D;
  /** The validated `model` section (for data preparation that depends on the model, e.g. a pretraining stage). */
  model: M;
  source: DataSource;
  /** The run seed (split assignment, synthesis and augmentation derive from it). */
  seed: number;
  rng: Rng;
  /** Report progress of slow loading (feature extraction); `quiet` runs ignore it. */
  progress(label: string, done: number, total: number): void;
  /** A folder the task may use as a feature cache (shared across runs and seeds). */
  cacheDir?: string;
}

/**
 * A loaded dataset. Examples are addressed by index in [0, size); the trainer assigns them to splits
 * (unless `splits` is given) and asks for batches of indices. Keep heavy data (features) in memory
 * here: `batch` is called every step.
 */
export interface TaskData {
  size: number;
  /** Predefined splits (e.g. from manifest labels); default: the trainer splits by `data.split` fractions and the seed. */
  splits?: Partial<Record<SplitName, number[]>>;
  /**
   * Builds one batch from example indices (always exactly `batchSize` of them for training; evaluation
   * batches may be padded by repeating the last index). `rng` is derived from (seed, split, epoch,
   * batch index): use it, and only it, for augmentation such as random audio shifts.
   */
  batch(indices: number[], ctx: { split: SplitName; rng: Rng }): Batch;
  /** Facts the model builder needs (feature dims, class counts) and the report shows. */
  info?: Record<string, number | string | boolean>;
}

/** Passed to `buildLoss` / `buildInference`. */
export interface BuildContext<M, TD extends TaskData = TaskData> {
  model: M;
  data: TD;
  /** Static batch size of the graph being traced. */
  batchSize: number;
  /**
   * buildLoss: 'train' for the train step, 'eval' for the validation-loss graph (build it without
   * dropout). buildInference: 'eval' for the Predictor `evaluate` gets, 'export' for model.onnx.
   */
  purpose: 'train' | 'eval' | 'export';
}

/** Passed to `evaluate`. */
export interface EvalContext<M, TD extends TaskData = TaskData> {
  model: M;
  data: TD;
  split: SplitName;
  /** The split's example indices. */
  indices: number[];
  /**
   * The val split's indices, for what a task fits on val and applies to the split it evaluates (av-sync fits its
   * softmax temperature there). Always the same for a run, whatever was evaluated before: evaluation never depends on
   * call order, so a run resumed after its loop ended evaluates exactly as the uninterrupted one. null for the untrained
   * model's 'before' evaluation (nothing to calibrate yet) and when the run has no val split.
   */
  valIndices: readonly number[] | null;
  /** Runs the inference graph (batch size `batchSize`) with the current weights. */
  predictor: Predictor;
  batchSize: number;
  /** Deterministic per (seed, split) - evaluation must not depend on how far training got. */
  rng: Rng;
  /** true for the final test evaluation: a good time to return report sections (heat maps, tables). */
  final: boolean;
}

export interface EvalResult {
  /** Scalar metrics, e.g. { acc: 0.93, r1_v2a: 0.97 }. Logged as `<split>.<name>`. */
  metrics: Record<string, number>;
  /** Extra report sections (confusion tables, heat maps); usually only when `final`. */
  sections?: Section[];
}

export interface Monitor {
  /** A metric from `evaluate` on the val split (e.g. 'acc'), or 'loss' for the mean val loss. */
  metric: string;
  mode: 'min' | 'max';
}

/**
 * A config section's schema: any zod schema whose output is the section's type, so `.strict()` objects and
 * `.strict().refine(...)` effects assign directly (declare the type as `z.infer<typeof Schema>`; no casts).
 */
export type ConfigSchema<T> = z.ZodType<T, z.ZodTypeDef, unknown>;

/** Partial config layers (deep-merged; arrays replace). */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export interface ConfigLayer<M, D> {
  model?: DeepPartial<M>;
  data?: DeepPartial<D>;
  /** Overrides of the trainer's `train` section (see src/train/config.ts TrainSection). */
  train?: Record<string, unknown>;
}

export interface Task<M = unknown, D = unknown, TD extends TaskData = TaskData> {
  /** Registry name, e.g. 'av-sync'. */
  name: string;
  description: string;
  /** zod schemas of the task's config sections; use `.strict()` so typos are errors. */
  modelSchema: ConfigSchema<M>;
  dataSchema: ConfigSchema<D>;
  /** Model-common defaults (applied over the trainer's dataset-common defaults). */
  defaults: ConfigLayer<M, D>;
  /** Per-dataset defaults, applied over `defaults` (e.g. synth wants more epochs than a big manifest). */
  datasetDefaults?: Partial<Record<DataSourceKind, ConfigLayer<M, D>>>;
  /** Named model variants as factory functions (`small: avSyncSmall`); chosen with `variant` in the config. */
  variants?: Record<string, () => DeepPartial<M>>;
  /** What early stopping and best.safetensors watch (default: val loss, min). */
  monitor?: Monitor;
  /** The generated set `--data NAME:N` means for this task (default 'synth', AV-Synth); others are refused. */
  generatedSet?: GeneratedSet;

  loadData(ctx: LoadContext<D, M>): Promise<TD>;
  /** Traces the training loss; declare the data inputs with `g.input(name, dtype, [ctx.batchSize, ...])`. */
  buildLoss(g: Graph, p: Scope, ctx: BuildContext<M, TD>): { loss: Tensor; metrics?: Record<string, Tensor> };
  /** Traces the inference graph (no dropout); input names should match the batch keys `data.batch` produces. */
  buildInference(g: Graph, p: Scope, ctx: BuildContext<M, TD>): Record<string, Tensor>;
  evaluate(ctx: EvalContext<M, TD>): Promise<EvalResult>;
}

/** A task with its types erased, as stored in the registry. */
export type AnyTask = Task<any, any, any>;

/** Identity helper that keeps a task literal's generic types inferred. */
export function defineTask<M, D, TD extends TaskData>(task: Task<M, D, TD>): Task<M, D, TD> {
  return task;
}
