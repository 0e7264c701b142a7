/**
 * The FAVOR part of `attune demo` (reduced setting, about 2 minutes on 2 cores): the tiny model trained on 5 s AVQA
 * scenes as full FAVOR and question-only, the template prior beside them, then a few test questions answered with
 * the attention per window. Returns report sections; the caller writes the report.
 */
import { join } from 'node:path';
import {
  FAVOR_ABLATIONS,
  type AblationRow,
  ablationMarkdown,
  runFavorAblation,
  ABLATION_COLUMNS,
} from './favor_ablation.js';
import { loadAvqaExamples } from '../models/favor/data.js';
import { askClip, loadFavorModel } from '../models/favor/infer.js';
import type { Section } from '../report/spec.js';

export interface FavorDemoOptions {
  out: string;
  /** AVQA scenes (default 240). */
  scenes?: number;
  /** Clip length in seconds (default 5: 10 frames, two 5-frame windows). */
  seconds?: number;
  epochs?: number;
  seeds?: number[];
  /** Test questions answered in the examples table. */
  examples?: number;
  quiet?: boolean;
}

export interface FavorDemoResult {
  sections: Section[];
  rows: AblationRow[];
  markdown: string;
  seconds: number;
}

const DEMO_ROWS = [0, FAVOR_ABLATIONS.length - 1]; // full FAVOR, question only

/** The demo's shared settings: short clips in 2.5 s windows so that a clip still has two windows to attend over. */
export function favorDemoSettings(seconds: number, epochs: number): string[] {
  const clip = [`data.avqa.minDuration=${seconds}`, `data.avqa.maxDuration=${seconds}`, 'model.window=5'];
  return [
    ...clip,
    `train.epochs=${epochs}`,
    'train.evalEvery=1000',
    'train.batchSize=16',
    'train.lr=3e-3',
    'train.threads=2',
  ];
}

const cellOf = (r: AblationRow, key: string) => r.metrics[key]?.mean ?? null;
const metricKey = (prefix: 'acc' | 'prior', c: string) => (c === 'all' ? `test.${prefix}` : `test.${prefix}_${c}`);

export async function runFavorDemo(opts: FavorDemoOptions): Promise<FavorDemoResult> {
  const t0 = performance.now();
  const scenes = opts.scenes ?? 240;
  const seconds = opts.seconds ?? 5;
  const seeds = opts.seeds ?? [1];
  const set = favorDemoSettings(seconds, opts.epochs ?? 8);
  const rows = await runFavorAblation({
    data: `avqa:${scenes}`,
    seeds,
    set,
    variant: 'tiny',
    out: opts.out,
    rows: DEMO_ROWS,
    quiet: opts.quiet ?? true,
  });
  const model = loadFavorModel(join(opts.out, `row${DEMO_ROWS[0]}`, `seed-${seeds[0]}`));
  const ex = loadAvqaExamples({ seed: 0, minDuration: seconds, maxDuration: seconds }, scenes);
  const test = ex.questions.filter((q) => q.split === 'test').slice(0, opts.examples ?? 6);
  const answered = [];
  for (const q of test) answered.push({ q, r: await askClip(model, ex.clip(q), q.question) });
  const table: Section = {
    kind: 'table',
    title: `FAVOR on AVQA (${scenes} scenes of ${seconds} s, tiny model, 2.5 s windows, ${set.find((s) => s.startsWith('train.epochs'))}): test accuracy per family`,
    columns: ['variant', ...ABLATION_COLUMNS],
    rows: [
      ...rows.map((r) => [r.name, ...ABLATION_COLUMNS.map((c) => cellOf(r, metricKey('acc', c)))]),
      ...(rows[0]
        ? [
            [
              'template prior (question type only)',
              ...ABLATION_COLUMNS.map((c) => cellOf(rows[0], metricKey('prior', c))),
            ],
          ]
        : []),
    ],
    digits: 3,
  };
  const examples: Section = {
    kind: 'table',
    title: 'Test questions: the answer and how much it drew on each window (share of the attention on the AV tokens)',
    columns: ['question', 'truth', 'answer', 'attention per window'],
    rows: answered.map(({ q, r }) => [
      q.question,
      q.answer,
      r.answer,
      r.windows.map((w) => `${w.start}-${w.end} s: ${(100 * w.share).toFixed(0)}%`).join(', '),
    ]),
  };
  return {
    sections: [table, examples],
    rows,
    markdown: ablationMarkdown(rows),
    seconds: (performance.now() - t0) / 1000,
  };
}
