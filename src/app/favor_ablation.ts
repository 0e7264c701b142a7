/**
 * The FAVOR ablation table (issue #11 C): each variant trained with the trainer over several seeds on the same AVQA
 * scenes, test accuracy per question family as mean ± std, in the style of the paper's ablation table. Written as
 * markdown between markers in docs/favor.md (and returned for reports).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AVQA_FAMILIES } from '../data/avqa/index.js';
import { aggregateSeeds, type MeanStd } from '../metrics/stats.js';
import { getTask } from '../models/registry.js';
import { parseOverrides, resolveConfig } from '../train/config.js';
import { parseDataSource } from '../train/data.js';
import { runTraining } from '../train/run.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';

export interface Ablation {
  name: string;
  /** --set overrides over the shared settings. */
  set: string[];
}

export const FAVOR_ABLATIONS: Ablation[] = [
  { name: 'FAVOR (sync frame, causal future, diversity 0.01, window 10)', set: [] },
  { name: 'no synchronization (audio Q-Former, tokens after all visual ones)', set: ['model.sync=none'] },
  { name: 'window-level sync (Video-LLaMA style)', set: ['model.sync=window'] },
  { name: 'no causal attention', set: ['model.causal=none'] },
  { name: "the other causal direction ('past')", set: ['model.causal=past'] },
  { name: 'no diversity loss', set: ['model.diversity=0'] },
  { name: 'window 5 frames', set: ['model.window=5'] },
  { name: 'window 20 frames', set: ['model.window=20'] },
  // Not in the paper: its encoders are pretrained; these stand in for that pretraining (docs/favor.md).
  { name: '+ per-frame encoder supervision (frameAux 1)', set: ['model.frameAux=1'] },
  { name: '+ per-frame supervision and pixel MLP (pixelDim 8)', set: ['model.frameAux=1', 'model.pixelDim=8'] },
  { name: 'question only (no AV tokens)', set: ['model.questionOnly=true'] },
  // Row 1 gives audio its own 8 queries, so the LM reads twice the full model's AV tokens; this row halves the queries
  // per stream (4 visual + 4 audio per window = the full row's 16 per clip) so only the synchronization differs.
  // Appended last so the earlier rows keep their indices (and their run folders under --out).
  {
    name: 'no synchronization, same token budget (4 + 4 queries)',
    set: ['model.sync=none', 'model.queries=4'],
  },
];

export interface AblationOptions {
  /** avqa:N */
  data: string;
  seeds: number[];
  /** Shared --set overrides (e.g. train.epochs=8). */
  set?: string[];
  variant?: string;
  out: string;
  /** Run only these rows (by index into FAVOR_ABLATIONS). */
  rows?: number[];
  quiet?: boolean;
  onRow?: (name: string, seed: number) => void;
}

export interface AblationRow {
  name: string;
  set: string[];
  metrics: Record<string, MeanStd>;
  /** The seeds whose runs finished (n of the row). */
  seeds: number[];
  seconds: number;
}

export const ABLATION_COLUMNS = [...AVQA_FAMILIES, 'all'] as const;

export async function runFavorAblation(opts: AblationOptions): Promise<AblationRow[]> {
  const task = await getTask('favor');
  const source = parseDataSource(opts.data);
  const rows: AblationRow[] = [];
  const pick = opts.rows ?? FAVOR_ABLATIONS.map((_, i) => i);
  for (const i of pick) {
    const ab = FAVOR_ABLATIONS[i];
    if (!ab) throw new InputError(`no ablation row ${i} (0..${FAVOR_ABLATIONS.length - 1})`, { field: 'rows', got: i });
    const perSeed: Record<string, number>[] = [];
    const seeds: number[] = [];
    const t0 = performance.now();
    for (const seed of opts.seeds) {
      opts.onRow?.(ab.name, seed);
      const overrides = parseOverrides([
        ...(opts.set ?? []),
        ...ab.set,
        `train.seed=${seed}`,
        'train.export=false',
        'train.report=false',
      ]);
      if (opts.variant) overrides.variant = opts.variant;
      const config = resolveConfig(task, { source: source.kind, overrides });
      const r = await runTraining({
        task,
        config,
        source,
        out: join(opts.out, `row${i}`, `seed-${seed}`),
        quiet: opts.quiet ?? true,
      });
      if (r.metrics) {
        perSeed.push(r.metrics.test);
        seeds.push(seed);
      }
    }
    rows.push({
      name: ab.name,
      set: ab.set,
      metrics: aggregateSeeds(perSeed),
      seeds,
      seconds: (performance.now() - t0) / 1000,
    });
  }
  return rows;
}

/** The test metric of a table column: `test.acc` for 'all', `test.acc_<family>` per family (or `prior`). */
const columnKey = (column: string, metric = 'acc') =>
  column === 'all' ? `test.${metric}` : `test.${metric}_${column}`;

/** Header and rule of a table with a first column, n, then the family columns and 'all'. */
const tableHead = (first: string) =>
  `| ${first} | n | ${ABLATION_COLUMNS.join(' | ')} |\n|---|---|${ABLATION_COLUMNS.map(() => '---').join('|')}|`;

/**
 * The markdown table: one row per ablation with its number of seeds n, test accuracy per family in % (mean ± sample
 * std where n >= 2, the one value where n = 1), and the template prior (the same test questions in every run).
 */
export function ablationMarkdown(rows: AblationRow[]): string {
  const cell = (m: MeanStd | undefined, spread = true) =>
    !m?.n ? '–' : `${(100 * m.mean).toFixed(1)}${spread && m.n > 1 ? ` ± ${(100 * m.std).toFixed(1)}` : ''}`;
  const line = (name: string, n: string, metric: string, metrics: Record<string, MeanStd>, spread = true) =>
    `| ${name} | ${n} | ${ABLATION_COLUMNS.map((c) => cell(metrics[columnKey(c, metric)], spread)).join(' | ')} |`;
  const head = tableHead('variant');
  const body = rows.map((r) => line(r.name, String(r.seeds.length), 'acc', r.metrics));
  const prior = rows[0] ? [line('template prior (question type only)', '', 'prior', rows[0].metrics, false)] : [];
  return [head, ...body, ...prior].join('\n');
}

/**
 * Each row's effect against the first row (the full model, n >= 2): the difference of means per family in points,
 * ± its standard error sqrt(s_full²/n_full + s_row²/n_row). A row with one seed has no spread of its own, so the full
 * row's seed std stands in for it (the same recipe, so about the same seed noise). Bold where |effect| > 2 standard
 * errors. Empty when the first row is not the full model or has fewer than two seeds.
 */
export function ablationEffectsMarkdown(rows: AblationRow[]): string {
  const full = rows[0];
  if (!full || full.set.length || full.seeds.length < 2 || rows.length < 2) return '';
  const effect = (m: MeanStd | undefined, ref: MeanStd | undefined) => {
    if (!m?.n || !ref?.n) return '–';
    const rowStd = m.n > 1 ? m.std : ref.std;
    const diff = 100 * (m.mean - ref.mean);
    const se = 100 * Math.sqrt(ref.std ** 2 / ref.n + rowStd ** 2 / m.n);
    const text = `${diff >= 0 ? '+' : ''}${diff.toFixed(1)} ± ${se.toFixed(1)}`;
    return Math.abs(diff) > 2 * se ? `**${text}**` : text;
  };
  const head = tableHead('effect vs full, points');
  const body = rows
    .slice(1)
    .map(
      (r) =>
        `| ${r.name} | ${r.seeds.length} | ${ABLATION_COLUMNS.map((c) => effect(r.metrics[columnKey(c)], full.metrics[columnKey(c)])).join(' | ')} |`,
    );
  return [head, ...body].join('\n');
}

/** Both tables, as written to the docs and printed. */
export function ablationTables(rows: AblationRow[]): string {
  const effects = ablationEffectsMarkdown(rows);
  return effects ? `${ablationMarkdown(rows)}\n\n${effects}` : ablationMarkdown(rows);
}

export const ABLATION_START = '<!-- favor-ablation:start -->';
export const ABLATION_END = '<!-- favor-ablation:end -->';

/** Replaces the text between the ablation markers of a markdown file (atomic write). */
export function writeAblationDocs(path: string, rows: AblationRow[], how: string): void {
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(ABLATION_START);
  const b = text.indexOf(ABLATION_END);
  if (a < 0 || b < a)
    throw new InputError(`${path} has no ${ABLATION_START} ... ${ABLATION_END} markers`, { file: path });
  writeFileAtomic(
    path,
    `${text.slice(0, a + ABLATION_START.length)}\n${how}\n\n${ablationTables(rows)}\n${text.slice(b)}`,
  );
}
