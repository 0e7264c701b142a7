import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readRecords } from '../../src/media/chunker.js';

test('readRecords cuts a stream into fixed records, keeps order, yields a short tail, and bounds read-ahead', async () => {
  const src = new PassThrough();
  const total = 10 * 1000 + 123;
  const bytes = Uint8Array.from({ length: total }, (_, i) => i % 251);
  // Feed in odd-sized pieces.
  let fed = 0;
  const feed = (): void => {
    while (fed < total) {
      const n = Math.min(777, total - fed);
      const ok = src.write(bytes.subarray(fed, fed + n));
      fed += n;
      if (!ok) return void src.once('drain', feed);
    }
    src.end();
  };
  feed();
  const seen: Uint8Array[] = [];
  let sawPause = false;
  for await (const rec of readRecords(src, 1000, 4000)) {
    sawPause ||= src.isPaused();
    seen.push(rec);
    await new Promise((r) => setImmediate(r)); // a slow consumer
  }
  assert.ok(sawPause, 'the source is paused once 4 records (4000 bytes) are queued');
  assert.equal(seen.length, 11);
  assert.ok(seen.slice(0, 10).every((r) => r.length === 1000));
  assert.equal(seen[10].length, 123);
  const joined = new Uint8Array(total);
  let off = 0;
  for (const r of seen) {
    joined.set(r, off);
    off += r.length;
  }
  assert.deepEqual(joined, bytes);
});

test('readRecords surfaces stream errors', async () => {
  const src = new PassThrough();
  src.write(new Uint8Array(10));
  setImmediate(() => src.destroy(new Error('pipe broke')));
  await assert.rejects(async () => {
    for await (const _ of readRecords(src, 4)) void _;
  }, /pipe broke/);
});
