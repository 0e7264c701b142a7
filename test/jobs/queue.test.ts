/**
 * The queue end to end: a private redis-server on 127.0.0.1, three `attune worker` processes, `attune sync` jobs
 * over AV-Synth clips. Skipped (with the reason) when redis-server is not installed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJobs } from '../../src/jobs/submit.js';
import { parseRedisUrl } from '../../src/jobs/queue.js';
import { readResults, startRedis, startWorker, synthClips, type TestRedis, type TestWorker } from './helpers.js';

let dir = '';
let media = '';
let redis: TestRedis | string = '';
const workers: TestWorker[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-queue-'));
  redis = await startRedis(dir);
  if (typeof redis === 'string') return;
  const clips = await synthClips(join(dir, 'synth'), 8);
  media = join(dir, 'media');
  mkdirSync(media);
  for (const c of clips) copyFileSync(c, join(media, c.slice(c.lastIndexOf('/') + 1)));
  writeFileSync(join(media, 'corrupt.mp4'), 'not a video at all'.repeat(30));
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  if (typeof redis !== 'string') await redis.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('parseRedisUrl: host, port and db, 127.0.0.1:6379 by default', () => {
  assert.deepEqual(parseRedisUrl('redis://10.0.0.5:6390/2'), { host: '10.0.0.5', port: 6390, db: 2 });
  assert.deepEqual(parseRedisUrl('redis://:7000'), { host: '127.0.0.1', port: 7000 });
  assert.deepEqual(parseRedisUrl('localhost'), { host: 'localhost', port: 6379 });
  assert.throws(() => parseRedisUrl('http://x:1'), /--queue expects redis:\/\/HOST:PORT/);
});

test('3 workers, one SIGKILLed mid-job: its job is taken again, every file is in the results exactly once', async (t) => {
  if (typeof redis === 'string') return t.skip(redis);
  const url = redis.url;
  const queueName = `test-${process.pid}-kill`;
  for (let i = 0; i < 3; i++) workers.push(startWorker(url, queueName));
  await Promise.all(workers.map((w) => w.waitFor(/ready:/)));
  // Kill the first worker the moment it starts its second job (it is then mid-job: decoding).
  const victim = workers[0];
  let started = 0;
  let killedJob = '';
  victim.onLine((l) => {
    const m = /start (\S+)/.exec(l);
    if (m && ++started === 2 && !killedJob) {
      killedJob = m[1];
      victim.proc.kill('SIGKILL');
    }
  });
  const out = join(dir, 'out-kill');
  const s = await runJobs({
    kind: 'sync',
    input: media,
    out,
    options: { method: 'xcorr' },
    queue: url,
    queueName,
    quiet: true,
  });
  assert.ok(killedJob, 'the victim never started a second job');
  assert.equal(victim.proc.signalCode, 'SIGKILL');
  assert.equal(s.total, 9);
  assert.equal(s.ok, 8, JSON.stringify(s.failures));
  assert.equal(s.failed, 1);
  assert.match(s.failures[0].error, /corrupt\.mp4/);
  const lines = readResults(out);
  assert.deepEqual(
    lines.map((l) => l.id).sort(),
    [...Array.from({ length: 8 }, (_, i) => `clip${String(i).padStart(6, '0')}`), 'corrupt'].sort(),
  );
  // The killed job was finished by one of the two survivors.
  const retaken = lines.find((l) => `sync-${l.key}` === killedJob);
  assert.ok(retaken, `no result for the killed job ${killedJob}`);
  assert.equal(retaken.status, 'ok');
  assert.ok(
    !String(retaken.worker).endsWith(`:${victim.proc.pid}`),
    `the result came from the killed worker: ${String(retaken.worker)}`,
  );
  assert.ok(
    workers.slice(1).some((w) => w.lines.some((l) => l.includes(`start ${killedJob}`))),
    'no survivor took the killed job',
  );
});

test('jobs are idempotent: a second submission is answered from the queue without running anything again', async (t) => {
  if (typeof redis === 'string') return t.skip(redis);
  const queueName = `test-${process.pid}-kill`;
  const startsBefore = workers.reduce((n, w) => n + w.lines.filter((l) => / start /.test(l)).length, 0);
  // A fresh --out (nothing to resume from there): every finished job is collected from Redis.
  const s = await runJobs({
    kind: 'sync',
    input: media,
    out: join(dir, 'out-again'),
    options: { method: 'xcorr' },
    queue: redis.url,
    queueName,
    quiet: true,
  });
  assert.equal(s.ok, 8);
  assert.equal(s.resumed, 0);
  const startsAfter = workers.reduce((n, w) => n + w.lines.filter((l) => / start /.test(l)).length, 0);
  assert.equal(startsAfter, startsBefore, 'a worker ran a job again');
  // The same --out again: nothing even reaches the queue.
  const r = await runJobs({
    kind: 'sync',
    input: media,
    out: join(dir, 'out-kill'),
    options: { method: 'xcorr' },
    queue: redis.url,
    queueName,
    quiet: true,
  });
  assert.equal(r.resumed, 9);
  assert.equal(readResults(join(dir, 'out-kill')).length, 9);
});
