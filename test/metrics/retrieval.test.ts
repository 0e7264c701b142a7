import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retrieval, rankMetrics, multiCaptionRetrieval, infoNceBound } from '../../src/metrics/index.js';
import { ShapeError, InputError } from '../../src/util/errors.js';
import { close, dot, normalize, pairedEmbeddings, referenceRanks, rows } from './helpers.js';

test('hand-computed 3-pair case: ranks, recall, mAP@10, mean/median rank (CLAP conventions)', async () => {
  // a0 matches b0; a1 prefers b2 over b1 (rank 1); a2 prefers b0, b1 over b2 (rank 2)
  const a = [
    [1, 0],
    [0, 1],
    [1, 0.1],
  ];
  const b = [
    [1, 0],
    [0.6, 0.8],
    [0.1, 1],
  ];
  const r = await retrieval(a, b, { precision: 'float64' });
  assert.deepEqual(Array.from(r.aToB.ranks), [0, 1, 2]);
  close(r.aToB.recall['R@1'], 1 / 3, 1e-12);
  close(r.aToB.recall['R@5'], 1, 1e-12);
  close(r.aToB['mAP@10'], (1 + 1 / 2 + 1 / 3) / 3, 1e-12);
  close(r.aToB.meanRank, 2, 1e-12); // mean(0,1,2) + 1
  assert.equal(r.aToB.medianRank, 2); // floor(1) + 1
});

test('matches a plain float64 reference on random data, both directions and precisions', async () => {
  const { a, b } = pairedEmbeddings(150, 12, 1.2, 3);
  const want = referenceRanks(rows(a), rows(b));
  const wantT = referenceRanks(rows(b), rows(a));
  for (const precision of ['float32', 'float64'] as const) {
    const r = await retrieval(a, b, { precision, blockRows: 40 });
    assert.deepEqual(Array.from(r.aToB.ranks), want, `a->b ${precision}`);
    assert.deepEqual(Array.from(r.bToA.ranks), wantT, `b->a ${precision}`);
    close(r.aToB.recall['R@10'], want.filter((x) => x < 10).length / want.length, 1e-12);
  }
});

test('InfoNCE bound equals log N minus the reference cross-entropy and never exceeds log N', async () => {
  const { a, b } = pairedEmbeddings(60, 8, 0.5, 4);
  const an = rows(a).map(normalize);
  const bn = rows(b).map(normalize);
  const t = 0.1;
  let loss = 0;
  for (let i = 0; i < an.length; i++) {
    const z = bn.map((c) => dot(an[i], c) / t);
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    loss += lse - z[i];
  }
  loss /= an.length;
  const nce = await infoNceBound(a, b, { temperature: t, precision: 'float64' });
  close(nce.aToB, Math.log(60) - loss, 1e-9, 'InfoNCE a->b');
  assert.ok(nce.mean <= Math.log(60) + 1e-12);
  await assert.rejects(infoNceBound(a, b, { temperature: 0 }), InputError);
});

test('identical (collapsed) embeddings score at chance through expected tie-breaking', async () => {
  const n = 8;
  const same = Array.from({ length: n }, () => [0.3, -1, 2]);
  const r = await retrieval(same, same, { precision: 'float64' });
  close(r.aToB.recall['R@1'], 1 / n, 1e-12);
  close(r.aToB.recall['R@5'], 5 / n, 1e-12);
  close(r.bToA.meanRank, (n + 1) / 2, 1e-12);
  let map = 0;
  for (let k = 1; k <= n; k++) map += 1 / k;
  close(r.aToB['mAP@10'], map / n, 1e-12);
});

test('all-zero vectors are ties, not NaNs', async () => {
  const z = [
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  const r = await retrieval(z, z, { precision: 'float32' });
  close(r.aToB.recall['R@1'], 1 / 3, 1e-12);
  assert.ok(Number.isFinite(r.infoNce!.mean));
});

test('N = 1 is perfect retrieval and a zero InfoNCE bound', async () => {
  const r = await retrieval([[1, 2, 3]], [[3, 2, 1]]);
  assert.equal(r.aToB.recall['R@1'], 1);
  assert.equal(r.aToB.meanRank, 1);
  close(r.infoNce!.mean, 0, 1e-6);
});

test('invariant to permuting pairs together and to scaling embeddings', async () => {
  const { a, b } = pairedEmbeddings(50, 6, 1.5, 5);
  const base = await retrieval(a, b);
  const ra = rows(a);
  const rb = rows(b);
  const perm = Array.from({ length: 50 }, (_, i) => (i * 17) % 50);
  const p = await retrieval(
    perm.map((i) => ra[i]),
    perm.map((i) => rb[i]),
  );
  assert.deepEqual(
    Array.from(p.aToB.ranks),
    perm.map((i) => base.aToB.ranks[i]),
  );
  const s = await retrieval(
    ra.map((r) => r.map((v) => v * 7.5)),
    rb.map((r) => r.map((v) => v * 0.01)),
  );
  assert.deepEqual(Array.from(s.aToB.ranks), Array.from(base.aToB.ranks));
  assert.deepEqual(s.bToA.recall, base.bToA.recall);
});

test('bad input gives typed errors naming the argument', async () => {
  await assert.rejects(
    retrieval([[1, NaN]], [[1, 2]]),
    (e: unknown) => e instanceof ShapeError && /a contains NaN at row 0, column 1/.test((e as Error).message),
  );
  await assert.rejects(
    retrieval(
      [
        [1, 2],
        [3, 4],
      ],
      [[1, 2]],
    ),
    (e: unknown) => e instanceof ShapeError && /rows must be paired/.test((e as Error).message),
  );
  await assert.rejects(retrieval([[1, 2]], [[1, 2, 3]]), ShapeError);
  await assert.rejects(
    retrieval({ dtype: 'float32', shape: [2, 2, 2], data: new Float32Array(8) }, [[1]]),
    /expected \[N, D\]/,
  );
  await assert.rejects(retrieval([], []), InputError);
});

test('rankMetrics: fractional expectation under ties', () => {
  // one query with 1 strictly better and 2 tied candidates: rank uniform on {1, 2, 3}
  const m = rankMetrics([1], [2], [1, 2, 3]);
  close(m.recall['R@1'], 0, 1e-12);
  close(m.recall['R@2'], 1 / 3, 1e-12);
  close(m.recall['R@3'], 2 / 3, 1e-12);
  close(m['mAP@10'], (1 / 2 + 1 / 3 + 1 / 4) / 3, 1e-12);
  close(m.meanRank, 3, 1e-12);
});

test('multi-caption protocol: audio->text uses the best caption, mAP counts every caption', async () => {
  const audio = [
    [1, 0],
    [0, 1],
  ];
  // clip 0 captions: one exact, one pointing at clip 1; clip 1 captions: both exact
  const text = [
    [1, 0],
    [0, 1],
    [0, 1],
    [0.1, 1],
  ];
  const r = await multiCaptionRetrieval(audio, text, 2);
  assert.equal(r.audioToText.recall['R@1'], 1);
  // text->audio: captions 0, 2, 3 rank their clip first; caption 1 (of clip 0) ranks it second
  close(r.textToAudio.recall['R@1'], 3 / 4, 1e-12);
  await assert.rejects(multiCaptionRetrieval(audio, text, 3), ShapeError);
});
