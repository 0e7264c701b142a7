/**
 * Where jobs run: this process (inline), a local pool of worker processes (pool.ts) or a Redis queue served by
 * `attune worker` processes anywhere (queue.ts). `capacity` is how many jobs the runner keeps in flight.
 */
import { hostname } from 'node:os';
import { JobContexts } from './kinds.js';
import { secs, toWireError, type JobReply, type JobRequest } from './types.js';

export interface Executor {
  readonly name: string;
  readonly capacity: number;
  run(req: JobRequest): Promise<JobReply>;
  /** Fields for the progress line (e.g. workers seen). */
  status?(): Record<string, string | number>;
  close(): Promise<void>;
}

/** Runs a request in this process: an item failure is returned; any other error is retried up to `attempts` times. */
export async function runHere(
  contexts: JobContexts,
  req: JobRequest,
  attempts: number,
  worker: string,
): Promise<JobReply> {
  const t0 = performance.now();
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const { job, ctx } = await contexts.get(req.kind, req.options);
      const out = await job.run(ctx, req.item);
      return { ...out, seconds: secs(performance.now() - t0), worker, attempts: attempt };
    } catch (err) {
      const w = toWireError(err);
      if (w.item)
        return {
          status: 'failed',
          error: w.message,
          code: w.code,
          seconds: secs(performance.now() - t0),
          worker,
          attempts: attempt,
        };
      last = w.message.split('\n')[0];
    }
  }
  return {
    status: 'failed',
    error: `failed ${attempts} time(s): ${last}`,
    code: 'WORKER',
    seconds: secs(performance.now() - t0),
    worker,
    attempts,
  };
}

export class InlineExecutor implements Executor {
  readonly name = 'inline';
  readonly capacity = 1;
  private readonly contexts = new JobContexts();
  private readonly worker = `${hostname()}:${process.pid}`;
  constructor(private readonly attempts = 3) {}

  run(req: JobRequest): Promise<JobReply> {
    return runHere(this.contexts, req, this.attempts, this.worker);
  }

  close(): Promise<void> {
    return this.contexts.closeAll();
  }
}
