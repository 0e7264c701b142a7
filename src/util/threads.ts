/**
 * How many CPU threads one Attune process may use: ONNX Runtime's intra-op pool and FFmpeg's decoder and filter
 * threads both default to every core, so two processes on a 2-core machine each ran two-thread pools and took turns
 * (the local pool measured 1.2x instead of ~2x, docs/scale.md). `ATTUNE_THREADS=N` caps both; the local process pool
 * sets it for its workers to cores / workers, and a user may set it for any command.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from './errors.js';

export const THREADS_VAR = 'ATTUNE_THREADS';

/** The explicit cap from ATTUNE_THREADS, or undefined when unset (each library then picks its own default). */
export function threadCap(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[THREADS_VAR];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`${THREADS_VAR} must be a whole number of threads >= 1, got '${raw}'`, {
      field: THREADS_VAR,
      got: raw,
    });
  }
  return n;
}

/** Threads for this process: the cap when set, otherwise every core. */
export function threadBudget(env: NodeJS.ProcessEnv = process.env): number {
  return threadCap(env) ?? Math.max(1, availableParallelism());
}

/** The cap each of `workers` processes gets when they share this machine: cores / workers, at least 1. */
export function threadsPerWorker(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

/** FFmpeg arguments (before -i) that apply the cap to decoding and filtering; none when no cap is set. */
export function ffmpegThreadArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const cap = threadCap(env);
  return cap === undefined ? [] : ['-threads', String(cap), '-filter_threads', String(cap)];
}
