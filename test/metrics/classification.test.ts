import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationReport, mosiMetrics, iemocapMetrics, roundHalfEven, pearson } from '../../src/metrics/index.js';
import { InputError, ShapeError } from '../../src/util/errors.js';
import { close } from './helpers.js';

test('classification report: hand-computed confusion, per-class P/R/F1, macro and weighted F1', () => {
  const truth = [0, 0, 0, 1, 1, 2];
  const pred = [0, 0, 1, 1, 2, 2];
  const r = classificationReport(pred, truth, { labels: ['a', 'b', 'c'] });
  assert.deepEqual(r.confusion, [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  close(r.accuracy, 4 / 6, 1e-12);
  const [a, b, c] = r.perClass;
  assert.equal(a.label, 'a');
  close(a.precision, 1, 1e-12);
  close(a.recall, 2 / 3, 1e-12);
  close(a.f1, 0.8, 1e-12);
  close(b.f1, 0.5, 1e-12);
  close(c.f1, 2 / 3, 1e-12);
  close(r.macroF1, (0.8 + 0.5 + 2 / 3) / 3, 1e-12);
  close(r.weightedF1, (0.8 * 3 + 0.5 * 2 + (2 / 3) * 1) / 6, 1e-12);
  close(r.weightedAccuracy, (2 / 3 + 1 / 2 + 1) / 3, 1e-12);
});

test('logits are argmaxed; binary weighted accuracy equals (TP·N/P + TN) / 2N', () => {
  const logits = [
    [0.1, 2],
    [3, 1],
    [0, 1],
    [2, 0],
    [1, 0],
  ];
  const truth = [1, 1, 1, 0, 0];
  const r = classificationReport(logits, truth);
  const tp = 2;
  const tn = 2;
  const p = 3;
  const n = 2;
  close(r.weightedAccuracy, (tp * (n / p) + tn) / (2 * n), 1e-12);
  assert.throws(() => classificationReport([0, 1], [0]), ShapeError);
  assert.throws(() => classificationReport([0, 1.5], [0, 1]), InputError);
  assert.throws(() => classificationReport([0, 3], [0, 1], { labels: ['x', 'y'] }), /outside the 2 classes/);
});

test('np.round semantics (half to even) and Pearson', () => {
  assert.deepEqual([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4].map(roundHalfEven), [-2, -2, -0, 0, 2, 2, 2]);
  close(pearson([1, 2, 3], [2, 4, 6.5]), 4.5 / Math.sqrt(2 * (366 / 36)), 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1], [1, 2])));
});

test('MOSI metrics: Has0/Non0 Acc-2, Acc-5, Acc-7, MAE, Corr by hand', () => {
  const truth = [-2.6, -1, 0, 0.4, 1.5, 3];
  const pred = [-3, 0.2, 0.1, -0.2, 2.5, 2.4];
  const m = mosiMetrics(pred, truth);
  // has0: truth >= 0 -> [0,0,1,1,1,1], pred >= 0 -> [0,1,1,0,1,1]: 4/6
  close(m.has0Acc2, 4 / 6, 1e-12);
  // non0 drops truth == 0: truth > 0 [0,0,1,1,1], pred > 0 [0,1,0,1,1]: 3/5
  close(m.non0Acc2, 3 / 5, 1e-12);
  // acc7: rounded clip3 truth [-3,-1,0,0,2,3] pred [-3,0,0,-0,2,2] -> matches at 0,2,3,4 = 4/6
  close(m.acc7, 4 / 6, 1e-12);
  // acc5: clip2 truth [-2,-1,0,0,2,2] pred [-2,0,0,0,2,2] -> 5/6
  close(m.acc5, 5 / 6, 1e-12);
  close(m.mae, (0.4 + 1.2 + 0.1 + 0.6 + 1 + 0.6) / 6, 1e-12);
  assert.ok(m.corr > 0.9 && m.corr <= 1);
  // weighted F1 for has0: classes {0: truth 2, 1: truth 4}; class0 P=1/2 R=1/2 F1=.5; class1 P=3/4 R=3/4
  close(m.has0F1, (0.5 * 2 + 0.75 * 4) / 6, 1e-12);
});

test('IEMOCAP per-emotion accuracy and weighted F1 from 2-way logits', () => {
  const logits = { dtype: 'float32' as const, shape: [2, 2, 2], data: new Float32Array([0, 1, 1, 0, 1, 0, 1, 0]) };
  const truth = { dtype: 'float32' as const, shape: [2, 2], data: new Float32Array([1, 0, 0, 1]) };
  const r = iemocapMetrics(logits, truth, ['Happy', 'Sad']);
  assert.equal(r.Happy.accuracy, 1);
  assert.equal(r.Sad.accuracy, 0.5);
  assert.throws(() => iemocapMetrics(logits, truth, ['Happy', 'Sad', 'Angry']), ShapeError);
});
