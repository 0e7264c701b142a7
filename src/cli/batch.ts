/**
 * The options every batch command shares (`attune sync|features|index DIR|MANIFEST`): where results go, how many
 * local worker processes, or a Redis queue for workers on other machines. The jobs layer (src/jobs) does the work.
 */
import { Option, type Command } from 'commander';
import { availableParallelism } from 'node:os';
import type { RunJobsSummary } from '../jobs/submit.js';
import type { KindName } from '../jobs/types.js';
import { InputError } from '../util/errors.js';
import { printJson } from './output.js';
import { positiveInt } from './parse.js';

export interface BatchCliOptions {
  out?: string;
  jobs?: number;
  concurrency?: number;
  queue?: string | boolean;
  queueName?: string;
  attempts: number;
  retryFailed: boolean;
  inFlight?: number;
  json: boolean;
}

export const DEFAULT_QUEUE_URL = 'redis://127.0.0.1:6379';

export function addBatchOptions(cmd: Command, what: string): Command {
  return cmd
    .option(
      '--jobs <n>',
      `folders and manifests: worker processes on this machine (default: one per core, ${availableParallelism()} here)`,
      positiveInt('--jobs'),
    )
    .addOption(new Option('--concurrency <n>', 'old name of --jobs').argParser(positiveInt('--concurrency')).hideHelp())
    .option(
      '--queue [url]',
      `folders and manifests: send the jobs to a Redis queue (BullMQ) served by 'attune worker' processes on any machines (default ${DEFAULT_QUEUE_URL}; docs/scale.md)`,
    )
    .option('--queue-name <name>', 'queue name in Redis (default attune-jobs)')
    .option(
      '--attempts <n>',
      'tries per file when a worker fails or dies (a bad file fails once)',
      positiveInt('--attempts'),
      3,
    )
    .option('--retry-failed', `run again the files an earlier run into the same --out recorded as bad (${what})`, false)
    .option('--in-flight <n>', 'with --queue: jobs kept on the queue at once', positiveInt('--in-flight'));
}

export const BATCH_HELP = `
Folders and manifests: DIR is searched recursively for media files (dot folders skipped; symlinks followed only
inside DIR, dangling links and loops recorded as bad items); MANIFEST is a JSONL file (docs/data.md). Every file
is covered whole. Under --out (never inside your media folder unless you point it there):
  results.jsonl  one line per file (status ok or failed, the reason, the result)
  summary.csv    the same as a table
A bad file is recorded with its reason and skipped; a re-run into the same --out skips files already done
(results are keyed by file content + command + model/options). Progress (with an ETA) goes to stderr. The exit
code is 1 when any file failed. --queue sends the jobs to Redis for 'attune worker' processes (docs/scale.md).`;

/** Runs a batch command and prints its summary (or JSON); exit code 1 when any file failed. */
export async function runBatchCommand(
  kind: KindName,
  input: string,
  options: Record<string, unknown>,
  o: BatchCliOptions,
  extra?: (s: RunJobsSummary) => string[],
): Promise<void> {
  if (!o.out)
    throw new InputError(
      `attune ${kind} over a folder or manifest writes results.jsonl and summary.csv: pass --out DIR (outside your media folder)`,
      { field: '--out' },
    );
  const { runJobs, formatRunSummary } = await import('../jobs/submit.js');
  const queue = o.queue === true ? DEFAULT_QUEUE_URL : typeof o.queue === 'string' ? o.queue : undefined;
  const s = await runJobs({
    kind,
    input,
    out: o.out,
    options,
    jobs: o.jobs ?? o.concurrency,
    queue,
    queueName: o.queueName,
    attempts: o.attempts,
    retryFailed: o.retryFailed,
    inFlight: o.inFlight,
    quiet: o.json && !process.stderr.isTTY,
  });
  if (o.json) printJson(s);
  else process.stdout.write([formatRunSummary(s), ...(extra?.(s) ?? [])].join('\n') + '\n');
  if (s.failed > 0) process.exitCode = 1;
}
