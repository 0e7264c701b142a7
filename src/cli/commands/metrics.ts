/**
 * `attune metrics`: evaluate arrays saved by any model (.npy from NumPy, .safetensors from PyTorch or
 * Attune) with the metric suite; prints a table, optionally writes JSON and an HTML report.
 *
 * Every mode is one entry of METRIC_TASKS (name -> metadata, inputs, computation, printer), in the manner
 * of transformers.js's task table: `type` says what the arrays are, `inputs` which flags it reads and the
 * shapes it expects, `metrics` the main names it reports, `compute` the computation, `print` the text output.
 * A new mode is one entry.
 */
import { Option, type Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { loadNpy } from '../../io/npy.js';
import { loadSafetensors } from '../../io/safetensors.js';
import type { HostArray } from '../../io/array.js';
import { InputError, ShapeError } from '../../util/errors.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { formatTable, printJson } from '../output.js';
import { number, offsetGrid, oneOf } from '../parse.js';
import { asMatrix, checkPaired } from '../../metrics/input.js';
import { embeddingSuite, frameSuite, meanPool, type MetricRecord } from '../../metrics/suite.js';
import { classificationReport, iemocapMetrics, mosiMetrics } from '../../metrics/classification.js';
import { desync, predictedOffsets, syncAccuracy, type OffsetGrid, DEFAULT_GRID } from '../../metrics/sync.js';
import { frechetDistance, inceptionScore, pairedKl } from '../../metrics/generation.js';
import type { Precision } from '../../metrics/ort.js';
import { writeReport } from '../../report/html.js';
import type { Section } from '../../report/spec.js';
import { Progress } from '../../util/progress.js';
import { confusionHeatmap, metricsTable, offsetHistogramSection, similarityHeatmap } from '../../report/sections.js';

interface Opts {
  a?: string;
  b?: string;
  pred?: string;
  true?: string;
  labels?: string;
  key?: string;
  task?: TaskName;
  json: boolean;
  out?: string;
  report?: string;
  precision?: Precision;
  temperature: number;
  ksg?: boolean;
  grid: OffsetGrid;
}

interface Loaded {
  file: string;
  array: HostArray;
}

/** The arrays a command line gave (each optional; a task says which it needs). */
interface Inputs {
  a?: Loaded;
  b?: Loaded;
  pred?: Loaded;
  truth?: Loaded;
}

interface Computed {
  metrics: MetricRecord;
  extra?: Record<string, unknown>;
  sections: Section[];
}

export interface MetricsTask {
  /** What the arrays are (transformers.js-style task type). */
  type: 'embedding' | 'feature' | 'generation' | 'classification' | 'regression' | 'sync';
  about: string;
  /** The flags it reads and the shapes it expects. */
  inputs: Partial<Record<'a' | 'b' | 'pred' | 'true', string>>;
  /** The main metric names it reports. */
  metrics: readonly string[];
  compute(io: Inputs, o: Opts): Promise<Computed>;
  /** Text output (default: the metric table). */
  print?(r: MetricsOutput, o: Opts): void;
}

interface MetricsOutput {
  task: TaskName;
  inputs: Record<string, unknown>;
  metrics: MetricRecord;
  extra: Record<string, unknown>;
  sections: Section[];
}

/** Reads FILE (.npy or .safetensors); FILE#NAME or --key picks a tensor from a safetensors file. */
export function readArray(spec: string, key?: string, what = 'input'): Loaded {
  const hash = spec.lastIndexOf('#');
  const [file, inlineKey] =
    hash > 0 && !existsSync(spec) ? [spec.slice(0, hash), spec.slice(hash + 1)] : [spec, undefined];
  if (!existsSync(file)) throw new InputError(`${what}: file ${file} does not exist`, { file });
  const ext = extname(file).toLowerCase();
  if (ext === '.npy') return { file, array: loadNpy(file) };
  if (ext === '.safetensors') {
    const st = loadSafetensors(file);
    const names = [...st.tensors.keys()];
    const name = inlineKey ?? key ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined)
      throw new InputError(
        `${what}: ${file} holds ${names.length} tensors (${names.join(', ')}); pick one with --key NAME or ${file}#NAME`,
        { file, names },
      );
    const t = st.tensors.get(name);
    if (!t)
      throw new InputError(`${what}: ${file} has no tensor "${name}"; it holds: ${names.join(', ')}`, {
        file,
        key: name,
      });
    return { file: `${file}#${name}`, array: t };
  }
  throw new InputError(`${what}: ${file} is neither .npy nor .safetensors`, { file });
}

function describe(l: Loaded): Record<string, unknown> {
  return { file: l.file, shape: l.array.shape, dtype: l.array.dtype };
}

function readLabels(spec: string | undefined): string[] | undefined {
  if (!spec) return undefined;
  const text = existsSync(spec) ? readFileSync(spec, 'utf8') : spec.replace(/,/g, '\n');
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function needRank(l: Loaded, ranks: number[], what: string, expected: string): void {
  if (!ranks.includes(l.array.shape.length)) {
    throw new ShapeError(`${what} (${l.file}) has shape [${l.array.shape.join(', ')}]; expected ${expected}`, {
      file: l.file,
      shape: l.array.shape,
      expected,
    });
  }
}

function pickTask(o: Opts, a?: Loaded, pred?: Loaded): TaskName {
  if (o.task) return o.task;
  if (a) return a.array.shape.length === 3 ? 'frames' : 'embeddings';
  if (pred && pred.array.shape.length === 1 && (pred.array.dtype === 'float32' || pred.array.dtype === 'float64')) {
    const d = pred.array.data as Float32Array;
    if (d.some((v) => !Number.isInteger(v))) return 'mosi';
  }
  return 'classification';
}

/** A progress display for long computations (quiet under --json unless stderr is a terminal). */
function progressFor(o: Opts, label: string, total: number): Progress {
  return new Progress({ label, total, quiet: o.json && !process.stderr.isTTY });
}

function needPair(io: Inputs, task: TaskName, what = ''): { a: Loaded; b: Loaded } {
  if (!io.a || !io.b) throw new InputError(`task ${task} needs --a and --b${what}`, { field: 'a' });
  return { a: io.a, b: io.b };
}

function needPredictions(io: Inputs, task: TaskName): { pred: Loaded; truth: Loaded } {
  if (!io.pred || !io.truth) throw new InputError(`task ${task} needs --pred and --true`, { field: 'pred' });
  return { pred: io.pred, truth: io.truth };
}

/** embeddings and frames: the retrieval / similarity / mutual-information suite on paired rows. */
async function pairedSuite(io: Inputs, o: Opts, task: 'embeddings' | 'frames'): Promise<Computed> {
  const { a, b } = needPair(io, task);
  const frames = task === 'frames';
  needRank(a, frames ? [3] : [2], '--a', frames ? '[N, T, D] frame features' : '[N, D] embeddings');
  needRank(b, [a.array.shape.length], '--b', `the same rank as --a ([${a.array.shape.join(', ')}])`);
  let metrics: MetricRecord = {};
  if (frames) {
    if (a.array.shape.join() !== b.array.shape.join())
      throw new ShapeError(
        `--a is [${a.array.shape.join(', ')}] but --b is [${b.array.shape.join(', ')}]; frame features must match`,
        { file: b.file },
      );
    metrics = { ...frameSuite(a.array, b.array).metrics };
  }
  const am = frames ? meanPool(a.array) : asMatrix(a.array, `--a (${a.file})`);
  const bm = frames ? meanPool(b.array) : asMatrix(b.array, `--b (${b.file})`);
  checkPaired(am, bm, `--a (${a.file})`, `--b (${b.file})`);
  let bar: Progress | null = null;
  const big = am.rows * am.rows * am.cols > 5e9;
  const suite = await embeddingSuite(am, bm, {
    precision: o.precision,
    temperature: Number(o.temperature),
    ksg: o.ksg,
    onPhase: (phase) => {
      bar?.finish();
      bar = big ? progressFor(o, phase, am.rows) : null;
    },
    onProgress: (done) => bar?.update(done),
  });
  (bar as Progress | null)?.finish();
  return {
    metrics: { ...metrics, ...suite.metrics },
    sections: [
      similarityHeatmap(am, bm, { rowName: '--a', colName: '--b' }),
      {
        kind: 'histogram',
        title: 'Rank of the true pair, a -> b (0 = retrieved first)',
        values: Array.from(suite.ranksAToB, Math.floor),
        binCount: 30,
        integer: true,
        xName: 'rank',
        yName: 'queries',
      },
    ],
  };
}

/** The table of `attune metrics` modes. */
export const METRIC_TASKS = {
  embeddings: {
    type: 'embedding',
    about: 'paired embeddings of two modalities: retrieval both ways, similarity, modality gap, mutual information',
    inputs: { a: '[N, D] embeddings', b: '[N, D] paired embeddings (row i of --a pairs with row i of --b)' },
    metrics: ['a2b_R@1', 'b2a_R@1', 'a2b_mAP@10', 'embedding_similarity', 'modality_gap', 'mi_infonce', 'mi_ksg'],
    compute: (io, o) => pairedSuite(io, o, 'embeddings'),
  },
  frames: {
    type: 'feature',
    about: 'paired frame features: per-frame similarity, then the embedding suite on time-pooled rows',
    inputs: { a: '[N, T, D] frame features', b: '[N, T, D] paired frame features' },
    metrics: ['cosine_sim', 'a2b_R@1', 'b2a_R@1', 'embedding_similarity'],
    compute: (io, o) => pairedSuite(io, o, 'frames'),
  },
  fd: {
    type: 'generation',
    about: 'Frechet distance between two feature sets (FAD / FVD style)',
    inputs: { a: '[N, D] real features', b: '[M, D] generated features' },
    metrics: ['fd', 'fd_mean_term', 'fd_trace_term'],
    async compute(io, o) {
      const { a, b } = needPair(io, 'fd', ' feature sets');
      needRank(a, [2], '--a', '[N, D] features');
      needRank(b, [2], '--b', '[M, D] features');
      if (a.array.shape[1] !== b.array.shape[1])
        throw new ShapeError(
          `--a (${a.file}) has ${a.array.shape[1]} features per row but --b (${b.file}) has ${b.array.shape[1]}`,
          { file: b.file, expected: a.array.shape[1], got: b.array.shape[1] },
        );
      const d = a.array.shape[1];
      const bar =
        (a.array.shape[0] + b.array.shape[0]) * d * d > 1e10
          ? progressFor(o, 'fd (covariances, square root)', 3)
          : null;
      const r = await frechetDistance(a.array, b.array, { precision: o.precision, onProgress: (k) => bar?.update(k) });
      bar?.finish();
      return { metrics: { fd: r.fd, fd_mean_term: r.meanTerm, fd_trace_term: r.traceTerm }, sections: [] };
    },
  },
  kl: {
    type: 'generation',
    about: 'inception score of generated logits, and the paired softmax KL to reference logits',
    inputs: { pred: '[N, C] generated logits (or --a)', true: '(optional) [N, C] reference logits (or --b)' },
    metrics: ['is_mean', 'is_std', 'kl_softmax'],
    async compute(io) {
      const p = io.pred ?? io.a;
      const g = io.truth ?? io.b;
      if (!p)
        throw new InputError('task kl needs --pred (generated logits) and optionally --true (reference logits)', {
          field: 'pred',
        });
      needRank(p, [2], 'generated logits', '[N, C] logits');
      const is = inceptionScore(p.array, { splits: Math.min(10, p.array.shape[0]) });
      const metrics: MetricRecord = { is_mean: is.mean, is_std: is.std };
      if (g) {
        needRank(g, [2], 'reference logits', '[N, C] logits');
        metrics.kl_softmax = pairedKl(p.array, g.array);
      }
      return { metrics, sections: [] };
    },
  },
  classification: {
    type: 'classification',
    about: 'accuracy, weighted accuracy, macro / weighted F1, per-class table and confusion matrix',
    inputs: { pred: '[N, C] logits or [N] class ids', true: '[N] class ids' },
    metrics: ['accuracy', 'weighted_accuracy', 'macro_f1', 'weighted_f1'],
    async compute(io, o) {
      const { pred, truth } = needPredictions(io, 'classification');
      const r = classificationReport(pred.array, truth.array, { labels: readLabels(o.labels) });
      return {
        metrics: {
          accuracy: r.accuracy,
          weighted_accuracy: r.weightedAccuracy,
          macro_f1: r.macroF1,
          weighted_f1: r.weightedF1,
        },
        extra: { perClass: r.perClass, confusion: r.confusion },
        sections: [
          {
            kind: 'table',
            title: 'Per class',
            columns: ['class', 'precision', 'recall', 'F1', 'support'],
            rows: r.perClass.map((c) => [c.label, c.precision, c.recall, c.f1, c.support]),
          },
          confusionHeatmap(
            r.confusion,
            r.perClass.map((c) => c.label),
          ),
        ],
      };
    },
  },
  mosi: {
    type: 'regression',
    about: 'CMU-MOSI sentiment scores: MAE, correlation, binary (with and without 0), 5- and 7-class accuracy',
    inputs: { pred: '[N] predicted scores', true: '[N] true scores' },
    metrics: ['has0Acc2', 'has0F1', 'non0Acc2', 'non0F1', 'acc5', 'acc7', 'mae', 'corr'],
    async compute(io) {
      const { pred, truth } = needPredictions(io, 'mosi');
      return { metrics: { ...mosiMetrics(pred.array, truth.array) }, sections: [] };
    },
  },
  iemocap: {
    type: 'classification',
    about: 'IEMOCAP (MulT protocol): per-emotion binary accuracy and weighted F1',
    inputs: {
      pred: '[N, E, 2] (or [N, 2E]) absent/present logits per emotion',
      true: '[N, E] 0/1 labels (--labels names the E emotions)',
    },
    metrics: ['<emotion>_acc', '<emotion>_f1'],
    async compute(io, o) {
      const { pred, truth } = needPredictions(io, 'iemocap');
      const metrics: MetricRecord = {};
      for (const [e, m] of Object.entries(iemocapMetrics(pred.array, truth.array, readLabels(o.labels)))) {
        metrics[`${e}_acc`] = m.accuracy;
        metrics[`${e}_f1`] = m.weightedF1;
      }
      return { metrics, sections: [] };
    },
  },
  sync: {
    type: 'sync',
    about: 'audio-visual offset classification on a grid (--grid): exact and within-one accuracy, mean desync',
    inputs: { pred: '[N, C] offset-class logits or [N] class ids', true: '[N] offset class ids' },
    metrics: ['sync_acc1', 'sync_acc_within1', 'desync_s'],
    async compute(io, o) {
      const { pred, truth } = needPredictions(io, 'sync');
      const grid = o.grid;
      const acc = syncAccuracy(pred.array, truth.array, grid);
      const offsets = predictedOffsets(pred.array, grid);
      return {
        metrics: { sync_acc1: acc.accuracy1, sync_acc_within1: acc.accuracyWithin1, desync_s: desync(offsets) },
        sections: [offsetHistogramSection(offsets, grid)],
      };
    },
  },
} satisfies Record<string, MetricsTask>;

type TaskName = keyof typeof METRIC_TASKS;
const TASKS = Object.keys(METRIC_TASKS) as TaskName[];

/** The default printer: one metric per row. */
function printMetricTable(r: MetricsOutput, o: Opts): void {
  process.stdout.write(
    formatTable(
      ['metric', 'value'],
      Object.entries(r.metrics).map(([k, v]) => [k, v]),
    ) + '\n',
  );
  if (o.out) process.stdout.write(`wrote ${o.out}\n`);
  if (o.report) process.stdout.write(`wrote ${o.report}\n`);
}

async function evaluate(o: Opts): Promise<MetricsOutput> {
  const a = o.a ? readArray(o.a, o.key, '--a') : undefined;
  const b = o.b ? readArray(o.b, o.key, '--b') : undefined;
  const pred = o.pred ? readArray(o.pred, o.key, '--pred') : undefined;
  const truth = o.true ? readArray(o.true, o.key, '--true') : undefined;
  if (!a && !pred)
    throw new InputError('give --a and --b (embeddings or features) or --pred and --true (predictions)', {
      field: 'a',
    });
  if ((a && !b) || (!a && b)) throw new InputError('--a and --b go together', { field: a ? 'b' : 'a' });
  if ((pred && !truth && o.task !== undefined && o.task !== 'kl') || (!pred && truth))
    throw new InputError('--pred and --true go together', { field: pred ? 'true' : 'pred' });
  const task = pickTask(o, a, pred);
  const inputs: Record<string, unknown> = {};
  for (const [k, l] of Object.entries({ a, b, pred, true: truth })) if (l) inputs[k] = describe(l);
  const r: Computed = await (METRIC_TASKS[task] as MetricsTask).compute({ a, b, pred, truth }, o);
  return {
    task,
    inputs,
    metrics: r.metrics,
    extra: r.extra ?? {},
    sections: [metricsTable('Metrics', r.metrics), ...r.sections],
  };
}

export function register(program: Command): void {
  program
    .command('metrics')
    .description('evaluate saved embeddings, features or predictions (.npy / .safetensors) with the metric suite')
    .option(
      '--a <file>',
      'embeddings [N, D] (or frame features [N, T, D]) of the first modality; FILE#TENSOR picks a safetensors entry',
    )
    .option('--b <file>', 'paired embeddings of the second modality (row i of --a pairs with row i of --b)')
    .option('--pred <file>', 'predictions: class logits [N, C], class ids [N], or regression scores [N]')
    .option('--true <file>', 'ground truth: class ids [N] (or scores for --task mosi, [N, E] for iemocap)')
    .option('--labels <list>', 'class names: a text file with one per line, or a comma-separated list')
    .option('--key <name>', 'tensor to read from .safetensors files that hold several')
    .option(
      '--task <task>',
      `one of ${TASKS.join(', ')} (default: embeddings/frames for --a/--b, classification or mosi for --pred/--true)`,
    )
    .option(
      '--precision <p>',
      'float32 or float64 for the matrix products (default: float32 for retrieval, float64 for fd)',
      oneOf('--precision', ['float32', 'float64'] as const),
    )
    .option(
      '--temperature <t>',
      'softmax temperature of the InfoNCE bound',
      number('--temperature', { min: 0.005, max: 1000 }),
      0.07,
    )
    .option('--ksg', 'force the O(N^2) KSG mutual-information estimator (default: only when N <= 5000)')
    .option('--no-ksg', 'skip the KSG estimator')
    .addOption(
      new Option('--grid <min,max,classes>', 'offset grid for --task sync')
        .argParser(offsetGrid('--grid'))
        .default(DEFAULT_GRID, `${DEFAULT_GRID.min},${DEFAULT_GRID.max},${DEFAULT_GRID.classes}`),
    )
    .option('--out <file>', 'also write the results as JSON (atomically)')
    .option('--report <file.html>', 'write a self-contained HTML report')
    .option('--json', 'print JSON instead of a table', false)
    .addHelpText(
      'after',
      () =>
        `\nTasks (--task):\n${TASKS.map(
          (t) =>
            `  ${t.padEnd(15)}${METRIC_TASKS[t].about}\n${' '.repeat(17)}${Object.entries(METRIC_TASKS[t].inputs)
              .map(([k, v]) => `--${k} ${v}`)
              .join('; ')}`,
        ).join('\n')}\n`,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  attune metrics --a audio.npy --b text.npy\n  attune metrics --a emb.safetensors#audio --b emb.safetensors#text --report eval.html\n  attune metrics --pred logits.npy --true labels.npy --labels neutral,happy,sad,angry\n  attune metrics --task fd --a real.npy --b generated.npy',
    )
    .action(async (o: Opts) => {
      if (o.task && !TASKS.includes(o.task))
        throw new InputError(`unknown --task "${o.task}"; expected one of: ${TASKS.join(', ')}`, { field: 'task' });
      const r = await evaluate(o);
      const result = { task: r.task, inputs: r.inputs, metrics: r.metrics, ...r.extra };
      if (o.out) writeJsonAtomic(o.out, result);
      if (o.report) {
        writeReport(o.report, {
          title: `Attune metrics: ${r.task}`,
          subtitle: new Date().toISOString(),
          meta: Object.fromEntries(
            Object.entries(r.inputs).map(([k, v]) => [
              k,
              `${(v as any).file} [${(v as any).shape.join(', ')}] ${(v as any).dtype}`,
            ]),
          ),
          sections: r.sections,
        });
      }
      if (o.json) printJson(result);
      else ((METRIC_TASKS[r.task] as MetricsTask).print ?? printMetricTable)(r, o);
    });
}
