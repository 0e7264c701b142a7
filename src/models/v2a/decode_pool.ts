/**
 * v2a's waveform decoder on worker threads: each clip's decode (NNLS, then Griffin-Lim; audio.ts) split into shares
 * that run side by side on shared buffers, with a barrier between the steps whose shares read each other's output.
 * The result is bit-identical to `decodeAudio` on one thread (test/models/v2a_decode_pool.test.ts): the shares run
 * the same code (`decodeShare`), and no sum changes order (griffin_lim.ts).
 *
 *   main: buffers (SharedArrayBuffer) -> post {share k of n} to worker k -> await n replies -> copy of the signal
 *   worker k: decodeShare(k, n, sync = barrier over n)
 *
 * Two shares on 2 cores roughly halve the decoder's wall time (docs/v2a.md, session 6). A pool decodes one clip at
 * a time; clips queue.
 */
import { Worker } from 'node:worker_threads';
import { InputError } from '../../util/errors.js';
import { type DecodeBuffers, decodeBuffers, type DecodeOptions, HOP } from './audio.js';

/** What a worker gets per clip: the frames, the sizes, its share [k, n], the barrier and the shared buffers in the
 * order `decodeBuffers` allocates them (so `sharedBuffers` rebuilds the same views). */
export interface DecodeJob {
  frames: Float32Array;
  count: number;
  iterations: number;
  length: number;
  share: [number, number];
  buffers: SharedArrayBuffer[];
  barrier: SharedArrayBuffer;
}

/**
 * The decode buffers over shared memory: new ones (`from` omitted) or views of a job's, with the shared memory in
 * allocation order (what a job carries, so a worker rebuilds the same views).
 */
export function sharedBuffers(
  count: number,
  length: number,
  from?: SharedArrayBuffer[],
): { views: DecodeBuffers; shared: SharedArrayBuffer[] } {
  const shared: SharedArrayBuffer[] = [];
  const views = decodeBuffers(count, length, (n) => {
    const memory = from ? from[shared.length] : new SharedArrayBuffer(n * 4);
    shared.push(memory);
    return new Float32Array(memory);
  });
  return { views, shared };
}

/** Barrier state: [arrived, generation, aborted]. */
const ARRIVED = 0,
  GENERATION = 1,
  ABORTED = 2;

/**
 * Returns a function that blocks until `parties` threads have called it (a generation barrier on Atomics). If a
 * party fails it calls `abortBarrier`, and every waiting or later caller throws instead of waiting forever.
 */
export function atomicsBarrier(state: Int32Array, parties: number): () => void {
  return () => {
    if (Atomics.load(state, ABORTED)) throw new Error('decode aborted: another share failed');
    const generation = Atomics.load(state, GENERATION);
    if (Atomics.add(state, ARRIVED, 1) === parties - 1) {
      Atomics.store(state, ARRIVED, 0);
      Atomics.add(state, GENERATION, 1);
      Atomics.notify(state, GENERATION);
      return;
    }
    while (Atomics.load(state, GENERATION) === generation) {
      if (Atomics.load(state, ABORTED)) throw new Error('decode aborted: another share failed');
      Atomics.wait(state, GENERATION, generation, 1000);
    }
  };
}

export function abortBarrier(state: Int32Array): void {
  Atomics.store(state, ABORTED, 1);
  Atomics.notify(state, GENERATION);
}

type Reply = { ok: true } | { ok: false; error: string };

export class DecoderPool {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly workers: Worker[]) {}

  /** Starts `threads` workers (>= 1; 2 for the project's 2 cores). */
  static create(threads = 2): DecoderPool {
    if (!Number.isInteger(threads) || threads < 1)
      throw new InputError(`decoder threads must be a positive integer, got ${threads}`, {
        field: 'threads',
        got: threads,
      });
    const workers = Array.from({ length: threads }, () => new Worker(new URL('./decode_worker.js', import.meta.url)));
    for (const w of workers) w.unref(); // an idle pool never keeps the process alive
    return new DecoderPool(workers);
  }

  get threads(): number {
    return this.workers.length;
  }

  /** `decodeAudio(frames, count, opts)` on the pool's threads; clips queue behind each other. */
  decode(frames: Float32Array, count: number, opts: DecodeOptions = {}): Promise<Float32Array> {
    const next = this.queue.then(() => this.decodeNow(frames, count, opts));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async decodeNow(frames: Float32Array, count: number, opts: DecodeOptions): Promise<Float32Array> {
    const length = opts.length ?? count * HOP;
    const { views, shared } = sharedBuffers(count, length);
    const barrier = new SharedArrayBuffer(3 * 4);
    const n = this.workers.length;
    const replies = this.workers.map((worker, k) => {
      const job: DecodeJob = {
        frames,
        count,
        iterations: opts.iterations ?? 16,
        length,
        share: [k, n],
        buffers: shared,
        barrier,
      };
      return new Promise<void>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        worker.ref();
        worker.once('error', onError);
        worker.once('message', (r: Reply) => {
          worker.off('error', onError);
          worker.unref();
          if (r.ok) resolve();
          else reject(new Error(`v2a decoder thread ${k} of ${n}: ${r.error}`));
        });
        worker.postMessage(job);
      });
    });
    const results = await Promise.allSettled(replies);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return views.signal.slice();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
