/**
 * Seed lists: the same config trained once per seed (in `<out>/seed-<s>/`), then every final test
 * metric reported as mean ± sample std (summary.json, summary.html). An interrupted seed stops the list.
 */

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { aggregateSeeds, type MeanStd } from '../metrics/stats.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { ConfigError, InputError } from '../util/errors.js';
import { writeSeedsReport } from './report.js';
import { readSavedRun } from './open.js';
import { describeSource } from './state.js';
import { runFiles, runTraining, type RunOptions, type RunResult } from './run.js';
import { StopSignal } from './signals.js';

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
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
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
  if (new Set(seeds).size !== seeds.length)
    throw new ConfigError(`--seeds: duplicate seeds in '${spec}'`, { field: 'seeds' });
  return seeds;
}

/**
 * Runs every seed (resuming those that have a checkpoint when `resume`), then summarizes. On resume the
 * config and data may be left out: seeds without a checkpoint start from the first seed folder's config.json.
 */
export async function runSeeds(opts: RunOptions & { seeds: number[] }): Promise<SeedsResult> {
  const dir = resolve(opts.out);
  let base = opts.config && opts.source ? { config: opts.config, source: opts.source } : null;
  if (!base && opts.resume) {
    const saved = readSavedRun(join(dir, `seed-${opts.seeds[0]}`), opts.task);
    // Seeds that start now train on the list's data too: another source needs allowDataChange, as resume does.
    if (opts.source && describeSource(opts.source) !== describeSource(saved.source) && !opts.allowDataChange) {
      throw new InputError(
        `--resume ${dir}: the seed list trained on ${describeSource(saved.source)}, and resume was given ${describeSource(opts.source)}; resume without --data, or pass --allow-data-change (allowDataChange: true)`,
        { field: 'data', file: dir },
      );
    }
    base = { config: opts.config ?? saved.config, source: opts.source ?? saved.source };
  }
  if (!base)
    throw new ConfigError('runSeeds: a new seed list needs a config and a data source', {
      field: opts.config ? 'source' : 'config',
    });
  const runs: RunResult[] = [];
  // One signal handler for the whole list, so a Ctrl-C between two seeds still stops cleanly.
  const abort = new AbortController();
  const stop = new StopSignal({
    signals: opts.handleSignals ?? false,
    abort: opts.signal,
    onRequest: () => abort.abort(),
  });
  try {
    for (const seed of opts.seeds) {
      const config = { ...base.config, train: { ...base.config.train, seed } };
      const out = join(dir, `seed-${seed}`);
      // On resume, seeds that never reached a checkpoint start fresh.
      const resume = (opts.resume ?? false) && existsSync(runFiles(out).last);
      const r = await runTraining({
        ...opts,
        config,
        source: resume ? opts.source : base.source,
        out,
        handleSignals: false,
        signal: abort.signal,
        resume,
      });
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
  if (base.config.train.report && perSeed.length)
    writeSeedsReport(join(dir, 'summary.html'), opts.task.name, opts.seeds.slice(0, done.length), perSeed, summary);
  return { dir, seeds: opts.seeds, runs, summary, interrupted };
}
