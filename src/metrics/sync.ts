import { asVector, mean, type MatrixInput, type VectorInput } from './input.js';
import { toClassIds } from './classification.js';
import { InputError, ShapeError } from '../util/errors.js';

/**
 * Audio-visual synchronization on Synchformer's offset grid and av-benchmark's DeSync.
 * The grid is make_class_grid(-2, 2, 21): offsets -2.0 ... +2.0 s in 0.2 s steps.
 */
export interface OffsetGrid {
  min: number;
  max: number;
  classes: number;
}

export const DEFAULT_GRID: OffsetGrid = { min: -2, max: 2, classes: 21 };

/** The grid's offsets in seconds (linspace(min, max, classes)). */
export function classGrid(grid: OffsetGrid = DEFAULT_GRID): Float64Array {
  const { min, max, classes } = grid;
  if (!Number.isInteger(classes) || classes < 2 || !(max > min))
    throw new InputError(`bad offset grid ${JSON.stringify(grid)}: need classes >= 2 and max > min`, { field: 'grid' });
  return Float64Array.from({ length: classes }, (_, i) => min + ((max - min) * i) / (classes - 1));
}

/** The grid class nearest to an offset in seconds (offsets beyond the grid clamp to its ends). */
export function offsetToClass(offsetSec: number, grid: OffsetGrid = DEFAULT_GRID): number {
  const step = (grid.max - grid.min) / (grid.classes - 1);
  return Math.min(grid.classes - 1, Math.max(0, Math.round((offsetSec - grid.min) / step)));
}

/** Predicted offsets in seconds from class logits [N, C] (argmax) or class ids [N]. */
export function predictedOffsets(pred: VectorInput | MatrixInput, grid: OffsetGrid = DEFAULT_GRID): Float64Array {
  const ids = toClassIds(pred, 'pred');
  const g = classGrid(grid);
  return Float64Array.from(ids, (c, i) => {
    if (c >= g.length)
      throw new InputError(`pred[${i}] is class ${c}; the grid has ${g.length} classes`, { field: 'pred', index: i });
    return g[c];
  });
}

export interface SyncAccuracy {
  /** exact class */
  accuracy1: number;
  /** within one class of the truth (Synchformer's "Accuracy@1 ±1 class") */
  accuracyWithin1: number;
  n: number;
}

/** Offset-classification accuracy; pred = logits [N, C] or class ids, truth = class ids [N]. */
export function syncAccuracy(
  pred: VectorInput | MatrixInput,
  truth: VectorInput,
  grid: OffsetGrid = DEFAULT_GRID,
): SyncAccuracy {
  const p = toClassIds(pred, 'pred');
  const t = toClassIds(truth, 'true');
  if (p.length !== t.length)
    throw new ShapeError(`pred has ${p.length} items but true has ${t.length}`, { field: 'pred' });
  if (!p.length) throw new InputError('sync accuracy needs at least one item', { field: 'true' });
  for (const [name, ids] of [
    ['pred', p],
    ['true', t],
  ] as const) {
    const bad = ids.findIndex((c) => c >= grid.classes);
    if (bad >= 0)
      throw new InputError(`${name}[${bad}] is class ${ids[bad]}; the grid has ${grid.classes} classes`, {
        field: name,
        index: bad,
      });
  }
  let exact = 0;
  let near = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === t[i]) exact++;
    if (Math.abs(p[i] - t[i]) <= 1) near++;
  }
  return { accuracy1: exact / p.length, accuracyWithin1: near / p.length, n: p.length };
}

/** Synchformer input windows used by av-benchmark: 14 segments of 0.64 s with stride 0.32 s = 4.8 s. */
export const DESYNC_WINDOW_SEC = 4.8;

/** The first and last 4.8 s windows of a clip (the last one starts at duration - 4.8; one window if shorter). */
export function desyncWindows(durationSec: number, windowSec = DESYNC_WINDOW_SEC): { start: number; end: number }[] {
  if (!(durationSec > 0))
    throw new InputError(`clip duration must be > 0 s (got ${durationSec})`, { field: 'duration' });
  if (durationSec <= windowSec) return [{ start: 0, end: durationSec }];
  return [
    { start: 0, end: windowSec },
    { start: durationSec - windowSec, end: durationSec },
  ];
}

/**
 * DeSync (av-benchmark): mean |predicted offset| in seconds over the first and last windows of every
 * clip. Each argument is the predicted offsets (s) or the logits [N, C] for one window position.
 * [0, 2] on the default grid; lower is better (0 = judged in sync).
 */
export function desync(
  first: VectorInput | MatrixInput,
  last?: VectorInput | MatrixInput,
  grid: OffsetGrid = DEFAULT_GRID,
): number {
  const toOffsets = (x: VectorInput | MatrixInput, name: string) => {
    const isLogits =
      typeof x === 'object' &&
      x !== null &&
      (('shape' in x && x.shape.length === 2 && x.shape[1] > 1) || (Array.isArray(x) && Array.isArray(x[0])));
    return isLogits ? predictedOffsets(x, grid) : asVector(x as VectorInput, name);
  };
  const a = toOffsets(first, 'first');
  const values = last === undefined ? a : Float64Array.from([...a, ...toOffsets(last, 'last')]);
  if (!values.length) throw new InputError('DeSync needs at least one prediction', { field: 'first' });
  return mean(values.map(Math.abs));
}

/** Counts of predicted classes (or offsets) per grid class, for offset histograms. */
export function offsetHistogram(
  pred: VectorInput | MatrixInput,
  grid: OffsetGrid = DEFAULT_GRID,
): { offsets: Float64Array; counts: number[] } {
  const offsets = classGrid(grid);
  const counts = new Array<number>(grid.classes).fill(0);
  for (const o of predictedOffsets(pred, grid)) counts[offsetToClass(o, grid)]++;
  return { offsets, counts };
}
