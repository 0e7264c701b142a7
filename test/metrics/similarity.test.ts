import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cosineSim,
  embeddingSimilarity,
  temporalConsistency,
  modalityGap,
  alignmentLoss,
  uniformityLoss,
  embeddingSuite,
} from '../../src/metrics/index.js';
import { ShapeError, InputError } from '../../src/util/errors.js';
import { close, pairedEmbeddings, rows, normalize } from './helpers.js';

test('cosine_sim per frame on [B, T, D], zero vectors give 0', () => {
  const pred = { dtype: 'float32' as const, shape: [1, 3, 2], data: new Float32Array([1, 0, 1, 1, 0, 0]) };
  const truth = { dtype: 'float32' as const, shape: [1, 3, 2], data: new Float32Array([1, 0, -1, 1, 3, 4]) };
  const r = cosineSim(pred, truth);
  assert.deepEqual(Array.from(r.perFrame), [1, 0, 0]);
  close(r.mean, 1 / 3, 1e-12);
  assert.throws(() => cosineSim(pred, { ...truth, shape: [1, 2, 3] }), ShapeError);
});

test('embedding_similarity: identical = 1, opposite = -1, scale invariant', () => {
  close(
    embeddingSimilarity(
      [
        [1, 2],
        [3, 4],
      ],
      [
        [2, 4],
        [0.3, 0.4],
      ],
    ).mean,
    1,
    1e-12,
  );
  close(embeddingSimilarity([[1, 2]], [[-1, -2]]).mean, -1, 1e-12);
  assert.throws(() => embeddingSimilarity([[1, Infinity]], [[1, 1]]), /contains Infinity/);
});

test('temporal_consistency first and second order (seed definition -mean|grad|)', () => {
  const r = temporalConsistency([0, 1, 3, 6]);
  close(r.firstOrder, -(1 + 2 + 3) / 3, 1e-12);
  close(r.secondOrder, -(1 + 1) / 2, 1e-12);
  const batch = temporalConsistency({ dtype: 'float32', shape: [2, 3], data: new Float32Array([0, 0, 0, 1, 2, 3]) });
  close(batch.firstOrder, -(0 + 0 + 1 + 1) / 4, 1e-12);
  close(batch.secondOrder, 0, 1e-12);
  assert.ok(Number.isNaN(temporalConsistency([5]).firstOrder));
});

test('modality gap: centroid distance of normalized embeddings and mean paired L2', () => {
  const g = modalityGap(
    [
      [2, 0],
      [0, 2],
    ],
    [
      [0, -1],
      [-1, 0],
    ],
  );
  // normalized centroids (0.5, 0.5) and (-0.5, -0.5)
  close(g.centroidGap, Math.SQRT2, 1e-12);
  close(g.centroidGapRaw, Math.hypot(1.5, 1.5), 1e-12);
  close(g.pairedL2, (Math.hypot(2, 1) + Math.hypot(1, 2)) / 2, 1e-12);
  const same = modalityGap(
    [
      [1, 2],
      [3, 1],
    ],
    [
      [1, 2],
      [3, 1],
    ],
  );
  assert.equal(same.centroidGap, 0);
  assert.equal(same.pairedL2, 0);
  // unpaired sets of different sizes still get a centroid gap
  assert.ok(
    Number.isNaN(
      modalityGap(
        [[1, 0]],
        [
          [0, 1],
          [1, 1],
        ],
      ).pairedL2,
    ),
  );
});

test('alignment and uniformity match the align_uniform definitions', async () => {
  const { a, b } = pairedEmbeddings(40, 5, 0.7, 9);
  const x = rows(a).map(normalize);
  const y = rows(b).map(normalize);
  const align = x.reduce((s, u, i) => s + u.reduce((t, v, k) => t + (v - y[i][k]) ** 2, 0), 0) / x.length;
  close(alignmentLoss(a, b), align, 1e-12, 'alignment');
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < x.length; i++)
    for (let j = i + 1; j < x.length; j++, pairs++)
      sum += Math.exp(-2 * x[i].reduce((t, v, k) => t + (v - x[j][k]) ** 2, 0));
  close(await uniformityLoss(a, 2, { precision: 'float64' }), Math.log(sum / pairs), 1e-9, 'uniformity');
  close(await uniformityLoss(a), Math.log(sum / pairs), 1e-5, 'uniformity, float32 GEMM');
  // identical points: every distance 0 -> log 1 = 0 (the worst uniformity)
  close(
    await uniformityLoss(
      [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      2,
      { precision: 'float64' },
    ),
    0,
    1e-9,
  );
  await assert.rejects(uniformityLoss([[1, 0]]), InputError);
});

test('embedding suite returns the documented keys with finite values', async () => {
  const { a, b } = pairedEmbeddings(30, 6, 0.5, 2);
  const { metrics } = await embeddingSuite(a, b);
  for (const k of [
    'a2b_R@1',
    'b2a_mAP@10',
    'a2b_median_rank',
    'mi_infonce',
    'mi_ksg',
    'embedding_similarity',
    'modality_gap',
    'alignment',
    'uniformity_a',
  ]) {
    assert.ok(Number.isFinite(metrics[k]), `${k} = ${metrics[k]}`);
  }
});
