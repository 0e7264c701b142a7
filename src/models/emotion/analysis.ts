/**
 * What the emotion model's predictions and attention show, per split:
 *
 * - classification: accuracy, weighted / macro F1, per-class F1, confusion (src/metrics/classification.ts);
 * - attention grounding: for each item whose emotion-bearing word (EmoSpeech's `metadata.cue`) has a spoken interval,
 *   the share of that word's text→audio attention (mean over heads) inside the interval; chance = the interval's
 *   share of the utterance's frames (what uniform attention would give);
 * - the seed's per-class attention statistics, each on the items of a true class:
 *   diversity = attentionDiversity of the text→audio maps (1 - mean cosine between different words' rows),
 *   alignment = crossModalAlignment of the text→audio maps with words at their spoken centers and frames at theirs
 *   (mass within ±ALIGN_TOLERANCE s), temporal consistency = 1 - mean JSD(row_t, row_t+1) / ln 2 between consecutive
 *   frames' audio→text rows (1 = the frames read the words identically throughout).
 */
import { classificationReport, type ClassificationReport } from '../../metrics/classification.js';
import { attentionDiversity, crossModalAlignment, jensenShannon } from '../../metrics/attention.js';
import type { EmotionItem } from '../../data/emospeech/manifest.js';
import { AUDIO_RATE, EMOTION_CLASSES } from './config.js';
import { spanFrames, splitWords, type EmotionExampleInput } from './features.js';
import type { EmotionPrediction } from './predict.js';

export const ALIGN_TOLERANCE = 0.1;

export interface ClassAttention {
  label: string;
  n: number;
  diversity: number;
  alignment: number;
  consistency: number;
}

export interface EmotionAnalysis {
  report: ClassificationReport;
  /** NaN when no item has a timed emotion-bearing word (or the model has no text→audio attention). */
  grounding: number;
  groundingChance: number;
  groundedItems: number;
  perClass: ClassAttention[];
}

/** Index of the emotion-bearing word in the item's words (EmoSpeech's cue), or -1. */
export function cueIndex(item: EmotionItem, words: string[]): number {
  const cue = (item.metadata as Record<string, unknown> | undefined)?.cue;
  return typeof cue === 'string' ? words.indexOf(splitWords(cue).join('')) : -1;
}

const meanHeads = (maps: number[][][], q: number): number[] =>
  maps[0][q].map((_, k) => maps.reduce((s, m) => s + m[q][k], 0) / maps.length);
const avg = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const host = (maps: number[][][]) => ({
  dtype: 'float64' as const,
  shape: [maps.length, maps[0].length, maps[0][0].length],
  data: Float64Array.from(maps.flat(2)),
});

export function analyzeEmotions(
  preds: EmotionPrediction[],
  examples: EmotionExampleInput[],
  items: EmotionItem[],
): EmotionAnalysis {
  const report = classificationReport(
    preds.map((p) => p.classId),
    examples.map((e) => e.label),
    { labels: [...EMOTION_CLASSES] },
  );
  const ground: number[] = [];
  const chance: number[] = [];
  const stats = EMOTION_CLASSES.map(() => ({
    diversity: [] as number[],
    alignment: [] as number[],
    consistency: [] as number[],
  }));
  preds.forEach((p, i) => {
    const ex = examples[i];
    const s = stats[ex.label];
    if (p.textToAudio) {
      const cue = cueIndex(items[i], ex.words);
      const span = cue >= 0 && cue < p.words ? ex.spans[cue] : null;
      if (span) {
        const [lo, hi] = spanFrames(span, p.frames);
        ground.push(
          meanHeads(p.textToAudio, cue)
            .slice(lo, hi)
            .reduce((a, b) => a + b, 0),
        );
        chance.push((hi - lo) / p.frames);
      }
      if (p.words > 1) s.diversity.push(attentionDiversity(host(p.textToAudio)));
      if (ex.spans.slice(0, p.words).every((w) => w)) {
        const queryTimes = ex.spans.slice(0, p.words).map((w) => (w!.start + w!.end) / 2);
        const keyTimes = Array.from({ length: p.frames }, (_, j) => (j + 0.5) / AUDIO_RATE);
        s.alignment.push(
          crossModalAlignment(host(p.textToAudio), { queryTimes, keyTimes, tolerance: ALIGN_TOLERANCE }),
        );
      }
    }
    if (p.audioToText && p.frames > 1) {
      const js: number[] = [];
      for (const map of p.audioToText)
        for (let t = 0; t + 1 < p.frames; t++) js.push(jensenShannon(map[t], map[t + 1]));
      s.consistency.push(1 - avg(js) / Math.LN2);
    }
  });
  return {
    report,
    grounding: avg(ground),
    groundingChance: avg(chance),
    groundedItems: ground.length,
    perClass: EMOTION_CLASSES.map((label, c) => ({
      label,
      n: examples.filter((e) => e.label === c).length,
      diversity: avg(stats[c].diversity),
      alignment: avg(stats[c].alignment),
      consistency: avg(stats[c].consistency),
    })),
  };
}

/** Flat metrics for logs and seed summaries: acc, weighted_f1, macro_f1, f1_<class>, grounding, ... */
export function analysisMetrics(a: EmotionAnalysis): Record<string, number> {
  const m: Record<string, number> = {
    acc: a.report.accuracy,
    weighted_f1: a.report.weightedF1,
    macro_f1: a.report.macroF1,
  };
  for (const c of a.report.perClass) m[`f1_${c.label}`] = c.f1;
  if (a.groundedItems) {
    m.grounding = a.grounding;
    m.grounding_chance = a.groundingChance;
  }
  const mean = (k: 'diversity' | 'alignment' | 'consistency') =>
    avg(a.perClass.map((c) => c[k]).filter(Number.isFinite));
  for (const k of ['diversity', 'alignment', 'consistency'] as const)
    if (Number.isFinite(mean(k))) m[`attn_${k}`] = mean(k);
  return m;
}
