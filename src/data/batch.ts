import { AttuneError, describeError } from '../util/errors.js';
import { Progress } from '../util/progress.js';

/**
 * A batch job over many items that never dies on one bad item: each failure is recorded with the
 * item's id and reason, the job goes on, and the result lists every failure at the end.
 */
export interface BatchOptions<I> {
  /** Items processed at once (bounded parallelism; default 2). */
  concurrency?: number;
  /** Progress label; with `quiet` the bar is off. */
  label?: string;
  quiet?: boolean;
  /** Names an item in the failure list (default: its `id` field, else its index). */
  idOf?: (item: I, index: number) => string;
  /** Stop scheduling new items once aborted (items in flight finish). */
  signal?: AbortSignal;
  /** Extra fields shown after the progress bar on each update (e.g. an ETA, items resumed). */
  fields?: () => Record<string, string | number>;
}

export interface BatchFailure {
  index: number;
  id: string;
  error: string; // one-line reason
  code?: string; // AttuneError code when typed
  details?: Record<string, unknown>;
}

export interface BatchResult<R> {
  total: number;
  succeeded: number;
  failed: BatchFailure[];
  /** results[i] for item i; undefined where it failed or was not run. */
  results: (R | undefined)[];
  seconds: number;
}

export async function runBatch<I, R>(
  items: readonly I[],
  work: (item: I, index: number) => Promise<R>,
  opts: BatchOptions<I> = {},
): Promise<BatchResult<R>> {
  const t0 = Date.now();
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 2));
  const idOf = opts.idOf ?? defaultId;
  const results: (R | undefined)[] = new Array(items.length).fill(undefined);
  const failed: BatchFailure[] = [];
  const progress = new Progress({ label: opts.label ?? 'items', total: items.length, quiet: opts.quiet });
  let next = 0;
  let done = 0;
  let succeeded = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !opts.signal?.aborted) {
      const index = next++;
      try {
        results[index] = await work(items[index], index);
        succeeded++;
      } catch (err) {
        failed.push(toFailure(err, index, idOf(items[index], index)));
      }
      // The last item is reported by finish(), so the final line is printed once.
      if (++done < items.length) progress.update(done, { failed: String(failed.length), ...opts.fields?.() });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  progress.finish({ failed: String(failed.length), ...opts.fields?.() });
  failed.sort((a, b) => a.index - b.index);
  return { total: items.length, succeeded, failed, results, seconds: (Date.now() - t0) / 1000 };
}

function defaultId(item: unknown, index: number): string {
  if (item && typeof item === 'object' && 'id' in item && typeof (item as { id: unknown }).id === 'string')
    return (item as { id: string }).id;
  if (typeof item === 'string') return item;
  return `#${index}`;
}

function toFailure(err: unknown, index: number, id: string): BatchFailure {
  const f: BatchFailure = { index, id, error: describeError(err).split('\n')[0] };
  if (err instanceof AttuneError) {
    f.code = err.code;
    f.details = err.details;
  }
  return f;
}

/** Human summary: "12/14 ok, 2 failed:" followed by one line per failure. */
export function formatBatchSummary(r: BatchResult<unknown>, maxListed = 20): string {
  const lines = [`${r.succeeded}/${r.total} ok, ${r.failed.length} failed (${r.seconds.toFixed(1)} s)`];
  for (const f of r.failed.slice(0, maxListed)) lines.push(`  ${f.id}: ${f.error}`);
  if (r.failed.length > maxListed) lines.push(`  ... and ${r.failed.length - maxListed} more`);
  return lines.join('\n');
}
