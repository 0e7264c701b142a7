/**
 * A decoder thread of decode_pool.ts: runs its share of one clip's decode on the shared buffers and replies
 * { ok } or { ok: false, error }; on failure it aborts the barrier so the other shares stop instead of waiting.
 */
import { parentPort } from 'node:worker_threads';
import { decodeShare } from './audio.js';
import { abortBarrier, atomicsBarrier, type DecodeJob, sharedBuffers } from './decode_pool.js';

parentPort?.on('message', (job: DecodeJob) => {
  const state = new Int32Array(job.barrier);
  try {
    const buffers = sharedBuffers(job.count, job.length, job.buffers).views;
    const opts = { iterations: job.iterations, length: job.length };
    decodeShare(job.frames, job.count, opts, job.share, buffers, atomicsBarrier(state, job.share[1]));
    parentPort!.postMessage({ ok: true });
  } catch (e) {
    abortBarrier(state);
    parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
