/**
 * "Predict in batches", once for every task: run a fixed-batch-size graph (a Predictor, or anything with its
 * `run`) over a list of items, the last batch padded by repeating its last item, and put the outputs back
 * together without the padding. Evaluation (task.evaluate), the trainer's mean split loss and inference
 * (av-sync's windows) all use it.
 */
import { allocData, toFloat64, type HostArray } from '../io/array.js';
import { evalBatches } from './data.js';
import type { Batch } from './task.js';

/** What predictInBatches runs: a Predictor, or anything that maps a batch to named outputs. */
export interface BatchRunner {
  run(feeds: Batch): Promise<Record<string, HostArray>>;
}

export interface Predictions {
  /** Every output with a batch axis, padding dropped, concatenated along axis 0: [items.length, ...]. */
  rows: Record<string, HostArray>;
  /** Every scalar output (shape []), averaged over the items (each batch weighted by its real items). */
  means: Record<string, number>;
}

/**
 * Runs `runner` over `items` in batches of `batchSize`; `makeBatch` turns one batch of items (always exactly
 * `batchSize`, padded) and its index into the graph's feeds.
 */
export async function predictInBatches<T>(
  runner: BatchRunner,
  items: readonly T[],
  batchSize: number,
  makeBatch: (items: T[], batch: number) => Batch,
): Promise<Predictions> {
  const parts: Record<string, HostArray[]> = {};
  const sums: Record<string, number> = {};
  let count = 0;
  for (const [i, b] of evalBatches(items, batchSize).entries()) {
    const out = await runner.run(makeBatch(b.indices, i));
    for (const [name, v] of Object.entries(out)) {
      if (v.shape.length === 0) sums[name] = (sums[name] ?? 0) + toFloat64(v)[0] * b.real;
      else (parts[name] ??= []).push(sliceRows(v, b.real));
    }
    count += b.real;
  }
  return {
    rows: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, concatRows(v)])),
    means: Object.fromEntries(Object.entries(sums).map(([k, s]) => [k, s / Math.max(1, count)])),
  };
}

/** The first `n` rows of a batched output (a copy). */
function sliceRows(a: HostArray, n: number): HostArray {
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  return { dtype: a.dtype, shape: [n, ...a.shape.slice(1)], data: a.data.slice(0, n * per) };
}

function concatRows(parts: HostArray[]): HostArray {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  const data = allocData(
    first.dtype,
    parts.reduce((s, p) => s + p.data.length, 0),
  );
  let off = 0;
  for (const p of parts) {
    (data as Float32Array).set(p.data as Float32Array, off);
    off += p.data.length;
  }
  return { dtype: first.dtype, shape: [parts.reduce((s, p) => s + p.shape[0], 0), ...first.shape.slice(1)], data };
}
