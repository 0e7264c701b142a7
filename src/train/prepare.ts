/**
 * Stage 2 of a run: load the data, split it, check the memory estimate, compile the train step, create the
 * evaluation sessions and open the log; the result is the one RunContext the loop and the final stage share.
 */
import { ParamStore } from '../engine/params.js';
import { adamw, type Optimizer, sgd, withEma } from '../engine/optim.js';
import { constantSchedule, warmupCosine } from '../engine/schedule.js';
import { compileTrainStep, Trainer } from '../engine/train.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { effectiveMonitor, type RunConfig, type TrainSection } from './config.js';
import { loadTaskData, resolveSplits, stepsPerEpoch } from './data.js';
import { createEvalPredictors, type EvalPredictors } from './evaluate.js';
import { JsonlLog, truncateLog } from './log.js';
import { checkMemory, defaultMemoryLimit, estimateMemory } from './memory.js';
import { evaluateBefore } from './loop.js';
import { checkLoadedData, type OpenedRun } from './open.js';
import type { RunOptions } from './run.js';
import type { StopSignal } from './signals.js';
import { initialRunState, type DataStamp, type RunState } from './state.js';
import type { AnyTask, Monitor, SplitName, TaskData } from './task.js';

export interface RunContext {
  readonly opts: RunOptions;
  readonly task: AnyTask;
  readonly cfg: RunConfig;
  /** cfg.train. */
  readonly t: TrainSection;
  readonly dir: string;
  readonly files: OpenedRun['files'];
  readonly data: TaskData;
  readonly splits: Record<SplitName, number[]>;
  /** What the checkpoint records about the data (resume compares it). */
  readonly dataStamp: DataStamp;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly monitor: Monitor;
  readonly store: ParamStore;
  readonly trainer: Trainer;
  readonly pred: EvalPredictors;
  readonly log: JsonlLog;
  readonly progress: Progress;
  readonly stop: StopSignal;
  /** Date.now() when this process started the run. */
  readonly started: number;
  /** The position this process started training at. */
  readonly startPos: number;
  /** Everything that goes into checkpoints (position, early stopping, before/best metrics, timing). */
  state: RunState;
  /** Whether the progress bar was finished (else close() restores the terminal). */
  progressDone: boolean;
  /** Closes the log, the progress bar and every session. */
  close(): Promise<void>;
}

/** Returns null when a stop was requested while the data loaded (nothing to train or checkpoint). */
export async function prepareRun(
  run: OpenedRun,
  opts: RunOptions,
  stop: StopSignal,
  started: number,
): Promise<RunContext | null> {
  const { task, config: cfg, dir, files } = run;
  const t = cfg.train;
  const data = await loadTaskData(task, cfg, run.source, opts);
  if (stop.requested) return null;
  const splits = resolveSplits(data, cfg.split, t.seed);
  const dataStamp = checkLoadedData(run, { examples: data.size, splits }, opts.allowDataChange ?? false);
  const spe = stepsPerEpoch(splits.train.length, t.batchSize);
  const totalSteps = Math.min(t.epochs * spe, t.maxSteps ?? Infinity);
  if (splits.train.length < t.batchSize && !opts.quiet) {
    process.stderr.write(
      `attune: warning: the train split has ${splits.train.length} examples, fewer than train.batchSize ${t.batchSize}; batches repeat examples\n`,
    );
  }
  // Size bounds before anything big is allocated (weights, ONNX Runtime sessions).
  const limit = opts.memoryLimit === undefined ? defaultMemoryLimit() : opts.memoryLimit;
  if (limit !== null) checkMemory(estimateMemory(task, cfg, data), limit, cfg, task.name);

  const store = new ParamStore(t.seed);
  const compiled = compileTrainStep(
    (g, p) => task.buildLoss(g, p, { model: cfg.model, data, batchSize: t.batchSize, purpose: 'train' }),
    store,
    {
      optimizer: withEmaIfSet(
        t.optimizer === 'adamw'
          ? adamw({ weightDecay: t.weightDecay })
          : sgd({ momentum: t.momentum, weightDecay: t.weightDecay }),
        t.emaDecay,
      ),
      clipNorm: t.clipNorm ?? undefined,
    },
  );
  const lr =
    t.schedule === 'cosine'
      ? warmupCosine({ lr: t.lr, warmupSteps: Math.min(t.warmupSteps, totalSteps), totalSteps, minLr: t.minLr })
      : constantSchedule(t.lr);
  const session = { threads: t.threads ?? undefined };
  const trainer = await Trainer.create(compiled, {
    lr,
    onNonFinite: t.onNonFinite,
    worker: t.worker,
    seed: t.seed,
    session,
  });
  let log: JsonlLog | null = null;
  let pred: EvalPredictors | null = null;
  let progress: Progress | null = null;
  try {
    // Before opening the log for appends: a resumed run drops lines past its checkpoint (and a final phase it is about
    // to redo), a fresh one starts empty.
    if (run.resume) truncateLog(files.log, run.resume.state.loop.pos);
    else writeFileAtomic(files.log, '');
    log = new JsonlLog(files.log);
    progress = new Progress({ label: `train ${task.name}`, total: totalSteps, quiet: opts.quiet });
    pred = await createEvalPredictors(task, cfg, data, store, session);
    let state = initialRunState();
    if (run.resume) {
      await trainer.restore(run.resume.ckpt);
      state = run.resume.state.loop;
      trainer.skippedSteps = state.skipped;
      log.append(
        {
          type: 'resume',
          step: trainer.step,
          pos: state.pos,
          ...(run.dataChanged ? { dataChanged: run.dataChanged } : {}),
        },
        true,
      );
    } else {
      log.append(
        {
          type: 'start',
          step: 0,
          pos: 0,
          task: task.name,
          totalSteps,
          stepsPerEpoch: spe,
          splits: { train: splits.train.length, val: splits.val.length, test: splits.test.length },
          info: data.info ?? {},
        },
        true,
      );
    }
    const [l, b, pr] = [log, progress, pred];
    const ctx: RunContext = {
      opts,
      task,
      cfg,
      t,
      dir,
      files,
      data,
      splits,
      dataStamp,
      stepsPerEpoch: spe,
      totalSteps,
      monitor: effectiveMonitor(task, t),
      store,
      trainer,
      pred: pr,
      log: l,
      progress: b,
      stop,
      started,
      startPos: state.pos,
      state,
      progressDone: false,
      async close() {
        l.close();
        // Progress has no stop-without-completing; on a TTY finishing it is still needed to restore the cursor.
        if (!this.progressDone && !opts.quiet && process.stderr.isTTY) b.finish({ status: 'stopped' });
        await Promise.all([trainer.close(), pr.inference.close(), pr.loss.close()]);
      },
    };
    if (!run.resume && t.evalBefore && splits.test.length) await evaluateBefore(ctx);
    return ctx;
  } catch (err) {
    log?.close();
    if (progress && !opts.quiet && process.stderr.isTTY) progress.finish({ status: 'stopped' });
    await Promise.all([trainer.close(), pred?.inference.close(), pred?.loss.close()]);
    throw err;
  }
}

/** train.emaDecay: the optimizer with a weight-average slot (engine/optim.ts `withEma`), or as it is when null. */
function withEmaIfSet(opt: Optimizer, decay: number | null): Optimizer {
  return decay === null ? opt : withEma(opt, decay);
}
