/**
 * What a run carries from step to step and across processes. Everything the loop and the final evaluation
 * need is here or derived from (config, data, seed), and all of it goes into checkpoints/last.safetensors
 * (metadata `config`: { run, loop, data }), so a resumed run, even one resumed after its loop ended, evaluates
 * and reports exactly as the uninterrupted one.
 */
import { createHash } from 'node:crypto';
import type { RunConfig } from './config.js';
import { initialMonitorState, type MonitorState } from './evaluate.js';
import type { DataSource, SplitName } from './task.js';

export interface RunState extends MonitorState {
  /** Batches consumed. */
  pos: number;
  /** Set when early stopping ended the loop, so resuming (e.g. after a crash in the final phase) does not train on. */
  ended: 'early-stopped' | null;
  /** Non-finite steps skipped (train.onNonFinite 'skip'). */
  skipped: number;
  /** Test metrics of the untrained model (train.evalBefore). */
  before: Record<string, number>;
  /** Val metrics at the best evaluation. */
  bestVal: Record<string, number>;
  /** Train steps timed and their seconds, over every process of the run (RunResult.stepsPerSecond). */
  timing: { steps: number; seconds: number };
}

export const initialRunState = (): RunState => ({
  ...initialMonitorState(),
  pos: 0,
  ended: null,
  skipped: 0,
  before: {},
  bestVal: {},
  timing: { steps: 0, seconds: 0 },
});

/**
 * Which data a run trains on: the source as written in config.json, a digest of a manifest's items, and the
 * example and split counts. Resume compares it with the data it is given and refuses a change (other examples
 * would land in train, val and test) unless told to accept it (`allowDataChange`, CLI `--allow-data-change`).
 */
export interface DataStamp {
  source: string;
  /** sha256 (16 hex digits) of the manifest's items; '' for synth (the spec says it all). */
  digest: string;
  examples?: number;
  splits?: Record<SplitName, number>;
}

/** What the trainer stores in a checkpoint's `config` metadata. */
export interface CheckpointState {
  run: RunConfig;
  loop: RunState;
  /** Absent in checkpoints written before data stamps. */
  data?: DataStamp;
}

export function describeSource(source: DataSource): string {
  return source.kind === 'synth' ? `${source.set ?? 'synth'}:${source.clips}` : source.path;
}

export function dataStamp(
  source: DataSource,
  loaded?: { examples: number; splits: Record<SplitName, readonly number[]> },
): DataStamp {
  const digest =
    source.kind === 'manifest'
      ? createHash('sha256').update(JSON.stringify(source.items)).digest('hex').slice(0, 16)
      : '';
  const stamp: DataStamp = { source: describeSource(source), digest };
  if (loaded) {
    stamp.examples = loaded.examples;
    stamp.splits = {
      train: loaded.splits.train.length,
      val: loaded.splits.val.length,
      test: loaded.splits.test.length,
    };
  }
  return stamp;
}

/** Reads the trainer's state from a checkpoint's config metadata, filling fields older checkpoints lack. */
export function readCheckpointState(config: unknown): CheckpointState | null {
  const c = config as Partial<CheckpointState> | null;
  if (!c?.run || !c.loop) return null;
  return { run: c.run, loop: { ...initialRunState(), ...c.loop }, data: c.data };
}
