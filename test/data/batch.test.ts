import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBatchSummary, runBatch } from '../../src/data/batch.js';
import { MediaError } from '../../src/util/errors.js';

test('a bad item is recorded and the job goes on', async () => {
  const items = [
    { id: 'a', v: 1 },
    { id: 'b', v: -1 },
    { id: 'c', v: 3 },
    { id: 'd', v: -2 },
    { id: 'e', v: 5 },
  ];
  const r = await runBatch(
    items,
    async (it) => {
      await new Promise((res) => setTimeout(res, it.v > 0 ? 5 : 1));
      if (it.v === -1) throw new MediaError('b.mp4: no video stream', { file: 'b.mp4' });
      if (it.v < 0) throw new Error('plain failure\nsecond line');
      return it.v * 10;
    },
    { concurrency: 3, quiet: true },
  );
  assert.equal(r.total, 5);
  assert.equal(r.succeeded, 3);
  assert.deepEqual(r.results, [10, undefined, 30, undefined, 50]);
  assert.deepEqual(
    r.failed.map((f) => [f.index, f.id, f.error, f.code]),
    [
      [1, 'b', 'b.mp4: no video stream', 'MEDIA'],
      [3, 'd', 'plain failure', undefined],
    ],
  );
  const text = formatBatchSummary(r);
  assert.match(text, /^3\/5 ok, 2 failed/);
  assert.match(text, /\n {2}b: b\.mp4: no video stream/);
});

test('concurrency is bounded', async () => {
  let running = 0;
  let peak = 0;
  await runBatch(
    Array.from({ length: 12 }, (_, i) => i),
    async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((res) => setTimeout(res, 3));
      running--;
    },
    { concurrency: 3, quiet: true },
  );
  assert.equal(peak, 3);
});
