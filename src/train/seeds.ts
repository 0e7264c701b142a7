import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { aggregateSeeds, type MeanStd } from '../metrics/stats.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { ConfigError } from '../util/errors.js';
import { writeSeedsReport } from './report.js';
import { runFiles, runTraining, type RunOptions, type RunResult } from './run.js';
import { StopSignal } from './signals.js';

/**
 * Seed lists: the same config trained once per seed (in `<out>/seed-<s>/`), then every final test
 * metric reported as mean ± sample std (summary.json, summary.html). An interrupted seed stops the list.
 */

export interface SeedsResult {
  dir: string;
  seeds: number[];
  runs: RunResult[];
  /** Per test metric over the completed runs. */
  summary: Record<string, MeanStd>;
  interrupted: boolean;
}

/** `1,2,3` or `0-4` (inclusive) -> [1, 2, 3] / [0, 1, 2, 3, 4]; duplicates are errors. */
export function parseSeeds(spec: string): number[] {
  const seeds: number[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a) throw new ConfigError(`--seeds: range '${part}' goes down`, { field: 'seeds' });
      for (let s = a; s <= b; s++) seeds.push(s);
    } else if (/^\d+$/.test(part)) {
      seeds.push(Number(part));
    } else {
      throw new ConfigError(`--seeds: '${part}' is not a non-negative integer or a range like 0-4`, { field: 'seeds' });
    }
  }
  if (!seeds.length) throw new ConfigError('--seeds: no seeds given', { field: 'seeds' });
  if (new Set(seeds).size !== seeds.length) throw new ConfigError(`--seeds: duplicate seeds in '${spec}'`, { field: 'seeds' });
  return seeds;
}

/** Runs every seed (resuming those that have a checkpoint when `resume`), then summarises. */
export async function runSeeds(opts: RunOptions & { seeds: number[] }): Promise<SeedsResult> {
  const dir = resolve(opts.out);
  const runs: RunResult[] = [];
  // One signal handler for the whole list, so a Ctrl-C between two seeds still stops cleanly.
  const abort = new AbortController();
  const stop = new StopSignal({ signals: opts.handleSignals ?? false, abort: opts.signal, onRequest: () => abort.abort() });
  try {
    for (const seed of opts.seeds) {
      const config = { ...opts.config, train: { ...opts.config.train, seed } };
      const out = join(dir, `seed-${seed}`);
      // On resume, seeds that never reached a checkpoint start fresh.
      const r = await runTraining({ ...opts, config, out, handleSignals: false, signal: abort.signal, resume: (opts.resume ?? false) && existsSync(runFiles(out).last) });
      runs.push(r);
      if (r.status === 'interrupted') break;
    }
  } finally {
    stop.dispose();
  }
  const done = runs.filter((r) => r.metrics);
  const perSeed = done.map((r) => r.metrics!.test);
  const summary = aggregateSeeds(perSeed);
  const interrupted = runs.some((r) => r.status === 'interrupted');
  writeJsonAtomic(join(dir, 'summary.json'), {
    task: opts.task.name,
    seeds: opts.seeds,
    completed: done.map((r) => r.dir),
    interrupted,
    summary,
    perSeed: Object.fromEntries(done.map((r, i) => [String(opts.seeds[i]), r.metrics!.test])),
  });
  if (opts.config.train.report && perSeed.length) writeSeedsReport(join(dir, 'summary.html'), opts.task.name, opts.seeds.slice(0, done.length), perSeed, summary);
  return { dir, seeds: opts.seeds, runs, summary, interrupted };
}
