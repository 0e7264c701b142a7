import { Worker } from 'node:worker_threads';
import { HostArray } from '../io/array.js';
import { AttuneError, ConfigError, InputError, NumericError, ShapeError } from '../util/errors.js';
import { RngState } from '../util/rng.js';
import { LocalRunner, RunResult, Runner, RunnerSpec } from './runner.js';

/**
 * A Runner whose ORT session lives in a worker thread. onnxruntime-node's run() blocks the thread it
 * runs on, so training and inference go here when the main thread must stay live (progress bars,
 * servers, signal handling). Same interface as LocalRunner; state stays in the worker between calls,
 * only feeds and the small outputs cross the thread boundary.
 */
export class WorkerRunner implements Runner {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  private dead: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: { id: number; result?: unknown; error?: Record<string, any> }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) worker.unref(); // an idle runner never keeps the process alive
      if (msg.error) p.reject(rebuildError(msg.error));
      else p.resolve(msg.result);
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new AttuneError('STATE', `engine worker exited (code ${code})`)));
  }

  static async create(spec: RunnerSpec): Promise<WorkerRunner> {
    const worker = new Worker(new URL('./worker-entry.js', import.meta.url));
    const runner = new WorkerRunner(worker);
    try {
      await runner.call('create', [spec]);
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    return runner;
  }

  private call<T>(method: string, args: unknown[]): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, method, args });
    });
  }

  run(feeds: Record<string, HostArray>): Promise<RunResult> {
    return this.call('run', [feeds]);
  }

  getState(names?: string[]): Promise<Record<string, HostArray>> {
    return this.call('getState', [names]);
  }

  setState(values: Record<string, HostArray>): Promise<void> {
    return this.call('setState', [values]);
  }

  getRngState(): Promise<RngState | null> {
    return this.call('getRngState', []);
  }

  setRngState(state: RngState): Promise<void> {
    return this.call('setRngState', [state]);
  }

  async close(): Promise<void> {
    if (this.dead) return;
    try {
      await this.call('close', []);
    } finally {
      this.worker.removeAllListeners('exit');
      this.dead = new AttuneError('STATE', 'runner used after close()');
      await this.worker.terminate();
    }
  }
}

/** Creates a runner in a worker thread (default) or in this thread. */
export function createRunner(spec: RunnerSpec, opts: { worker?: boolean } = {}): Promise<Runner> {
  return opts.worker === false ? LocalRunner.create(spec) : WorkerRunner.create(spec);
}

const ERROR_CLASSES: Record<string, new (message: string, details?: Record<string, unknown>) => AttuneError> = {
  InputError,
  ShapeError,
  ConfigError,
  NumericError,
};

function rebuildError(e: Record<string, any>): Error {
  const Cls = ERROR_CLASSES[e.name];
  if (Cls) return new Cls(e.message, e.details ?? {});
  if (e.code) return new AttuneError(e.code, e.message, e.details ?? {});
  const err = new Error(`engine worker: ${e.message}`);
  if (e.stack) err.stack = e.stack;
  return err;
}
