import { type Graph, type Tensor, constant, where } from '../engine/index.js';
import { ShapeError } from '../util/errors.js';
import { cachedConstant, nnShapeError } from './util.js';

/**
 * Attention masks are ADDITIVE BIASES: 0 where a query may attend to a key, MASK_VALUE (-1e9) where it may not,
 * broadcastable to the scores [B, H, Tq, Tk]. They are added to the scores before the softmax, so:
 * - masked weights come out exactly 0 (exp(-1e9 - max) underflows in float32 and float64);
 * - a row with every key masked gets uniform weights instead of NaN (a finite value, unlike -inf);
 * - several masks combine by addition (combineMasks), and the gradient is the plain Add rule;
 * - ORT runs one broadcasting Add; constant masks are folded into the model as initializers.
 * Structural masks (causal, frame-block, sliding window) are constants built in JS from static lengths; padding
 * masks are built in the graph from a validity input.
 */
export const MASK_VALUE = -1e9;

/**
 * Which way a causal mask looks. 'past': query i sees keys j <= i (the usual autoregressive mask, `tril` on
 * [query, key]). 'future': query i sees keys j >= i (`triu`, what FAVOR's released Q-Former code builds for its
 * frame blocks).
 */
export type CausalDirection = 'past' | 'future';

/** A constant [Tq, Tk] bias with 0 where allowed(i, j). */
export function maskFromPredicate(
  g: Graph,
  tq: number,
  tk: number,
  allowed: (i: number, j: number) => boolean,
  cacheKey?: string,
): Tensor {
  const make = () => {
    const v = new Float32Array(tq * tk);
    for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) if (!allowed(i, j)) v[i * tk + j] = MASK_VALUE;
    return g.constant({ dtype: 'float32', shape: [tq, tk], data: v });
  };
  return cacheKey ? cachedConstant(g, `mask:${tq}:${tk}:${cacheKey}`, make) : make();
}

export interface CausalOptions {
  direction?: CausalDirection;
  /** Key count (default tq). */
  tk?: number;
  /** Shift: 'past' allows j <= i + offset, 'future' allows j >= i - offset (default 0). */
  offset?: number;
}

/**
 * Token-level causal mask [Tq, Tk] (constant). Default direction 'past' (query i sees keys 0..i).
 *
 * @example
 *   const m = causalMask(g, 4);                          // [4, 4], row 0 sees key 0 only
 *   const f = causalMask(g, 4, { direction: 'future' }); // row 0 sees all keys, row 3 only key 3
 */
export function causalMask(g: Graph, tq: number, opts: CausalOptions = {}): Tensor {
  const { direction = 'past', tk = tq, offset = 0 } = opts;
  return maskFromPredicate(
    g,
    tq,
    tk,
    direction === 'past' ? (i, j) => j <= i + offset : (i, j) => j >= i - offset,
    `causal:${direction}:${offset}`,
  );
}

/**
 * Frame-block causal mask over `frames` frames of `tokensPerFrame` tokens each: [F*n, F*n] (constant). Tokens of
 * one frame always see each other; across frames the `direction` rule applies per frame (FAVOR: kron(triu(ones(F,
 * F)), ones(n, n)) = direction 'future', a frame sees itself and LATER frames; 'past' sees itself and EARLIER ones).
 */
export function frameCausalMask(
  g: Graph,
  frames: number,
  tokensPerFrame: number,
  direction: CausalDirection = 'past',
): Tensor {
  const n = tokensPerFrame;
  const t = frames * n;
  const fi = (i: number) => Math.floor(i / n);
  return maskFromPredicate(
    g,
    t,
    t,
    direction === 'past' ? (i, j) => fi(j) <= fi(i) : (i, j) => fi(j) >= fi(i),
    `frame:${n}:${direction}`,
  );
}

export interface SlidingWindowOptions {
  /** Keys allowed before the query position (in position units; default `radius`). */
  before?: number;
  /** Keys allowed after the query position (default `radius`). */
  after?: number;
  /** Symmetric half-width (default 0). */
  radius?: number;
  /** Key count (default tq). */
  tk?: number;
  /** Query / key positions (e.g. alignedPositions of two streams at different rates); default 0..T-1. */
  qPositions?: ArrayLike<number>;
  kPositions?: ArrayLike<number>;
}

/**
 * Sliding-window (band) mask [Tq, Tk]: query i sees key j when -before <= pos_k(j) - pos_q(i) <= after. With
 * positions from alignedPositions, streams at different rates get a window in seconds (x reference rate).
 *
 * @example
 *   slidingWindowMask(g, 8, { radius: 2 });            // each token sees 2 neighbors either side
 *   slidingWindowMask(g, 8, { before: 3, after: 0 });  // causal window of 4
 */
export function slidingWindowMask(g: Graph, tq: number, opts: SlidingWindowOptions = {}): Tensor {
  const r = opts.radius ?? 0;
  const before = opts.before ?? r;
  const after = opts.after ?? r;
  const tk = opts.tk ?? opts.kPositions?.length ?? tq;
  const qp = opts.qPositions ?? Array.from({ length: tq }, (_, i) => i);
  const kp = opts.kPositions ?? Array.from({ length: tk }, (_, i) => i);
  if (qp.length !== tq || kp.length !== tk) {
    throw new ShapeError(
      `slidingWindowMask: ${qp.length} query / ${kp.length} key positions for ${tq} queries / ${tk} keys`,
      {
        op: 'slidingWindowMask',
        expected: [tq, tk],
        got: [qp.length, kp.length],
      },
    );
  }
  const tol = 1e-9; // aligned positions are fractional; keep exact boundaries inside the window
  const key = `window:${before}:${after}:${Array.from(qp).join(',')}|${Array.from(kp).join(',')}`;
  return maskFromPredicate(
    g,
    tq,
    tk,
    (i, j) => {
      const d = kp[j] - qp[i];
      return d >= -before - tol && d <= after + tol;
    },
    key,
  );
}

/**
 * Multi-scale (per-head) window mask [H, T, T] (constant): the heads are split into len(radii) equal groups and group
 * g sees keys within radii[g] of the query (Infinity = global). With multiHeadAttention this gives one attention layer
 * that looks at several temporal granularities at once (the design source's "multi-scale attention").
 *
 * @example
 *   const mask = multiScaleWindowMask(g, 50, 4, [2, 8, Infinity, Infinity]); // heads 0: +-2, 1: +-8, 2-3: global
 *   const { out } = selfAttention(p.scope('ms'), x, { heads: 4 }, { mask });
 */
export function multiScaleWindowMask(g: Graph, t: number, heads: number, radii: number[]): Tensor {
  if (radii.length === 0 || heads % radii.length !== 0) {
    throw new ShapeError(`multiScaleWindowMask: ${heads} heads do not split into ${radii.length} equal groups`, {
      op: 'multiScaleWindowMask',
      expected: 'heads % radii.length == 0',
      got: radii.length,
    });
  }
  const per = heads / radii.length;
  return cachedConstant(g, `multiscale:${t}:${heads}:${radii.join(',')}`, () => {
    const v = new Float32Array(heads * t * t);
    for (let h = 0; h < heads; h++) {
      const r = radii[Math.floor(h / per)];
      for (let i = 0; i < t; i++)
        for (let j = 0; j < t; j++) if (Math.abs(i - j) > r) v[(h * t + i) * t + j] = MASK_VALUE;
    }
    return g.constant({ dtype: 'float32', shape: [heads, t, t], data: v });
  });
}

/**
 * Key-padding mask from per-key validity: valid [B, Tk] (bool, or float 1 = real token / 0 = padding) -> bias
 * [B, 1, 1, Tk] (in-graph, so it follows the batch).
 */
export function keyPaddingMask(valid: Tensor): Tensor {
  if (valid.shape.length !== 2) nnShapeError('keyPaddingMask', 'valid must be [B, Tk]', valid);
  const bias =
    valid.dtype === 'bool'
      ? where(valid, 0, constant(valid.graph, MASK_VALUE, 'float32', []))
      : valid.sub(1).mul(-MASK_VALUE);
  return bias.unsqueeze([1, 2]); // [B, 1, 1, Tk]
}

/** Validity [B, T] (bool) from lengths [B] (int64): position t is valid when t < length. */
export function lengthsToValid(lengths: Tensor, t: number): Tensor {
  if (lengths.dtype !== 'int64' || lengths.shape.length !== 1)
    nnShapeError('lengthsToValid', 'lengths must be int64 [B]', lengths);
  const pos = constant(
    lengths.graph,
    Array.from({ length: t }, (_, i) => i),
    'int64',
    [1, t],
  );
  return pos.lt(lengths.unsqueeze([1])); // [B, T]
}

/** Masked mean over axis 1: x [B, T, D], valid [B, T] -> [B, D] (0 for an item with no valid step). */
export function poolValid(x: Tensor, valid: Tensor): Tensor {
  const w = valid.unsqueeze([2]); // [B, T, 1]
  return x
    .mul(w)
    .sum([1])
    .div(w.sum([1]).maximum(1)); // [B, D]
}

/** Sum of the given masks (undefined entries are skipped); undefined when none is given. */
export function combineMasks(...masks: (Tensor | undefined)[]): Tensor | undefined {
  const list = masks.filter((m): m is Tensor => m !== undefined);
  if (list.length === 0) return undefined;
  const dtype = list.find((m) => m.dtype === 'float64') ? 'float64' : 'float32';
  return list.map((m) => m.cast(dtype)).reduce((a, b) => a.add(b));
}
