/**
 * The emotion part of `attune demo` (integrated by the demo's owner): a reduced ablation on a small EmoSpeech set
 * (text only, audio only, concatenation, the full model; one seed, 16 epochs) and heat maps of the full model's attention on
 * real test utterances. Sized for about 1.5 minutes on 2 cores once EmoSpeech and its features are cached
 * (`<out>/cache`); the first run also synthesizes the utterances (~40 ms of CPU each).
 *
 *   const { sections, summary } = await runEmotionDemo({ out: 'attune-demo/emotion' });
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ablationMarkdown,
  ablationRunDir,
  ABLATION_ROWS,
  runAblation,
  type AblationResult,
} from '../models/emotion/ablation.js';
import { loadEmotionSet } from '../models/emotion/data.js';
import { loadEmotionModel, releaseEmotionModel, runOne } from '../models/emotion/infer.js';
import { attentionSections } from '../models/emotion/report.js';
import type { Section } from '../report/spec.js';

export interface EmotionDemoOptions {
  out?: string;
  /** EmoSpeech utterances (70 / 15 / 15 split); default 500. */
  n?: number;
  epochs?: number;
  seed?: number;
  /** Test utterances whose attention is drawn (default 2). */
  heatmaps?: number;
  cacheDir?: string;
  quiet?: boolean;
}

export interface EmotionDemoResult {
  sections: Section[];
  summary: { n: number; epochs: number; rows: Record<string, number>; seconds: number };
}

/** The ablation rows the demo trains: text only, audio only, concatenation, full model. */
export const DEMO_ROWS = [0, 1, 2, 8].map((i) => ABLATION_ROWS[i]);

export async function runEmotionDemo(opts: EmotionDemoOptions = {}): Promise<EmotionDemoResult> {
  const out = resolve(opts.out ?? 'attune-demo/emotion');
  const n = opts.n ?? 500;
  const epochs = opts.epochs ?? 16;
  const cacheDir = opts.cacheDir ?? join(out, 'cache');
  const say = (line: string) => (opts.quiet ? undefined : process.stderr.write(`demo: ${line}\n`));
  const t0 = Date.now();
  // The run folders are the demo's own: start them fresh (the EmoSpeech and feature caches are kept).
  rmSync(join(out, 'ablation'), { recursive: true, force: true });
  say(
    `emotion: EmoSpeech ${n} utterances (cached in ${cacheDir}), then ${DEMO_ROWS.length} ablation rows x ${epochs} epochs`,
  );
  const result = await runAblation({
    n,
    seeds: [opts.seed ?? 1],
    out: join(out, 'ablation'),
    cacheDir,
    rows: DEMO_ROWS,
    sets: [`train.epochs=${epochs}`, 'train.patience=null'],
    onRow: (row, _seed, m, s) => say(`emotion: ${row.name}: test accuracy ${m.acc.toFixed(3)} (${s.toFixed(0)} s)`),
  });
  const sections: Section[] = [tableSection(result, n, epochs)];
  const full = ablationRunDir(join(out, 'ablation'), DEMO_ROWS[DEMO_ROWS.length - 1], opts.seed ?? 1);
  sections.push(...(await heatmaps(full, n, cacheDir, opts.heatmaps ?? 2)));
  const rows = Object.fromEntries(result.rows.map((r) => [r.row.name, r.summary.acc?.mean ?? NaN]));
  return { sections, summary: { n, epochs, rows, seconds: (Date.now() - t0) / 1000 } };
}

function tableSection(result: AblationResult, n: number, epochs: number): Section {
  const text = ablationMarkdown(result)
    .slice(0, 4 + result.rows.length)
    .join('\n');
  return {
    kind: 'text',
    title: `Emotion from words + voice: reduced ablation (EmoSpeech ${n}, ${epochs} epochs, 1 seed; docs/emotion.md has the full table)`,
    text,
  };
}

/** Heat maps of the full model on the first test utterances with a non-neutral label. */
async function heatmaps(runDir: string, n: number, cacheDir: string, count: number): Promise<Section[]> {
  const set = await loadEmotionSet({ source: { kind: 'emospeech', n, seed: 0 }, cacheDir, only: ['test'] });
  const model = loadEmotionModel(runDir);
  const sections: Section[] = [];
  try {
    const picks = set.items
      .map((it, i) => [it, i] as const)
      .filter(([it]) => it.label !== 'neutral')
      .slice(0, count);
    for (const [item, i] of picks) {
      const pred = await runOne(model, set.examples[i]);
      sections.push(
        ...attentionSections(
          pred,
          set.examples[i].words,
          `"${item.text}" (${item.label}, ${String((item.metadata as Record<string, unknown>)?.mode)}; predicted ${pred.label})`,
        ),
      );
    }
  } finally {
    await releaseEmotionModel(model);
  }
  return sections;
}
