import type { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getTask, taskNames } from '../../models/registry.js';
import { parseOverrides, readConfigFile, resolveConfig, type RunConfig } from '../../train/config.js';
import { parseDataSource } from '../../train/data.js';
import type { RunResult } from '../../train/run.js';
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
  json?: boolean;
  quiet?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  program
    .command('train')
    .description(`Train a model/task and write a run folder: config.json, log.jsonl (one JSON line per step and evaluation), checkpoints/, best.safetensors, metrics.json, model.onnx and report.html.
Ctrl-C (SIGINT) or SIGTERM saves a checkpoint and exits; --resume continues exactly where the run stopped.
Config layers, later wins: trainer defaults < task defaults < per-dataset defaults < --variant < --config FILE < --set.
Tasks: ${taskNames().join(', ') || '(none registered)'}`)
    .argument('<task>', 'task to train (see the list above)')
    .option('--data <source>', 'a manifest (.jsonl) or synth:N for N in-memory AV-Synth clips (default on --resume: the run\'s own)', dataSource('--data'))
    .option('--config <file>', 'JSON config: { "model": {...}, "data": {...}, "split": {"val", "test"}, "train": {...}, "variant": "small" }; a run\'s config.json repeats that run')
    .option('--out <dir>', 'run folder (default runs/<task>-<date>); with --seeds, one seed-<s>/ folder per seed inside')
    .option('--resume <dir>', 'continue the interrupted run in <dir> (same weights, optimizer, Rng and batch order)')
    .option('--seeds <list>', 'train once per seed (e.g. 1,2,3 or 0-4) and report mean ± std of the test metrics', seedList('--seeds'))
    .option('--set <key=value>', 'override one config field, e.g. --set train.lr=3e-4 --set model.layers=2 (values parse as JSON; repeatable)', collect, [])
    .option('--variant <name>', 'model variant (factory) of the task, e.g. small')
    .option('--cache <dir>', 'feature cache folder, shareable across runs (default: <out>/cache, inside the run folder or the --seeds folder)')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Examples:
  attune train av-sync --data synth:200 --set train.epochs=5
  attune train av-align --data data/avsynth/manifest.jsonl --config align.json --out runs/align
  attune train av-sync --resume runs/av-sync-20260101-120000
  attune train av-align --data synth:100 --seeds 1,2,3 --out runs/align-seeds`)
    .action(async (taskName: string, opts: TrainOptions) => {
      const task = await getTask(taskName);
      const quiet = opts.quiet ?? (opts.json === true && !process.stderr.isTTY);
      const out = resolve(opts.resume ?? opts.out ?? join('runs', `${taskName}-${timestamp()}`));
      // The training modules load ONNX Runtime: import them only when this command runs.
      const { runTraining } = await import('../../train/run.js');
      const { runSeeds } = await import('../../train/seeds.js');
      const seeds = opts.seeds ?? null;
      let saved: Record<string, unknown> | null = null;
      if (opts.resume) {
        if (opts.config || opts.set.length || opts.variant) {
          throw new InputError('--resume continues with the run\'s saved config; drop --config, --set and --variant (start a new run to change them)', { field: 'resume' });
        }
        saved = readConfigFile(resumeConfigPath(out, seeds));
      }
      const file = saved ?? (opts.config ? readConfigFile(opts.config) : undefined);
      // --data, else the source a saved config.json names (resuming, or replicating a run with --config).
      const dataSpec = opts.data ?? (typeof file?.source === 'string' ? file.source : undefined);
      if (!dataSpec) throw new InputError('--data is required (a manifest path or synth:N)', { field: 'data' });
      const source = parseDataSource(dataSpec);
      const overrides = parseOverrides(opts.set);
      if (opts.variant) overrides.variant = opts.variant;
      const config: RunConfig = resolveConfig(task, {
        source: source.kind,
        file,
        fileName: saved ? resumeConfigPath(out, seeds) : opts.config,
        overrides: saved ? undefined : overrides,
      });
      const common = { task, config, source, out, quiet, handleSignals: true, cacheDir: resolve(opts.cache ?? join(out, 'cache')) };

      if (seeds) {
        const r = await runSeeds({ ...common, seeds, resume: opts.resume !== undefined });
        if (opts.json) printJson({ ...r, runs: r.runs.map(brief) });
        else {
          process.stdout.write(formatTable(['metric', 'mean ± std', 'n'], Object.entries(r.summary).map(([k, m]) => [k, formatMeanStd(m), m.n])) + '\n');
          process.stdout.write(`summary: ${join(r.dir, 'summary.json')}${config.train.report ? `, report ${join(r.dir, 'summary.html')}` : ''}\n`);
        }
        if (r.interrupted) interrupted(taskName, r.runs[r.runs.length - 1], opts.json, `--resume ${r.dir} --seeds ${seeds.join(',')}`);
        return;
      }
      const r = await runTraining({ ...common, resume: opts.resume !== undefined });
      if (opts.json) printJson(brief(r));
      else if (r.metrics) printRun(r, config.train.report, config.train.export);
      if (r.status === 'interrupted') interrupted(taskName, r, opts.json, `--resume ${r.dir}`);
    });
}

function brief(r: RunResult) {
  const files = runFiles(r.dir);
  return { ...r, files: Object.fromEntries(Object.entries(files).filter(([, p]) => existsSync(p))) };
}

function printRun(r: RunResult, report: boolean, onnx: boolean): void {
  const m = r.metrics!;
  const names = [...new Set([...Object.keys(m.before), ...Object.keys(m.test)])].sort();
  const hasBefore = Object.keys(m.before).length > 0;
  const rows = names.map((n) => (hasBefore ? [n, m.before[n] ?? '', m.test[n] ?? ''] : [n, m.test[n] ?? '']));
  process.stdout.write(formatTable(hasBefore ? ['metric', 'before', 'after'] : ['metric', 'value'], rows) + '\n');
  const f = runFiles(r.dir);
  process.stdout.write(`${r.status}: ${r.steps} steps in ${r.seconds.toFixed(1)} s (${r.stepsPerSecond.toFixed(1)} steps/s while training); best val.${r.monitor.metric} ${r.monitor.best === null ? 'n/a' : formatNumber(r.monitor.best)} at step ${r.monitor.bestStep}\n`);
  process.stdout.write(`run: ${r.dir}${report ? `\nreport: ${f.report}` : ''}${onnx ? `\nmodel: ${f.onnx}` : ''}\n`);
}

function interrupted(task: string, r: RunResult | undefined, json: boolean | undefined, resumeArgs: string): void {
  const resumable = r !== undefined && existsSync(runFiles(r.dir).last);
  if (!json) {
    process.stderr.write(resumable
      ? `interrupted after ${r.steps} steps; checkpoint saved. Continue with: attune train ${task} ${resumeArgs}\n`
      : 'interrupted before training started; nothing to resume\n');
  }
  process.exitCode = 130;
}

/** config.json of the run to resume (with --seeds: of the first seed's folder). */
function resumeConfigPath(dir: string, seeds: number[] | null): string {
  const runDir = seeds ? join(dir, `seed-${seeds[0]}`) : dir;
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) {
    const hint = !seeds && existsSync(dir) && readdirSync(dir).some((n) => n.startsWith('seed-')) ? ' (it holds seed-* folders: add --seeds)' : '';
    throw new InputError(`--resume ${dir}: no run there (missing ${path})${hint}`, { file: path });
  }
  return path;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
