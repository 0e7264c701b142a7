/**
 * Stage 1 of a run: open a fresh run folder, or resume the one in `out`; plus the config resolution the CLI
 * and library share (`resolveRunConfig`: --data/--config/--set/--variant -> a validated RunConfig and source).
 *
 * Resume reads everything from the run itself: the config and the trainer's state from
 * checkpoints/last.safetensors, the data source from the checkpoint's data stamp (or config.json). Given a
 * different data source it refuses (the splits would be recomputed and former val/test examples trained on)
 * unless `allowDataChange` says to go on.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCheckpoint, type Checkpoint } from '../engine/checkpoint.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { ConfigError, InputError } from '../util/errors.js';
import { parseOverrides, readConfigFile, resolveConfig, type RunConfig } from './config.js';
import { parseDataSource } from './data.js';
import { runFiles } from './files.js';
import { dataStamp, describeSource, readCheckpointState, type CheckpointState, type DataStamp } from './state.js';
import type { AnyTask, DataSource, SplitName } from './task.js';

/** Where a run is and what it trains (the first half of RunOptions). */
export interface OpenOptions {
  task: AnyTask;
  /** The resolved config of a new run (resolveConfig / resolveRunConfig). Ignored on resume: the checkpoint's config is used. */
  config?: RunConfig;
  /** The data of a new run. On resume, default: the run's own; a different source needs `allowDataChange`. */
  source?: DataSource;
  /** The run folder. */
  out: string;
  /** Continue the run in `out` from checkpoints/last.safetensors (config and data from the run itself). */
  resume?: boolean;
  /** Resume on another data source than the run's own (its splits are recomputed). Default false: refused. */
  allowDataChange?: boolean;
}

export interface OpenedRun {
  dir: string;
  files: ReturnType<typeof runFiles>;
  task: AnyTask;
  config: RunConfig;
  source: DataSource;
  /** The checkpoint to continue from, with the trainer's state; null for a fresh run. */
  resume: { ckpt: Checkpoint; state: CheckpointState } | null;
  /** The data stamp the run was trained with (resume), to compare with the loaded data. */
  savedData: DataStamp | null;
  /** Set when resume accepted another data source (allowDataChange). */
  dataChanged: { from: string; to: string } | null;
}

export function openRun(opts: OpenOptions): OpenedRun {
  const dir = resolve(opts.out);
  const files = runFiles(dir);
  const { task } = opts;
  if (!opts.resume) {
    if (!opts.config || !opts.source)
      throw new ConfigError('a new run needs a config and a data source (or resume: true to continue the run in out)', {
        field: opts.config ? 'source' : 'config',
      });
    if (existsSync(files.last))
      throw new InputError(
        `${dir} already holds a run (${files.last}); continue it with --resume or choose another --out`,
        { file: files.last },
      );
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    writeJsonAtomic(files.config, { ...opts.config, source: describeSource(opts.source) });
    return {
      dir,
      files,
      task,
      config: opts.config,
      source: opts.source,
      resume: null,
      savedData: null,
      dataChanged: null,
    };
  }

  if (!existsSync(files.last)) {
    const seeds = existsSync(dir) && readdirSync(dir).some((n) => n.startsWith('seed-'));
    throw new InputError(
      `--resume ${dir}: no checkpoint at ${files.last}${seeds ? ' (it holds seed-* folders: resume it with --seeds)' : ''}`,
      { file: files.last },
    );
  }
  const ckpt = loadCheckpoint(files.last);
  const state = readCheckpointState(ckpt.config);
  if (!state)
    throw new InputError(`${files.last}: checkpoint has no run config (not written by the trainer)`, {
      file: files.last,
    });
  if (state.run.task !== task.name)
    throw new InputError(`${files.last}: checkpoint is for task '${state.run.task}', not '${task.name}'`, {
      file: files.last,
      field: 'task',
    });

  const saved: DataStamp | null = state.data ?? savedSourceStamp(files.config);
  let source = opts.source;
  if (!source) {
    if (!saved)
      throw new InputError(
        `--resume ${dir}: the run does not record its data source (no source in ${files.config}); pass one (--data)`,
        { file: files.config, field: 'data' },
      );
    source = parseDataSource(saved.source);
  }
  const given = dataStamp(source);
  let dataChanged: OpenedRun['dataChanged'] = null;
  if (saved && (saved.source !== given.source || (saved.digest && given.digest && saved.digest !== given.digest))) {
    if (!opts.allowDataChange) throw dataChangeError(dir, saved, given);
    dataChanged = { from: saved.source, to: given.source };
  }
  // The checkpoint's config is the run's; validated again so a config from an older version gets new fields' defaults.
  const config = resolveConfig(task, {
    source: source.kind,
    file: state.run as unknown as Record<string, unknown>,
    fileName: files.last,
  });
  if (existsSync(files.config) && !dataChanged) checkJsonFile(files.config);
  if (dataChanged || !existsSync(files.config))
    writeJsonAtomic(files.config, { ...config, source: describeSource(source) });
  return { dir, files, task, config, source, resume: { ckpt, state }, savedData: saved, dataChanged };
}

/** The loaded data must be what the run trained on: same example count and split sizes (unless allowDataChange). */
export function checkLoadedData(
  run: OpenedRun,
  loaded: { examples: number; splits: Record<SplitName, readonly number[]> },
  allowDataChange: boolean,
): DataStamp {
  const stamp = dataStamp(run.source, loaded);
  const saved = run.savedData;
  if (saved?.examples !== undefined && saved.splits && !allowDataChange && !run.dataChanged) {
    const same =
      saved.examples === stamp.examples &&
      (['train', 'val', 'test'] as const).every((s) => saved.splits![s] === stamp.splits![s]);
    if (!same) {
      const fmt = (d: DataStamp) =>
        `${d.examples} examples (train ${d.splits!.train}, val ${d.splits!.val}, test ${d.splits!.test})`;
      throw new InputError(
        `--resume ${run.dir}: ${stamp.source} now loads ${fmt(stamp)}, but the run trained on ${fmt(saved)}; its splits would change. ` +
          'Restore the data, or pass --allow-data-change (allowDataChange: true) to continue on it anyway',
        { field: 'data', file: run.dir },
      );
    }
  }
  return stamp;
}

function dataChangeError(dir: string, saved: DataStamp, given: DataStamp): InputError {
  const what =
    saved.source === given.source
      ? `the manifest ${given.source} changed since the run started (items digest ${saved.digest} -> ${given.digest})`
      : `the run trained on ${saved.source}, and resume was given ${given.source}`;
  return new InputError(
    `--resume ${dir}: ${what}; its splits would be recomputed and former val/test examples trained on. ` +
      "Resume without --data (the run's own data), or pass --allow-data-change (allowDataChange: true) to continue on the new data anyway",
    { field: 'data', file: dir, saved: saved.source, given: given.source },
  );
}

/** The `source` a run's config.json records (checkpoints written before data stamps). */
function savedSourceStamp(configPath: string): DataStamp | null {
  if (!existsSync(configPath)) return null;
  try {
    const source = (JSON.parse(readFileSync(configPath, 'utf8')) as { source?: unknown }).source;
    return typeof source === 'string' ? { source, digest: '' } : null;
  } catch {
    return null;
  }
}

/** How a run is described on the command line (or by a script that wants the same rules). */
export interface RunSpec {
  /** `synth:N` or a manifest path; default: the `source` the config file names (a run's config.json). */
  data?: string;
  /** A JSON config file; a run's config.json repeats that run. */
  configFile?: string;
  /** `key.path=value` overrides (`train.lr=3e-4`). */
  set?: readonly string[];
  /** A model variant of the task. */
  variant?: string;
}

/** --data/--config/--set/--variant -> the validated config and the data source (config layers: docs/training.md). */
export function resolveRunConfig(task: AnyTask, spec: RunSpec): { config: RunConfig; source: DataSource } {
  const file = spec.configFile ? readConfigFile(spec.configFile) : undefined;
  // --data, else the source a saved config.json names (replicating a run with --config).
  const dataSpec = spec.data ?? (typeof file?.source === 'string' ? file.source : undefined);
  if (!dataSpec) throw new InputError('--data is required (a manifest path or synth:N)', { field: 'data' });
  const source = parseDataSource(dataSpec);
  const overrides = parseOverrides(spec.set ?? []);
  if (spec.variant) overrides.variant = spec.variant;
  const config = resolveConfig(task, { source: source.kind, file, fileName: spec.configFile, overrides });
  return { config, source };
}

/** A run folder's config.json as a config and source (what a seed list resumes its unstarted seeds with). */
export function readSavedRun(dir: string, task: AnyTask): { config: RunConfig; source: DataSource } {
  const path = runFiles(resolve(dir)).config;
  if (!existsSync(path)) throw new InputError(`--resume ${dir}: no run there (missing ${path})`, { file: path });
  return resolveRunConfig(task, { configFile: path });
}

/** A damaged config.json is named, not trained past: the run folder's record must stay readable next to its results. */
function checkJsonFile(path: string): void {
  try {
    JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(
      `${path}: not valid JSON (${(err as Error).message}); the checkpoint holds the run's config: delete ${path} and resume again to have it rewritten from there`,
      { file: path },
    );
  }
}
