/**
 * The seed suite's per-pair measures: cosine similarity between predicted and true features, paired
 * embedding similarity, smoothness of alignment scores over time, and the modality gap.
 */

import {
  asMatrix,
  asVector,
  checkNonEmpty,
  checkPaired,
  l2Normalize,
  mean,
  type MatrixInput,
  type VectorInput,
} from './input.js';
import { columnMeans, type Matrix } from './linalg.js';
import type { HostArray } from '../io/array.js';
import { ShapeError } from '../util/errors.js';

/** cos(x, y) = x·y / max(‖x‖‖y‖, 1e-8), as torch.nn.functional.cosine_similarity; zero vectors give 0. */
function rowCosines(a: Matrix, b: Matrix): Float64Array {
  const out = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    const off = i * a.cols;
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < a.cols; j++) {
      const x = a.data[off + j];
      const y = b.data[off + j];
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    out[i] = dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-8);
  }
  return out;
}

/**
 * cosine_sim: predicted vs true features frame by frame. Inputs [T, D] or [B, T, D] (frames are the
 * last-but-one axis); returns one value per frame (flattened B*T) and their mean. Range [-1, 1], higher
 * is better.
 */
export function cosineSim(pred: MatrixInput, truth: MatrixInput): { perFrame: Float64Array; mean: number } {
  const p = asMatrix(pred, 'pred', { flattenLeading: true });
  const t = asMatrix(truth, 'true', { flattenLeading: true });
  checkPaired(p, t, 'pred', 'true');
  checkNonEmpty(p.rows, 'pred');
  const perFrame = rowCosines(p, t);
  return { perFrame, mean: mean(perFrame) };
}

/** embedding_similarity: mean cosine between paired embeddings a_i, b_i ([N, D] each). Range [-1, 1], higher is better. */
export function embeddingSimilarity(a: MatrixInput, b: MatrixInput): { perPair: Float64Array; mean: number } {
  const x = asMatrix(a, 'a');
  const y = asMatrix(b, 'b');
  checkPaired(x, y, 'a', 'b');
  checkNonEmpty(x.rows, 'a');
  const perPair = rowCosines(x, y);
  return { perPair, mean: mean(perPair) };
}

/** Rows of a [T] or [B, T] score array as separate series. */
function series(scores: VectorInput | HostArray, name: string): Float64Array[] {
  if (
    typeof scores === 'object' &&
    scores !== null &&
    'shape' in scores &&
    scores.shape.length === 2 &&
    scores.shape[1] !== 1
  ) {
    const m = asMatrix(scores, name);
    return Array.from({ length: m.rows }, (_, i) => Float64Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  }
  return [asVector(scores as VectorInput, name)];
}

/**
 * temporal_consistency: smoothness of per-frame alignment scores s_t, as design source 000 defines it:
 * first order  -mean_t |s_{t+1} - s_t|, second order  -mean_t |s_{t+2} - 2 s_{t+1} + s_t|.
 * Input [T] or [B, T] (means over all series). Range (-inf, 0]; closer to 0 is smoother. NaN when a
 * series is too short for the order.
 */
export function temporalConsistency(scores: VectorInput | HostArray): { firstOrder: number; secondOrder: number } {
  const rows = series(scores, 'scores');
  let s1 = 0;
  let n1 = 0;
  let s2 = 0;
  let n2 = 0;
  for (const s of rows) {
    for (let t = 0; t + 1 < s.length; t++, n1++) s1 += Math.abs(s[t + 1] - s[t]);
    for (let t = 0; t + 2 < s.length; t++, n2++) s2 += Math.abs(s[t + 2] - 2 * s[t + 1] + s[t]);
  }
  return { firstOrder: n1 ? -s1 / n1 : NaN, secondOrder: n2 ? -s2 / n2 : NaN };
}

function distance(u: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += (u[i] - v[i]) ** 2;
  return Math.sqrt(s);
}

export interface ModalityGap {
  /** ‖mean(normalize(a)) - mean(normalize(b))‖ (Liang et al. 2022): [0, 2], lower = modalities closer */
  centroidGap: number;
  /** mean(normalize(a)) - mean(normalize(b)) */
  gapVector: Float64Array;
  /** ‖mean(a) - mean(b)‖ on the raw embeddings ("Euclidean distance between mass centers") */
  centroidGapRaw: number;
  /** mean_i ‖a_i - b_i‖ on the raw embeddings (the design source's "L2 distance between embeddings") */
  pairedL2: number;
  /** mean_i ‖a_i - b_i‖ after L2 normalization: [0, 2] */
  pairedL2Normalized: number;
}

/** modality_gap in both definitions (centroid distance, mean paired distance). Lower is closer. */
export function modalityGap(a: MatrixInput, b: MatrixInput, opts: { paired?: boolean } = {}): ModalityGap {
  const x = asMatrix(a, 'a');
  const y = asMatrix(b, 'b');
  if (x.cols !== y.cols)
    throw new ShapeError(`a is [${x.rows}, ${x.cols}] but b is [${y.rows}, ${y.cols}]; widths must match`, {
      field: 'b',
    });
  checkNonEmpty(x.rows, 'a');
  checkNonEmpty(y.rows, 'b');
  const xn = l2Normalize(x);
  const yn = l2Normalize(y);
  const cx = columnMeans(xn);
  const cy = columnMeans(yn);
  const gapVector = cx.map((v, i) => v - cy[i]);
  const paired = opts.paired ?? x.rows === y.rows;
  let pairedL2 = NaN;
  let pairedL2Normalized = NaN;
  if (paired) {
    checkPaired(x, y, 'a', 'b');
    let s = 0;
    let sn = 0;
    for (let i = 0; i < x.rows; i++) {
      const lo = i * x.cols;
      const hi = lo + x.cols;
      s += distance(x.data.subarray(lo, hi) as Float64Array, y.data.subarray(lo, hi) as Float64Array);
      sn += distance(xn.data.subarray(lo, hi) as Float64Array, yn.data.subarray(lo, hi) as Float64Array);
    }
    pairedL2 = s / x.rows;
    pairedL2Normalized = sn / x.rows;
  }
  return {
    centroidGap: Math.sqrt(gapVector.reduce((acc, v) => acc + v * v, 0)),
    gapVector,
    centroidGapRaw: distance(columnMeans(x), columnMeans(y)),
    pairedL2,
    pairedL2Normalized,
  };
}
