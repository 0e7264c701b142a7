/**
 * The engine's one sampler for random graph inputs (dropout keep-masks). The Trainer's runner, `Session.run({ rng })`
 * and the gradient checks all draw through `drawRandomFeeds`, so one seed gives the same masks everywhere.
 */
import { type HostArray, numel } from '../io/array.js';
import type { Rng } from '../util/rng.js';

/** One random input to fill: a graph's `RandomInput` or a train program's serialized spec. */
export interface RandomFeedSpec {
  name: string;
  shape: readonly number[];
  /** Default float32; float64 graphs (gradient checks) take float64 masks. Other dtypes get float32 masks. */
  dtype?: string;
  /** Drop probability: the fed mask holds 0 or 1/(1-p). */
  p: number;
}

/**
 * Fills dropout keep-masks, spec after spec, element after element: ONE 32-bit draw per element, kept (1/(1-p)) when
 * the draw is >= p * 2^32, else 0. This draw sequence is part of a training run's reproducibility (checkpoints save
 * the Rng state): do not change it.
 */
export function drawRandomFeeds(specs: readonly RandomFeedSpec[], rng: Rng): Record<string, HostArray> {
  const feeds: Record<string, HostArray> = {};
  for (const s of specs) {
    const n = numel(s.shape);
    const f64 = s.dtype === 'float64';
    const data = f64 ? new Float64Array(n) : new Float32Array(n);
    const keep = 1 / (1 - s.p);
    const threshold = s.p * 4294967296; // compare raw 32-bit draws: one draw per element
    for (let i = 0; i < n; i++) data[i] = rng.nextU32() >= threshold ? keep : 0;
    feeds[s.name] = { dtype: f64 ? 'float64' : 'float32', shape: [...s.shape], data };
  }
  return feeds;
}
