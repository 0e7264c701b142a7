import type { HostArray } from '../io/array.js';
import { toFloat64 } from '../io/array.js';
import { InputError, ShapeError } from '../util/errors.js';

/**
 * Diagnostics for attention maps. Input: weights of shape [Q, K], [H, Q, K] or [B, H, Q, K] (rows =
 * queries, columns = keys), each row a probability distribution. Every map is a [Q, K] slice; figures
 * are means over all maps and queries unless said otherwise.
 */
export interface AttentionMaps {
  /** number of [Q, K] maps (B * H) */
  maps: number;
  heads: number;
  queries: number;
  keys: number;
  data: Float64Array;
}

/** Validates shape and row sums (each within 1e-3 of 1, no negative weights). */
export function attentionMaps(att: HostArray, name = 'attention'): AttentionMaps {
  const s = att.shape;
  if (s.length < 2 || s.length > 4) {
    throw new ShapeError(`${name} has shape [${s.join(', ')}]; expected [Q, K], [H, Q, K] or [B, H, Q, K]`, {
      field: name,
      shape: s,
    });
  }
  const [queries, keys] = s.slice(-2);
  const heads = s.length >= 3 ? s[s.length - 3] : 1;
  const data = toFloat64(att);
  const rows = data.length / keys;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let k = 0; k < keys; k++) {
      const v = data[r * keys + k];
      if (!Number.isFinite(v) || v < 0)
        throw new ShapeError(`${name} has weight ${v} in row ${r}; weights must be finite and >= 0`, {
          field: name,
          index: r * keys + k,
        });
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) {
      throw new InputError(
        `${name} row ${r} sums to ${sum.toFixed(6)}; attention rows must be softmax outputs summing to 1`,
        { field: name, index: r },
      );
    }
  }
  return { maps: rows / queries, heads, queries, keys, data };
}

function row(m: AttentionMaps, map: number, q: number): Float64Array {
  const off = (map * m.queries + q) * m.keys;
  return m.data.subarray(off, off + m.keys);
}

/** H(p) / log K per query, in [0, 1]: 1 = uniform over keys, 0 = all mass on one key. Lower is sharper. */
export function normalizedEntropy(att: HostArray): { perQuery: Float64Array; mean: number } {
  const m = attentionMaps(att);
  const perQuery = new Float64Array(m.maps * m.queries);
  const logK = Math.log(m.keys);
  for (let i = 0; i < perQuery.length; i++) {
    const p = m.data.subarray(i * m.keys, (i + 1) * m.keys);
    let h = 0;
    for (const v of p) if (v > 0) h -= v * Math.log(v);
    perQuery[i] = m.keys > 1 ? h / logK : 0;
  }
  return { perQuery, mean: avg(perQuery) };
}

function avg(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return v.length ? s / v.length : NaN;
}

function cosine(u: Float64Array, v: Float64Array): number {
  let d = 0;
  let nu = 0;
  let nv = 0;
  for (let i = 0; i < u.length; i++) {
    d += u[i] * v[i];
    nu += u[i] * u[i];
    nv += v[i] * v[i];
  }
  return d / Math.max(Math.sqrt(nu * nv), 1e-12);
}

/**
 * Attention diversity: 1 - mean cosine similarity between the attention rows of different queries of
 * the same map, in [0, 1]: 0 = every query attends identically, higher = queries look at different keys.
 * NaN with a single query.
 */
export function attentionDiversity(att: HostArray): number {
  const m = attentionMaps(att);
  let s = 0;
  let c = 0;
  for (let map = 0; map < m.maps; map++) {
    for (let i = 0; i < m.queries; i++) {
      for (let j = i + 1; j < m.queries; j++, c++) s += cosine(row(m, map, i), row(m, map, j));
    }
  }
  return c ? 1 - s / c : NaN;
}

/** Peak mass: mean over queries of the largest weight (top-1) or the sum of the `top` largest, in [top/K, 1]. */
export function peakMass(att: HostArray, top = 1): number {
  const m = attentionMaps(att);
  const n = m.maps * m.queries;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const sorted = Float64Array.from(m.data.subarray(i * m.keys, (i + 1) * m.keys)).sort();
    for (let k = 0; k < Math.min(top, m.keys); k++) s += sorted[m.keys - 1 - k];
  }
  return s / n;
}

/** Jensen-Shannon divergence in nats, in [0, ln 2]. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) js += 0.5 * p[i] * Math.log(p[i] / m);
    if (q[i] > 0) js += 0.5 * q[i] * Math.log(q[i] / m);
  }
  return Math.max(0, js);
}

/**
 * Head agreement: 1 - JSD(p_h, p_h') / ln 2 averaged over head pairs and queries, in [0, 1]: 1 = all
 * heads attend identically. Needs an input with a head axis ([H, Q, K] or [B, H, Q, K]) and H >= 2.
 */
export function headAgreement(att: HostArray): number {
  const m = attentionMaps(att);
  if (att.shape.length < 3 || m.heads < 2) {
    throw new ShapeError(`head agreement needs [H, Q, K] or [B, H, Q, K] with H >= 2; got [${att.shape.join(', ')}]`, {
      field: 'attention',
      shape: att.shape,
    });
  }
  const batches = m.maps / m.heads;
  let s = 0;
  let c = 0;
  for (let b = 0; b < batches; b++) {
    for (let h = 0; h < m.heads; h++) {
      for (let g = h + 1; g < m.heads; g++) {
        for (let q = 0; q < m.queries; q++, c++)
          s += 1 - jensenShannon(row(m, b * m.heads + h, q), row(m, b * m.heads + g, q)) / Math.LN2;
      }
    }
  }
  return s / c;
}

export interface AlignmentTimes {
  /** time (s) of each query, length Q; default: bin centers (q + 0.5) / Q on [0, 1] */
  queryTimes?: ArrayLike<number>;
  /** time (s) of each key, length K; default: (k + 0.5) / K */
  keyTimes?: ArrayLike<number>;
  /** a key counts as aligned when |t_k - t_q| <= tolerance; default: the query and key bins overlap (< 0.5/Q + 0.5/K) */
  tolerance?: number;
}

/**
 * Cross-modal alignment score: the attention mass each query puts on keys at the same time
 * (|t_k - t_q| within tolerance), averaged over queries and maps. [0, 1], higher = attention follows
 * the temporal correspondence between the two streams.
 */
export function crossModalAlignment(att: HostArray, times: AlignmentTimes = {}): number {
  const m = attentionMaps(att);
  const tq = times.queryTimes ?? Array.from({ length: m.queries }, (_, q) => (q + 0.5) / m.queries);
  const tk = times.keyTimes ?? Array.from({ length: m.keys }, (_, k) => (k + 0.5) / m.keys);
  if (tq.length !== m.queries)
    throw new ShapeError(`queryTimes has ${tq.length} entries; the attention has ${m.queries} queries`, {
      field: 'queryTimes',
    });
  if (tk.length !== m.keys)
    throw new ShapeError(`keyTimes has ${tk.length} entries; the attention has ${m.keys} keys`, { field: 'keyTimes' });
  const explicit = times.tolerance !== undefined;
  const tol = times.tolerance ?? 0.5 / m.queries + 0.5 / m.keys;
  const aligned = (q: number, k: number) =>
    explicit ? Math.abs(tk[k] - tq[q]) <= tol : Math.abs(tk[k] - tq[q]) < tol - 1e-12;
  let s = 0;
  for (let map = 0; map < m.maps; map++) {
    for (let q = 0; q < m.queries; q++) {
      const p = row(m, map, q);
      for (let k = 0; k < m.keys; k++) if (aligned(q, k)) s += p[k];
    }
  }
  return s / (m.maps * m.queries);
}

/**
 * FAVOR's diversity measure on query outputs [B, Q, D] (or [Q, D]): the mean cosine similarity between
 * different queries of the same item, Σ_{b, i≠j} cos / (B (Q² - Q)). [-1, 1]; lower = more diverse
 * queries (FAVOR minimizes it with weight 0.01).
 */
export function querySimilarity(outputs: HostArray): number {
  const s = outputs.shape;
  if (s.length !== 2 && s.length !== 3)
    throw new ShapeError(`query outputs have shape [${s.join(', ')}]; expected [Q, D] or [B, Q, D]`, {
      field: 'outputs',
      shape: s,
    });
  const [q, d] = s.slice(-2);
  const b = s.length === 3 ? s[0] : 1;
  if (q < 2)
    throw new ShapeError(`query similarity needs at least 2 queries, got ${q}`, { field: 'outputs', shape: s });
  const data = toFloat64(outputs);
  let sum = 0;
  for (let bi = 0; bi < b; bi++) {
    for (let i = 0; i < q; i++) {
      for (let j = 0; j < q; j++) {
        if (i === j) continue;
        const u = data.subarray((bi * q + i) * d, (bi * q + i + 1) * d);
        const v = data.subarray((bi * q + j) * d, (bi * q + j + 1) * d);
        sum += cosine(u, v);
      }
    }
  }
  return sum / (b * (q * q - q));
}
