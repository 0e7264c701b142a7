import { ConfigError } from '../util/errors.js';
import type { AnyTask } from '../train/task.js';

/**
 * Every trainable model/task, by name: ONE line each, loaded lazily so the CLI starts fast and a task's
 * heavy imports load only when it is used. A task file exports its Task object (with its variants as
 * factory functions, e.g. `variants: { small: avSyncSmall, base: avSyncBase }`).
 *
 * To add a model: write src/models/<name>/task.ts exporting `const <name>Task = defineTask({...})`,
 * then add a line below (keep it sorted).
 */
type TaskLoader = () => Promise<AnyTask>;

const builtin: Record<string, TaskLoader> = {
  'av-align': () => import('./av_align/task.js').then((m) => m.avAlignTask),
  'av-retrieval': () => import('./av_retrieval/task.js').then((m) => m.avRetrievalTask),
  'av-sync': () => import('./av_sync/task.js').then((m) => m.avSyncTask),
  emotion: () => import('./emotion/task.js').then((m) => m.emotionTask),
  favor: () => import('./favor/task.js').then((m) => m.favorTask),
  v2a: () => import('./v2a/task.js').then((m) => m.v2aTask),
};

/** Tasks added at run time (tests, plugins, scripts). */
const extra = new Map<string, TaskLoader>();

/** Registers a task under its name (replacing a runtime registration of the same name; built-ins cannot be shadowed). */
export function registerTask(task: AnyTask | TaskLoader, name?: string): void {
  const loader: TaskLoader = typeof task === 'function' ? task : () => Promise.resolve(task);
  const key = name ?? (typeof task === 'function' ? undefined : task.name);
  if (!key) throw new ConfigError('registerTask: a loader needs an explicit name', { field: 'name' });
  if (key in builtin)
    throw new ConfigError(`task '${key}' is built in and cannot be replaced`, { field: 'task', task: key });
  extra.set(key, loader);
}

/** Removes a runtime registration (tests). */
export function unregisterTask(name: string): void {
  extra.delete(name);
}

/** Names of every registered task, sorted. */
export function taskNames(): string[] {
  return [...new Set([...Object.keys(builtin), ...extra.keys()])].sort();
}

/** Loads a task by name; an unknown name is a ConfigError listing the known ones. */
export async function getTask(name: string): Promise<AnyTask> {
  const loader = builtin[name] ?? extra.get(name);
  if (!loader) {
    const known = taskNames();
    throw new ConfigError(
      `unknown task '${name}'; known tasks: ${known.length ? known.join(', ') : '(none registered)'}`,
      { field: 'task', task: name, known },
    );
  }
  const task = await loader();
  if (task.name !== name)
    throw new ConfigError(`registry entry '${name}' loaded a task named '${task.name}'`, { field: 'task', task: name });
  return task;
}
