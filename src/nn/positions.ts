import { type Graph, type Tensor, concat, constant } from '../engine/index.js';
import { alignedPositions } from '../timeline/timeline.js';
import { cachedConstant, nnShapeError, staticDim } from './util.js';

export interface SinusoidOptions {
  /** Positions (default 0..T-1); fractional positions (alignedPositions) are fine. */
  positions?: ArrayLike<number>;
  /** Wavelength base (default 10000). */
  base?: number;
  dtype?: 'float32' | 'float64';
}

/**
 * Fixed sinusoidal positions (Vaswani et al.) as a constant [T, D]: column 2i = sin(p / base^(2i/D)), 2i+1 = cos.
 *
 * @example
 *   const x = tokens.add(sinusoidalPositions(g, 50, 64)); // tokens [B, 50, 64]
 */
export function sinusoidalPositions(g: Graph, t: number, d: number, opts: SinusoidOptions = {}): Tensor {
  const base = opts.base ?? 10000;
  const pos = opts.positions ?? Array.from({ length: t }, (_, i) => i);
  if (pos.length !== t) throw new RangeError(`sinusoidalPositions: ${pos.length} positions for T=${t}`);
  const v = new Float64Array(t * d);
  for (let i = 0; i < t; i++) {
    for (let k = 0; k < d; k += 2) {
      const a = pos[i] / Math.pow(base, k / d);
      v[i * d + k] = Math.sin(a);
      if (k + 1 < d) v[i * d + k + 1] = Math.cos(a);
    }
  }
  const dtype = opts.dtype ?? 'float32';
  return cachedConstant(g, `sinusoid:${t}:${d}:${base}:${dtype}:${Array.from(pos).join(',')}`, () =>
    constant(g, Array.from(v), dtype, [t, d]),
  );
}

/** x [B, T, D] + sinusoidal positions of its static T and D (dtype follows x). */
export function addSinusoidal(x: Tensor, opts: Omit<SinusoidOptions, 'dtype'> = {}): Tensor {
  const t = staticDim(x, -2, 'addSinusoidal');
  const d = staticDim(x, -1, 'addSinusoidal');
  return x.add(sinusoidalPositions(x.graph, t, d, { ...opts, dtype: x.dtype === 'float64' ? 'float64' : 'float32' }));
}

/**
 * Sinusoidal embedding of a per-item scalar (diffusion / flow-matching time): t [B] -> [B, dim] = [cos(t w) | sin(t w)]
 * with w_k = maxPeriod^(-k / (dim/2)) (the DiT / MMAudio TimestepEmbedder layout), computed in the graph.
 */
export function timestepEmbedding(t: Tensor, dim: number, maxPeriod = 10000): Tensor {
  if (t.shape.length !== 1) nnShapeError('timestepEmbedding', 't must be [B]', t);
  if (dim % 2 !== 0) throw new RangeError(`timestepEmbedding: dim must be even, got ${dim}`);
  const half = dim / 2;
  const freqs = constant(
    t.graph,
    Array.from({ length: half }, (_, k) => Math.exp((-Math.log(maxPeriod) * k) / half)),
    t.dtype,
    [1, half],
  );
  const args = t.unsqueeze([1]).mul(freqs); // [B, half]
  return concat([args.cos(), args.sin()], -1); // [B, dim]
}

/** Cos / sin tables of a rotary embedding: [T, headDim/2] constants. */
export interface RopeTable {
  cos: Tensor;
  sin: Tensor;
}

/**
 * Rotary position tables for `positions` (theta 10000, the Flux / MMAudio default). Frequency k rotates pair k
 * by pos * theta^(-2k/headDim).
 */
export function ropeTable(
  g: Graph,
  positions: ArrayLike<number>,
  headDim: number,
  opts: { theta?: number; dtype?: 'float32' | 'float64' } = {},
): RopeTable {
  if (headDim % 2 !== 0) throw new RangeError(`ropeTable: head dim must be even, got ${headDim}`);
  const theta = opts.theta ?? 10000;
  const half = headDim / 2;
  const t = positions.length;
  const c = new Array<number>(t * half);
  const s = new Array<number>(t * half);
  for (let i = 0; i < t; i++) {
    for (let k = 0; k < half; k++) {
      const a = positions[i] * Math.pow(theta, (-2 * k) / headDim);
      c[i * half + k] = Math.cos(a);
      s[i * half + k] = Math.sin(a);
    }
  }
  const dtype = opts.dtype ?? 'float32';
  const key = `rope:${headDim}:${theta}:${dtype}:${Array.from(positions).join(',')}`;
  return {
    cos: cachedConstant(g, `${key}:cos`, () => constant(g, c, dtype, [t, half])),
    sin: cachedConstant(g, `${key}:sin`, () => constant(g, s, dtype, [t, half])),
  };
}

/**
 * Aligned RoPE positions (MMAudio): a stream at `rate` Hz placed on the position scale of a reference stream at
 * `refRate`, so tokens at the same second share a position: frame i -> (start + i / rate) * refRate.
 * E.g. 8 fps CLIP frames against 31.25 Hz audio latents: i * 3.90625.
 */
export function alignedRopePositions(frames: number, rate: number, refRate: number, start = 0): Float32Array {
  return alignedPositions(frames, rate, refRate, start);
}

/**
 * Rotates channel pairs (i, i + headDim/2) of x by the table's angles (the half-split "NeoX" layout: two slices, no
 * interleave reshape).
 *
 * x: [B, H, T, headDim] (or any [..., T, headDim]) -> same shape
 */
export function applyRope(x: Tensor, table: RopeTable): Tensor {
  const dh = staticDim(x, -1, 'applyRope');
  const t = x.shape[x.shape.length - 2];
  if (table.cos.shape[0] !== t || table.cos.shape[1] !== dh / 2)
    nnShapeError('applyRope', `table must be [T, headDim/2] for x [..., ${t}, ${dh}]`, x, table.cos);
  const cos = table.cos.cast(x.dtype);
  const sin = table.sin.cast(x.dtype);
  const [x1, x2] = x.split([dh / 2, dh / 2], -1); // [..., T, dh/2] each
  return concat([x1.mul(cos).sub(x2.mul(sin)), x1.mul(sin).add(x2.mul(cos))], -1);
}
