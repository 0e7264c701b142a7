import type { HostArray } from '../../io/array.js';
import { embeddingSuite, frameSuite, temporalConsistency } from '../../metrics/index.js';

/**
 * The design source 000 metric table (cosine_sim, embedding_similarity, temporal_consistency, modality_gap, mutual
 * information, recall@1 both ways, plus the reconstruction MSE design source 000 also listed), computed with src/metrics
 * from the inference outputs, with each metric's "better" direction (docs/metrics.md) so before/after tables can
 * say which way every row moved.
 */
export interface SuiteMetric {
  key: string;
  label: string;
  better: 'higher' | 'lower';
  about: string;
}

export const SUITE_METRICS: SuiteMetric[] = [
  {
    key: 'cosine_sim',
    label: 'cosine_sim',
    better: 'higher',
    about: 'audio features predicted from video vs true (per frame, standardized)',
  },
  { key: 'mse', label: 'mse_loss', better: 'lower', about: 'the same prediction, mean squared error' },
  {
    key: 'embedding_similarity',
    label: 'embedding_similarity',
    better: 'higher',
    about: 'mean cosine of paired video/audio clip embeddings',
  },
  {
    key: 'temporal_consistency',
    label: 'temporal_consistency',
    better: 'higher',
    about: '-mean |s(t+1) - s(t)| of per-frame alignment scores (0 = smooth)',
  },
  {
    key: 'modality_gap',
    label: 'modality_gap',
    better: 'lower',
    about: 'distance between the centroids of normalized video and audio embeddings',
  },
  {
    key: 'mi_infonce',
    label: 'mutual_information (InfoNCE, nats)',
    better: 'higher',
    about: 'log N - InfoNCE loss at temperature 0.07',
  },
  { key: 'mi_ksg', label: 'mutual_information (KSG, nats)', better: 'higher', about: 'Kraskov k-NN estimate, k = 3' },
  { key: 'v2a_R@1', label: 'v2a_recall@1', better: 'higher', about: 'video query, audio candidates' },
  { key: 'a2v_R@1', label: 'a2v_recall@1', better: 'higher', about: 'audio query, video candidates' },
];

/** Inference outputs of a whole split, concatenated along the batch axis. */
export type Outputs = Record<string, HostArray>;

function mse(a: HostArray, b: HostArray): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += ((a.data[i] as number) - (b.data[i] as number)) ** 2;
  return s / a.data.length;
}

/** Fraction of clips whose mean alignment score is above 0.5 for the true pair and below it for a mismatched one. */
function alignmentAccuracy(pos: HostArray, neg: HostArray): number {
  const [n, t] = pos.shape;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let sp = 0;
    let sn = 0;
    for (let k = 0; k < t; k++) {
      sp += pos.data[i * t + k] as number;
      sn += neg.data[i * t + k] as number;
    }
    right += (sp / t > 0.5 ? 1 : 0) + (sn / t < 0.5 ? 1 : 0);
  }
  return right / (2 * n);
}

/**
 * The seed suite over inference outputs: video_embedding/audio_embedding [N, E] (required), audio_pred/audio_target
 * [N, T, Da] and align_pos/align_neg [N, T] (when the model has them).
 */
export async function alignmentSuite(o: Outputs): Promise<Record<string, number>> {
  const { metrics } = await embeddingSuite(o.video_embedding, o.audio_embedding, { ks: [1, 5, 10] });
  const out: Record<string, number> = {
    embedding_similarity: metrics.embedding_similarity,
    modality_gap: metrics.modality_gap,
    mi_infonce: metrics.mi_infonce,
    'v2a_R@1': metrics['a2b_R@1'],
    'a2v_R@1': metrics['b2a_R@1'],
    'v2a_R@5': metrics['a2b_R@5'],
    'a2v_R@5': metrics['b2a_R@5'],
    'v2a_R@10': metrics['a2b_R@10'],
    'a2v_R@10': metrics['b2a_R@10'],
  };
  if (metrics.mi_ksg !== undefined) out.mi_ksg = metrics.mi_ksg;
  if (o.audio_pred && o.audio_target) {
    out.cosine_sim = frameSuite(o.audio_pred, o.audio_target).metrics.cosine_sim;
    out.mse = mse(o.audio_pred, o.audio_target);
  }
  if (o.align_pos) {
    out.temporal_consistency = temporalConsistency(o.align_pos).firstOrder;
    out.temporal_consistency_2nd = temporalConsistency(o.align_pos).secondOrder;
    if (o.align_neg) out.alignment_accuracy = alignmentAccuracy(o.align_pos, o.align_neg);
  }
  return out;
}

/** Did a metric move the right way from `before` to `after`? */
export function improved(m: SuiteMetric, before: number, after: number): boolean {
  return m.better === 'higher' ? after > before : after < before;
}

/** Rows [metric, untrained, trained, better?] for the suite metrics both records have. */
