/**
 * Many machines: the same jobs on a BullMQ queue in Redis. The submitter (`attune sync|features|index ... --queue
 * redis://HOST:PORT`) adds one job per file, with the result key as the job id, so a job is idempotent: adding it
 * again (a re-run, a second submitter) finds the existing job, and a finished one is answered from Redis without
 * running again. `attune worker --queue ...` processes on any number of machines take jobs and run them in their
 * own local pool of worker processes; the worker's main process only talks to Redis, so its lock on a job is renewed
 * on time however busy the pool is. A worker that dies (even SIGKILL) mid-job stops renewing its lock: BullMQ's
 * stalled-job check (in every live worker) puts the job back in the queue, and another worker takes it. A job whose
 * worker fails (crash, lost worker, internal error) is retried up to `attempts` times; a bad file is an answer
 * (status failed, with its reason), not a retry. The submitter writes each file's line once, whatever the workers did.
 */
import { hostname } from 'node:os';
import type { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { InputError } from '../util/errors.js';
import type { Executor } from './executor.js';
import { ProcessPool } from './pool.js';
import {
  decodeTensors,
  encodeTensors,
  secs,
  type EncodedTensor,
  type JobItem,
  type JobReply,
  type JobRequest,
} from './types.js';

export const DEFAULT_QUEUE_NAME = 'attune-jobs';
const PREFIX = 'attune';

export interface RedisTarget {
  host: string;
  port: number;
  db?: number;
  username?: string;
  password?: string;
  tls?: boolean;
}

/** redis://[user:pass@]HOST[:PORT][/DB] (or rediss:// for TLS); the host defaults to 127.0.0.1, the port to 6379. */
export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    const full = /^[a-z]+:\/\//i.test(url) ? url : `redis://${url}`;
    u = new URL(full.replace(/^(rediss?:\/\/(?:[^@/]*@)?)(?=:|\/|$)/i, '$1127.0.0.1'));
  } catch {
    throw new InputError(`--queue expects redis://HOST:PORT, got "${url}"`, { field: '--queue', got: url });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new InputError(`--queue expects redis://HOST:PORT, got "${url}"`, { field: '--queue', got: url });
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || (db !== undefined && !Number.isInteger(db))) {
    throw new InputError(`--queue expects redis://HOST:PORT[/DB], got "${url}"`, { field: '--queue', got: url });
  }
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port,
    ...(db !== undefined ? { db } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: true } : {}),
  };
}

function connection(t: RedisTarget): Record<string, unknown> {
  const { tls, ...rest } = t;
  return { ...rest, ...(tls ? { tls: {} } : {}), maxRetriesPerRequest: null };
}

export function describeTarget(t: RedisTarget): string {
  return `redis://${t.host}:${t.port}${t.db !== undefined ? `/${t.db}` : ''}`;
}

/** What a worker returns (JSON in Redis). */
interface WireReply {
  status: 'ok' | 'failed';
  record?: Record<string, unknown>;
  tensors?: Record<string, EncodedTensor>;
  error?: string;
  code?: string;
  seconds: number;
  worker: string;
  attempts: number;
}

const jobIdOf = (req: JobRequest): string => `${req.kind}-${req.key}`;

/** Fails fast (with what to do) when Redis cannot be reached, instead of retrying forever. */
async function reachable(t: RedisTarget, timeoutMs = 5000): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis({
    ...connection(t),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw new InputError(
      `cannot reach the queue at ${describeTarget(t)}: ${(err as Error).message}; is redis-server running there (docs/scale.md)?`,
      { field: '--queue' },
    );
  } finally {
    r.disconnect();
  }
}

export interface QueueExecutorOptions {
  url: string;
  name?: string;
  attempts: number;
  inFlight?: number;
  retryFailed?: boolean;
  quiet?: boolean;
}

export class QueueExecutor implements Executor {
  readonly name: string;
  readonly capacity: number;
  private readonly waiters = new Map<string, (r: JobReply) => void>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private workers = 0;
  private hinted = false;
  private readonly started = Date.now();

  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly JobClass: typeof Job,
    private readonly o: QueueExecutorOptions,
    target: RedisTarget,
  ) {
    this.name = `queue ${this.queue.name} at ${describeTarget(target)}`;
    this.capacity = Math.max(1, o.inFlight ?? 1000);
  }

  static async open(o: QueueExecutorOptions): Promise<QueueExecutor> {
    const target = parseRedisUrl(o.url);
    await reachable(target);
    const { Queue, QueueEvents, Job } = await import('bullmq');
    const name = o.name ?? DEFAULT_QUEUE_NAME;
    const queue = new Queue(name, { connection: connection(target), prefix: PREFIX });
    const events = new QueueEvents(name, { connection: connection(target), prefix: PREFIX });
    queue.on('error', () => undefined);
    events.on('error', () => undefined);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const ex = new QueueExecutor(queue, events, Job, o, target);
    events.on('completed', ({ jobId, returnvalue }) =>
      ex.settle(jobId, fromWire(returnvalue as unknown as WireReply | string)),
    );
    events.on('failed', ({ jobId }) => void ex.check(jobId));
    // Events can be missed (a reconnect, a job finished before we listened): a sweep asks Redis for the state of
    // what we still wait for.
    ex.sweepTimer = setInterval(() => void ex.sweep(), 2000);
    return ex;
  }

  status(): Record<string, string | number> {
    return { workers: this.workers };
  }

  async run(req: JobRequest): Promise<JobReply> {
    const id = jobIdOf(req);
    const done = new Promise<JobReply>((resolve) => {
      const prev = this.waiters.get(id);
      // The same file twice in one run (same content, e.g. a copy): both wait for the one job.
      this.waiters.set(
        id,
        prev
          ? (r) => {
              prev(r);
              resolve(r);
            }
          : resolve,
      );
    });
    const existing = await this.JobClass.fromId(this.queue, id);
    if (existing) {
      const state = await existing.getState();
      if (state === 'completed') {
        const r = fromWire(existing.returnvalue as WireReply);
        if (r.status === 'failed' && this.o.retryFailed) {
          await existing.remove().catch(() => undefined);
          await this.add(id, req);
        } else this.settle(id, r);
      } else if (state === 'failed') {
        await existing.retry('failed').catch(() => this.add(id, req));
      }
    } else {
      await this.add(id, req);
    }
    return done;
  }

  private async add(id: string, req: JobRequest): Promise<void> {
    await this.queue.add(req.kind, req, {
      jobId: id,
      attempts: this.o.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600, count: 50_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  private settle(id: string, r: JobReply): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    w(r);
  }

  /** A 'failed' event is sent for every failed attempt; only a job out of attempts is final. */
  private async check(id: string): Promise<void> {
    if (!this.waiters.has(id)) return;
    const job = await this.JobClass.fromId(this.queue, id).catch(() => undefined);
    if (!job) return;
    const state = await job.getState().catch(() => 'unknown');
    if (state === 'completed') this.settle(id, fromWire(job.returnvalue as WireReply));
    else if (state === 'failed') {
      this.settle(id, {
        status: 'failed',
        error: `failed ${job.attemptsMade} time(s) on the workers: ${String(job.failedReason ?? 'unknown reason').split('\n')[0]}`,
        code: 'WORKER',
        seconds: secs((job.finishedOn ?? Date.now()) - (job.processedOn ?? job.timestamp)),
        worker: job.processedBy ?? '?',
        attempts: job.attemptsMade,
      });
    }
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      this.workers = await this.queue.getWorkersCount().catch(() => this.workers);
      if (
        !this.hinted &&
        !this.o.quiet &&
        this.workers === 0 &&
        this.waiters.size > 0 &&
        Date.now() - this.started > 10_000
      ) {
        this.hinted = true;
        process.stderr.write(
          `no worker is connected to ${this.name} yet; start some with: attune worker --queue ${this.o.url}${this.o.name ? ` --queue-name ${this.o.name}` : ''}\n`,
        );
      }
      for (const id of [...this.waiters.keys()].slice(0, 500)) {
        const state = await this.queue.getJobState(id).catch(() => 'error');
        if (state === 'completed' || state === 'failed') await this.check(id);
      }
    } finally {
      this.sweeping = false;
    }
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await Promise.all([this.events.close().catch(() => undefined), this.queue.close().catch(() => undefined)]);
  }
}

function fromWire(w: WireReply | string): JobReply {
  const r = (typeof w === 'string' ? JSON.parse(w) : w) as WireReply;
  const meta = { seconds: r.seconds, worker: r.worker, attempts: r.attempts };
  if (r.status === 'ok') return { status: 'ok', record: r.record ?? {}, tensors: decodeTensors(r.tensors), ...meta };
  return { status: 'failed', error: r.error ?? 'failed', code: r.code, ...meta };
}

export interface QueueWorkerOptions {
  url: string;
  name?: string;
  /** worker processes on this machine (jobs at once) */
  jobs: number;
  /** ms a job's lock lasts without renewal (renewed every half); a dead worker's job is taken again after it */
  lockDuration?: number;
  /** ms between stalled-job checks */
  stalledInterval?: number;
  /** times a job may be taken back from a dead worker before it fails */
  maxStalledCount?: number;
  /** FROM=TO prefixes: where the submitter's paths are on this machine */
  pathMap?: [string, string][];
  /** log each job start/end on stderr */
  log?: (line: string) => void;
}

export interface RunningWorker {
  target: string;
  close(): Promise<void>;
  /** resolves when the worker has stopped */
  closed: Promise<void>;
}

/** `attune worker`: takes jobs from the queue until closed (SIGINT / SIGTERM in the CLI). */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<RunningWorker> {
  const target = parseRedisUrl(o.url);
  await reachable(target);
  const { Worker } = await import('bullmq');
  const pool = new ProcessPool(o.jobs, 1);
  await pool.warm();
  const me = `${hostname()}:${process.pid}`;
  const log = o.log ?? (() => undefined);
  const map = (p: string | undefined): string | undefined => {
    if (p === undefined) return p;
    for (const [from, to] of o.pathMap ?? [])
      if (p === from || p.startsWith(from.endsWith('/') ? from : `${from}/`)) return to + p.slice(from.length);
    return p;
  };
  const worker: Worker = new Worker(
    o.name ?? DEFAULT_QUEUE_NAME,
    async (job: Job) => {
      const req = job.data as JobRequest;
      const item: JobItem = {
        ...req.item,
        path: map(req.item.path)!,
        video: map(req.item.video),
        audio: map(req.item.audio),
      };
      const options =
        typeof req.options.model === 'string' ? { ...req.options, model: map(req.options.model) } : req.options;
      log(`start ${job.id} ${req.kind} ${item.source} (attempt ${job.attemptsMade + 1})`);
      const r = await pool.run({ ...req, item, options });
      if (r.status === 'failed' && r.code === 'WORKER') {
        log(`error ${job.id} ${r.error}`);
        throw new Error(r.error); // a failed attempt: BullMQ retries it (bounded by the job's attempts)
      }
      log(`done ${job.id} ${r.status}${r.status === 'failed' ? `: ${r.error}` : ''} ${r.seconds.toFixed(2)} s`);
      const wire: WireReply =
        r.status === 'ok'
          ? {
              status: 'ok',
              record: r.record,
              tensors: encodeTensors(r.tensors),
              seconds: r.seconds,
              worker: me,
              attempts: job.attemptsMade + 1,
            }
          : {
              status: 'failed',
              error: r.error,
              code: r.code,
              seconds: r.seconds,
              worker: me,
              attempts: job.attemptsMade + 1,
            };
      return wire;
    },
    {
      connection: connection(target),
      prefix: PREFIX,
      concurrency: o.jobs,
      name: me,
      lockDuration: o.lockDuration ?? 30_000,
      stalledInterval: o.stalledInterval ?? 30_000,
      maxStalledCount: o.maxStalledCount ?? 2,
    },
  );
  worker.on('error', (err) => log(`redis: ${err.message}`));
  await worker.waitUntilReady();
  let closing: Promise<void> | null = null;
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  return {
    target: describeTarget(target),
    closed,
    close() {
      closing ??= (async () => {
        // Graceful: the jobs in hand finish. Without Redis (gone, unreachable) that never completes: give up after 30 s
        // (a job in hand is then taken again by another worker, as after a crash).
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000).unref());
        if ((await Promise.race([worker.close(), timeout])) === 'timeout')
          void worker.close(true).catch(() => undefined);
        await pool.close();
        done();
      })();
      return closing;
    },
  };
}
