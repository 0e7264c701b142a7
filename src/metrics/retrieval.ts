import { checkNonEmpty, checkPaired, asMatrix, l2Normalize, mean, type MatrixInput } from './input.js';
import { similaritySweep } from './sweep.js';
import type { Precision } from './ort.js';
import { matmul } from './linalg.js';
import { InputError, ShapeError } from '../util/errors.js';

/**
 * Cross-modal retrieval with LAION-CLAP's conventions (training/train.py get_metrics): row i of A is
 * paired with row i of B; the rank of the true pair is its 0-based position when the candidates are
 * sorted by similarity; R@k = mean(rank < k); mAP@10 = mean(1/(rank+1) if rank < 10 else 0);
 * mean rank = mean(rank) + 1; median rank = floor(median(rank)) + 1.
 *
 * Ties (scores exactly equal to the true pair's) are broken uniformly at random and every figure is
 * its expectation, so collapsed embeddings score at chance (R@1 = 1/N) rather than perfectly.
 */
export interface RankMetrics {
  /** R@k for each requested k, keyed "R@1", "R@5", ... */
  recall: Record<string, number>;
  'mAP@10': number;
  meanRank: number;
  medianRank: number;
  /** expected 0-based rank of each query's true pair */
  ranks: Float64Array;
}

export interface RetrievalResult {
  n: number;
  /** A queries retrieving B (e.g. audio -> text) */
  aToB: RankMetrics;
  bToA: RankMetrics;
  /** InfoNCE lower bound on mutual information (null with infoNce: false or normalize: false, as the bound uses cosine scores) */
  infoNce: InfoNceBound | null;
}

/**
 * InfoNCE (van den Oord et al. 2018): I(A;B) >= log N - L, where L is the cross-entropy of picking the
 * true pair from softmax(cos(a_i, b_j) / temperature) over the N candidates, per direction. Nats; at
 * most log N; higher means more shared information is demonstrated.
 */
export interface InfoNceBound {
  aToB: number;
  bToA: number;
  mean: number;
  /** the symmetric contrastive loss (mean of both directions) */
  loss: number;
  temperature: number;
}

function checkTemperature(t: number): number {
  if (!(t >= 0.005)) throw new InputError(`temperature must be >= 0.005 (got ${t})`, { field: 'temperature', got: t });
  return t;
}

export interface RetrievalOptions {
  ks?: number[];
  /** L2-normalize rows first (cosine similarity, default true as in CLAP/CLIP). */
  normalize?: boolean;
  /** Also compute the InfoNCE bound (default true; needs normalize; costs an exp pass over the scores). */
  infoNce?: boolean;
  /** Softmax temperature for the InfoNCE bound (default 0.07, CLIP/CLAP's initial logit scale 1/0.07). */
  temperature?: number;
  /**
   * GEMM precision of the similarity scores (default float32: embeddings are float32 to begin with, and
   * only scores within ~1e-7 of the true pair's can swap; use float64 for exact ranks).
   */
  precision?: Precision;
  blockRows?: number;
  /** called after each block of queries */
  onProgress?: (done: number, total: number) => void;
}

/** Expected rank-based figures from per-query strict-greater and tied counts. */
export function rankMetrics(
  greater: ArrayLike<number>,
  tied: ArrayLike<number>,
  ks: number[] = [1, 5, 10],
): RankMetrics {
  const n = greater.length;
  const ranks = new Float64Array(n);
  const recall: Record<string, number> = {};
  for (const k of ks) recall[`R@${k}`] = 0;
  let map = 0;
  for (let i = 0; i < n; i++) {
    const g = greater[i];
    const e = tied[i];
    ranks[i] = g + e / 2;
    for (const k of ks) recall[`R@${k}`] += Math.min(1, Math.max(0, (k - g) / (e + 1)));
    let inv = 0;
    for (let r = g; r <= Math.min(g + e, 9); r++) inv += 1 / (r + 1);
    map += inv / (e + 1);
  }
  for (const k of ks) recall[`R@${k}`] /= n;
  const sorted = Float64Array.from(ranks).sort();
  const med = n % 2 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  return { recall, 'mAP@10': map / n, meanRank: mean(ranks) + 1, medianRank: Math.floor(med) + 1, ranks };
}

/** Retrieval metrics in both directions plus the InfoNCE bound, from paired embeddings [N, D]. */
export async function retrieval(
  aIn: MatrixInput,
  bIn: MatrixInput,
  opts: RetrievalOptions = {},
): Promise<RetrievalResult> {
  let a = asMatrix(aIn, 'a');
  let b = asMatrix(bIn, 'b');
  checkPaired(a, b, 'a', 'b');
  checkNonEmpty(a.rows, 'a');
  const precision = opts.precision ?? 'float32';
  if (opts.normalize !== false) {
    a = l2Normalize(a, precision);
    b = l2Normalize(b, precision);
  }
  const temperature = checkTemperature(opts.temperature ?? 0.07);
  const withNce = opts.normalize !== false && opts.infoNce !== false;
  const sw = await similaritySweep(a, b, {
    lse: withNce,
    scale: 1 / temperature,
    precision,
    blockRows: opts.blockRows,
    onProgress: opts.onProgress,
  });
  const n = a.rows;
  let lossRow = 0;
  let lossCol = 0;
  for (let i = 0; i < n; i++) {
    const z = sw.diag[i] / temperature;
    lossRow += sw.lseRow[i] - z;
    lossCol += sw.lseCol[i] - z;
  }
  lossRow /= n;
  lossCol /= n;
  const logN = Math.log(n);
  return {
    n,
    aToB: rankMetrics(sw.greaterRow, sw.tiedRow, opts.ks),
    bToA: rankMetrics(sw.greaterCol, sw.tiedCol, opts.ks),
    infoNce: !withNce
      ? null
      : {
          aToB: logN - lossRow,
          bToA: logN - lossCol,
          mean: logN - (lossRow + lossCol) / 2,
          loss: (lossRow + lossCol) / 2,
          temperature,
        },
  };
}

/**
 * CLAP's Clotho/AudioCaps protocol: each audio clip has `captionsPerClip` captions, stored consecutively
 * in `text` (clip i owns rows i*c .. i*c+c-1). Text -> audio: every caption is a query (the mean over
 * captions equals CLAP's average over the c runs). Audio -> text: R@k uses each clip's best-ranked caption,
 * and mAP@10 = Σ over its captions ranked below 10 of (hit_count / (rank+1)) / c.
 */
export async function multiCaptionRetrieval(
  audioIn: MatrixInput,
  textIn: MatrixInput,
  captionsPerClip: number,
  opts: { ks?: number[]; precision?: Precision } = {},
): Promise<{ audioToText: Omit<RankMetrics, 'ranks'>; textToAudio: Omit<RankMetrics, 'ranks'> }> {
  const audio = l2Normalize(asMatrix(audioIn, 'audio'));
  const text = l2Normalize(asMatrix(textIn, 'text'));
  const c = captionsPerClip;
  if (!Number.isInteger(c) || c < 1 || text.rows !== audio.rows * c) {
    throw new ShapeError(`text has ${text.rows} rows; expected audio rows (${audio.rows}) x captionsPerClip (${c})`, {
      field: 'text',
      expected: audio.rows * c,
      got: text.rows,
    });
  }
  const s = await matmul(text, audio, { transB: true, precision: opts.precision }); // [N*c, N]
  const n = audio.rows;
  const ks = opts.ks ?? [1, 5, 10];
  // text -> audio: rank of clip floor(q / c) among all clips for caption q
  const tGreater = new Float64Array(n * c);
  const tTied = new Float64Array(n * c);
  for (let q = 0; q < n * c; q++) {
    const own = s.data[q * n + Math.floor(q / c)];
    for (let j = 0; j < n; j++) {
      const v = s.data[q * n + j];
      if (v > own) tGreater[q]++;
      else if (v === own && j !== Math.floor(q / c)) tTied[q]++;
    }
  }
  const t2a = rankMetrics(tGreater, tTied, ks);
  // audio -> text: rank every caption of clip i among all N*c captions (a tie does not push a caption down)
  const best = new Float64Array(n);
  let map = 0;
  for (let i = 0; i < n; i++) {
    const ranks: number[] = [];
    for (let k = 0; k < c; k++) {
      const own = s.data[(i * c + k) * n + i];
      let r = 0;
      for (let q = 0; q < n * c; q++) if (s.data[q * n + i] > own) r++;
      ranks.push(r);
    }
    ranks.sort((x, y) => x - y);
    best[i] = ranks[0];
    let ap = 0;
    ranks.forEach((r, idx) => {
      if (r < 10) ap += (idx + 1) / (r + 1);
    });
    map += ap / c;
  }
  const a2t = rankMetrics(best, new Float64Array(n), ks);
  a2t['mAP@10'] = map / n;
  const strip = (m: RankMetrics) => ({
    recall: m.recall,
    'mAP@10': m['mAP@10'],
    meanRank: m.meanRank,
    medianRank: m.medianRank,
  });
  return { audioToText: strip(a2t), textToAudio: strip(t2a) };
}
