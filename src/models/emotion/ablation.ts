/**
 * The seed's ablation ladder on EmoSpeech's speaker-disjoint test split, each row trained over several seeds
 * (mean ± std): text-only, audio-only, concatenation, text→audio only, audio→text only, bidirectional,
 * + multi-level fusion, + gating, + metadata (= the full model), plus two diagnostic rows (the full model without the
 * word-timing loss, and audio + metadata without text). Every row is a set of `--set model.*` overrides of the
 * defaults, so any row can be rerun alone with `attune train emotion`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ceilings } from '../../data/emospeech/ceilings.js';
import { aggregateSeeds } from '../../metrics/stats.js';
import { parseOverrides, resolveConfig, type RunConfig } from '../../train/config.js';
import { runFiles } from '../../train/files.js';
import { runTraining } from '../../train/run.js';
import { emotionTask } from './task.js';

export interface AblationRow {
  name: string;
  sets: string[];
  /** The ceiling this row's inputs allow (docs/emospeech.md), when one applies. */
  ceiling?: keyof ReturnType<typeof ceilings>;
}

const plain = ['model.multiLevel=false', 'model.gate=false', 'model.metadata=false'];

export const ABLATION_ROWS: AblationRow[] = [
  { name: 'text only', sets: ['model.modalities=text', 'model.fusion=concat', ...plain], ceiling: 'text' },
  { name: 'audio only', sets: ['model.modalities=audio', 'model.fusion=concat', ...plain], ceiling: 'audioNoMetadata' },
  { name: 'concatenation', sets: ['model.fusion=concat', ...plain], ceiling: 'textAudioNoMetadata' },
  { name: 'text→audio only', sets: ['model.fusion=uni-ta', ...plain], ceiling: 'textAudioNoMetadata' },
  { name: 'audio→text only', sets: ['model.fusion=uni-at', ...plain], ceiling: 'textAudioNoMetadata' },
  { name: 'bidirectional', sets: ['model.fusion=bi', ...plain], ceiling: 'textAudioNoMetadata' },
  {
    name: '+ multi-level fusion',
    sets: ['model.fusion=bi', 'model.gate=false', 'model.metadata=false'],
    ceiling: 'textAudioNoMetadata',
  },
  { name: '+ gating', sets: ['model.fusion=bi', 'model.metadata=false'], ceiling: 'textAudioNoMetadata' },
  { name: '+ metadata (full model)', sets: [], ceiling: 'full' },
  { name: 'full, no word-timing loss', sets: ['model.groundWeight=0'], ceiling: 'full' },
  {
    name: 'audio + metadata',
    sets: ['model.modalities=audio', 'model.fusion=concat', 'model.multiLevel=false'],
    ceiling: 'prosody',
  },
];

export interface AblationOptions {
  n: number;
  seeds: number[];
  out: string;
  cacheDir?: string;
  /** Extra overrides for every row (e.g. train.epochs=10 for a reduced run). */
  sets?: string[];
  rows?: AblationRow[];
  quiet?: boolean;
  onRow?: (row: AblationRow, seed: number, metrics: Record<string, number>, seconds: number) => void;
  /** After each row with the rows so far (write partial tables: a long ablation may be stopped). */
  onRowDone?: (partial: AblationResult) => void;
}

export interface AblationResult {
  rows: {
    row: AblationRow;
    seeds: Record<string, number>[];
    summary: ReturnType<typeof aggregateSeeds>;
    seconds: number[];
  }[];
  n: number;
  seeds: number[];
  sets: string[];
}

/**
 * Seeds outer, rows inner, so a stopped ablation still has every row with the seeds done so far (partial tables
 * are written through `onRowDone` after each run). A run folder that already holds metrics.json for the same
 * resolved config is reused instead of retrained.
 */
export async function runAblation(opts: AblationOptions): Promise<AblationResult> {
  const rows = opts.rows ?? ABLATION_ROWS;
  const done = rows.map(() => ({ seeds: [] as Record<string, number>[], seconds: [] as number[] }));
  const snapshot = (): AblationResult => ({
    n: opts.n,
    seeds: opts.seeds,
    sets: opts.sets ?? [],
    rows: rows.flatMap((row, r) =>
      done[r].seeds.length
        ? [{ row, seeds: done[r].seeds, summary: aggregateSeeds(done[r].seeds), seconds: done[r].seconds }]
        : [],
    ),
  });
  for (const seed of opts.seeds) {
    for (const [r, row] of rows.entries()) {
      const overrides = parseOverrides([
        ...(opts.sets ?? []),
        ...row.sets,
        `train.seed=${seed}`,
        'train.evalBefore=false',
        'train.export=false',
        'train.report=false',
      ]);
      const config = resolveConfig(emotionTask, { source: 'synth', overrides });
      const out = ablationRunDir(opts.out, row, seed, r);
      const { test, seconds } = finishedRun(out, config) ?? (await train(config, out, opts));
      done[r].seeds.push(test);
      done[r].seconds.push(seconds);
      opts.onRow?.(row, seed, test, seconds);
      opts.onRowDone?.(snapshot());
    }
  }
  return snapshot();
}

/** `<out>/row<i>/seed-<s>`, i = the row's place in ABLATION_ROWS (else in the caller's list). */
export function ablationRunDir(out: string, row: AblationRow, seed: number, fallback = 0): string {
  const i = ABLATION_ROWS.indexOf(row);
  return join(out, `row${i >= 0 ? i : fallback}`, `seed-${seed}`);
}

async function train(
  config: RunConfig,
  out: string,
  opts: AblationOptions,
): Promise<{ test: Record<string, number>; seconds: number }> {
  const run = await runTraining({
    task: emotionTask,
    config,
    source: { kind: 'synth', clips: opts.n, set: 'emospeech' },
    out,
    cacheDir: opts.cacheDir,
    quiet: opts.quiet ?? true,
  });
  return { test: stripSplit(run.metrics?.test ?? {}), seconds: run.seconds };
}

/** The test metrics of a finished run in `dir` trained with the same model, data and train sections, else null. */
function finishedRun(dir: string, config: RunConfig): { test: Record<string, number>; seconds: number } | null {
  const files = runFiles(dir);
  if (!existsSync(files.metrics) || !existsSync(files.config)) return null;
  const saved = JSON.parse(readFileSync(files.config, 'utf8'));
  const same = (['model', 'data', 'train'] as const).every(
    (k) => JSON.stringify(saved[k]) === JSON.stringify(config[k]),
  );
  const metrics = JSON.parse(readFileSync(files.metrics, 'utf8'));
  return same && metrics.test ? { test: stripSplit(metrics.test), seconds: metrics.seconds } : null;
}

const stripSplit = (m: Record<string, unknown>): Record<string, number> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k.replace(/^test\./, ''), v as number]));

const pm = (s: { mean: number; std: number } | undefined, digits = 3): string =>
  s && Number.isFinite(s.mean)
    ? `${s.mean.toFixed(digits)} ± ${(Number.isFinite(s.std) ? s.std : 0).toFixed(digits)}`
    : '—';

/** The ablation as markdown: the main table, per-class F1, and the attention statistics. */
export function ablationMarkdown(a: AblationResult): string[] {
  const c = ceilings() as Record<string, number>;
  const lines = [
    `EmoSpeech (--data emospeech:${a.n}, speaker-disjoint test split), seeds ${a.seeds.join(', ')}${a.sets.length ? `, overrides ${a.sets.map((s) => `\`${s}\``).join(' ')}` : ''}; mean ± std (sample std) over the seeds each row has so far (n in the last column).`,
    '',
    '| model | accuracy | weighted F1 | ceiling | grounding (chance) | text-only input | audio-only input | train s | n |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { row, summary, seconds } of a.rows) {
    const ground = summary.grounding ? `${pm(summary.grounding)} (${summary.grounding_chance?.mean.toFixed(3)})` : '—';
    lines.push(
      `| ${row.name} | ${pm(summary.acc)} | ${pm(summary.weighted_f1)} | ${row.ceiling ? c[row.ceiling].toFixed(3) : '—'} | ${ground} | ${pm(summary.acc_text_only_input)} | ${pm(summary.acc_audio_only_input)} | ${(seconds.reduce((x, y) => x + y, 0) / seconds.length).toFixed(0)} | ${seconds.length} |`,
    );
  }
  const classes = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];
  lines.push(
    '',
    'Per-class F1 (mean over seeds):',
    '',
    `| model | ${classes.join(' | ')} |`,
    `|---|${classes.map(() => '---').join('|')}|`,
  );
  for (const { row, summary } of a.rows)
    lines.push(`| ${row.name} | ${classes.map((k) => summary[`f1_${k}`]?.mean.toFixed(3) ?? '—').join(' | ')} |`);
  lines.push(
    '',
    'Attention statistics (mean over classes, then seeds): diversity of text→audio rows, alignment within ±0.1 s, temporal consistency of audio→text rows:',
    '',
    '| model | diversity | alignment | consistency |',
    '|---|---|---|---|',
  );
  for (const { row, summary } of a.rows)
    if (summary.attn_diversity || summary.attn_consistency)
      lines.push(
        `| ${row.name} | ${pm(summary.attn_diversity)} | ${pm(summary.attn_alignment)} | ${pm(summary.attn_consistency)} |`,
      );
  return lines;
}
