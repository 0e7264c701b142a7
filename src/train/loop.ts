/**
 * Stage 3 of a run: the training loop over one RunContext, and the pieces the other stages share with it:
 * evaluating a split with given weights, the finite-or-fail gate, and writing a checkpoint.
 */
import { saveCheckpoint } from '../engine/checkpoint.js';
import type { HostArray } from '../io/array.js';
import { saveSafetensors } from '../io/safetensors.js';
import { NumericError } from '../util/errors.js';
import { batchRng, trainBatchIndices } from './data.js';
import { evaluateSplit, monitoredValue, observe } from './evaluate.js';
import { divergedError, findNonFinite, type GateInput, type GateStage } from './gate.js';
import type { RunContext } from './prepare.js';
import type { RunStatus } from './run.js';
import type { CheckpointState } from './state.js';
import type { EvalResult, SplitName } from './task.js';

/** Which evaluation: the untrained model on test, a val evaluation during training, or the final test evaluation. */
export type EvalKind = 'before' | 'val' | 'final';

/** Evaluates `split` with `params`. Val indices go in the context for every kind but 'before' (nothing to calibrate). */
export async function evaluateWith(
  ctx: RunContext,
  params: Record<string, HostArray>,
  split: SplitName,
  kind: EvalKind,
): Promise<{ metrics: Record<string, number>; sections: EvalResult['sections'] }> {
  await ctx.pred.inference.setParams(params);
  await ctx.pred.loss.setParams(params);
  const scope = {
    split,
    indices: ctx.splits[split],
    valIndices: kind === 'before' ? null : ctx.splits.val,
    final: kind === 'final',
  };
  return evaluateSplit(ctx.task, ctx.cfg, ctx.data, scope, ctx.pred);
}

/** The finite-or-fail gate (gate.ts): logs a `diverged` line and throws DivergedError when anything is NaN/Inf. */
export function finiteGate(ctx: RunContext, stage: GateStage, input: GateInput): void {
  const failure = findNonFinite(input, stage);
  if (!failure) return;
  const at = { run: ctx.dir, step: ctx.trainer.step, pos: ctx.state.pos, lr: ctx.t.lr };
  ctx.log.append(
    { type: 'diverged', step: at.step, pos: at.pos, stage, reason: failure.reason, nonFinite: failure.names },
    true,
  );
  throw divergedError(failure, at);
}

/** Writes checkpoints/last.safetensors: the engine's state plus the run state (gated: never a diverged checkpoint). */
export async function writeCheckpoint(ctx: RunContext, reason: string): Promise<void> {
  const ckpt = await ctx.trainer.checkpoint();
  finiteGate(ctx, 'checkpoint', { tensors: { ...ckpt.params, ...ckpt.optimState } });
  const state: CheckpointState = {
    run: ctx.cfg,
    loop: { ...ctx.state, skipped: ctx.trainer.skippedSteps },
    data: ctx.dataStamp,
  };
  ckpt.config = state;
  saveCheckpoint(ctx.files.last, ckpt);
  ctx.log.append({ type: 'checkpoint', step: ctx.trainer.step, pos: ctx.state.pos, reason }, true);
}

/** The untrained model on test (train.evalBefore), for the before/after table. */
export async function evaluateBefore(ctx: RunContext): Promise<void> {
  ctx.state.before = (await evaluateWith(ctx, await ctx.trainer.params(), 'test', 'before')).metrics;
  ctx.log.append({ type: 'eval', step: 0, pos: 0, split: 'test', tag: 'before', epoch: 0, ...ctx.state.before }, true);
}

/** A val evaluation: gate, monitor, best.safetensors, early stopping. Returns whether the run should stop early. */
async function validate(ctx: RunContext, epoch: number): Promise<boolean> {
  const { state, monitor, t, trainer } = ctx;
  // With train.emaDecay the averaged weights are the ones judged, kept as best and exported.
  const params = (await trainer.averagedParams()) ?? (await trainer.params());
  finiteGate(ctx, 'val', { tensors: params });
  const { metrics } = await evaluateWith(ctx, params, 'val', 'val');
  finiteGate(ctx, 'val', { losses: 'val.loss' in metrics ? { 'val.loss': metrics['val.loss'] } : {} });
  const value = monitoredValue(monitor, metrics);
  const improved = observe(
    state,
    monitor,
    value,
    t.minDelta,
    trainer.step,
    state.pos,
    monitor.metric === 'loss' ? undefined : metrics['val.loss'],
  );
  if (improved) {
    state.bestVal = metrics;
    saveSafetensors(ctx.files.best, params, {
      step: String(trainer.step),
      metric: monitor.metric,
      value: String(value),
    });
  }
  ctx.log.append({ type: 'eval', step: trainer.step, pos: state.pos, split: 'val', epoch, ...metrics, improved }, true);
  const earlyStop = t.patience !== null && state.bad >= t.patience;
  if (earlyStop) state.ended = 'early-stopped';
  return earlyStop;
}

/** One train step at the current position; returns its loss. */
async function step(ctx: RunContext, epoch: number, b: number): Promise<number> {
  const { state, t, trainer, data, splits } = ctx;
  const stepStarted = performance.now();
  const batch = data.batch(trainBatchIndices(splits.train, t.batchSize, t.seed, epoch, b), {
    split: 'train',
    rng: batchRng(t.seed, 'train', epoch, b),
  });
  let r;
  try {
    r = await trainer.trainStep(batch);
  } catch (err) {
    if (err instanceof NumericError) {
      ctx.log.append(
        { type: 'nonfinite', step: trainer.step, pos: state.pos, epoch, action: 'stop', message: err.message },
        true,
      );
      throw new NumericError(`${err.message} (run ${ctx.dir}; set train.onNonFinite to "skip" to drop such steps)`, {
        ...err.details,
        run: ctx.dir,
      });
    }
    throw err;
  }
  state.pos++;
  state.timing.steps++;
  state.timing.seconds += (performance.now() - stepStarted) / 1000;
  ctx.log.append({
    type: 'step',
    step: r.step,
    pos: state.pos,
    epoch,
    loss: r.loss,
    grad_norm: r.gradNorm,
    lr: r.lr,
    skipped: r.skipped,
    ...r.metrics,
    time: (Date.now() - ctx.started) / 1000,
  });
  ctx.opts.onStep?.({ step: r.step, pos: state.pos, loss: r.loss });
  return r.loss;
}

/** Steps until the end, an early stop or a stop request; checkpoints at epoch ends, every checkpointEvery steps and on stops. */
export async function trainLoop(ctx: RunContext): Promise<RunStatus> {
  const { state, t, stop, trainer, progress, totalSteps, stepsPerEpoch: spe } = ctx;
  let status: RunStatus = state.ended ?? 'completed';
  let lastLoss = NaN;
  if (state.pos > 0) progress.update(state.pos);
  const loopStarted = Date.now();
  while (state.pos < totalSteps && !state.ended) {
    const epoch = Math.floor(state.pos / spe);
    lastLoss = await step(ctx, epoch, state.pos % spe);
    if (state.pos < totalSteps)
      progress.update(state.pos, {
        loss: lastLoss,
        epoch: `${epoch + 1}/${Math.ceil(totalSteps / spe)}`,
        ...etaField(state.pos - ctx.startPos, totalSteps - state.pos, loopStarted),
      });

    const epochEnd = state.pos % spe === 0 || state.pos === totalSteps;
    const due =
      t.evalEverySteps !== null ? state.pos % t.evalEverySteps === 0 : epochEnd && (epoch + 1) % t.evalEvery === 0;
    const evalNow = (due || state.pos === totalSteps) && ctx.splits.val.length > 0;
    const earlyStop = evalNow ? await validate(ctx, epoch + 1) : false;
    // A val evaluation between epoch ends is checkpointed too, so a resumed run never evaluates the same step twice.
    const every = t.checkpointEvery > 0 && state.pos % t.checkpointEvery === 0;
    if (epochEnd || evalNow || every || stop.requested || earlyStop) {
      await writeCheckpoint(
        ctx,
        stop.requested
          ? `signal ${stop.reason}`
          : earlyStop
            ? 'early-stop'
            : epochEnd
              ? 'epoch'
              : evalNow && !every
                ? 'eval'
                : 'every',
      );
    }
    if (stop.requested) {
      status = 'interrupted';
      ctx.log.append({ type: 'stop', step: trainer.step, pos: state.pos, reason: stop.reason }, true);
      break;
    }
    if (earlyStop) {
      status = 'early-stopped';
      ctx.log.append(
        {
          type: 'stop',
          step: trainer.step,
          pos: state.pos,
          reason: `no val ${ctx.monitor.metric} improvement in ${t.patience} evaluations`,
        },
        true,
      );
      break;
    }
  }
  if (status !== 'interrupted') {
    progress.finish({ loss: lastLoss, epoch: `${Math.ceil(state.pos / spe)}/${Math.ceil(totalSteps / spe)}` });
    ctx.progressDone = true;
  }
  return status;
}

/** The bar shows its own ETA on a terminal; plain progress lines (logs, CI) get one from this run's pace. */
function etaField(done: number, left: number, since: number): Record<string, string> {
  if (process.stderr.isTTY || done < 1) return {};
  const seconds = ((Date.now() - since) / 1000 / done) * left;
  return { eta: seconds >= 90 ? `${(seconds / 60).toFixed(1)}min` : `${seconds.toFixed(0)}s` };
}
