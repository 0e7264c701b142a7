/** The trainer: the Task contract, config layering, the training loop, checkpoints, logs and reports. */
export * from './task.js';
export * from './config.js';
export * from './data.js';
export * from './evaluate.js';
export * from './log.js';
// RunOptions/RunResult are renamed here: the media area exports its own.
export { runTraining, runFiles, describeSource, type RunStatus, type RunOptions as TrainRunOptions, type RunResult as TrainRunResult } from './run.js';
export * from './seeds.js';
export * from './report.js';
export { StopSignal } from './signals.js';
