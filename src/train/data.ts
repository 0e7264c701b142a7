/**
 * Data for a run: the source, loading (with progress), and splits, batch order and per-batch randomness,
 * all pure functions of (seed, ...): nothing here keeps state, so a run resumed at step k computes the
 * same batches as an uninterrupted one.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readManifest, type ManifestItem } from '../data/manifest.js';
import { readEmotionManifest } from '../data/emospeech/manifest.js';
import { ConfigError, InputError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import type { RunConfig, SplitSection } from './config.js';
import {
  GENERATED_SETS,
  type AnyTask,
  type DataSource,
  type GeneratedSet,
  type SplitName,
  type TaskData,
} from './task.js';

/** `NAME:N` -> N items of a generated set (synth, avqa, emospeech; GENERATED_SETS); anything else is a manifest path (validated). */
export function parseDataSource(spec: string): DataSource {
  const m = /^([a-z]+):(\d+)$/.exec(spec.trim());
  const set = m?.[1] as GeneratedSet | undefined;
  if (m && GENERATED_SETS.includes(set!)) {
    const clips = Number(m[2]);
    if (clips < 1) throw new ConfigError(`--data ${spec}: ${set} needs at least 1 item`, { field: 'data' });
    return set === 'synth' ? { kind: 'synth', clips } : { kind: 'synth', clips, set };
  }
  if (GENERATED_SETS.some((s) => spec.startsWith(s)))
    throw new ConfigError(
      `--data '${spec}': expected NAME:N with NAME one of ${GENERATED_SETS.join(', ')} (e.g. synth:200), or a manifest path`,
      { field: 'data' },
    );
  const path = resolve(spec);
  if (!existsSync(path)) throw new InputError(`--data ${spec}: no such manifest file`, { file: spec, field: 'data' });
  return { kind: 'manifest', path, items: manifestItems(path) };
}

/**
 * The AV manifest's items; an emotion manifest (docs/emospeech.md) is not one, and gives no AV items: the emotion
 * task reads `source.path` itself. Anything that is neither keeps the AV manifest's error.
 */
function manifestItems(path: string): ManifestItem[] {
  try {
    return readManifest(path).items;
  } catch (err) {
    const emotion = readEmotionManifest(path);
    if (emotion.items.length && !emotion.errors.length) return [];
    throw err;
  }
}

/** Deterministic split of [0, n) by fractions: a seeded permutation cut into test, val, train (each sorted). */
export function splitIndices(n: number, split: SplitSection, seed: number): Record<SplitName, number[]> {
  const order = new Rng(seed).fork('split').shuffle(Array.from({ length: n }, (_, i) => i));
  const nTest = split.test > 0 ? Math.max(1, Math.round(n * split.test)) : 0;
  const nVal = split.val > 0 ? Math.max(1, Math.round(n * split.val)) : 0;
  if (n - nTest - nVal < 1)
    throw new ConfigError(`${n} examples cannot be split into val ${nVal} + test ${nTest} with any left to train`, {
      field: 'split',
      examples: n,
    });
  const sorted = (a: number[]) => a.sort((x, y) => x - y);
  return {
    test: sorted(order.slice(0, nTest)),
    val: sorted(order.slice(nTest, nTest + nVal)),
    train: sorted(order.slice(nTest + nVal)),
  };
}

/** The task's own splits where given, else `splitIndices`; checks range and overlap. */
export function resolveSplits(data: TaskData, split: SplitSection, seed: number): Record<SplitName, number[]> {
  const out = { ...splitIndices(data.size, split, seed), ...(data.splits ?? {}) } as Record<SplitName, number[]>;
  const owner = new Map<number, SplitName>();
  for (const name of ['train', 'val', 'test'] as const) {
    for (const i of out[name]) {
      if (!Number.isInteger(i) || i < 0 || i >= data.size)
        throw new InputError(`split '${name}' has example index ${i} outside [0, ${data.size})`, {
          field: `splits.${name}`,
        });
      const prev = owner.get(i);
      if (prev)
        throw new InputError(`example ${i} is in both '${prev}' and '${name}' splits`, { field: `splits.${name}` });
      owner.set(i, name);
    }
  }
  if (!out.train.length) throw new InputError('the train split is empty', { field: 'splits.train' });
  return out;
}

/** Optimizer steps per epoch: full batches only (at least 1; small train sets cycle their permutation). */
export function stepsPerEpoch(trainSize: number, batchSize: number): number {
  return Math.max(1, Math.floor(trainSize / batchSize));
}

/** The train indices of batch `b` of `epoch`: a seeded permutation per epoch, cycled if the set is smaller than a batch. */
export function trainBatchIndices(
  train: readonly number[],
  batchSize: number,
  seed: number,
  epoch: number,
  b: number,
): number[] {
  const perm = epochPermutation(train, seed, epoch);
  return Array.from({ length: batchSize }, (_, i) => perm[(b * batchSize + i) % perm.length]);
}

const permCache = new WeakMap<readonly number[], Map<string, number[]>>();
function epochPermutation(train: readonly number[], seed: number, epoch: number): number[] {
  let perEpoch = permCache.get(train);
  if (!perEpoch) permCache.set(train, (perEpoch = new Map()));
  const key = `${seed}:${epoch}`;
  let perm = perEpoch.get(key);
  if (!perm) {
    perm = new Rng(seed).fork(`epoch:${epoch}`).shuffle([...train]);
    if (perEpoch.size > 4) perEpoch.clear();
    perEpoch.set(key, perm);
  }
  return perm;
}

/** The Rng a batch may use for augmentation, derived from (seed, split, epoch, batch). */
export function batchRng(seed: number, split: SplitName, epoch: number, b: number): Rng {
  return new Rng(seed).fork(`batch:${split}:${epoch}:${b}`);
}

/**
 * Fixed-size evaluation batches over `indices` (example indices, or any items): the last one is padded by
 * repeating its last entry; `real` says how many leading entries are real (drop the rest from metrics).
 * predictInBatches (src/train/predict.ts) runs a Predictor over them.
 */
export function evalBatches<T = number>(indices: readonly T[], batchSize: number): { indices: T[]; real: number }[] {
  const out: { indices: T[]; real: number }[] = [];
  for (let s = 0; s < indices.length; s += batchSize) {
    const chunk = indices.slice(s, s + batchSize);
    const real = chunk.length;
    while (chunk.length < batchSize) chunk.push(chunk[chunk.length - 1]);
    out.push({ indices: chunk, real });
  }
  return out;
}

/** task.loadData with a progress bar per label the task reports. */
export function loadTaskData(
  task: AnyTask,
  cfg: RunConfig,
  source: DataSource,
  opts: { quiet?: boolean; cacheDir?: string },
): Promise<TaskData> {
  checkGeneratedSet(task, source);
  const bars = new Map<string, Progress>();
  return task.loadData({
    data: cfg.data,
    model: cfg.model,
    source,
    seed: cfg.train.seed,
    rng: new Rng(cfg.train.seed).fork('data'),
    cacheDir: opts.cacheDir,
    progress: (label, done, total) => {
      let bar = bars.get(label);
      if (!bar) bars.set(label, (bar = new Progress({ label, total, quiet: opts.quiet })));
      if (done >= total) bar.finish();
      else bar.update(done);
    },
  });
}

/** A generated set is the task's own or refused: `av-sync --data avqa:N` must not quietly train on AV-Synth clips. */
export function checkGeneratedSet(task: AnyTask, source: DataSource): void {
  if (source.kind !== 'synth') return;
  const wants = task.generatedSet ?? 'synth';
  const got = source.set ?? 'synth';
  if (got !== wants)
    throw new ConfigError(
      `--data ${got}:${source.clips}: task '${task.name}' trains on ${wants}:N (or a manifest), not ${got}`,
      { field: 'data', expected: `${wants}:N`, got: `${got}:${source.clips}` },
    );
}
