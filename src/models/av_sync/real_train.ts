/**
 * Real development clips as extra self-supervised training data for the av-sync model (`data.real` in the config):
 * the clips of the committed dev part (real_split.ts; never the held-out part), decoded through the same manifest
 * path as a user's own videos, repeated `repeat` times so that a few minutes of real footage weigh against hundreds
 * of AV-Synth clips (each repeat draws its own windows and shifts). They only ever enter the train split: val and
 * test stay the AV-Synth split the trainer would have made alone, so the trainer's acc@1 stays comparable with
 * synth-only runs, and real footage is measured by `attune sync --bench real:held-out`.
 */
import { COMMON_DEFAULTS } from '../../train/config.js';
import { splitIndices } from '../../train/data.js';
import type { TaskData } from '../../train/task.js';
import { ConfigError } from '../../util/errors.js';
import { manifestSyncSet } from './data.js';
import type { SyncFeatures } from './features.js';
import { defaultRealDir } from './real_clips.js';
import { realBenchClips } from './real_bench.js';
import { join } from 'node:path';

export interface RealTrainOptions {
  repeat: number;
  /** Leave out the clips of fold `fold` of `folds` (cross-fitting: the model cue's calibration is then fitted on
   * clips the model never saw). */
  folds?: number;
  fold?: number;
  seed: number;
  /** Frames a clip needs (the training window). */
  minFrames: number;
  cacheDir?: string;
  dir?: string;
}

/** The fold of the i-th development clip (in realBenchClips order) when they are cut into `folds` parts. */
export function realFold(i: number, folds: number): number {
  return i % folds;
}

/** AV-Synth clips followed by the dev clips (x repeat), with splits that keep every real clip in train. */
export async function withRealDevClips(
  synth: SyncFeatures[],
  opts: RealTrainOptions,
): Promise<{ clips: SyncFeatures[]; splits: NonNullable<TaskData['splits']>; realClips: number }> {
  const dir = opts.dir ?? defaultRealDir();
  const items = realBenchClips(dir, 'dev')
    .map((c, i) => ({ id: c.file, video: join(dir, c.file), line: 0, fold: realFold(i, opts.folds ?? 1) }))
    .filter((c) => opts.folds === undefined || c.fold !== opts.fold);
  const r = await manifestSyncSet(items, { cacheDir: opts.cacheDir, quiet: true, minFrames: opts.minFrames });
  if (!r.clips.length)
    throw new ConfigError(`data.real: no development clip in ${dir} is long enough for the window`, {
      field: 'data.real',
      failed: r.failed.map((f) => f.error),
    });
  const base = splitIndices(synth.length, COMMON_DEFAULTS.split, opts.seed);
  const clips = [...synth];
  const extra: number[] = [];
  for (let k = 0; k < opts.repeat; k++)
    for (const c of r.clips) {
      extra.push(clips.length);
      clips.push(c);
    }
  return { clips, splits: { ...base, train: [...base.train, ...extra] }, realClips: r.clips.length };
}
