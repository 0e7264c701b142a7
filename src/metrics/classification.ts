import { asMatrix, asVector, mean, type MatrixInput, type VectorInput } from './input.js';
import type { HostArray } from '../io/array.js';
import { toFloat64 } from '../io/array.js';
import { InputError, ShapeError } from '../util/errors.js';

/**
 * Classification metrics with scikit-learn's conventions (labels = union of classes seen in truth and
 * predictions unless given; a 0/0 precision or recall counts as 0), MulT/MMSA's MOSI metrics and MulT's
 * IEMOCAP metrics.
 */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** number of true instances */
  support: number;
}

export interface ClassificationReport {
  n: number;
  accuracy: number;
  /** mean per-class recall (balanced accuracy); for two classes this is TFN/MulT's (TP·N/P + TN) / 2N */
  weightedAccuracy: number;
  macroF1: number;
  weightedF1: number;
  perClass: ClassMetrics[];
  /** rows = true class, columns = predicted class, in perClass order */
  confusion: number[][];
}

function isHost(x: unknown): x is HostArray {
  return typeof x === 'object' && x !== null && 'shape' in x && 'dtype' in x;
}

/** Integer class ids from labels [N] or from logits/probabilities [N, C] (argmax). */
export function toClassIds(x: VectorInput | MatrixInput, name: string): Int32Array {
  const matrixLike =
    (isHost(x) && x.shape.length === 2 && x.shape[1] > 1) ||
    (Array.isArray(x) && Array.isArray(x[0])) ||
    (!isHost(x) && !Array.isArray(x) && 'rows' in (x as object));
  if (matrixLike) {
    const m = asMatrix(x as MatrixInput, name);
    const out = new Int32Array(m.rows);
    for (let i = 0; i < m.rows; i++) {
      let best = 0;
      for (let j = 1; j < m.cols; j++) if (m.data[i * m.cols + j] > m.data[i * m.cols + best]) best = j;
      out[i] = best;
    }
    return out;
  }
  const v = asVector(x as VectorInput, name);
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isInteger(v[i]) || v[i] < 0)
      throw new InputError(`${name}[${i}] = ${v[i]} is not a class id (a non-negative integer)`, {
        field: name,
        index: i,
      });
    out[i] = v[i];
  }
  return out;
}

export function classificationReport(
  predIn: VectorInput | MatrixInput,
  truthIn: VectorInput | MatrixInput,
  opts: { labels?: string[]; numClasses?: number } = {},
): ClassificationReport {
  const pred = toClassIds(predIn, 'pred');
  const truth = toClassIds(truthIn, 'true');
  if (pred.length !== truth.length)
    throw new ShapeError(`pred has ${pred.length} items but true has ${truth.length}`, {
      field: 'pred',
      expected: truth.length,
      got: pred.length,
    });
  if (!pred.length) throw new InputError('classification metrics need at least one item', { field: 'true' });
  let classes: number[];
  const k = opts.numClasses ?? opts.labels?.length;
  if (k !== undefined) {
    const maxId = Math.max(...truth, ...pred);
    if (maxId >= k)
      throw new InputError(`class id ${maxId} is outside the ${k} classes given`, {
        field: 'labels',
        expected: k,
        got: maxId,
      });
    classes = Array.from({ length: k }, (_, i) => i);
  } else classes = [...new Set([...truth, ...pred])].sort((a, b) => a - b);
  const index = new Map(classes.map((c, i) => [c, i]));
  const c = classes.length;
  const confusion = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  for (let i = 0; i < pred.length; i++) confusion[index.get(truth[i])!][index.get(pred[i])!]++;
  const perClass: ClassMetrics[] = classes.map((cls, i) => {
    const tp = confusion[i][i];
    const support = confusion[i].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, r) => a + r[i], 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label: opts.labels?.[cls] ?? String(cls), precision, recall, f1, support };
  });
  const n = pred.length;
  const correct = classes.reduce((a, _, i) => a + confusion[i][i], 0);
  const present = perClass.filter((m) => m.support > 0);
  return {
    n,
    accuracy: correct / n,
    weightedAccuracy: mean(present.map((m) => m.recall)),
    macroF1: mean(perClass.map((m) => m.f1)),
    weightedF1: perClass.reduce((a, m) => a + m.f1 * m.support, 0) / n,
    perClass,
    confusion,
  };
}

/** np.round: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Pearson correlation (np.corrcoef); NaN when either side is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

export interface MosiMetrics {
  /** negative vs non-negative (< 0 vs >= 0) over all items (MMSA Has0_acc_2) */
  has0Acc2: number;
  has0F1: number;
  /** negative vs positive over items whose truth is not 0 (MMSA Non0_acc_2) */
  non0Acc2: number;
  non0F1: number;
  /** clip to [-2, 2], round half to even, compare */
  acc5: number;
  /** clip to [-3, 3], round half to even, compare */
  acc7: number;
  mae: number;
  corr: number;
}

/** MOSI/MOSEI regression metrics (sentiment in [-3, 3]) as MulT's eval_mosei_senti and MMSA's metricsTop. */
export function mosiMetrics(predIn: VectorInput, truthIn: VectorInput): MosiMetrics {
  const pred = asVector(predIn, 'pred');
  const truth = asVector(truthIn, 'true');
  if (pred.length !== truth.length)
    throw new ShapeError(`pred has ${pred.length} items but true has ${truth.length}`, { field: 'pred' });
  if (!pred.length) throw new InputError('MOSI metrics need at least one item', { field: 'true' });
  const clipRound = (v: number, lim: number) => roundHalfEven(Math.min(lim, Math.max(-lim, v)));
  const agree = (lim: number) =>
    mean(Array.from(pred, (p, i) => (clipRound(p, lim) === clipRound(truth[i], lim) ? 1 : 0)));
  const binary = (keep: (t: number) => boolean, cls: (v: number) => number) => {
    const idx = [...truth.keys()].filter((i) => keep(truth[i]));
    if (!idx.length) return { acc: NaN, f1: NaN };
    const r = classificationReport(
      idx.map((i) => cls(pred[i])),
      idx.map((i) => cls(truth[i])),
      { numClasses: 2 },
    );
    return { acc: r.accuracy, f1: r.weightedF1 };
  };
  const has0 = binary(
    () => true,
    (v) => (v >= 0 ? 1 : 0),
  );
  const non0 = binary(
    (t) => t !== 0,
    (v) => (v > 0 ? 1 : 0),
  );
  return {
    has0Acc2: has0.acc,
    has0F1: has0.f1,
    non0Acc2: non0.acc,
    non0F1: non0.f1,
    acc5: agree(2),
    acc7: agree(3),
    mae: mean(Array.from(pred, (p, i) => Math.abs(p - truth[i]))),
    corr: pearson(pred, truth),
  };
}

/**
 * MulT's IEMOCAP metrics: logits [N, E, 2] (or [N, 2E]) with a 2-way (absent/present) decision per
 * emotion, truth [N, E] of 0/1. Per emotion: accuracy and weighted F1 of the argmax.
 */
export function iemocapMetrics(
  logits: HostArray,
  truth: HostArray,
  emotions = ['Neutral', 'Happy', 'Sad', 'Angry'],
): Record<string, { accuracy: number; weightedF1: number }> {
  const e = emotions.length;
  const n = truth.shape[0];
  const okLogits =
    (logits.shape.length === 3 && logits.shape[1] === e && logits.shape[2] === 2) ||
    (logits.shape.length === 2 && logits.shape[1] === 2 * e);
  if (!okLogits || logits.shape[0] !== n)
    throw new ShapeError(`logits have shape [${logits.shape.join(', ')}]; expected [${n}, ${e}, 2]`, {
      field: 'logits',
    });
  if (truth.shape.length !== 2 || truth.shape[1] !== e)
    throw new ShapeError(`truth has shape [${truth.shape.join(', ')}]; expected [N, ${e}]`, { field: 'true' });
  const l = toFloat64(logits);
  const t = toFloat64(truth);
  const out: Record<string, { accuracy: number; weightedF1: number }> = {};
  emotions.forEach((name, k) => {
    const pred = Array.from({ length: n }, (_, i) => (l[(i * e + k) * 2 + 1] > l[(i * e + k) * 2] ? 1 : 0));
    const tru = Array.from({ length: n }, (_, i) => t[i * e + k]);
    const r = classificationReport(pred, tru, { numClasses: 2 });
    out[name] = { accuracy: r.accuracy, weightedF1: r.weightedF1 };
  });
  return out;
}
