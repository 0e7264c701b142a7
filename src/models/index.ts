/** Models and tasks: the registry (one line per task); each task lives in its own folder. */
export * from './registry.js';
