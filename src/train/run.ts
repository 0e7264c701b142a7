import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ParamStore } from '../engine/params.js';
import { adamw, sgd } from '../engine/optim.js';
import { constantSchedule, warmupCosine } from '../engine/schedule.js';
import { compileTrainStep, Trainer } from '../engine/train.js';
import { exportOnnx } from '../engine/export.js';
import { loadCheckpoint, saveCheckpoint } from '../engine/checkpoint.js';
import { saveSafetensors, loadSafetensors } from '../io/safetensors.js';
import type { HostArray } from '../io/array.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { InputError, NumericError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { effectiveMonitor, type RunConfig } from './config.js';
import { batchRng, loadTaskData, resolveSplits, stepsPerEpoch, trainBatchIndices } from './data.js';
import { createEvalPredictors, evaluateSplit, initialMonitorState, monitoredValue, observe, type EvalPredictors, type MonitorState } from './evaluate.js';
import { JsonlLog, readLog, truncateLog } from './log.js';
import { writeRunReport } from './report.js';
import { StopSignal } from './signals.js';
import { runFiles } from './files.js';
import type { AnyTask, DataSource, SplitName, TaskData } from './task.js';

export { runFiles };

/**
 * One training run in a run folder:
 *   config.json, log.jsonl, checkpoints/last.safetensors, best.safetensors, metrics.json, model.onnx, report.html
 * Everything random is derived from train.seed (init, splits, batch order, augmentation, dropout), and
 * the checkpoint holds the weights, optimizer state, dropout Rng and the loop position, so `resume`
 * continues exactly where the run stopped.
 */

export type RunStatus = 'completed' | 'early-stopped' | 'interrupted';

export interface RunOptions {
  task: AnyTask;
  /** The resolved config (ignored on resume: the checkpoint's config is used). */
  config: RunConfig;
  source: DataSource;
  /** The run folder. */
  out: string;
  /** Continue the run in `out` from checkpoints/last.safetensors. */
  resume?: boolean;
  quiet?: boolean;
  /** Install SIGINT/SIGTERM handlers: checkpoint, then return with status 'interrupted' (the CLI does). */
  handleSignals?: boolean;
  /** Programmatic stop: the run checkpoints at the next step boundary and returns 'interrupted'. */
  signal?: AbortSignal;
  /** Folder tasks may use to cache features across runs. */
  cacheDir?: string;
  /** Called after every step (tests, UIs). */
  onStep?: (info: { step: number; pos: number; loss: number }) => void;
}

export interface RunResult {
  dir: string;
  status: RunStatus;
  /** Optimizer steps taken / batches consumed (they differ by skipped non-finite steps). */
  steps: number;
  pos: number;
  totalSteps: number;
  skippedSteps: number;
  monitor: { metric: string; mode: 'min' | 'max'; best: number | null; bestStep: number };
  /** Final metrics (absent for interrupted runs): test (best weights), val at the best step, and before training. */
  metrics: { test: Record<string, number>; val: Record<string, number>; before: Record<string, number> } | null;
  seconds: number;
  /** Throughput of this process's steps (batch building + the train step; evaluation and checkpoints excluded). */
  stepsPerSecond: number;
}

interface LoopState extends MonitorState {
  pos: number;
  /** Set when early stopping ended the loop, so resuming (e.g. after a crash in the final phase) does not train on. */
  ended: 'early-stopped' | null;
  skipped: number;
  before: Record<string, number>;
  bestVal: Record<string, number>;
}


export async function runTraining(opts: RunOptions): Promise<RunResult> {
  // Installed first, so a Ctrl-C while data loads (feature extraction can take minutes) stops cleanly after it.
  const stop = new StopSignal({ signals: opts.handleSignals ?? false, abort: opts.signal });
  try {
    return await run(opts, stop);
  } finally {
    stop.dispose();
  }
}

async function run(opts: RunOptions, stop: StopSignal): Promise<RunResult> {
  const dir = resolve(opts.out);
  const files = runFiles(dir);
  const started = Date.now();
  const { task, source } = opts;
  let cfg = opts.config;
  let resumeCkpt: ReturnType<typeof loadCheckpoint> | null = null;
  if (opts.resume) {
    if (!existsSync(files.last)) throw new InputError(`--resume ${dir}: no checkpoint at ${files.last}`, { file: files.last });
    resumeCkpt = loadCheckpoint(files.last);
    const saved = resumeCkpt.config as { run?: RunConfig } | null;
    if (!saved?.run) throw new InputError(`${files.last}: checkpoint has no run config (not written by the trainer)`, { file: files.last });
    if (saved.run.task !== task.name) throw new InputError(`${files.last}: checkpoint is for task '${saved.run.task}', not '${task.name}'`, { file: files.last, field: 'task' });
    cfg = saved.run;
  } else if (existsSync(files.last)) {
    throw new InputError(`${dir} already holds a run (${files.last}); continue it with --resume or choose another --out`, { file: files.last });
  }
  const t = cfg.train;
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  if (!opts.resume) writeJsonAtomic(files.config, { ...cfg, source: describeSource(source) });

  const data = await loadTaskData(task, cfg, source, opts);
  if (stop.requested) {
    const pos = (resumeCkpt?.config as { loop?: LoopState } | undefined)?.loop?.pos ?? 0;
    return {
      dir, status: 'interrupted', steps: resumeCkpt?.step ?? 0, pos, totalSteps: NaN, skippedSteps: 0, monitor: { ...effectiveMonitor(task, t), best: null, bestStep: 0 },
      metrics: null, seconds: (Date.now() - started) / 1000, stepsPerSecond: NaN,
    };
  }
  const splits = resolveSplits(data, cfg.split, t.seed);
  const spe = stepsPerEpoch(splits.train.length, t.batchSize);
  const totalSteps = Math.min(t.epochs * spe, t.maxSteps ?? Infinity);
  if (splits.train.length < t.batchSize && !opts.quiet) {
    process.stderr.write(`attune: warning: the train split has ${splits.train.length} examples, fewer than train.batchSize ${t.batchSize}; batches repeat examples\n`);
  }

  const store = new ParamStore(t.seed);
  const compiled = compileTrainStep((g, p) => task.buildLoss(g, p, { model: cfg.model, data, batchSize: t.batchSize, purpose: 'train' }), store, {
    optimizer: t.optimizer === 'adamw' ? adamw({ weightDecay: t.weightDecay }) : sgd({ momentum: t.momentum, weightDecay: t.weightDecay }),
    clipNorm: t.clipNorm ?? undefined,
  });
  const lr = t.schedule === 'cosine' ? warmupCosine({ lr: t.lr, warmupSteps: Math.min(t.warmupSteps, totalSteps), totalSteps, minLr: t.minLr }) : constantSchedule(t.lr);
  const session = { threads: t.threads ?? undefined };
  const trainer = await Trainer.create(compiled, { lr, onNonFinite: t.onNonFinite, worker: t.worker, seed: t.seed, session });
  const monitor = effectiveMonitor(task, t);
  // Before opening the log for appends: a resumed run drops lines past its checkpoint, a fresh one starts empty.
  if (resumeCkpt) truncateLog(files.log, (resumeCkpt.config as { loop: LoopState }).loop.pos);
  else writeFileAtomic(files.log, '');
  const log = new JsonlLog(files.log);
  let pred: EvalPredictors | null = null;
  const progress = new Progress({ label: `train ${task.name}`, total: totalSteps, quiet: opts.quiet });
  let progressDone = false;
  try {
    pred = await createEvalPredictors(task, cfg, data, store, session);
    const evalWith = async (params: Record<string, HostArray>, split: SplitName, final: boolean) => {
      await pred!.inference.setParams(params);
      await pred!.loss.setParams(params);
      return evaluateSplit(task, cfg, data, splits[split], split, pred!, final);
    };

    let state: LoopState = { ...initialMonitorState(), pos: 0, ended: null, skipped: 0, before: {}, bestVal: {} };
    if (resumeCkpt) {
      await trainer.restore(resumeCkpt);
      state = (resumeCkpt.config as { loop: LoopState }).loop;
      trainer.skippedSteps = state.skipped;
      log.append({ type: 'resume', step: trainer.step, pos: state.pos }, true);
    } else {
      log.append({ type: 'start', step: 0, pos: 0, task: task.name, totalSteps, stepsPerEpoch: spe, splits: { train: splits.train.length, val: splits.val.length, test: splits.test.length }, info: data.info ?? {} }, true);
      if (t.evalBefore && splits.test.length) {
        state.before = (await evalWith(await trainer.params(), 'test', false)).metrics;
        log.append({ type: 'eval', step: 0, pos: 0, split: 'test', tag: 'before', epoch: 0, ...state.before }, true);
      }
    }

    const checkpoint = async (reason: string) => {
      const ckpt = await trainer.checkpoint();
      ckpt.config = { run: cfg, loop: { ...state, skipped: trainer.skippedSteps } };
      saveCheckpoint(files.last, ckpt);
      log.append({ type: 'checkpoint', step: trainer.step, pos: state.pos, reason }, true);
    };

    let status: RunStatus = state.ended ?? 'completed';
    let lastLoss = NaN;
    if (state.pos > 0) progress.update(state.pos);
    const startPos = state.pos;
    let stepSeconds = 0;
    const loopStarted = Date.now();
    while (state.pos < totalSteps && !state.ended) {
      const epoch = Math.floor(state.pos / spe);
      const b = state.pos % spe;
      const stepStarted = performance.now();
      const batch = data.batch(trainBatchIndices(splits.train, t.batchSize, t.seed, epoch, b), { split: 'train', rng: batchRng(t.seed, 'train', epoch, b) });
      let r;
      try {
        r = await trainer.trainStep(batch);
      } catch (err) {
        if (err instanceof NumericError) {
          log.append({ type: 'nonfinite', step: trainer.step, pos: state.pos, epoch, action: 'stop', message: err.message }, true);
          throw new NumericError(`${err.message} (run ${dir}; set train.onNonFinite to "skip" to drop such steps)`, { ...err.details, run: dir });
        }
        throw err;
      }
      state.pos++;
      stepSeconds += (performance.now() - stepStarted) / 1000;
      log.append({ type: 'step', step: r.step, pos: state.pos, epoch, loss: r.loss, grad_norm: r.gradNorm, lr: r.lr, skipped: r.skipped, ...r.metrics, time: (Date.now() - started) / 1000 });
      lastLoss = r.loss;
      if (state.pos < totalSteps) progress.update(state.pos, { loss: r.loss, epoch: `${epoch + 1}/${Math.ceil(totalSteps / spe)}`, ...etaField(state.pos - startPos, totalSteps - state.pos, loopStarted) });
      opts.onStep?.({ step: r.step, pos: state.pos, loss: r.loss });

      const epochEnd = state.pos % spe === 0 || state.pos === totalSteps;
      let earlyStop = false;
      if (epochEnd && ((epoch + 1) % t.evalEvery === 0 || state.pos === totalSteps) && splits.val.length) {
        const params = await trainer.params();
        const { metrics } = await evalWith(params, 'val', false);
        const value = monitoredValue(monitor, metrics);
        const improved = observe(state, monitor, value, t.minDelta, trainer.step, state.pos, monitor.metric === 'loss' ? undefined : metrics['val.loss']);
        if (improved) {
          state.bestVal = metrics;
          saveSafetensors(files.best, params, { step: String(trainer.step), metric: monitor.metric, value: String(value) });
        }
        log.append({ type: 'eval', step: trainer.step, pos: state.pos, split: 'val', epoch: epoch + 1, ...metrics, improved }, true);
        earlyStop = t.patience !== null && state.bad >= t.patience;
        if (earlyStop) state.ended = 'early-stopped';
      }
      if (epochEnd || (t.checkpointEvery > 0 && state.pos % t.checkpointEvery === 0) || stop.requested || earlyStop) {
        await checkpoint(stop.requested ? `signal ${stop.reason}` : earlyStop ? 'early-stop' : epochEnd ? 'epoch' : 'every');
      }
      if (stop.requested) {
        status = 'interrupted';
        log.append({ type: 'stop', step: trainer.step, pos: state.pos, reason: stop.reason }, true);
        break;
      }
      if (earlyStop) {
        status = 'early-stopped';
        log.append({ type: 'stop', step: trainer.step, pos: state.pos, reason: `no val ${monitor.metric} improvement in ${t.patience} evaluations` }, true);
        break;
      }
    }
    if (status !== 'interrupted') {
      progress.finish({ loss: lastLoss, epoch: `${Math.ceil(state.pos / spe)}/${Math.ceil(totalSteps / spe)}` });
      progressDone = true;
    }

    const result: RunResult = {
      dir, status, steps: trainer.step, pos: state.pos, totalSteps, skippedSteps: trainer.skippedSteps,
      monitor: { ...monitor, best: state.best, bestStep: state.bestStep }, metrics: null, seconds: (Date.now() - started) / 1000,
      stepsPerSecond: state.pos > startPos ? (state.pos - startPos) / stepSeconds : NaN,
    };
    if (status === 'interrupted') return result;

    // Final phase: the best weights (by the monitor) if any, else the last ones.
    const finalParams = existsSync(files.best) && state.best !== null ? Object.fromEntries(loadSafetensors(files.best).tensors) : await trainer.params();
    const test = await evalWith(finalParams, 'test', true);
    result.metrics = { test: test.metrics, val: state.bestVal, before: state.before };
    log.append({ type: 'eval', step: trainer.step, pos: state.pos, split: 'test', tag: 'final', bestStep: state.bestStep, ...test.metrics }, true);
    const exportError = t.export ? tryExport(files.onnx, task, cfg, data, store, finalParams) : undefined;
    if (exportError) {
      log.append({ type: 'export-failed', step: trainer.step, pos: state.pos, message: exportError }, true);
      if (!opts.quiet) process.stderr.write(`attune: warning: model.onnx export failed: ${exportError}\n`);
    }
    result.seconds = (Date.now() - started) / 1000;
    writeJsonAtomic(files.metrics, { task: task.name, status, steps: result.steps, bestStep: state.bestStep, monitor: result.monitor, skippedSteps: result.skippedSteps, ...result.metrics, seconds: result.seconds, stepsPerSecond: result.stepsPerSecond, ...(exportError ? { exportError } : {}) });
    log.append({ type: 'end', step: trainer.step, pos: state.pos, status }, true);
    if (t.report) writeRunReport(files.report, { task, config: cfg, result, log: readLog(files.log), sections: test.sections ?? [], info: data.info });
    return result;
  } finally {
    log.close();
    // Progress has no stop-without-completing; on a TTY finishing it is still needed to restore the cursor.
    if (!progressDone && !opts.quiet && process.stderr.isTTY) progress.finish({ status: 'stopped' });
    await Promise.all([trainer.close(), pred?.inference.close(), pred?.loss.close()]);
  }
}

/** Writes model.onnx; returns the error message instead of throwing: a failed export must not lose the trained run. */
function tryExport(path: string, task: AnyTask, cfg: RunConfig, data: TaskData, store: ParamStore, params: Record<string, HostArray>): string | undefined {
  try {
    exportOnnx(path, (g, p) => task.buildInference(g, p, { model: cfg.model, data, batchSize: cfg.train.exportBatchSize, purpose: 'export' }), store, { params, name: task.name, docString: `${task.name} trained by attune` });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The bar shows its own ETA on a terminal; plain progress lines (logs, CI) get one from this run's pace. */
function etaField(done: number, left: number, since: number): Record<string, string> {
  if (process.stderr.isTTY || done < 1) return {};
  const seconds = ((Date.now() - since) / 1000 / done) * left;
  return { eta: seconds >= 90 ? `${(seconds / 60).toFixed(1)}min` : `${seconds.toFixed(0)}s` };
}

export function describeSource(source: DataSource): string {
  return source.kind === 'synth' ? `synth:${source.clips}` : source.path;
}
