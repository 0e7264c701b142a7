/**
 * A local pool of worker processes (node:child_process fork of pool_child.ts), one job at a time each. A worker
 * that dies mid-job (crash, out of memory, killed) is replaced and the job is tried again, up to `attempts` times in
 * all; an item failure (unreadable file) is returned at once, never retried.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Executor } from './executor.js';
import { THREADS_VAR, threadCap, threadsPerWorker } from '../util/threads.js';
import { secs, type JobOk, type JobReply, type JobRequest, type WireError } from './types.js';

const CHILD = fileURLToPath(new URL('./pool_child.js', import.meta.url));

type Answer = { type: 'done'; out: JobOk } | { type: 'error'; error: WireError } | { type: 'exit'; why: string };

class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly name: string;
  private pending: { id: number; resolve: (a: Answer) => void } | null = null;
  private nextId = 0;
  dead = false;

  constructor(index: number, threads: number) {
    // The child's stdout goes to our stderr: --json output on stdout stays clean.
    this.proc = fork(CHILD, [], {
      serialization: 'advanced',
      stdio: ['ignore', 2, 'inherit', 'ipc'],
      env: { ...process.env, [THREADS_VAR]: String(threads) },
    });
    this.name = `${hostname()}:${process.pid}/${index}`;
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: { type: string }) => {
        if (m.type === 'ready') {
          this.proc.off('message', onMsg);
          resolve();
        }
      };
      this.proc.on('message', onMsg);
      this.proc.once('exit', (code, signal) =>
        reject(new Error(`worker process exited before it was ready (${signal ?? `code ${code}`})`)),
      );
    });
    this.ready.catch(() => undefined);
    this.proc.on('message', (m: { type: string; id?: number; out?: JobOk; error?: WireError }) => {
      if (!this.pending || m.id !== this.pending.id) return;
      const p = this.pending;
      this.pending = null;
      p.resolve(m.type === 'done' ? { type: 'done', out: m.out! } : { type: 'error', error: m.error! });
    });
    this.proc.once('exit', (code, signal) => {
      this.dead = true;
      const p = this.pending;
      this.pending = null;
      p?.resolve({
        type: 'exit',
        why: `worker process ${this.proc.pid} exited (${signal ?? `code ${code}`}) during the job`,
      });
    });
  }

  async send(req: JobRequest): Promise<Answer> {
    try {
      await this.ready;
    } catch (err) {
      return { type: 'exit', why: (err as Error).message };
    }
    if (this.dead) return { type: 'exit', why: 'worker process is gone' };
    return new Promise((resolve) => {
      this.pending = { id: ++this.nextId, resolve };
      this.proc.send({ type: 'run', id: this.nextId, req }, (err) => {
        if (err && this.pending?.id === this.nextId) {
          this.pending = null;
          resolve({ type: 'exit', why: `cannot reach worker process ${this.proc.pid}: ${err.message}` });
        }
      });
    });
  }

  close(): void {
    if (this.dead) return;
    if (this.proc.connected) this.proc.send({ type: 'close' });
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    t.unref();
    this.proc.once('exit', () => clearTimeout(t));
  }
}

export class ProcessPool implements Executor {
  readonly name: string;
  readonly capacity: number;
  readonly threads: number;
  private readonly idle: Child[] = [];
  private readonly waiting: ((c: Child) => void)[] = [];
  private readonly all = new Set<Child>();
  private spawned = 0;
  private closed = false;

  constructor(
    size: number,
    private readonly attempts = 3,
    threads?: number,
  ) {
    this.capacity = Math.max(1, Math.floor(size));
    // Workers share the cores: each gets cores / workers threads (a cap the user set is kept), or the pool's
    // processes oversubscribe the machine and take turns (docs/scale.md).
    this.threads = threads ?? threadCap() ?? threadsPerWorker(this.capacity);
    this.name = `pool of ${this.capacity} process${this.capacity > 1 ? 'es' : ''}, ${this.threads} thread${this.threads > 1 ? 's' : ''} each`;
  }

  /** Starts every worker now (they load lazily otherwise). */
  warm(): Promise<void> {
    while (this.spawned < this.capacity) this.idle.push(this.spawn());
    return Promise.all(this.idle.map((c) => c.ready)).then(() => undefined);
  }

  private spawn(): Child {
    const c = new Child(this.spawned++, this.threads);
    this.all.add(c);
    c.proc.once('exit', () => this.all.delete(c));
    return c;
  }

  private acquire(): Promise<Child> {
    while (this.idle.length) {
      const c = this.idle.pop()!;
      if (!c.dead) return Promise.resolve(c);
    }
    if (this.all.size < this.capacity) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(c: Child): void {
    const next = this.waiting.shift();
    if (next) next(c.dead ? this.spawn() : c);
    else if (!c.dead) this.idle.push(c);
  }

  async run(req: JobRequest): Promise<JobReply> {
    if (this.closed) throw new Error('the worker pool is closed');
    const t0 = performance.now();
    let last = '';
    let worker = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const child = await this.acquire();
      worker = child.name;
      const a = await child.send(req);
      if (a.type === 'exit') child.dead = true;
      this.release(child);
      const done = { seconds: secs(performance.now() - t0), worker, attempts: attempt };
      if (a.type === 'done') return { ...a.out, ...done };
      if (a.type === 'error' && a.error.item)
        return { status: 'failed', error: a.error.message, code: a.error.code, ...done };
      last = a.type === 'exit' ? a.why : a.error.message.split('\n')[0];
    }
    return {
      status: 'failed',
      error: `failed ${this.attempts} time(s): ${last}`,
      code: 'WORKER',
      seconds: secs(performance.now() - t0),
      worker,
      attempts: this.attempts,
    };
  }

  /** The pids of the live worker processes (tests kill one). */
  pids(): number[] {
    return [...this.all].filter((c) => !c.dead).map((c) => c.proc.pid!);
  }

  async close(): Promise<void> {
    this.closed = true;
    const live = [...this.all].filter((c) => !c.dead);
    await Promise.all(
      live.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
            c.proc.once('exit', () => resolve());
            c.close();
          }),
      ),
    );
  }
}
