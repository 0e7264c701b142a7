import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classGrid,
  offsetToClass,
  syncAccuracy,
  desync,
  desyncWindows,
  predictedOffsets,
  pairedKl,
  inceptionScore,
  onsetF1,
  ksgMutualInformation,
  digamma,
} from '../../src/metrics/index.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { close } from './helpers.js';

test('Synchformer grid: 21 classes from -2 to +2 s in 0.2 s steps', () => {
  const g = classGrid();
  assert.equal(g.length, 21);
  close(g[0], -2, 1e-12);
  close(g[10], 0, 1e-12);
  close(g[11], 0.2, 1e-12);
  assert.equal(offsetToClass(1.6), 18);
  assert.equal(offsetToClass(-5), 0);
});

test('sync accuracy@1, within one class, and DeSync over first and last windows', () => {
  const truth = [10, 10, 12, 0];
  const pred = [10, 11, 14, 0];
  const acc = syncAccuracy(pred, truth);
  close(acc.accuracy1, 2 / 4, 1e-12);
  close(acc.accuracyWithin1, 3 / 4, 1e-12);
  // first-window offsets and last-window class logits
  const first = [0, 0.4, -0.2];
  const lastLogits = Array.from({ length: 3 }, (_, i) =>
    Array.from({ length: 21 }, (_, c) => (c === [10, 5, 20][i] ? 5 : 0)),
  );
  close(desync(first, lastLogits), (0 + 0.4 + 0.2 + 0 + 1 + 2) / 6, 1e-12);
  assert.deepEqual(
    Array.from(predictedOffsets([10, 20])).map((v) => Math.round(v * 10) / 10),
    [0, 2],
  );
  assert.deepEqual(desyncWindows(8), [
    { start: 0, end: 4.8 },
    { start: 8 - 4.8, end: 8 },
  ]);
  assert.throws(() => syncAccuracy([21], [0]), InputError);
});

test('paired softmax KL by hand; zero for identical logits', () => {
  const gt = [[Math.log(0.5), Math.log(0.5)]];
  const pred = [[Math.log(0.9), Math.log(0.1)]];
  close(pairedKl(pred, gt), 0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(0.5 / 0.1), 1e-12);
  close(
    pairedKl(
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      [
        [1, 2, 3],
        [5, 5, 5],
      ],
    ),
    0,
    1e-12,
  );
});

test('Inception score: 1 for identical predictions, C for confident distinct classes', () => {
  const same = Array.from({ length: 20 }, () => [1, 2, 3]);
  close(inceptionScore(same, { splits: 2 }).mean, 1, 1e-12);
  const c = 4;
  const distinct = Array.from({ length: 40 }, (_, i) => Array.from({ length: c }, (_, k) => (k === i % c ? 50 : 0)));
  const is = inceptionScore(distinct, { splits: 1 });
  close(is.mean, c, 1e-6);
  assert.equal(inceptionScore(same, { splits: 5 }).perSplit.length, 5);
  assert.throws(() => inceptionScore(same, { splits: 21 }), InputError);
});

test('onset F1 with a tolerance window and one-to-one matching', () => {
  const r = onsetF1([0.1, 0.52, 0.55, 2.0], [0.12, 0.5, 1.0], 0.05);
  assert.equal(r.matched, 2);
  close(r.precision, 2 / 4, 1e-12);
  close(r.recall, 2 / 3, 1e-12);
  close(r.f1, (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 1e-12);
  assert.equal(onsetF1([], []).f1, 1);
  assert.equal(onsetF1([1], []).f1, 0);
});

test('KSG recovers the mutual information of a correlated Gaussian pair', async () => {
  close(digamma(1), -0.5772156649015329, 1e-12);
  // ψ(10.5) = ψ(0.5) + Σ_{k<10} 1/(k + 0.5), ψ(0.5) = -γ - 2 ln 2
  let sum = -0.5772156649015329 - 2 * Math.LN2;
  for (let k = 0; k < 10; k++) sum += 1 / (k + 0.5);
  close(digamma(10.5), sum, 1e-12);
  close(digamma(3) - digamma(2), 1 / 2, 1e-13);
  const rng = new Rng(11);
  const rho = 0.8;
  const x: number[][] = [];
  const y: number[][] = [];
  for (let i = 0; i < 800; i++) {
    const u = rng.normal();
    x.push([u]);
    y.push([rho * u + Math.sqrt(1 - rho * rho) * rng.normal()]);
  }
  const truth = -0.5 * Math.log(1 - rho * rho);
  close(await ksgMutualInformation(x, y), truth, 0.06, 'KSG');
  await assert.rejects(ksgMutualInformation([[1], [1], [1], [1], [1]], [[2], [2], [2], [2], [2]]), /duplicates/);
});
