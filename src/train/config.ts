/**
 * Run configs: one typed object { task, variant, model, data, split, train }, built from layers
 *   1. dataset-common defaults (the trainer's: split fractions, train section),
 *   2. model-common defaults (task.defaults),
 *   3. per-dataset defaults (task.datasetDefaults[synth|manifest]),
 *   4. the model variant (task.variants[name]() -> model section),
 *   5. the config file (JSON),
 *   6. CLI overrides (`--set train.lr=3e-4`),
 * deep-merged (objects merge, arrays and scalars replace), then validated by zod. Schemas are strict
 * (an unknown key is an error, so typos are caught) and never coerce: `"true"` is not a boolean.
 */

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, InputError } from '../util/errors.js';
import type { AnyTask, ConfigLayer, DataSourceKind, Monitor } from './task.js';

export const MonitorSchema = z
  .object({
    metric: z.string().min(1),
    mode: z.enum(['min', 'max']),
  })
  .strict();

export const TrainSectionSchema = z
  .object({
    seed: z.number().int().nonnegative(),
    batchSize: z.number().int().positive(),
    /** Batch size of the evaluation Predictor (default: batchSize). */
    evalBatchSize: z.number().int().positive().nullable(),
    epochs: z.number().int().positive(),
    /** Stop after this many batches even if epochs remain (null: no cap). */
    maxSteps: z.number().int().positive().nullable(),
    optimizer: z.enum(['adamw', 'sgd']),
    lr: z.number().positive(),
    schedule: z.enum(['constant', 'cosine']),
    warmupSteps: z.number().int().nonnegative(),
    minLr: z.number().nonnegative(),
    weightDecay: z.number().nonnegative(),
    /** SGD momentum (ignored by AdamW). */
    momentum: z.number().min(0).max(1),
    clipNorm: z.number().positive().nullable(),
    /** Exponential moving average of the weights (decay per step, e.g. 0.999): val, best and final use it (null: off). */
    emaDecay: z.number().min(0).lt(1).nullable(),
    /** Evaluate on val every this many epochs (the last epoch is always evaluated). */
    evalEvery: z.number().int().positive(),
    /** Evaluate on val every this many steps instead of at epoch ends (null: by epochs; the last step is always evaluated). */
    evalEverySteps: z.number().int().positive().nullable(),
    /** Evaluate the untrained model on test too, for a before/after table. */
    evalBefore: z.boolean(),
    /** Write checkpoints/last.safetensors every this many steps (0: only at epoch ends and on exit). */
    checkpointEvery: z.number().int().nonnegative(),
    /** Early stopping: stop after this many evaluations without improvement (null: off). */
    patience: z.number().int().positive().nullable(),
    /** Smallest change of the monitored metric that counts as an improvement. */
    minDelta: z.number().nonnegative(),
    /** What early stopping and best.safetensors watch (null: the task's monitor, else val loss). */
    monitor: MonitorSchema.nullable(),
    onNonFinite: z.enum(['stop', 'skip']),
    /** Run ORT in a worker thread so progress and signals stay live. */
    worker: z.boolean(),
    /** ORT intra-op threads (null: all cores). */
    threads: z.number().int().positive().nullable(),
    /** Write model.onnx (inference graph, batch size exportBatchSize) at the end. */
    export: z.boolean(),
    exportBatchSize: z.number().int().positive(),
    /** Write report.html at the end. */
    report: z.boolean(),
  })
  .strict();

export const SplitSchema = z
  .object({
    /** Fractions of the examples held out for validation and test (the rest trains). */
    val: z.number().min(0).max(0.9),
    test: z.number().min(0).max(0.9),
  })
  .strict()
  .refine((s) => s.val + s.test < 1, { message: 'val + test must leave examples to train on (sum < 1)' });

export type TrainSection = z.infer<typeof TrainSectionSchema>;
export type SplitSection = z.infer<typeof SplitSchema>;

export interface RunConfig<M = unknown, D = unknown> {
  task: string;
  variant: string | null;
  model: M;
  data: D;
  split: SplitSection;
  train: TrainSection;
}

/** Layer 1: the trainer's dataset-common defaults. */
export const COMMON_DEFAULTS: { split: SplitSection; train: TrainSection } = {
  split: { val: 0.1, test: 0.1 },
  train: {
    seed: 0,
    batchSize: 16,
    evalBatchSize: null,
    epochs: 10,
    maxSteps: null,
    optimizer: 'adamw',
    lr: 1e-3,
    schedule: 'cosine',
    warmupSteps: 0,
    minLr: 0,
    weightDecay: 0.01,
    momentum: 0.9,
    clipNorm: 1,
    emaDecay: null,
    evalEvery: 1,
    evalEverySteps: null,
    evalBefore: true,
    checkpointEvery: 100,
    patience: null,
    minDelta: 0,
    monitor: null,
    onNonFinite: 'stop',
    worker: true,
    threads: null,
    export: true,
    exportBatchSize: 1,
    report: true,
  },
};

type Json = unknown;
const isPlainObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge: objects merge key by key, everything else (arrays, scalars, null) replaces. Inputs are not modified. */
export function deepMerge(base: Json, over: Json): Json {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/**
 * Parses `key.path=value` overrides. Values are JSON when they parse (`3e-4`, `true`, `[1,2]`,
 * `null`, `"x"`), otherwise plain strings (`cosine`). Returns one nested layer.
 */
export function parseOverrides(sets: readonly string[]): Record<string, Json> {
  let layer: Json = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set '${s}': expected key.path=value (e.g. train.lr=3e-4)`, { field: s });
    const path = s.slice(0, eq).trim().split('.');
    if (path.some((p) => !p))
      throw new ConfigError(`--set '${s}': empty key in '${s.slice(0, eq)}'`, { field: s.slice(0, eq) });
    const raw = s.slice(eq + 1);
    let value: Json;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    const nested = path.reduceRight<Json>((acc, key) => ({ [key]: acc }), value);
    layer = deepMerge(layer, nested);
  }
  return layer as Record<string, Json>;
}

/** Reads a JSON config file; a syntax error names the file. */
export function readConfigFile(path: string): Record<string, Json> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read config file ${path}: ${(err as Error).message}`, { file: path });
  }
  let value: Json;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON (${(err as Error).message})`, { file: path });
  }
  if (!isPlainObject(value)) throw new ConfigError(`${path}: a config file must hold a JSON object`, { file: path });
  return value;
}

export interface ResolveOptions {
  /** Which dataset defaults apply. */
  source: DataSourceKind;
  /** The parsed config file (layer 5) and where it came from (named in errors). */
  file?: Record<string, Json>;
  fileName?: string;
  /** CLI overrides (layer 6), e.g. from parseOverrides. */
  overrides?: Record<string, Json>;
}

const TOP_KEYS = new Set(['task', 'variant', 'model', 'data', 'split', 'train']);

/** Builds and validates the run config of `task`; errors are ConfigErrors naming the field (and the file). */
export function resolveConfig<M, D>(task: AnyTask, opts: ResolveOptions): RunConfig<M, D> {
  const where = opts.fileName ?? 'config';
  for (const [layer, name] of [
    [opts.file, where],
    [opts.overrides, '--set'],
  ] as const) {
    for (const key of Object.keys(layer ?? {})) {
      // A saved run config (config.json) names its data source; the caller decides whether to use it.
      if (key === 'source' && layer === opts.file) continue;
      if (!TOP_KEYS.has(key))
        throw new ConfigError(
          `${name}: unknown config section '${key}' (expected one of ${[...TOP_KEYS].join(', ')})`,
          { field: key, file: name },
        );
    }
  }
  const fileTask = opts.file?.task;
  if (fileTask !== undefined && fileTask !== task.name) {
    throw new ConfigError(`${where}: field 'task' is '${String(fileTask)}' but the run trains '${task.name}'`, {
      field: 'task',
      file: where,
    });
  }
  const variantRaw = opts.overrides?.variant ?? opts.file?.variant ?? null;
  if (variantRaw !== null && typeof variantRaw !== 'string')
    throw new ConfigError(`field 'variant': expected a string or null, got ${JSON.stringify(variantRaw)}`, {
      field: 'variant',
    });
  const variants = task.variants ?? {};
  if (variantRaw !== null && !variants[variantRaw]) {
    throw new ConfigError(
      `field 'variant': task '${task.name}' has no variant '${variantRaw}' (variants: ${Object.keys(variants).join(', ') || 'none'})`,
      { field: 'variant' },
    );
  }
  const layers: Json[] = [
    { task: task.name, variant: variantRaw, model: {}, data: {}, ...COMMON_DEFAULTS },
    layerJson(task.defaults),
    layerJson(task.datasetDefaults?.[opts.source]),
    variantRaw !== null ? { model: variants[variantRaw]() } : {},
    withoutSource(opts.file ?? {}),
    opts.overrides ?? {},
  ];
  const merged = layers.reduce((acc, layer) => deepMerge(acc, layer), {}) as Record<string, Json>;
  return {
    task: task.name,
    variant: variantRaw,
    model: parseSection(task.modelSchema, merged.model, 'model', where) as M,
    data: parseSection(task.dataSchema, merged.data, 'data', where) as D,
    split: parseSection(SplitSchema, merged.split, 'split', where),
    train: parseSection(TrainSectionSchema, merged.train, 'train', where),
  };
}

function withoutSource(file: Record<string, Json>): Record<string, Json> {
  const { source: _source, ...rest } = file;
  return rest;
}

function layerJson(layer: ConfigLayer<unknown, unknown> | undefined): Json {
  return layer ? JSON.parse(JSON.stringify(layer)) : {};
}

function parseSection<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: Json, section: string, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw zodConfigError(r.error, section, where);
}

/** One ConfigError listing every issue as `field 'train.lr': expected number, received string`. */
export function zodConfigError(error: z.ZodError, section: string, where: string): ConfigError {
  const describe = (i: z.ZodIssue) => {
    const field = [section, ...i.path].join('.');
    if (i.code === 'unrecognized_keys')
      return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${section}${i.path.length ? '.' + i.path.join('.') : ''}.${k}'`).join(', ')}`;
    return `field '${field}': ${i.message}`;
  };
  const issues = error.issues.map(describe);
  const first = error.issues[0];
  const field =
    first.code === 'unrecognized_keys'
      ? [section, ...first.path, first.keys[0]].join('.')
      : [section, ...first.path].join('.');
  return new ConfigError(`${where}: ${issues.join('; ')}`, { file: where, field, issues });
}

/** The monitor in effect: the config's, else the task's, else val loss. */
export function effectiveMonitor(task: AnyTask, train: TrainSection): Monitor {
  return train.monitor ?? task.monitor ?? { metric: 'loss', mode: 'min' };
}
