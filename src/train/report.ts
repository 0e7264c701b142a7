/** The run's HTML report: before/after metrics, training curves from log.jsonl, the config, and the task's sections. */

import { writeReport } from '../report/html.js';
import { curvesFromLog } from '../report/sections.js';
import type { Cell, Section } from '../report/spec.js';
import type { MeanStd } from '../metrics/stats.js';
import type { RunConfig } from './config.js';
import type { LogLine } from './log.js';
import type { RunResult } from './run.js';
import type { AnyTask } from './task.js';

export interface RunReportInput {
  task: AnyTask;
  config: RunConfig;
  result: RunResult;
  log: LogLine[];
  sections: Section[];
  info?: Record<string, number | string | boolean>;
}

const numeric = (line: LogLine): Record<string, number> =>
  Object.fromEntries(Object.entries(line).filter(([, v]) => typeof v === 'number')) as Record<string, number>;

export function runReportSections(input: RunReportInput): Section[] {
  const { result, log } = input;
  const sections: Section[] = [];
  const m = result.metrics;
  if (m) {
    const names = [...new Set([...Object.keys(m.before), ...Object.keys(m.test)])].sort();
    const hasBefore = Object.keys(m.before).length > 0;
    sections.push({
      kind: 'table',
      title: hasBefore ? 'Test metrics: untrained vs trained (best weights)' : 'Test metrics (best weights)',
      columns: hasBefore ? ['metric', 'before', 'after'] : ['metric', 'value'],
      rows: names.map((n): Cell[] =>
        hasBefore ? [n, m.before[n] ?? null, m.test[n] ?? null] : [n, m.test[n] ?? null],
      ),
    });
  }
  const steps = log.filter((l) => l.type === 'step' && !l.skipped).map(numeric);
  if (steps.length) {
    sections.push(curvesFromLog('Training loss', withEma(steps, 'loss'), ['loss', 'loss (EMA)']));
    const trainMetrics = Object.keys(steps[0]).filter(
      (k) => !['step', 'pos', 'epoch', 'loss', 'loss (EMA)', 'lr', 'grad_norm', 'time'].includes(k),
    );
    if (trainMetrics.length) sections.push(curvesFromLog('Training metrics (per step)', steps, trainMetrics));
    sections.push(curvesFromLog('Gradient norm (before clipping)', steps, ['grad_norm']));
    sections.push(curvesFromLog('Learning rate', steps, ['lr']));
  }
  const evals = log.filter((l) => l.type === 'eval' && l.split === 'val').map(numeric);
  if (evals.length) {
    const keys = [...new Set(evals.flatMap((e) => Object.keys(e)))].filter((k) => k.startsWith('val.'));
    sections.push(
      curvesFromLog(
        'Validation loss',
        evals,
        keys.filter((k) => k === 'val.loss'),
      ),
    );
    const others = keys.filter((k) => k !== 'val.loss');
    if (others.length) sections.push(curvesFromLog('Validation metrics', evals, others));
  }
  sections.push({
    kind: 'table',
    title: 'Config',
    columns: ['field', 'value'],
    rows: flatten(input.config).map(([k, v]): Cell[] => [k, v]),
  });
  return [...sections, ...input.sections];
}

export function writeRunReport(path: string, input: RunReportInput): void {
  const { task, config, result } = input;
  writeReport(path, {
    title: `${task.name}: training report`,
    subtitle: task.description,
    meta: {
      task: task.name,
      variant: config.variant ?? '(default)',
      seed: config.train.seed,
      status: result.status,
      steps: `${result.steps} of ${result.totalSteps}${result.skippedSteps ? ` (${result.skippedSteps} non-finite skipped)` : ''}`,
      monitor: `val.${result.monitor.metric} (${result.monitor.mode}) best ${result.monitor.best === null ? 'n/a' : Number(result.monitor.best.toPrecision(6))} at step ${result.monitor.bestStep}`,
      seconds: Number(result.seconds.toFixed(1)),
      'steps/s': Number(result.stepsPerSecond.toFixed(2)),
      ...(input.info ?? {}),
    } as Record<string, string | number>,
    sections: runReportSections(input),
  });
}

/** The seed-list summary: mean ± std per test metric, and each seed's value. */
export function writeSeedsReport(
  path: string,
  taskName: string,
  seeds: number[],
  perSeed: Record<string, number>[],
  summary: Record<string, MeanStd>,
): void {
  const names = Object.keys(summary).sort();
  writeReport(path, {
    title: `${taskName}: ${seeds.length} seeds`,
    meta: { task: taskName, seeds: seeds.join(', ') },
    sections: [
      {
        kind: 'table',
        title: 'Test metrics, mean ± std over seeds (sample std)',
        columns: ['metric', 'mean', 'std', ...seeds.map((s) => `seed ${s}`)],
        rows: names.map((n): Cell[] => [n, summary[n].mean, summary[n].std, ...perSeed.map((r) => r[n] ?? null)]),
      },
    ],
  });
}

function withEma(rows: Record<string, number>[], key: string, alpha = 0.1): Record<string, number>[] {
  let ema: number | null = null;
  return rows.map((r) => {
    ema = ema === null ? r[key] : (1 - alpha) * ema + alpha * r[key];
    return { ...r, [`${key} (EMA)`]: ema };
  });
}

function flatten(value: unknown, prefix = ''): [string, string | number][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, typeof value === 'number' ? value : JSON.stringify(value)]];
}
