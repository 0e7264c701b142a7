/**
 * The windowed causal Q-Former over synchronized frames, with per-clip frame padding masked (clips of different
 * lengths share a batch), and the masked diversity loss.
 *
 *   frames [B, F, S, D], frameMask [B, F]  (F a multiple of the window w; W = F / w)
 *     -> (framePos > 0) + a learned embedding per frame of the window, shared by its S slots  [w, 1, D]
 *     -> windows [B*W, w*S, D]; key padding from frameMask                   [B*W, 1, 1, w*S]
 *     -> nn.qFormer: learned positions over the window's tokens, Q learned queries, frame-block mask
 *        ('future' = FAVOR's code, 'past' = usual, 'none'), cross-attention      -> queries [B*W, Q, D]
 *   windowValid [B*W] = 1 when the window holds at least one real frame
 */
import { type Scope, type Tensor, init } from '../../engine/index.js';
import { MASK_VALUE, qFormer, type QFormerLayerResult } from '../../nn/index.js';
import { ShapeError } from '../../util/errors.js';
import type { FavorConfig } from './config.js';

export interface WindowedQueries {
  queries: Tensor; // [B*W, Q, D]
  windowValid: Tensor; // [B*W] float 0/1
  windows: number;
  weights: QFormerLayerResult['weights'][];
}

/** frames [B, F, S, D], frameMask [B, F] (float 1 = real frame) -> Q queries per window of `cfg.window` frames. */
export function windowedQFormer(p: Scope, frames: Tensor, frameMask: Tensor, cfg: FavorConfig): WindowedQueries {
  const [b, f, s, d] = frames.shape as number[];
  const w = cfg.window;
  if (f % w !== 0)
    throw new ShapeError(
      `FAVOR: ${f} frames are not a whole number of ${w}-frame windows (pad the batch to a multiple of ${w})`,
      { op: 'windowedQFormer', expected: `frames % ${w} == 0`, got: f },
    );
  const windows = f / w;
  const perFrame = withFramePositions(p, frames.reshape([b * windows, w, s, d]), cfg); // [B*W, w, S, D]
  const tokens = perFrame.reshape([b * windows, w * s, d]); // [B*W, L, D]
  const frameValid = frameMask.reshape([b * windows, w, 1]); // [B*W, w, 1]
  const tokenValid = frameValid
    .mul(frames.graph.constant({ dtype: 'float32', shape: [1, 1, s], data: new Float32Array(s).fill(1) }))
    .reshape([b * windows, w * s]); // [B*W, L]
  const mask = tokenValid.sub(1).mul(-MASK_VALUE).unsqueeze([1, 2]); // [B*W, 1, 1, L]: 0 real, -1e9 padding
  const causal = cfg.causal === 'none' ? false : cfg.causal;
  p.param('queries', [cfg.queries, d], init.normal(cfg.queryInit)); // declared first so nn.qFormer reuses this init
  const { out, weights } = qFormer(
    p,
    tokens,
    { heads: cfg.heads, tokensPerFrame: s, queries: cfg.queries, layers: cfg.qformerLayers, causal, mlpRatio: 2 },
    mask,
  ); // [B*W, Q, D]
  const windowValid = frameValid.max([1, 2]); // [B*W]
  return { queries: out, windowValid, windows, weights };
}

/**
 * Which frame of its window a token comes from, as a learned embedding per frame (`model.framePos` = its initial
 * standard deviation; 0 = none, the default). nn.qFormer's own positions are one vector per token, initialised at
 * 0.02 against layer-normed tokens of unit scale: the queries start unable to tell the window's 10 frames apart,
 * which the looks (on screen for most of a window) do not need and the sounds of each frame (session 8) do.
 * windows [N, w, S, D] -> [N, w, S, D]
 */
function withFramePositions(p: Scope, windows: Tensor, cfg: Pick<FavorConfig, 'framePos'>): Tensor {
  if (!cfg.framePos) return windows;
  const [, w, , d] = windows.shape as number[];
  return windows.add(p.param('frame_pos', [w, 1, d], init.normal(cfg.framePos))); // [N, w, S, D]
}

/**
 * FAVOR's diversity loss (mean pairwise cosine similarity of a window's output queries, favor_mult.md 1.4) over the
 * windows that hold real frames only: q [N, Q, D], valid [N] -> []. Equal to nn.diversityLoss when all are valid.
 */
export function maskedDiversityLoss(q: Tensor, valid: Tensor): Tensor {
  const nq = q.shape[1] as number;
  const norms = q.square().sum(-1, true).sqrt(); // [N, Q, 1]
  const cos = q.matmul(q.mT).div(norms.matmul(norms.mT).add(1e-9)); // [N, Q, Q]
  const offDiagonal = cos.sum([1, 2]).sub(cos.mul(eyeLike(q, nq)).sum([1, 2])); // [N]
  return offDiagonal
    .mul(valid)
    .sum()
    .div(valid.sum().maximum(1))
    .div(nq * nq - nq); // []
}

function eyeLike(q: Tensor, n: number): Tensor {
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return q.graph.constant({ dtype: 'float32', shape: [n, n], data });
}
