/** The trainer: the Task contract, config layering, the training loop, checkpoints, logs and reports. */
export * from './task.js';
export * from './config.js';
export * from './data.js';
export * from './evaluate.js';
export * from './log.js';
// RunOptions/RunResult are renamed here: the media area exports its own.
export {
  runTraining,
  runFiles,
  describeSource,
  type RunStatus,
  type RunOptions as TrainRunOptions,
  type RunResult as TrainRunResult,
} from './run.js';
// The run's stages (run.ts runs them in order; a library user may drive them too).
export {
  openRun,
  resolveRunConfig,
  readSavedRun,
  checkLoadedData,
  type OpenOptions,
  type OpenedRun,
  type RunSpec,
} from './open.js';
export { prepareRun, type RunContext } from './prepare.js';
export { trainLoop, evaluateWith, evaluateBefore, writeCheckpoint, finiteGate, type EvalKind } from './loop.js';
export { finishRun } from './finish.js';
export * from './state.js';
export * from './gate.js';
export * from './memory.js';
export * from './predict.js';
export * from './seeds.js';
export * from './report.js';
export { StopSignal } from './signals.js';
