/** Uncertainty: bootstrap confidence intervals over items, and mean ± std over seeds. */

import { Rng } from '../util/rng.js';
import { InputError } from '../util/errors.js';

export interface ConfidenceInterval {
  estimate: number;
  low: number;
  high: number;
  /** std of the bootstrap distribution (a standard error) */
  std: number;
  confidence: number;
  iterations: number;
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile bootstrap: resample the n items with replacement `iterations` times (seeded Rng) and take
 * the (1-c)/2 and (1+c)/2 quantiles of the statistic. `statistic` receives the resampled indices.
 */
export function bootstrap(
  n: number,
  statistic: (indices: Int32Array) => number,
  opts: { iterations?: number; confidence?: number; seed?: number } = {},
): ConfidenceInterval {
  const iterations = opts.iterations ?? 1000;
  const confidence = opts.confidence ?? 0.95;
  if (n < 1) throw new InputError('bootstrap needs at least one item', { field: 'n' });
  if (!(confidence > 0 && confidence < 1))
    throw new InputError(`confidence must be in (0, 1) (got ${confidence})`, { field: 'confidence' });
  const rng = new Rng(opts.seed ?? 0);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const values = new Float64Array(iterations);
  const idx = new Int32Array(n);
  for (let b = 0; b < iterations; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    values[b] = statistic(idx);
  }
  const sorted = Float64Array.from(values).sort();
  const { std } = meanStd(values);
  return {
    estimate: statistic(all),
    low: quantile(sorted, (1 - confidence) / 2),
    high: quantile(sorted, (1 + confidence) / 2),
    std,
    confidence,
    iterations,
  };
}

/** Bootstrap CI of the mean of per-item values (e.g. per-query recall hits, per-clip |offset|). */
export function bootstrapMean(
  values: ArrayLike<number>,
  opts: { iterations?: number; confidence?: number; seed?: number } = {},
): ConfidenceInterval {
  return bootstrap(
    values.length,
    (idx) => {
      let s = 0;
      for (const i of idx) s += values[i];
      return s / idx.length;
    },
    opts,
  );
}

export interface MeanStd {
  mean: number;
  /** sample std (divisor n - 1); 0 for a single value */
  std: number;
  n: number;
}

export function meanStd(values: ArrayLike<number>): MeanStd {
  const n = values.length;
  if (!n) return { mean: NaN, std: NaN, n: 0 };
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i] - mean) ** 2;
  return { mean, std: n > 1 ? Math.sqrt(v / (n - 1)) : 0, n };
}

/** "0.8123 ± 0.0100" */
export function formatMeanStd(m: MeanStd, digits = 4): string {
  return `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}

/** Per-metric mean ± std over runs with different seeds (metrics missing from a run are skipped). */
export function aggregateSeeds(runs: Record<string, number>[]): Record<string, MeanStd> {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((k) => [k, meanStd(runs.map((r) => r[k]).filter((v) => typeof v === 'number' && Number.isFinite(v)))]),
  );
}
