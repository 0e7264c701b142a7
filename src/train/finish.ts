/**
 * Stage 4 of a run: the final test evaluation with the best weights (the last ones when no val evaluation
 * picked any), model.onnx, metrics.json, the `end` line and report.html. It reads only the RunContext, so a
 * run resumed after its loop ended (a crash in this stage) redoes it exactly.
 */
import { existsSync } from 'node:fs';
import { exportOnnx } from '../engine/export.js';
import type { HostArray } from '../io/array.js';
import { loadSafetensors } from '../io/safetensors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { effectiveMonitor } from './config.js';
import { readLog } from './log.js';
import { evaluateWith, finiteGate } from './loop.js';
import type { OpenedRun } from './open.js';
import type { RunContext } from './prepare.js';
import { writeRunReport } from './report.js';
import type { RunResult, RunStatus } from './run.js';

export function runResult(ctx: RunContext, status: RunStatus): RunResult {
  const { state, trainer } = ctx;
  return {
    dir: ctx.dir,
    status,
    config: ctx.cfg,
    steps: trainer.step,
    pos: state.pos,
    totalSteps: ctx.totalSteps,
    skippedSteps: trainer.skippedSteps,
    monitor: { ...ctx.monitor, best: state.best, bestStep: state.bestStep },
    metrics: null,
    seconds: (Date.now() - ctx.started) / 1000,
    stepsPerSecond: state.timing.steps > 0 ? state.timing.steps / state.timing.seconds : NaN,
  };
}

/** The result of a run stopped while its data loaded (before training: nothing to checkpoint). */
export function interruptedResult(run: OpenedRun, started: number): RunResult {
  const loop = run.resume?.state.loop;
  return {
    dir: run.dir,
    status: 'interrupted',
    config: run.config,
    steps: run.resume?.ckpt.step ?? 0,
    pos: loop?.pos ?? 0,
    totalSteps: NaN,
    skippedSteps: 0,
    monitor: { ...effectiveMonitor(run.task, run.config.train), best: null, bestStep: 0 },
    metrics: null,
    seconds: (Date.now() - started) / 1000,
    stepsPerSecond: NaN,
  };
}

export async function finishRun(ctx: RunContext, status: RunStatus): Promise<RunResult> {
  const result = runResult(ctx, status);
  if (status === 'interrupted') return result;
  const { files, state, trainer, t, task, cfg } = ctx;
  const finalParams =
    existsSync(files.best) && state.best !== null
      ? Object.fromEntries(loadSafetensors(files.best).tensors)
      : ((await trainer.averagedParams()) ?? (await trainer.params()));
  finiteGate(ctx, 'final', { tensors: finalParams });
  const test = await evaluateWith(ctx, finalParams, 'test', 'final');
  finiteGate(ctx, 'final', { losses: 'test.loss' in test.metrics ? { 'test.loss': test.metrics['test.loss'] } : {} });
  result.metrics = { test: test.metrics, val: state.bestVal, before: state.before };
  ctx.log.append(
    {
      type: 'eval',
      step: trainer.step,
      pos: state.pos,
      split: 'test',
      tag: 'final',
      bestStep: state.bestStep,
      ...test.metrics,
    },
    true,
  );
  const exportError = t.export ? tryExport(ctx, finalParams) : undefined;
  if (exportError) {
    ctx.log.append({ type: 'export-failed', step: trainer.step, pos: state.pos, message: exportError }, true);
    if (!ctx.opts.quiet) process.stderr.write(`attune: warning: model.onnx export failed: ${exportError}\n`);
  }
  result.seconds = (Date.now() - ctx.started) / 1000;
  writeJsonAtomic(files.metrics, {
    task: task.name,
    status,
    steps: result.steps,
    bestStep: state.bestStep,
    monitor: result.monitor,
    skippedSteps: result.skippedSteps,
    ...result.metrics,
    seconds: result.seconds,
    stepsPerSecond: result.stepsPerSecond,
    ...(exportError ? { exportError } : {}),
  });
  ctx.log.append({ type: 'end', step: trainer.step, pos: state.pos, status }, true);
  if (t.report)
    writeRunReport(files.report, {
      task,
      config: cfg,
      result,
      log: readLog(files.log),
      sections: test.sections ?? [],
      info: ctx.data.info,
    });
  return result;
}

/** Writes model.onnx; returns the error message instead of throwing: a failed export must not lose the trained run. */
function tryExport(ctx: RunContext, params: Record<string, HostArray>): string | undefined {
  const { task, cfg, data, store } = ctx;
  try {
    exportOnnx(
      ctx.files.onnx,
      (g, p) =>
        task.buildInference(g, p, { model: cfg.model, data, batchSize: cfg.train.exportBatchSize, purpose: 'export' }),
      store,
      { params, name: task.name, docString: `${task.name} trained by attune` },
    );
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
