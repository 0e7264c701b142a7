/**
 * The FAVOR part of `attune demo` (reduced setting, about 2 minutes on 2 cores): the tiny model trained on short
 * AVQA scenes as full FAVOR, without synchronization and question-only, then a few test questions answered with
 * the attention per window. Returns report sections; the caller writes the report.
 */
import { join } from 'node:path';
import { FAVOR_ABLATIONS, type AblationRow, ablationMarkdown, runFavorAblation, ABLATION_COLUMNS } from './favor_ablation.js';
import { loadAvqaExamples } from '../models/favor/data.js';
import { askClip, loadFavorModel } from '../models/favor/infer.js';
import type { Section } from '../report/spec.js';

export interface FavorDemoOptions {
  out: string;
  /** AVQA scenes (default 100, clips of 5-8 s). */
  scenes?: number;
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

const DEMO_ROWS = [0, 1, FAVOR_ABLATIONS.length - 1]; // full FAVOR, no synchronization, question only

export async function runFavorDemo(opts: FavorDemoOptions): Promise<FavorDemoResult> {
  const t0 = performance.now();
  const scenes = opts.scenes ?? 100;
  const avqa = ['data.avqa.minDuration=5', 'data.avqa.maxDuration=8'];
  const set = [...avqa, `train.epochs=${opts.epochs ?? 6}`, 'train.evalEvery=100', 'train.batchSize=16', 'train.lr=3e-3'];
  const rows = await runFavorAblation({ data: `avqa:${scenes}`, seeds: opts.seeds ?? [1], set, variant: 'tiny', out: opts.out, rows: DEMO_ROWS, quiet: opts.quiet ?? true });
  const model = loadFavorModel(join(opts.out, `row${DEMO_ROWS[0]}`, `seed-${(opts.seeds ?? [1])[0]}`));
  const ex = loadAvqaExamples({ seed: 0, minDuration: 5, maxDuration: 8 }, scenes);
  const test = ex.questions.filter((q) => q.split === 'test').slice(0, opts.examples ?? 6);
  const answered = [];
  for (const q of test) answered.push({ q, r: await askClip(model, ex.clip(q), q.question) });
  const table: Section = {
    kind: 'table', title: `FAVOR on AVQA (${scenes} scenes of 5-8 s, tiny model): test accuracy per family`,
    columns: ['variant', ...ABLATION_COLUMNS],
    rows: rows.map((r) => [r.name, ...ABLATION_COLUMNS.map((c) => r.metrics[c === 'all' ? 'test.acc' : `test.acc_${c}`]?.mean ?? null)]),
    digits: 3,
  };
  const examples: Section = {
    kind: 'table', title: 'Test questions: the answer and how much it drew on each 5 s window (share of the attention on the AV tokens)',
    columns: ['question', 'truth', 'answer', 'attention per window'],
    rows: answered.map(({ q, r }) => [q.question, q.answer, r.answer, r.windows.map((w) => `${w.start}-${w.end} s: ${(100 * w.share).toFixed(0)}%`).join(', ')]),
  };
  return { sections: [table, examples], rows, markdown: ablationMarkdown(rows), seconds: (performance.now() - t0) / 1000 };
}
