import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { HostArray } from '../io/array.js';
import { loadSafetensors } from '../io/safetensors.js';
import { InputError } from '../util/errors.js';

/** The files of a run folder (a light module: the CLI and inference code use it without loading the trainer). */
export const runFiles = (dir: string) => ({
  config: join(dir, 'config.json'),
  log: join(dir, 'log.jsonl'),
  last: join(dir, 'checkpoints', 'last.safetensors'),
  best: join(dir, 'best.safetensors'),
  metrics: join(dir, 'metrics.json'),
  onnx: join(dir, 'model.onnx'),
  report: join(dir, 'report.html'),
});

/** The run folder a path names: the folder itself, or the folder holding a weights file inside it. */
export function runFolder(path: string): string {
  return resolve(statSync(path).isDirectory() ? path : dirname(path));
}

/**
 * A run's saved config.json without its weights, or null when the path, the file or its JSON is missing (callers
 * that must refuse a bad run use loadRun, which says why).
 */
export function readRunConfig(path: string): LoadedRun['config'] | null {
  if (!existsSync(path)) return null;
  const file = runFiles(runFolder(path)).config;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** A trained run folder as inference code needs it: its saved config, trained weights and final metrics. */
export interface LoadedRun {
  dir: string;
  /** config.json as written by the trainer (task, model, data, train, ...). */
  config: { task?: string; model?: unknown; data?: Record<string, any>; [key: string]: unknown };
  weightsPath: string;
  /** Trained parameters (optimizer state left out). */
  params: Record<string, HostArray>;
  /** metrics.json when the run finished, else null. */
  metrics: Record<string, any> | null;
}

/**
 * Loads a run folder written by `attune train` or `attune demo` (or a weights file inside one): config.json, then
 * best.safetensors, else checkpoints/last.safetensors. `tasks` lists the tasks whose runs the caller can use;
 * `flag` names the option the path came from, for messages.
 */
export function loadRun(path: string, opts: { tasks: readonly string[]; flag?: string }): LoadedRun {
  const flag = opts.flag ?? '--model';
  const trainHint = `train one with 'attune train ${opts.tasks.join('|')}' or 'attune demo'`;
  if (!existsSync(path)) throw new InputError(`${flag} ${path}: no such file or folder`, { file: path, field: flag });
  const isDir = statSync(path).isDirectory();
  const dir = runFolder(path);
  const files = runFiles(dir);
  if (!existsSync(files.config))
    throw new InputError(`${flag} ${path}: no config.json there; pass a run folder (${trainHint})`, {
      file: files.config,
      field: flag,
    });
  let config: LoadedRun['config'];
  try {
    config = JSON.parse(readFileSync(files.config, 'utf8'));
  } catch (err) {
    throw new InputError(`${files.config}: not valid JSON (${(err as Error).message})`, { file: files.config });
  }
  if (config.task === undefined || !opts.tasks.includes(config.task)) {
    throw new InputError(
      `${flag} ${path}: the run trained '${String(config.task)}', not ${opts.tasks.map((t) => `'${t}'`).join(' or ')}`,
      { file: files.config, field: 'task' },
    );
  }
  // A damaged best.safetensors (even an empty one) is refused by name when loaded, never silently replaced by last.
  const weightsPath = isDir ? [files.best, files.last].find((p) => existsSync(p)) : resolve(path);
  if (!weightsPath)
    throw new InputError(`${flag} ${path}: no best.safetensors or checkpoints/last.safetensors; is the run finished?`, {
      file: dir,
      field: flag,
    });
  const params = Object.fromEntries([...loadSafetensors(weightsPath).tensors].filter(([k]) => !k.startsWith('optim.')));
  let metrics: LoadedRun['metrics'] = null;
  if (existsSync(files.metrics)) {
    try {
      metrics = JSON.parse(readFileSync(files.metrics, 'utf8'));
    } catch {
      metrics = null; // a run interrupted while writing metrics still has usable weights
    }
  }
  return { dir, config, weightsPath, params, metrics };
}
