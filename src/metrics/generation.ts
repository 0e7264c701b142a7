/** Generation metrics with av-benchmark's definitions: Fréchet distance, paired softmax KL, Inception score; onset F1. */

import { asMatrix, asVector, checkPaired, mean, type MatrixInput, type VectorInput } from './input.js';
import { covariance, trace, traceSqrtProduct, type Matrix } from './linalg.js';
import type { Precision } from './ort.js';
import { Rng } from '../util/rng.js';
import { InputError, ShapeError } from '../util/errors.js';

export interface FrechetResult {
  /** ‖μ1 - μ2‖² + Tr(Σ1 + Σ2 - 2 (Σ1 Σ2)^½) */
  fd: number;
  meanTerm: number;
  traceTerm: number;
}

/**
 * Fréchet distance between Gaussians fitted to two feature sets [N1, D], [N2, D] (sample covariance,
 * divisor N - 1, as np.cov). Tr((Σ1Σ2)^½) is computed exactly as Σ sqrt(λ(Lᵀ Σ2 L)) with Σ1 = L Lᵀ
 * (semidefinite Cholesky), so singular covariances (N <= D, constant features) need no ridge.
 * [0, inf), lower is better.
 */
export async function frechetDistance(
  x1: MatrixInput,
  x2: MatrixInput,
  opts: { precision?: Precision; onProgress?: (done: number, total: number) => void } = {},
): Promise<FrechetResult> {
  const a = asMatrix(x1, 'x1');
  const b = asMatrix(x2, 'x2');
  if (a.cols !== b.cols)
    throw new ShapeError(`x1 is [${a.rows}, ${a.cols}] but x2 is [${b.rows}, ${b.cols}]; feature widths must match`, {
      field: 'x2',
      expected: a.cols,
      got: b.cols,
    });
  for (const [m, name] of [
    [a, 'x1'],
    [b, 'x2'],
  ] as const) {
    if (m.rows < 2)
      throw new InputError(`${name} needs at least 2 feature vectors to fit a covariance, got ${m.rows}`, {
        field: name,
        expected: 2,
        got: m.rows,
      });
  }
  const s1 = await covariance(a, opts.precision);
  opts.onProgress?.(1, 3);
  const s2 = await covariance(b, opts.precision);
  opts.onProgress?.(2, 3);
  const r = await frechetFromStats(s1.mean, s1.cov, s2.mean, s2.cov, opts);
  opts.onProgress?.(3, 3);
  return r;
}

/** Fréchet distance from precomputed means and covariances. */
export async function frechetFromStats(
  mu1: Float64Array,
  cov1: Matrix,
  mu2: Float64Array,
  cov2: Matrix,
  opts: { precision?: Precision } = {},
): Promise<FrechetResult> {
  let meanTerm = 0;
  for (let i = 0; i < mu1.length; i++) meanTerm += (mu1[i] - mu2[i]) ** 2;
  const cross = await traceSqrtProduct(cov1, cov2, opts.precision);
  const traceTerm = trace(cov1) + trace(cov2) - 2 * cross;
  return { fd: meanTerm + traceTerm, meanTerm, traceTerm };
}

function logSoftmaxRow(m: Matrix, i: number, out: Float64Array): void {
  let mx = -Infinity;
  for (let j = 0; j < m.cols; j++) mx = Math.max(mx, m.data[i * m.cols + j]);
  let s = 0;
  for (let j = 0; j < m.cols; j++) s += Math.exp(m.data[i * m.cols + j] - mx);
  const lse = mx + Math.log(s);
  for (let j = 0; j < m.cols; j++) out[j] = m.data[i * m.cols + j] - lse;
}

/**
 * Paired softmax KL (av-benchmark kl.py): mean over clips of KL(softmax(gt) ‖ softmax(pred)) on
 * classifier logits [N, C] (e.g. 527 AudioSet classes). [0, inf), lower is better.
 */
export function pairedKl(predLogits: MatrixInput, gtLogits: MatrixInput): number {
  const p = asMatrix(predLogits, 'pred');
  const g = asMatrix(gtLogits, 'gt');
  checkPaired(p, g, 'pred', 'gt');
  if (!p.rows) throw new InputError('KL needs at least one pair', { field: 'pred' });
  const lp = new Float64Array(p.cols);
  const lg = new Float64Array(p.cols);
  let total = 0;
  for (let i = 0; i < p.rows; i++) {
    logSoftmaxRow(p, i, lp);
    logSoftmaxRow(g, i, lg);
    for (let j = 0; j < p.cols; j++) total += Math.exp(lg[j]) * (lg[j] - lp[j]);
  }
  return total / p.rows;
}

export interface InceptionScore {
  mean: number;
  /** population std over splits (np.std) */
  std: number;
  perSplit: number[];
}

/**
 * Inception-style score on classifier logits [N, C] of generated samples (av-benchmark isc.py): shuffle,
 * cut into `splits` parts (rows i*N/splits ... (i+1)*N/splits), and per part exp(mean_i KL(p_i ‖ mean p)).
 * [1, C], higher = confident and varied predictions. The shuffle uses Attune's Rng(seed), so per-split
 * values differ from NumPy's permutation with the same seed; the mean agrees up to that resampling.
 */
export function inceptionScore(
  logits: MatrixInput,
  opts: { splits?: number; seed?: number; shuffle?: boolean } = {},
): InceptionScore {
  const m = asMatrix(logits, 'logits');
  const splits = opts.splits ?? 10;
  if (!Number.isInteger(splits) || splits < 1 || splits > m.rows)
    throw new InputError(`splits must be an integer in [1, N = ${m.rows}] (got ${splits})`, { field: 'splits' });
  const order = Array.from({ length: m.rows }, (_, i) => i);
  if (opts.shuffle ?? true) new Rng(opts.seed ?? 2020).shuffle(order);
  const logp = new Float64Array(m.rows * m.cols);
  const row = new Float64Array(m.cols);
  order.forEach((src, i) => {
    logSoftmaxRow(m, src, row);
    logp.set(row, i * m.cols);
  });
  const perSplit: number[] = [];
  for (let s = 0; s < splits; s++) {
    const lo = Math.floor((s * m.rows) / splits);
    const hi = Math.floor(((s + 1) * m.rows) / splits);
    const q = new Float64Array(m.cols);
    for (let i = lo; i < hi; i++) for (let j = 0; j < m.cols; j++) q[j] += Math.exp(logp[i * m.cols + j]) / (hi - lo);
    let kl = 0;
    for (let i = lo; i < hi; i++) {
      for (let j = 0; j < m.cols; j++) {
        const lpij = logp[i * m.cols + j];
        if (q[j] > 0) kl += Math.exp(lpij) * (lpij - Math.log(q[j]));
      }
    }
    perSplit.push(Math.exp(kl / (hi - lo)));
  }
  const mu = mean(perSplit);
  return { mean: mu, std: Math.sqrt(mean(perSplit.map((v) => (v - mu) ** 2))), perSplit };
}

export interface OnsetF1 {
  precision: number;
  recall: number;
  f1: number;
  matched: number;
}

/**
 * Onset detection F1: predicted and reference onset times (s) are matched one to one when within
 * ±tolerance (default 0.05 s, mir_eval's window); greedy matching of sorted times is a maximum
 * matching for 1-D intervals. [0, 1], higher is better. Empty-vs-empty scores 1.
 */
export function onsetF1(predTimes: VectorInput, trueTimes: VectorInput, tolerance = 0.05): OnsetF1 {
  const p = Float64Array.from(asVector(predTimes, 'pred')).sort();
  const t = Float64Array.from(asVector(trueTimes, 'true')).sort();
  if (!(tolerance >= 0)) throw new InputError(`tolerance must be >= 0 s (got ${tolerance})`, { field: 'tolerance' });
  let i = 0;
  let j = 0;
  let matched = 0;
  while (i < p.length && j < t.length) {
    if (Math.abs(p[i] - t[j]) <= tolerance) {
      matched++;
      i++;
      j++;
    } else if (p[i] < t[j]) i++;
    else j++;
  }
  if (!p.length && !t.length) return { precision: 1, recall: 1, f1: 1, matched: 0 };
  const precision = p.length ? matched / p.length : 0;
  const recall = t.length ? matched / t.length : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, matched };
}
