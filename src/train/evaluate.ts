/** Evaluation of one split: the mean loss-graph outputs (val loss) plus the task's own metrics. */

import { Predictor } from '../engine/export.js';
import type { Graph } from '../engine/graph.js';
import type { ParamStore } from '../engine/params.js';
import type { SessionConfig } from '../engine/runner.js';
import { ConfigError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { RunConfig } from './config.js';
import { batchRng } from './data.js';
import { predictInBatches } from './predict.js';
import type { AnyTask, EvalResult, Monitor, SplitName, TaskData } from './task.js';

export interface EvalPredictors {
  /** The inference graph at evalBatchSize (for task.evaluate). */
  inference: Predictor;
  /** The loss graph at batchSize, built with purpose 'eval' (for the split's mean loss). */
  loss: Predictor;
}

/**
 * The two evaluation graphs, traced with purpose 'eval'. They must be deterministic: a task that draws
 * dropout masks there gets a clear error instead of a missing ORT feed.
 */
export async function createEvalPredictors(
  task: AnyTask,
  cfg: RunConfig,
  data: TaskData,
  store: ParamStore,
  session: SessionConfig,
): Promise<EvalPredictors> {
  const t = cfg.train;
  const opts = { worker: t.worker, session };
  const inference = await Predictor.create(
    (g, p) =>
      noDropout(
        g,
        task.buildInference(g, p, {
          model: cfg.model,
          data,
          batchSize: t.evalBatchSize ?? t.batchSize,
          purpose: 'eval',
        }),
        task,
        'buildInference',
      ),
    store,
    opts,
  );
  try {
    const loss = await Predictor.create(
      (g, p) => {
        const { loss: l, metrics = {} } = task.buildLoss(g, p, {
          model: cfg.model,
          data,
          batchSize: t.batchSize,
          purpose: 'eval',
        });
        return noDropout(g, { loss: l, ...metrics }, task, 'buildLoss');
      },
      store,
      opts,
    );
    return { inference, loss };
  } catch (err) {
    await inference.close();
    throw err;
  }
}

/** Evaluation graphs must be deterministic: a task that adds dropout for purpose 'eval' gets a clear error, not a missing ORT feed. */
function noDropout<T>(g: Graph, outputs: T, task: AnyTask, fn: string): T {
  if (g.randomInputs.length) {
    throw new ConfigError(
      `task '${task.name}': ${fn} with purpose 'eval' draws random inputs (dropout); build it without dropout unless ctx.purpose is 'train'`,
      { field: 'dropout', task: task.name },
    );
  }
  return outputs;
}

/** Mean of every scalar output of the loss graph over the split, weighted by real (unpadded) examples. */
export async function meanLoss(
  loss: Predictor,
  data: TaskData,
  indices: readonly number[],
  batchSize: number,
  seed: number,
  split: SplitName,
): Promise<Record<string, number>> {
  return (
    await predictInBatches(loss, indices, batchSize, (b, i) =>
      data.batch(b, { split, rng: batchRng(seed, split, 0, i) }),
    )
  ).means;
}

/** Which examples an evaluation covers, and what it may calibrate on. */
export interface EvalScope {
  split: SplitName;
  indices: readonly number[];
  /** The val split's indices (EvalContext.valIndices); null for the untrained 'before' evaluation. */
  valIndices: readonly number[] | null;
  /** The final test evaluation (the task may return report sections). */
  final: boolean;
}

/** Evaluates a split; metric names come back prefixed (`val.loss`, `val.acc`). */
export async function evaluateSplit(
  task: AnyTask,
  cfg: RunConfig,
  data: TaskData,
  scope: EvalScope,
  pred: EvalPredictors,
): Promise<{ metrics: Record<string, number>; sections: EvalResult['sections'] }> {
  const { split, indices } = scope;
  if (!indices.length) return { metrics: {}, sections: [] };
  const seed = cfg.train.seed;
  const lossMetrics = await meanLoss(pred.loss, data, indices, cfg.train.batchSize, seed, split);
  const r = await task.evaluate({
    model: cfg.model,
    data,
    split,
    indices: [...indices],
    valIndices: scope.valIndices?.length ? [...scope.valIndices] : null,
    predictor: pred.inference,
    batchSize: cfg.train.evalBatchSize ?? cfg.train.batchSize,
    rng: new Rng(seed).fork(`eval:${split}`),
    final: scope.final,
  });
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(lossMetrics)) metrics[`${split}.${k}`] = v;
  for (const [k, v] of Object.entries(r.metrics)) metrics[`${split}.${k}`] = v;
  return { metrics, sections: r.sections ?? [] };
}

/** Early-stopping bookkeeping (plain data: it goes into checkpoints). */
export interface MonitorState {
  best: number | null;
  bestStep: number;
  bestPos: number;
  /** Evaluations since the last improvement. */
  bad: number;
  /** Val loss at the best step (breaks exact ties of other metrics). */
  bestLoss: number | null;
}

export const initialMonitorState = (): MonitorState => ({
  best: null,
  bestStep: 0,
  bestPos: 0,
  bad: 0,
  bestLoss: null,
});

/** The monitored value from val metrics; a missing metric is a ConfigError listing what exists. */
export function monitoredValue(monitor: Monitor, valMetrics: Record<string, number>): number {
  const key = `val.${monitor.metric}`;
  const v = valMetrics[key];
  if (typeof v !== 'number') {
    throw new ConfigError(
      `monitor metric '${monitor.metric}' is not among the val metrics (${Object.keys(valMetrics)
        .map((k) => k.slice(4))
        .join(', ')})`,
      { field: 'train.monitor.metric' },
    );
  }
  return v;
}

/**
 * Updates the state with a new value; returns whether it improved. NaN never improves. An exact tie
 * of a metric other than the loss (accuracy on a small val set often ties) counts as an improvement
 * when the val loss went down (`tieBreak`, lower is better).
 */
export function observe(
  state: MonitorState,
  monitor: Monitor,
  value: number,
  minDelta: number,
  step: number,
  pos: number,
  tieBreak?: number,
): boolean {
  const better =
    Number.isFinite(value) &&
    (state.best === null || (monitor.mode === 'min' ? value < state.best - minDelta : value > state.best + minDelta));
  const tie =
    !better &&
    state.best !== null &&
    value === state.best &&
    tieBreak !== undefined &&
    state.bestLoss != null &&
    tieBreak < state.bestLoss;
  if (better || tie)
    Object.assign(state, { best: value, bestStep: step, bestPos: pos, bad: 0, bestLoss: tieBreak ?? null });
  else state.bad++;
  return better || tie;
}
