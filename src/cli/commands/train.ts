import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getTask, taskNames } from '../../models/registry.js';
import type { RunConfig } from '../../train/config.js';
import { parseDataSource } from '../../train/data.js';
import type { RunResult } from '../../train/run.js';
import type { DataSource } from '../../train/task.js';
import { runFiles } from '../../train/files.js';
import { formatMeanStd } from '../../metrics/stats.js';
import { InputError } from '../../util/errors.js';
import { formatNumber, formatTable, printJson } from '../output.js';
import { dataSource, seedList } from '../parse.js';

interface TrainOptions {
  data?: string;
  config?: string;
  out?: string;
  resume?: string;
  seeds?: number[];
  set: string[];
  variant?: string;
  cache?: string;
  allowDataChange?: boolean;
  memoryLimit?: string;
  json?: boolean;
  quiet?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  program
    .command('train')
    .description(
      `Train a model/task and write a run folder: config.json, log.jsonl (one JSON line per step and evaluation), checkpoints/, best.safetensors, metrics.json, model.onnx and report.html.
Ctrl-C (SIGINT) or SIGTERM saves a checkpoint and exits; --resume continues exactly where the run stopped.
Config layers, later wins: trainer defaults < task defaults < per-dataset defaults < --variant < --config FILE < --set.
Tasks: ${taskNames().join(', ') || '(none registered)'}`,
    )
    .argument('<task>', 'task to train (see the list above)')
    .option(
      '--data <source>',
      "a manifest (.jsonl) or synth:N for N in-memory AV-Synth clips (default on --resume: the run's own)",
      dataSource('--data'),
    )
    .option(
      '--config <file>',
      'JSON config: { "model": {...}, "data": {...}, "split": {"val", "test"}, "train": {...}, "variant": "small" }; a run\'s config.json repeats that run',
    )
    .option(
      '--out <dir>',
      'run folder (default runs/<task>-<date>); with --seeds, one seed-<s>/ folder per seed inside',
    )
    .option(
      '--resume <dir>',
      'continue the interrupted run in <dir> (same weights, optimizer, Rng, batch order and data; its config and --data come from the run)',
    )
    .option(
      '--seeds <list>',
      'train once per seed (e.g. 1,2,3 or 0-4) and report mean ± std of the test metrics',
      seedList('--seeds'),
    )
    .option(
      '--set <key=value>',
      'override one config field, e.g. --set train.lr=3e-4 --set model.layers=2 (values parse as JSON; repeatable)',
      collect,
      [],
    )
    .option('--variant <name>', 'model variant (factory) of the task, e.g. small')
    .option(
      '--allow-data-change',
      "with --resume: accept a --data other than the run's own (its splits are recomputed; refused by default)",
    )
    .option(
      '--memory-limit <size>',
      'refuse a run whose estimated memory (parameters, optimizer state, activations) is over SIZE, e.g. 32G, or none (default: 80% of RAM)',
    )
    .option(
      '--cache <dir>',
      'feature cache folder, shareable across runs (default: <out>/cache, inside the run folder or the --seeds folder)',
    )
    .option('--quiet', 'no progress output')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  attune train av-sync --data synth:200 --set train.epochs=5
  attune train av-align --data data/avsynth/manifest.jsonl --config align.json --out runs/align
  attune train av-sync --resume runs/av-sync-20260101-120000
  attune train av-align --data synth:100 --seeds 1,2,3 --out runs/align-seeds`,
    )
    .action(async (taskName: string, opts: TrainOptions) => {
      const task = await getTask(taskName);
      const quiet = opts.quiet ?? (opts.json === true && !process.stderr.isTTY);
      const out = resolve(opts.resume ?? opts.out ?? join('runs', `${taskName}-${timestamp()}`));
      // The training modules load ONNX Runtime: import them only when this command runs.
      const { runTraining } = await import('../../train/run.js');
      const { runSeeds } = await import('../../train/seeds.js');
      const { resolveRunConfig } = await import('../../train/open.js');
      const { parseByteSize } = await import('../../train/memory.js');
      const seeds = opts.seeds ?? null;
      const memoryLimit =
        opts.memoryLimit === undefined ? undefined : parseByteSize(opts.memoryLimit, '--memory-limit');
      const common = {
        task,
        out,
        quiet,
        handleSignals: true,
        memoryLimit,
        cacheDir: resolve(opts.cache ?? join(out, 'cache')),
      };
      let run: { config?: RunConfig; source?: DataSource; resume: boolean; allowDataChange?: boolean };
      if (opts.resume) {
        // The run's own config and data (src/train/open.ts); another --data only with --allow-data-change.
        if (opts.config || opts.set.length || opts.variant) {
          throw new InputError(
            "--resume continues with the run's saved config; drop --config, --set and --variant (start a new run to change them)",
            { field: 'resume' },
          );
        }
        run = {
          resume: true,
          source: opts.data ? parseDataSource(opts.data) : undefined,
          allowDataChange: opts.allowDataChange,
        };
      } else {
        if (opts.allowDataChange)
          throw new InputError('--allow-data-change only applies with --resume', { field: 'allow-data-change' });
        run = {
          resume: false,
          ...resolveRunConfig(task, { data: opts.data, configFile: opts.config, set: opts.set, variant: opts.variant }),
        };
      }

      if (seeds) {
        const r = await runSeeds({ ...common, ...run, seeds });
        const report = r.runs[0]?.config.train.report ?? run.config?.train.report ?? false;
        if (opts.json) printJson({ ...r, runs: r.runs.map(brief) });
        else {
          process.stdout.write(
            formatTable(
              ['metric', 'mean ± std', 'n'],
              Object.entries(r.summary).map(([k, m]) => [k, formatMeanStd(m), m.n]),
            ) + '\n',
          );
          process.stdout.write(
            `summary: ${join(r.dir, 'summary.json')}${report ? `, report ${join(r.dir, 'summary.html')}` : ''}\n`,
          );
        }
        if (r.interrupted)
          interrupted(taskName, r.runs[r.runs.length - 1], opts.json, `--resume ${r.dir} --seeds ${seeds.join(',')}`);
        return;
      }
      const r = await runTraining({ ...common, ...run });
      if (opts.json) printJson(brief(r));
      else if (r.metrics) printRun(r, r.config.train.report, r.config.train.export);
      if (r.status === 'interrupted') interrupted(taskName, r, opts.json, `--resume ${r.dir}`);
    });
}

/** The result as --json prints it (the config is in the run's config.json). */
function brief(r: RunResult) {
  const files = runFiles(r.dir);
  const { config: _config, ...rest } = r;
  return { ...rest, files: Object.fromEntries(Object.entries(files).filter(([, p]) => existsSync(p))) };
}

function printRun(r: RunResult, report: boolean, onnx: boolean): void {
  const m = r.metrics!;
  const names = [...new Set([...Object.keys(m.before), ...Object.keys(m.test)])].sort();
  const hasBefore = Object.keys(m.before).length > 0;
  const rows = names.map((n) => (hasBefore ? [n, m.before[n] ?? '', m.test[n] ?? ''] : [n, m.test[n] ?? '']));
  process.stdout.write(formatTable(hasBefore ? ['metric', 'before', 'after'] : ['metric', 'value'], rows) + '\n');
  const f = runFiles(r.dir);
  process.stdout.write(
    `${r.status}: ${r.steps} steps in ${r.seconds.toFixed(1)} s (${r.stepsPerSecond.toFixed(1)} steps/s while training); best val.${r.monitor.metric} ${r.monitor.best === null ? 'n/a' : formatNumber(r.monitor.best)} at step ${r.monitor.bestStep}\n`,
  );
  process.stdout.write(`run: ${r.dir}${report ? `\nreport: ${f.report}` : ''}${onnx ? `\nmodel: ${f.onnx}` : ''}\n`);
}

function interrupted(task: string, r: RunResult | undefined, json: boolean | undefined, resumeArgs: string): void {
  const resumable = r !== undefined && existsSync(runFiles(r.dir).last);
  if (!json) {
    process.stderr.write(
      resumable
        ? `interrupted after ${r.steps} steps; checkpoint saved. Continue with: attune train ${task} ${resumeArgs}\n`
        : 'interrupted before training started; nothing to resume\n',
    );
  }
  process.exitCode = 130;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
