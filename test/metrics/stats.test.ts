import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean, bootstrap, meanStd, aggregateSeeds, formatMeanStd } from '../../src/metrics/index.js';
import { InputError } from '../../src/util/errors.js';
import { close } from './helpers.js';

test('bootstrap CI is seeded, brackets the estimate and narrows with more data', () => {
  const small = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const a = bootstrapMean(small, { seed: 3, iterations: 500 });
  const b = bootstrapMean(small, { seed: 3, iterations: 500 });
  assert.deepEqual(a, b);
  close(a.estimate, 1 / 3, 1e-12);
  assert.ok(a.low < a.estimate && a.estimate < a.high);
  const big = bootstrapMean(
    Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    { seed: 3, iterations: 200 },
  );
  assert.ok(big.high - big.low < (a.high - a.low) / 4);
  // a constant statistic has a zero-width interval
  const flat = bootstrap(10, () => 2, { iterations: 50 });
  assert.equal(flat.low, 2);
  assert.equal(flat.high, 2);
  assert.throws(() => bootstrapMean([], {}), InputError);
});

test('mean ± std across seeds (sample std) and per-metric aggregation', () => {
  const m = meanStd([1, 2, 3, 4]);
  close(m.mean, 2.5, 1e-12);
  close(m.std, Math.sqrt(5 / 3), 1e-12);
  assert.equal(meanStd([7]).std, 0);
  assert.equal(formatMeanStd({ mean: 0.5, std: 0.25, n: 2 }, 2), '0.50 ± 0.25');
  const agg = aggregateSeeds([{ r1: 0.5, map: 0.6 }, { r1: 0.7 }, { r1: 0.6, map: 0.8 }]);
  close(agg.r1.mean, 0.6, 1e-12);
  assert.equal(agg.map.n, 2);
});
