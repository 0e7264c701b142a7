/**
 * One training run in a run folder:
 *   config.json, log.jsonl, checkpoints/last.safetensors, best.safetensors, metrics.json, model.onnx, report.html
 * Everything random is derived from train.seed (init, splits, batch order, augmentation, dropout), and
 * the checkpoint holds the weights, optimizer state, dropout Rng, the loop position and the rest of the run
 * state (src/train/state.ts), so `resume` continues exactly where the run stopped.
 *
 * A run is four stages, each in its own module:
 *   1. open.ts     openRun      a fresh folder (config.json), or resume: the checkpoint, its config, the data check
 *   2. prepare.ts  prepareRun   data, splits, the memory check, the compiled step, evaluation sessions, the log:
 *                               one RunContext object the next stages share
 *   3. loop.ts     trainLoop    steps, val evaluations (best weights, early stopping), checkpoints, stops
 *   4. finish.ts   finishRun    the final test evaluation, model.onnx, metrics.json, the report
 * with the finite-or-fail gate (gate.ts) in front of everything stages 3 and 4 write.
 */
import type { RunConfig } from './config.js';
import { runFiles } from './files.js';
import { openRun, type OpenOptions } from './open.js';
import { prepareRun, type RunContext } from './prepare.js';
import { trainLoop } from './loop.js';
import { finishRun, interruptedResult } from './finish.js';
import { StopSignal } from './signals.js';
import { describeSource } from './state.js';

export { runFiles, describeSource };

export type RunStatus = 'completed' | 'early-stopped' | 'interrupted';

export interface RunOptions extends OpenOptions {
  /** Bytes the run may need by the trainer's estimate (src/train/memory.ts); null: no check. Default: 80% of RAM. */
  memoryLimit?: number | null;
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
  /** The run's config (on resume: the checkpoint's). */
  config: RunConfig;
  /** Optimizer steps taken / batches consumed (they differ by skipped non-finite steps). */
  steps: number;
  pos: number;
  totalSteps: number;
  skippedSteps: number;
  monitor: { metric: string; mode: 'min' | 'max'; best: number | null; bestStep: number };
  /** Final metrics (absent for interrupted runs): test (best weights), val at the best step, and before training. */
  metrics: { test: Record<string, number>; val: Record<string, number>; before: Record<string, number> } | null;
  /** Wall-clock seconds of this process. */
  seconds: number;
  /** Training throughput over the whole run, resumes included (batch building + the train step; evaluation and checkpoints excluded). */
  stepsPerSecond: number;
}

/** Trains (or resumes) a run: the four stages above. */
export async function runTraining(opts: RunOptions): Promise<RunResult> {
  // Installed first, so a Ctrl-C while data loads (feature extraction can take minutes) stops cleanly after it.
  const stop = new StopSignal({ signals: opts.handleSignals ?? false, abort: opts.signal });
  const started = Date.now();
  try {
    const run = openRun(opts);
    const ctx: RunContext | null = await prepareRun(run, opts, stop, started);
    if (!ctx) return interruptedResult(run, started);
    try {
      const status = await trainLoop(ctx);
      return await finishRun(ctx, status);
    } finally {
      await ctx.close();
    }
  } finally {
    stop.dispose();
  }
}
