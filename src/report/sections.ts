/** Builders for the sections evaluations need most, from metric results and arrays. */

import type { HostArray } from '../io/array.js';
import { toFloat64 } from '../io/array.js';
import { l2Normalize } from '../metrics/input.js';
import type { Matrix } from '../metrics/linalg.js';
import { classGrid, DEFAULT_GRID, offsetToClass, type OffsetGrid } from '../metrics/sync.js';
import { ShapeError } from '../util/errors.js';
import type { CurvesSection, HeatmapSection, HistogramSection, TableSection } from './spec.js';

/** A two-column table of metric name -> value. */
export function metricsTable(title: string, metrics: Record<string, number | string>): TableSection {
  return { kind: 'table', title, columns: ['metric', 'value'], rows: Object.entries(metrics).map(([k, v]) => [k, v]) };
}

/** Cosine similarity matrix of the first `limit` pairs (rows = a, columns = b); the diagonal holds true pairs. */
export function similarityHeatmap(
  a: Matrix,
  b: Matrix,
  opts: { title?: string; limit?: number; rowName?: string; colName?: string } = {},
): HeatmapSection {
  const n = Math.min(opts.limit ?? 48, a.rows, b.rows);
  const an = l2Normalize(a);
  const bn = l2Normalize(b);
  const values = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < a.cols; k++) s += an.data[i * a.cols + k] * bn.data[j * b.cols + k];
      return s;
    }),
  );
  return {
    kind: 'heatmap',
    title: opts.title ?? `Cosine similarity, first ${n} pairs (diagonal = true pairs)`,
    values,
    rowName: opts.rowName ?? 'a',
    colName: opts.colName ?? 'b',
    min: -1,
    max: 1,
  };
}

/**
 * An attention map [Q, K] (or the mean over heads of [H, Q, K]) as a heat map: rows = queries,
 * columns = keys, labeled e.g. with words and with seconds ("1.20 s").
 */
export function attentionHeatmap(
  att: HostArray,
  opts: { title?: string; queryLabels?: string[]; keyLabels?: string[]; queryName?: string; keyName?: string } = {},
): HeatmapSection {
  const s = att.shape;
  if (s.length < 2)
    throw new ShapeError(`attention has shape [${s.join(', ')}]; expected [..., Q, K]`, { field: 'attention' });
  const [q, k] = s.slice(-2);
  const maps = s.slice(0, -2).reduce((x, y) => x * y, 1);
  const d = toFloat64(att);
  const values = Array.from({ length: q }, (_, i) =>
    Array.from({ length: k }, (_, j) => {
      let v = 0;
      for (let m = 0; m < maps; m++) v += d[(m * q + i) * k + j];
      return v / maps;
    }),
  );
  return {
    kind: 'heatmap',
    title: opts.title ?? (maps > 1 ? `Attention (mean over ${maps} maps)` : 'Attention'),
    values,
    rowLabels: opts.queryLabels,
    colLabels: opts.keyLabels,
    rowName: opts.queryName ?? 'queries',
    colName: opts.keyName ?? 'keys',
    min: 0,
  };
}

/** Time labels for frames at a rate: ["0.00 s", "0.50 s", ...]. */
export function secondsLabels(count: number, framesPerSecond: number, offsetSec = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${(offsetSec + i / framesPerSecond).toFixed(2)} s`);
}

/** Training curves: one series per metric name from a log of { step, ...metrics } rows. */
export function curvesFromLog(
  title: string,
  log: Record<string, number>[],
  names?: string[],
  xKey = 'step',
): CurvesSection {
  const keys = names ?? [...new Set(log.flatMap((r) => Object.keys(r)))].filter((k) => k !== xKey);
  return {
    kind: 'curves',
    title,
    xName: xKey,
    series: keys.map((name) => {
      const rows = log.filter((r) => typeof r[name] === 'number');
      return { name, x: rows.map((r, i) => r[xKey] ?? i), y: rows.map((r) => r[name]) };
    }),
  };
}

/** Histogram of predicted offsets (seconds) on the Synchformer grid. */
export function offsetHistogramSection(
  offsetsSec: ArrayLike<number>,
  grid: OffsetGrid = DEFAULT_GRID,
  title = 'Predicted offsets',
): HistogramSection {
  const g = classGrid(grid);
  const counts = new Array<number>(g.length).fill(0);
  for (let i = 0; i < offsetsSec.length; i++) counts[offsetToClass(offsetsSec[i], grid)]++;
  return {
    kind: 'histogram',
    title,
    bins: Array.from(g, (o) => `${o >= 0 ? '+' : ''}${o.toFixed(1)}`),
    counts,
    xName: 'offset (s)',
    yName: 'clips',
  };
}

/** A confusion matrix as a heat map (rows = true class, columns = predicted class). */
export function confusionHeatmap(confusion: number[][], labels: string[], title = 'Confusion matrix'): HeatmapSection {
  return {
    kind: 'heatmap',
    title,
    values: confusion,
    rowLabels: labels,
    colLabels: labels,
    rowName: 'true',
    colName: 'predicted',
    min: 0,
  };
}
