/**
 * `attune worker --queue redis://HOST:PORT`: takes jobs (sync, features, index) from the queue that
 * `attune sync|features|index DIR --queue ...` fills, runs them in a local pool of worker processes and returns the
 * results, until stopped (Ctrl-C / SIGTERM finish the jobs in hand first). Run any number, on any machines.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { InputError } from '../../util/errors.js';
import { DEFAULT_QUEUE_URL } from '../batch.js';
import { positiveInt } from '../parse.js';

interface WorkerOptions {
  queue: string | boolean;
  queueName?: string;
  jobs?: number;
  pathMap: string[];
  lockDuration?: number;
  stalledInterval?: number;
  maxStalled?: number;
  quiet: boolean;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'take sync/features/index jobs from a Redis queue (filled by attune sync|features|index ... --queue) and return the results; run any number, on any machines',
    )
    .option('--queue [url]', `the Redis queue (default ${DEFAULT_QUEUE_URL})`, true)
    .option('--queue-name <name>', 'queue name in Redis (default attune-jobs)')
    .option(
      '--jobs <n>',
      `jobs at once = worker processes on this machine (default one per core, ${availableParallelism()} here)`,
      positiveInt('--jobs'),
    )
    .option(
      '--path-map <from=to>',
      "the submitter's paths under FROM are under TO here (repeatable), e.g. /mnt/archive=/data/archive",
      collect,
      [],
    )
    .option(
      '--lock-duration <ms>',
      "a job's lock lasts this long without renewal (renewed every half); a dead worker's job is taken again after it (default 30000)",
      positiveInt('--lock-duration'),
    )
    .option(
      '--stalled-interval <ms>',
      'how often this worker looks for jobs of dead workers (default 30000)',
      positiveInt('--stalled-interval'),
    )
    .option(
      '--max-stalled <n>',
      'times a job may be taken back from dead workers before it fails (default 2)',
      positiveInt('--max-stalled'),
    )
    .option('--quiet', 'do not log each job on stderr', false)
    .addHelpText(
      'after',
      `
Workers need the media files (and the --model run) at the paths the submitter uses, or mapped with --path-map
(shared storage: NFS, SMB, a mounted bucket). On a GPU machine: attune --device cuda worker --queue ...
Each job's result goes back through Redis; the submitter writes results.jsonl and summary.csv. See docs/scale.md.`,
    )
    .action(async (o: WorkerOptions) => {
      const { startQueueWorker } = await import('../../jobs/queue.js');
      const pathMap = o.pathMap.map((m): [string, string] => {
        const at = m.indexOf('=');
        if (at <= 0 || at === m.length - 1)
          throw new InputError(`--path-map expects FROM=TO, got "${m}"`, { field: '--path-map', got: m });
        return [m.slice(0, at), m.slice(at + 1)];
      });
      const url = o.queue === true ? DEFAULT_QUEUE_URL : String(o.queue);
      const jobs = o.jobs ?? availableParallelism();
      const log = o.quiet ? undefined : (line: string) => process.stderr.write(`worker ${process.pid}: ${line}\n`);
      const w = await startQueueWorker({
        url,
        name: o.queueName,
        jobs,
        pathMap,
        lockDuration: o.lockDuration,
        stalledInterval: o.stalledInterval,
        maxStalledCount: o.maxStalled,
        log,
      });
      log?.(
        `ready: ${jobs} process(es), queue ${o.queueName ?? 'attune-jobs'} at ${w.target}${process.env.ATTUNE_DEVICE ? `, device ${process.env.ATTUNE_DEVICE}` : ''}`,
      );
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          log?.(`${signal} again: stopping now`);
          process.exit(130);
        }
        stopping = true;
        log?.(`${signal}: finishing the jobs in hand, then stopping (send it again to stop at once)`);
        void w.close();
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      await w.closed;
      log?.('stopped');
      // A Redis client still trying to reconnect would keep the process alive.
      process.exit(0);
    });
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}
