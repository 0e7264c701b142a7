import { asMatrix, type MatrixInput } from './input.js';
import { matrix, type Matrix } from './linalg.js';
import { retrieval, type RetrievalOptions } from './retrieval.js';
import { cosineSim, embeddingSimilarity, modalityGap } from './similarity.js';
import { alignmentLoss, uniformityLoss } from './geometry.js';
import { ksgMutualInformation } from './mutual-info.js';
import type { HostArray } from '../io/array.js';

/**
 * the alignment metric suite (design source 000) in one call, as flat `name -> number` records (what `attune metrics` prints and
 * what training logs). Keys are stable; see docs/metrics.md for each definition.
 */
export type MetricRecord = Record<string, number>;

/** Mean over the frame axis: [N, T, D] -> [N, D] (pooled clip embeddings). */
export function meanPool(x: HostArray): Matrix {
  const [n, t, d] = x.shape;
  const m = asMatrix(x, 'frames', { flattenLeading: true });
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < t; k++) for (let j = 0; j < d; j++) out[i * d + j] += m.data[(i * t + k) * d + j] / t;
  return matrix(n, d, out);
}

export interface EmbeddingSuiteOptions extends RetrievalOptions {
  /** progress of the two O(N²) passes (retrieval, then KSG), each reported as done/total rows */
  onPhase?: (phase: 'retrieval' | 'ksg') => void;
  /** also run the KSG estimator (O(N²) time; default: when N <= 5000) */
  ksg?: boolean;
  ksgK?: number;
}

/** Paired embeddings a, b ([N, D]) -> retrieval both ways, InfoNCE, KSG, similarity, gap, alignment, uniformity. */
export async function embeddingSuite(
  aIn: MatrixInput,
  bIn: MatrixInput,
  opts: EmbeddingSuiteOptions = {},
): Promise<{ metrics: MetricRecord; ranksAToB: Float64Array; ranksBToA: Float64Array }> {
  const a = asMatrix(aIn, 'a');
  const b = asMatrix(bIn, 'b');
  opts.onPhase?.('retrieval');
  const r = await retrieval(a, b, opts);
  const out: MetricRecord = {};
  for (const [dir, m] of [
    ['a2b', r.aToB],
    ['b2a', r.bToA],
  ] as const) {
    for (const [k, v] of Object.entries(m.recall)) out[`${dir}_${k}`] = v;
    out[`${dir}_mAP@10`] = m['mAP@10'];
    out[`${dir}_mean_rank`] = m.meanRank;
    out[`${dir}_median_rank`] = m.medianRank;
  }
  if (r.infoNce) {
    out.mi_infonce = r.infoNce.mean;
    out.mi_infonce_a2b = r.infoNce.aToB;
    out.mi_infonce_b2a = r.infoNce.bToA;
    out.infonce_loss = r.infoNce.loss;
  }
  if (opts.ksg ?? a.rows <= 5000) {
    if (a.rows > (opts.ksgK ?? 3)) {
      opts.onPhase?.('ksg');
      out.mi_ksg = await ksgMutualInformation(a, b, { k: opts.ksgK, onProgress: opts.onProgress });
    }
  }
  out.embedding_similarity = embeddingSimilarity(a, b).mean;
  const gap = modalityGap(a, b);
  out.modality_gap = gap.centroidGap;
  out.modality_gap_raw = gap.centroidGapRaw;
  out.modality_gap_paired_l2 = gap.pairedL2;
  out.alignment = alignmentLoss(a, b);
  if (a.rows >= 2) {
    out.uniformity_a = await uniformityLoss(a);
    out.uniformity_b = await uniformityLoss(b);
  }
  return { metrics: out, ranksAToB: r.aToB.ranks, ranksBToA: r.bToA.ranks };
}

/** Frame features [N, T, D] (or [T, D]) predicted vs true: cosine_sim per frame and its mean. */
export function frameSuite(
  pred: MatrixInput | HostArray,
  truth: MatrixInput | HostArray,
): { metrics: MetricRecord; perFrame: Float64Array } {
  const c = cosineSim(pred as MatrixInput, truth as MatrixInput);
  return { metrics: { cosine_sim: c.mean }, perFrame: c.perFrame };
}
