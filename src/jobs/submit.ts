/**
 * `attune sync|features|index DIR|MANIFEST`: every item through one job function, on whichever executor, with the
 * same bookkeeping: one results.jsonl line per file plus summary.csv under --out, progress with an ETA, bad files
 * recorded with their reason and skipped, finished files skipped on a re-run (results are keyed by the files' content
 * hash + kind + the options and model that change results), and the kind's own final step (index files,
 * features.json).
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { runBatch } from '../data/batch.js';
import { keyFor } from '../data/cache.js';
import { InputError } from '../util/errors.js';
import { InlineExecutor, type Executor } from './executor.js';
import { listJobInputs, type BadInput } from './inputs.js';
import { loadKind } from './kinds.js';
import { ProcessPool } from './pool.js';
import { ResultStore, type ResultLine } from './store.js';
import type { JobItem, JobOk, JobReply, KindName } from './types.js';

export interface SubmitContext {
  out: string;
  input: string;
  options: Record<string, unknown>;
  items: readonly JobItem[];
}

/** The submitting side of a kind. */
export interface KindSubmitter {
  prepare(ctx: SubmitContext): Promise<Submission>;
}

export interface Submission {
  /** What keys a result besides the files' content: settings and the model's identity. */
  identity: unknown;
  /** The kind's fields shown in summary.csv. */
  columns: string[];
  /** Keep each result's tensors in the run's store (for finish). */
  keepTensors?: boolean;
  /** A finished job, before its line is written: may write output files and return fields for the line. */
  accept?(item: JobItem, reply: JobOk): Promise<Record<string, unknown> | void> | Record<string, unknown> | void;
  /** Whether an earlier run's result is still complete (e.g. its output file is there). */
  stillDone?(item: JobItem, line: ResultLine): boolean;
  /** After every item (all lines, in input order, failures included): the kind's own outputs; returns summary fields. */
  finish?(lines: readonly ResultLine[], store: ResultStore): Promise<Record<string, unknown>>;
}

export interface RunJobsOptions {
  kind: KindName;
  input: string;
  out: string;
  options: Record<string, unknown>;
  /** Local worker processes (default: one per core); 1 runs jobs in this process unless executor is 'pool'. */
  jobs?: number;
  /** redis://HOST:PORT: send the jobs to a BullMQ queue served by `attune worker` processes. */
  queue?: string;
  queueName?: string;
  /** Tries per job when a worker fails (not for bad files, which fail once); default 3. */
  attempts?: number;
  /** Re-run files that failed in an earlier run even when the failure was the file's own (unreadable, no stream). */
  retryFailed?: boolean;
  /** Jobs kept in flight on the queue (default 1000). */
  inFlight?: number;
  quiet?: boolean;
  /** Force an executor (benches compare a pool of 1 with a pool of 2). */
  executor?: 'inline' | 'pool';
  /** Called with the executor once it runs (tests reach the pool's processes through it). */
  onExecutor?: (e: Executor) => void;
}

export interface RunJobsSummary {
  kind: KindName;
  input: string;
  out: string;
  executor: string;
  /** inputs: files and bad entries (dangling links, bad manifest lines) */
  total: number;
  ok: number;
  failed: number;
  /** finished in an earlier run (same key), not run again */
  resumed: number;
  /** run now */
  computed: number;
  seconds: number;
  results: string;
  summary: string;
  failures: { id: string; source: string; error: string; code?: string }[];
  [field: string]: unknown;
}

/** Item failures worth keeping on a re-run (the file itself is bad); worker failures are tried again. */
const ITEM_CODES = new Set(['INPUT', 'MEDIA', 'SHAPE', 'NUMERIC', 'CONFIG']);

export async function runJobs(o: RunJobsOptions): Promise<RunJobsSummary> {
  const t0 = Date.now();
  const out = resolve(o.out);
  const inputs = listJobInputs(o.input, { exclude: [out] });
  // An --out inside DIR is allowed (it was asked for) and left out of the walk.
  if (inputs.items.length === 0 && inputs.bad.length === 0) {
    throw new InputError(
      `${o.input}: no media files found${inputs.type === 'folder' ? ' (looked for mp4 mov mkv webm avi m4v mpg mpeg wav mp3 flac ogg m4a aac opus, recursively)' : ''}`,
      { file: o.input },
    );
  }
  const { submitter } = await loadKind(o.kind);
  const sub = await submitter.prepare({ out, input: o.input, options: o.options, items: inputs.items });
  const attempts = Math.max(1, o.attempts ?? 3);
  // The executor first: a queue that cannot be reached leaves no --out behind.
  const executor = await openExecutor(o, attempts);
  o.onExecutor?.(executor);
  let store: ResultStore;
  try {
    mkdirSync(out, { recursive: true });
    store = ResultStore.open(out);
  } catch (err) {
    await executor.close();
    throw err;
  }

  let resumed = 0;
  let computed = 0;
  let firstDispatch = 0;
  const lines: (ResultLine | undefined)[] = new Array(inputs.items.length).fill(undefined);
  const hashing = limiter(2);
  const started = Date.now();
  const fields = (): Record<string, string | number> => {
    const done = resumed + computed;
    const left = inputs.items.length - done;
    const rate = computed / Math.max(1e-3, (Date.now() - (firstDispatch || started)) / 1000);
    const f: Record<string, string | number> = { resumed: String(resumed) };
    if (computed > 0 && left > 0 && !process.stderr.isTTY) f.eta = formatEta(left / rate);
    return { ...f, ...executor.status?.() };
  };

  try {
    await runBatch(
      inputs.items,
      async (item, index) => {
        const base = { id: item.id, source: item.source, path: item.path };
        let key: string;
        try {
          const files = [...new Set([item.video, item.audio].filter((f): f is string => !!f))];
          const hashes = await hashing(() =>
            Promise.all((files.length ? files : [item.path]).map((f) => store.contentHash(f))),
          );
          key = keyFor(hashes.join('+'), {
            kind: o.kind,
            identity: sub.identity,
            start: item.start ?? null,
            end: item.end ?? null,
            version: 1,
          });
        } catch (err) {
          const line: ResultLine = {
            ...base,
            status: 'failed',
            error: (err as Error).message.split('\n')[0],
            code: (err as { code?: string }).code ?? 'INPUT',
          };
          lines[index] = line;
          throw err;
        }
        const prior = store.prior(key);
        if (prior && reusable(prior, item, sub, store, o.retryFailed)) {
          resumed++;
          const line: ResultLine = { ...prior, ...base };
          lines[index] = line;
          if (line.status === 'failed') throw new ItemFailed(line);
          return line;
        }
        if (!firstDispatch) firstDispatch = Date.now();
        const reply: JobReply = await executor.run({ kind: o.kind, options: o.options, item, key });
        computed++;
        const meta = { key, seconds: reply.seconds, worker: reply.worker, attempts: reply.attempts };
        let line: ResultLine;
        if (reply.status === 'ok') {
          try {
            const extra = (await sub.accept?.(item, reply)) ?? {};
            line = { ...base, status: 'ok', ...reply.record, ...extra, ...meta };
            store.record(line, sub.keepTensors ? reply.tensors : undefined);
          } catch (err) {
            line = {
              ...base,
              status: 'failed',
              error: `writing the result: ${(err as Error).message.split('\n')[0]}`,
              code: (err as { code?: string }).code,
              ...meta,
            };
            store.record(line);
          }
        } else {
          line = { ...base, status: 'failed', error: reply.error, code: reply.code, ...meta };
          store.record(line);
        }
        lines[index] = line;
        if (line.status === 'failed') throw new ItemFailed(line);
        return line;
      },
      { concurrency: executor.capacity, label: o.kind, quiet: o.quiet, idOf: (item) => item.id, fields },
    );
  } finally {
    await executor.close();
    store.flush();
  }

  const all: ResultLine[] = [
    ...lines.map(
      (l, i) =>
        l ?? {
          id: inputs.items[i].id,
          source: inputs.items[i].source,
          path: inputs.items[i].path,
          status: 'failed' as const,
          error: 'not run',
        },
    ),
    ...inputs.bad.map(badLine),
  ];
  store.finish(all, sub.columns);
  const extra = (await sub.finish?.(all, store)) ?? {};
  const failures = all
    .filter((l) => l.status === 'failed')
    .map((l) => ({ id: l.id, source: l.source, error: l.error ?? '', ...(l.code ? { code: l.code } : {}) }));
  return {
    kind: o.kind,
    input: o.input,
    out,
    executor: executor.name,
    total: all.length,
    ok: all.length - failures.length,
    failed: failures.length,
    resumed,
    computed,
    seconds: (Date.now() - t0) / 1000,
    results: store.resultsPath,
    summary: store.summaryPath,
    failures,
    ...extra,
  };
}

class ItemFailed extends Error {
  constructor(readonly line: ResultLine) {
    super(line.error ?? 'failed');
  }
}

function reusable(
  prior: ResultLine,
  item: JobItem,
  sub: Submission,
  store: ResultStore,
  retryFailed?: boolean,
): boolean {
  if (prior.status === 'failed') return !retryFailed && prior.code !== undefined && ITEM_CODES.has(prior.code);
  if (sub.keepTensors && !store.hasTensors(prior.key!)) return false;
  return sub.stillDone ? sub.stillDone(item, prior) : true;
}

function badLine(b: BadInput): ResultLine {
  return { id: b.id, source: b.source, path: b.path, status: 'failed', error: b.error, code: b.code };
}

async function openExecutor(o: RunJobsOptions, attempts: number): Promise<Executor> {
  if (o.queue) {
    const { QueueExecutor } = await import('./queue.js');
    return QueueExecutor.open({
      url: o.queue,
      name: o.queueName,
      attempts,
      inFlight: o.inFlight,
      retryFailed: o.retryFailed,
      quiet: o.quiet,
    });
  }
  const jobs = Math.max(1, Math.floor(o.jobs ?? availableParallelism()));
  if (o.executor === 'inline' || (jobs === 1 && o.executor !== 'pool')) return new InlineExecutor(attempts);
  return new ProcessPool(jobs, attempts);
}

/** At most n calls of fn at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Human summary of a run: counts, where the files are, then each failure. */
export function formatRunSummary(s: RunJobsSummary, maxListed = 20): string {
  const lines = [
    `${s.kind}: ${s.ok}/${s.total} ok, ${s.failed} failed, ${s.resumed} from an earlier run (${s.seconds.toFixed(1)} s, ${s.executor})`,
    `  results: ${s.results}`,
    `  summary: ${s.summary}`,
  ];
  for (const f of s.failures.slice(0, maxListed)) lines.push(`  failed: ${f.source}: ${f.error}`);
  if (s.failures.length > maxListed) lines.push(`  ... and ${s.failures.length - maxListed} more (see ${s.summary})`);
  return lines.join('\n');
}
