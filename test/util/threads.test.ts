import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ffmpegThreadArgs, threadBudget, threadCap, threadsPerWorker } from '../../src/util/threads.js';
import { sessionOptions } from '../../src/engine/runtime.js';
import { ProcessPool } from '../../src/jobs/pool.js';
import { ConfigError } from '../../src/util/errors.js';

test('threadsPerWorker: cores shared out, at least one each', () => {
  const rows: [workers: number, cores: number, expected: number][] = [
    [1, 2, 2],
    [2, 2, 1],
    [3, 2, 1],
    [2, 16, 8],
    [3, 16, 5],
    [0, 4, 4],
  ];
  for (const [workers, cores, expected] of rows)
    assert.equal(threadsPerWorker(workers, cores), expected, `${workers}/${cores}`);
});

test('ATTUNE_THREADS: unset means no cap; a bad value is a ConfigError naming the variable', () => {
  assert.equal(threadCap({}), undefined);
  assert.equal(threadCap({ ATTUNE_THREADS: '' }), undefined);
  assert.equal(threadCap({ ATTUNE_THREADS: '3' }), 3);
  assert.equal(threadBudget({ ATTUNE_THREADS: '1' }), 1);
  assert.ok(threadBudget({}) >= 1);
  for (const bad of ['0', '-2', '1.5', 'two']) {
    assert.throws(
      () => threadCap({ ATTUNE_THREADS: bad }),
      (e: unknown) => e instanceof ConfigError && /ATTUNE_THREADS/.test(e.message) && e.message.includes(bad),
    );
  }
  assert.deepEqual(ffmpegThreadArgs({}), []);
  assert.deepEqual(ffmpegThreadArgs({ ATTUNE_THREADS: '1' }), ['-threads', '1', '-filter_threads', '1']);
});

test('the cap reaches ONNX Runtime sessions and the process pool', async () => {
  const saved = process.env.ATTUNE_THREADS;
  try {
    process.env.ATTUNE_THREADS = '1';
    assert.equal(sessionOptions().intraOpNumThreads, 1);
    assert.equal(sessionOptions({ threads: 3 }).intraOpNumThreads, 3, 'an explicit count wins');
    assert.equal(new ProcessPool(1).threads, 1, 'a cap the user set is kept');
    delete process.env.ATTUNE_THREADS;
    assert.equal(new ProcessPool(2).threads, threadsPerWorker(2));
    assert.equal(new ProcessPool(2, 1, 4).threads, 4);
  } finally {
    if (saved === undefined) delete process.env.ATTUNE_THREADS;
    else process.env.ATTUNE_THREADS = saved;
  }
});
