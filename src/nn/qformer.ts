import { type Scope, type Tensor, attr, constant, concat, init } from '../engine/index.js';
import { multiHeadAttention } from './attention.js';
import { type CausalDirection, MASK_VALUE, combineMasks, frameCausalMask } from './masks.js';
import { type Activation, mlp } from './mlp.js';
import { layerNorm } from './norm.js';
import { nnShapeError, staticDim } from './util.js';

/**
 * Learned query tokens (BLIP-2 / FAVOR Q-Former): a parameter `queries` [Q, D] drawn from N(0, 0.02), broadcast to
 * the batch of `like` (its first axis may be symbolic or derived, e.g. B*windows).
 *
 * like: [N, ...] -> [N, Q, D]
 */
export function learnedQueries(p: Scope, like: Tensor, count: number, dim: number): Tensor {
  const q = p.param('queries', [count, dim], init.normal(0.02)).unsqueeze([0]); // [1, Q, D]
  const n = like.shape[0];
  if (typeof n === 'number') return q.expand([n, count, dim]);
  const g = like.graph;
  const batch = g.emit('Shape', [like], { start: attr.int(0), end: attr.int(1) }, [{ dtype: 'int64', shape: [1] }])[0];
  const shape = concat([batch, constant(g, [count, dim], 'int64', [2])], 0);
  return g.emit('Expand', [q, shape], {}, [{ dtype: q.dtype, shape: [n, count, dim] }])[0];
}

/**
 * Groups frame tokens into non-overlapping windows of `framesPerWindow` frames (FAVOR: 10 frames of 32 tokens), zero-
 * padding the last window. Returns the windows and, when padding was needed, `mask`, an additive key-padding bias
 * [B*W, 1, 1, L] (needs a static B).
 *
 * x: [B, F, n, D] -> tokens [B*W, framesPerWindow*n, D], W = ceil(F / framesPerWindow)
 */
export function windowFrames(x: Tensor, framesPerWindow: number): { tokens: Tensor; windows: number; mask?: Tensor } {
  if (x.shape.length !== 4) nnShapeError('windowFrames', 'x must be [B, frames, tokensPerFrame, D]', x);
  const f = staticDim(x, 1, 'windowFrames');
  const n = staticDim(x, 2, 'windowFrames');
  const d = staticDim(x, 3, 'windowFrames');
  const w = Math.ceil(f / framesPerWindow);
  const padF = w * framesPerWindow - f;
  const padded = padF ? x.pad([0, 0, 0, 0, 0, padF, 0, 0]) : x; // [B, W*fpw, n, D]
  const l = framesPerWindow * n;
  const tokens = padded.reshape([-1, l, d]); // [B*W, L, D]
  if (!padF) return { tokens, windows: w };
  const b = staticDim(x, 0, 'windowFrames (padding mask)');
  const bias = new Float32Array(b * w * l);
  for (let bw = 0; bw < b * w; bw++)
    for (let j = 0; j < l; j++) if ((bw % w) * framesPerWindow + Math.floor(j / n) >= f) bias[bw * l + j] = MASK_VALUE;
  return { tokens, windows: w, mask: x.graph.constant({ dtype: 'float32', shape: [b * w, 1, 1, l], data: bias }) };
}

export interface QFormerConfig {
  heads: number;
  /** Tokens per frame in the frame sequence (FAVOR: 32); the frame-block causal mask works per frame. */
  tokensPerFrame: number;
  /**
   * Frame-block causal direction for the frame tokens' self-attention: 'future' (default, as FAVOR's released code:
   * a frame sees itself and LATER frames), 'past' (itself and EARLIER frames), or false (no causal mask).
   */
  causal?: CausalDirection | false;
  mlpRatio?: number;
  activation?: Activation;
}

export interface QFormerLayerResult {
  queries: Tensor; // [N, Q, D]
  frames: Tensor; // [N, L, Df]
  weights: { frames: Tensor; queries: Tensor; cross: Tensor }; // [N, H, L, L], [N, H, Q, Q], [N, H, Q, L]
}

/**
 * One causal Q-Former layer (FAVOR, pre-norm): the window's frame tokens first pass frame-block causal
 * self-attention (width Df), then the queries self-attend, cross-attend to the updated frame tokens, and go through
 * an FFN. `mask` is an optional additive key-padding bias over the frame tokens ([N, 1, 1, L]).
 * Parameters `frame_norm`, `frame_attn`, `q_norm1`, `q_attn`, `q_norm2`, `ctx_norm`, `cross`, `q_norm3`, `mlp`.
 *
 * queries: [N, Q, D], frames: [N, L, Df] (L = frames * tokensPerFrame) -> queries [N, Q, D], frames [N, L, Df]
 */
export function qFormerLayer(
  p: Scope,
  queries: Tensor,
  frames: Tensor,
  cfg: QFormerConfig,
  mask?: Tensor,
): QFormerLayerResult {
  const l = staticDim(frames, 1, 'qFormerLayer');
  const n = cfg.tokensPerFrame;
  if (l % n !== 0)
    nnShapeError('qFormerLayer', `frame tokens (${l}) must be a whole number of frames of ${n} tokens`, frames);
  const causal = cfg.causal ?? 'future';
  const frameMask = combineMasks(causal ? frameCausalMask(frames.graph, l / n, n, causal) : undefined, mask);
  const fa = multiHeadAttention(
    p.scope('frame_attn'),
    layerNorm(p.scope('frame_norm'), frames),
    { heads: cfg.heads },
    { mask: frameMask },
  );
  const f = frames.add(fa.out); // [N, L, Df]
  const qa = multiHeadAttention(p.scope('q_attn'), layerNorm(p.scope('q_norm1'), queries), { heads: cfg.heads });
  let q = queries.add(qa.out); // [N, Q, D]
  const ca = multiHeadAttention(
    p.scope('cross'),
    layerNorm(p.scope('q_norm2'), q),
    { heads: cfg.heads },
    { context: layerNorm(p.scope('ctx_norm'), f), mask },
  );
  q = q.add(ca.out);
  const d = staticDim(q, -1, 'qFormerLayer');
  q = q.add(
    mlp(p.scope('mlp'), layerNorm(p.scope('q_norm3'), q), {
      hidden: Math.round((cfg.mlpRatio ?? 4) * d),
      activation: cfg.activation,
    }),
  );
  return { queries: q, frames: f, weights: { frames: fa.weights, queries: qa.weights, cross: ca.weights } };
}

export interface QFormerStackConfig extends QFormerConfig {
  /** Query tokens per window (FAVOR 32, video-SALMONN 30). */
  queries: number;
  /** Query width (default: the frame token width). */
  dim?: number;
  /** Layers (FAVOR: 2). */
  layers: number;
  /** Learned absolute positions over each window's tokens (FAVOR adds an nn.Embedding; default true). */
  positions?: boolean;
}

/**
 * A windowed causal Q-Former: learned positions over each window's tokens, learned queries, `layers`
 * qFormerLayers, final LayerNorm. Window first with windowFrames. Parameters `pos`, `queries`, `layer<i>`, `norm`.
 *
 * tokens: [N, L, Df] (N = B * windows) -> out [N, Q, D], weights per layer
 *
 * @example
 *   const w = windowFrames(frames, 10);                                  // frames [B, F, 32, D] -> [B*W, 320, D]
 *   const { out } = qFormer(p.scope('qf'), w.tokens, { heads: 8, tokensPerFrame: 32, queries: 32, layers: 2 }, w.mask);
 *   const reg = diversityLoss(out).mul(0.01);                            // out [B*W, 32, D]
 */
export function qFormer(
  p: Scope,
  tokens: Tensor,
  cfg: QFormerStackConfig,
  mask?: Tensor,
): { out: Tensor; weights: QFormerLayerResult['weights'][] } {
  const l = staticDim(tokens, 1, 'qFormer');
  const df = staticDim(tokens, 2, 'qFormer');
  const dim = cfg.dim ?? df;
  let frames = cfg.positions === false ? tokens : tokens.add(p.param('pos', [l, df], init.normal(0.02)));
  let q = learnedQueries(p, tokens, cfg.queries, dim);
  const weights: QFormerLayerResult['weights'][] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const r = qFormerLayer(p.scope(`layer${i}`), q, frames, cfg, mask);
    q = r.queries;
    frames = r.frames;
    weights.push(r.weights);
  }
  return { out: layerNorm(p.scope('norm'), q), weights };
}
