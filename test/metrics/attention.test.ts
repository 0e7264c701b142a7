import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizedEntropy,
  attentionDiversity,
  peakMass,
  headAgreement,
  crossModalAlignment,
  querySimilarity,
  jensenShannon,
} from '../../src/metrics/index.js';
import { InputError, ShapeError } from '../../src/util/errors.js';
import type { HostArray } from '../../src/io/array.js';
import { close } from './helpers.js';

const att = (shape: number[], values: number[]): HostArray => ({
  dtype: 'float64',
  shape,
  data: new Float64Array(values),
});
const eye = att([3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
const uniform = att([3, 3], new Array(9).fill(1 / 3));

test('normalized entropy: 0 for one-hot rows, 1 for uniform rows', () => {
  assert.equal(normalizedEntropy(eye).mean, 0);
  close(normalizedEntropy(uniform).mean, 1, 1e-12);
  const half = normalizedEntropy(att([1, 4], [0.5, 0.5, 0, 0]));
  close(half.perQuery[0], Math.log(2) / Math.log(4), 1e-12);
});

test('diversity, peak mass and cross-modal alignment on diagonal vs uniform maps', () => {
  close(attentionDiversity(eye), 1, 1e-12);
  close(attentionDiversity(uniform), 0, 1e-12);
  assert.equal(peakMass(eye), 1);
  close(peakMass(uniform), 1 / 3, 1e-12);
  close(peakMass(uniform, 2), 2 / 3, 1e-12);
  close(crossModalAlignment(eye), 1, 1e-12);
  close(crossModalAlignment(uniform), 1 / 3, 1e-12);
  // explicit times: queries at 0 and 1 s, keys every 0.5 s; tolerance 0.25 s picks one key each
  const a = att([2, 3], [0.7, 0.3, 0, 0, 0.4, 0.6]);
  close(crossModalAlignment(a, { queryTimes: [0, 1], keyTimes: [0, 0.5, 1], tolerance: 0.25 }), (0.7 + 0.6) / 2, 1e-12);
  assert.throws(() => crossModalAlignment(a, { queryTimes: [0] }), ShapeError);
});

test('head agreement: identical heads 1, disjoint heads 0; needs a head axis', () => {
  const same = att([2, 1, 2], [1, 0, 1, 0]);
  close(headAgreement(same), 1, 1e-12);
  const apart = att([2, 1, 2], [1, 0, 0, 1]);
  close(headAgreement(apart), 0, 1e-12);
  close(jensenShannon([1, 0], [0, 1]), Math.LN2, 1e-12);
  assert.throws(() => headAgreement(eye), ShapeError);
});

test('rows that are not distributions are rejected with the row named', () => {
  assert.throws(
    () => normalizedEntropy(att([2, 2], [0.5, 0.5, 0.9, 0.3])),
    (e: unknown) => e instanceof InputError && /row 1 sums to 1.2/.test((e as Error).message),
  );
  assert.throws(() => peakMass(att([1, 2], [NaN, 1])), ShapeError);
  assert.throws(() => peakMass(att([4], [0.25, 0.25, 0.25, 0.25])), ShapeError);
});

test('FAVOR query similarity: mean off-diagonal cosine', () => {
  const q = att([1, 3, 2], [1, 0, 0, 1, 1, 1]);
  const c = 1 / Math.SQRT2;
  close(querySimilarity(q), (2 * (0 + c + c)) / 6, 1e-12);
});
